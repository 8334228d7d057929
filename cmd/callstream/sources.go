package main

import (
	"context"
	"errors"
	"flag"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/callstream/callstream/connector"
	"github.com/callstream/callstream/connector/event"
	"github.com/callstream/callstream/metrics"
	"github.com/twmb/franz-go/pkg/kgo"
	"go.yaml.in/yaml/v3"
)

// Keys of a `sources:` entry beyond the run flags it may set.
const sourceKeyName = "name"

// perSourceFlags are the run flags that concern one source and so may be
// set in an entry of `sources:`; the others (Kafka, topics, listening,
// logging) are the process's.
var perSourceFlags = map[string]bool{
	"api-url": true, "app-id": true, "app-key": true, "app-key-file": true, "type": true, "sign": true,
	"page-size": true, "max-pages": true, "page-concurrency": true, "request-timeout": true,
	"retry-max": true, "rate-limit": true, "rate-burst": true, "start-from": true,
	"poll-interval": true, "settle-delay": true, "tiers": true, "backfill-window": true,
	"backfill-max-window": true, "sweep-window": true, "ready-max-age": true,
	"emit-updates": true, "ignore-changes": true,
}

// sourcesFlag is --sources: a YAML (or JSON) list of sources, each a
// mapping of `name` and per-source run flags, as the `sources:` key of
// --config holds it. Set only keeps the text: the flag package quotes a
// value it is refused in its error, and the list may hold app keys, so
// the text is read by parse, whose errors quote nothing of it.
type sourcesFlag struct {
	raw string
}

func (s *sourcesFlag) String() string { return "" }

func (s *sourcesFlag) Set(v string) error {
	s.raw = v
	return nil
}

// parse reads the list; empty without --sources.
func (s *sourcesFlag) parse() ([]map[string]string, error) {
	if strings.TrimSpace(s.raw) == "" {
		return nil, nil
	}
	var raw []map[string]any
	if err := yaml.Unmarshal([]byte(s.raw), &raw); err != nil {
		return nil, usagef("--sources: want a list of sources: %v", oneLine(err))
	}
	list := make([]map[string]string, len(raw))
	for i, m := range raw {
		list[i] = make(map[string]string, len(m))
		for k, v := range m {
			str, err := scalar(v)
			if err != nil {
				return nil, usagef("sources[%d].%s: %v", i, k, err)
			}
			list[i][k] = str
		}
	}
	return list, nil
}

// groupFlags are the settings of many sources and of scale-out.
type groupFlags struct {
	sources               sourcesFlag
	group                 string
	statePartitions       int
	maxConcurrentRequests int
	sessionTimeout        time.Duration
	rebalanceTimeout      time.Duration
	removedRetention      time.Duration
}

func (g *groupFlags) register(fs *flag.FlagSet) {
	fs.Var(&g.sources, "sources", "the sources, a YAML list of mappings of name and per-source run flags (best in --config); without it the flags define one source named --source-name")
	fs.StringVar(&g.group, "group", "", "Kafka consumer group through which pods share the sources' state partitions (empty: this process runs every source)")
	fs.IntVar(&g.statePartitions, "state-partitions", connector.DefaultStatePartitions, "partitions of the state topic with --group: the units of work; fixed once the topic exists")
	fs.IntVar(&g.maxConcurrentRequests, "max-concurrent-requests", connector.DefaultMaxConcurrentRequests, "API requests in flight at most over all the sources of the process")
	fs.DurationVar(&g.sessionTimeout, "session-timeout", connector.DefaultSessionTimeout, "group session timeout: how long after a pod stops its partitions move")
	fs.DurationVar(&g.rebalanceTimeout, "rebalance-timeout", 0, "how long a rebalance waits for pods to end the transactions of the partitions they give up and rejoin (0: the longer of --session-timeout and --transaction-timeout, which covers a commit in flight)")
	fs.DurationVar(&g.removedRetention, "removed-source-retention", connector.DefaultRemovedSourceRetention, "how long the state of a source removed from the sources list stays after it last wrote; a source that comes back within it goes on where it stopped, later it starts afresh (0: for good)")
}

// many reports whether the settings ask for a Set rather than the single
// source of old.
func (g *groupFlags) many() bool { return strings.TrimSpace(g.sources.raw) != "" || g.group != "" }

// toSetConfig builds the configuration of every source: the flags as parsed
// (flag > environment > file), overridden by the keys of the source's
// entry. Without `sources` the flags define one source.
//
// A command that adds flags of its own to run's (doctor's --format)
// registers them again through own, so that args parse for each source.
func (f *runFlags) toSetConfig(args []string, lookupEnv func(string) (string, bool), now time.Time, own func(*flag.FlagSet)) (connector.Config, error) {
	g := f.group
	cfg := connector.Config{
		UnprefixedSource: f.sourceName, Group: g.group, StatePartitions: g.statePartitions,
		MaxConcurrentRequests: g.maxConcurrentRequests, SessionTimeout: g.sessionTimeout,
		RebalanceTimeout: g.rebalanceTimeout, RemovedSourceRetention: g.removedRetention,
	}
	if g.maxConcurrentRequests < 1 {
		return cfg, usagef("--max-concurrent-requests: want at least 1, got %d", g.maxConcurrentRequests)
	}
	if g.sessionTimeout <= 0 {
		return cfg, usagef("--session-timeout: want a positive duration, got %s", g.sessionTimeout)
	}
	if g.rebalanceTimeout < 0 {
		return cfg, usagef("--rebalance-timeout: want a duration ≥ 0, got %s", g.rebalanceTimeout)
	}
	list, err := g.sources.parse()
	if err != nil {
		return cfg, err
	}
	if len(list) == 0 {
		c, err := f.toConfig(now)
		if err != nil {
			return cfg, err
		}
		cfg.Sources = []connector.SourceConfig{c}
	}
	for i, entry := range list {
		c, err := sourceConfig(i, entry, args, lookupEnv, now, own)
		if err != nil {
			return cfg, err
		}
		cfg.Sources = append(cfg.Sources, c)
	}
	if f.registry == nil && len(list) > 0 {
		// The registry client is the process's, built from the flags.
		var shared connector.SourceConfig
		if err := f.applyKafka(&shared); err != nil {
			return cfg, err
		}
	}
	if err := cfg.Validate(); err != nil {
		return cfg, &usageError{err.Error()}
	}
	return cfg, nil
}

// sourceConfig parses the run settings afresh and sets the keys of one
// `sources:` entry on them.
func sourceConfig(i int, entry map[string]string, args []string, lookupEnv func(string) (string, bool), now time.Time, own func(*flag.FlagSet)) (connector.SourceConfig, error) {
	fs := newRunFlagSet()
	var f runFlags
	f.register(fs)
	if own != nil {
		own(fs)
	}
	if err := parseLayered(fs, args, lookupEnv); err != nil {
		return connector.SourceConfig{}, err
	}
	name, ok := entry[sourceKeyName]
	if !ok {
		return connector.SourceConfig{}, usagef("sources[%d]: name is required", i)
	}
	keys := entryKeys(entry, &f.appKey, &f.appKeyFile)
	for _, k := range keys {
		v := entry[k]
		if k == sourceKeyName {
			f.sourceName = v
			continue
		}
		if !perSourceFlags[k] {
			return connector.SourceConfig{}, usagef("sources[%d] (%s): %q is not a per-source setting", i, name, k)
		}
		if err := fs.Set(k, v); err != nil {
			return connector.SourceConfig{}, usagef("sources[%d] (%s).%s: invalid value: %v", i, name, k, err)
		}
	}
	c, err := f.toConfig(now)
	if err != nil {
		var u *usageError
		if errors.As(err, &u) {
			return c, usagef("sources[%d] (%s): %s", i, name, u.msg)
		}
		return c, err
	}
	return c, nil
}

// entryKeys returns the keys of one entry of a list (a source of
// `sources:`, an app of `simulate --apps`) in order, and drops the app key
// or key file given globally when the entry sets the other: the two are
// exclusive for one entry.
func entryKeys[V any](entry map[string]V, appKey, appKeyFile *string) []string {
	keys := slices.Sorted(maps.Keys(entry))
	if _, ok := entry["app-key-file"]; ok {
		*appKey = ""
	}
	if _, ok := entry["app-key"]; ok {
		*appKeyFile = ""
	}
	return keys
}

// runSet runs a Set of sources and its HTTP endpoints until ctx is done or
// the Set fails.
func runSet(ctx context.Context, cfg connector.Config, listen string, logger *slog.Logger, enc *event.Encoder, fencedHold time.Duration) error {
	reg := newRegistry()
	m := metrics.New(reg)
	setBuildInfo(m)
	gm := metrics.NewGroup(reg)
	for i := range cfg.Sources {
		cfg.Sources[i].ProducerOpts = append(cfg.Sources[i].ProducerOpts, kgo.WithLogger(kgoLogger(logger)))
	}
	// kprom keeps the collectors of one client: every producer gets its
	// own, told apart by its client id, the transactional id.
	unitOpts := func(tid string) []kgo.Opt {
		return []kgo.Opt{kgo.ClientID(tid), kgo.WithHooks(kafkaMetrics(reg))}
	}
	set, err := connector.New(cfg, connector.Options{Logger: logger, Metrics: m, Encoder: enc, At: stepHook, UnitProducerOpts: unitOpts}, gm)
	if err != nil {
		return err
	}
	// In a group a fenced unit only stops itself, and Run goes on; without
	// one the whole process was replaced, as for a single source.
	return runServing(ctx, set.Run, set, listen, reg, logger, fencedHold)
}

// sourceNames lists the sources' names, for the start's log line.
func sourceNames(cfg connector.Config) string {
	names := make([]string, len(cfg.Sources))
	for i, s := range cfg.Sources {
		names[i] = s.SourceName
	}
	return strings.Join(names, ",")
}
