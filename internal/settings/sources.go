package settings

import (
	"errors"
	"flag"
	"fmt"
	"maps"
	"strings"
	"time"

	"github.com/callstream/callstream/connector"
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
		return nil, Usagef("--sources: want a list of sources: %v", OneLine(err))
	}
	list := make([]map[string]string, len(raw))
	for i, m := range raw {
		var (
			k   string
			err error
		)
		if list[i], k, err = scalars(m); err != nil {
			return nil, Usagef("sources[%d].%s: %v", i, k, err)
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

// ConnectorConfig builds the connector's configuration, of every source:
// the flags as parsed (flag > environment > file), overridden by the keys
// of the source's entry. Without `sources` the flags define one source, a
// list of one.
//
// A command that adds flags of its own to run's (doctor's --format)
// registers them again through own, so that args parse for each source.
func (f *Run) ConnectorConfig(args []string, lookupEnv func(string) (string, bool), now time.Time, own func(*flag.FlagSet)) (connector.Config, error) {
	g := f.group
	cfg := connector.Config{
		UnprefixedSource: f.sourceName, Group: g.group, StatePartitions: g.statePartitions,
		MaxConcurrentRequests: g.maxConcurrentRequests, SessionTimeout: g.sessionTimeout,
		RebalanceTimeout: g.rebalanceTimeout, RemovedSourceRetention: g.removedRetention,
	}
	if g.maxConcurrentRequests < 1 {
		return cfg, Usagef("--max-concurrent-requests: want at least 1, got %d", g.maxConcurrentRequests)
	}
	if g.sessionTimeout <= 0 {
		return cfg, Usagef("--session-timeout: want a positive duration, got %s", g.sessionTimeout)
	}
	if g.rebalanceTimeout < 0 {
		return cfg, Usagef("--rebalance-timeout: want a duration ≥ 0, got %s", g.rebalanceTimeout)
	}
	list, err := g.sources.parse()
	if err != nil {
		return cfg, err
	}
	if len(list) == 0 {
		c, err := f.SourceConfig(now)
		if err != nil {
			return cfg, err
		}
		cfg.Sources = []connector.SourceConfig{c}
	}
	for i, entry := range list {
		c, err := f.sourceConfig(i, entry, args, lookupEnv, now, own)
		if err != nil {
			return cfg, err
		}
		cfg.Sources = append(cfg.Sources, c)
	}
	if f.Registry == nil && len(list) > 0 {
		// The registry client is the process's, built from the flags.
		var shared connector.SourceConfig
		if err := f.applyKafka(&shared); err != nil {
			return cfg, err
		}
	}
	if err := cfg.Validate(); err != nil {
		return cfg, &UsageError{err.Error()}
	}
	return cfg, nil
}

// sourceConfig parses the run settings afresh and sets the keys of one
// `sources:` entry on them.
func (f *Run) sourceConfig(i int, values map[string]string, args []string, lookupEnv func(string) (string, bool), now time.Time, own func(*flag.FlagSet)) (connector.SourceConfig, error) {
	name, ok := values[sourceKeyName]
	if !ok {
		return connector.SourceConfig{}, Usagef("sources[%d]: name is required", i)
	}
	fs := newRunFlagSet()
	src := Run{Version: f.Version}
	src.Register(fs)
	if own != nil {
		own(fs)
	}
	e := entry{
		values: maps.Clone(values), where: fmt.Sprintf("sources[%d] (%s)", i, name), keySep: ".",
		allowed: func(k string) bool { return perSourceFlags[k] }, notA: "a per-source setting",
	}
	delete(e.values, sourceKeyName)
	if err := e.overlay(fs, args, lookupEnv, &src.appKey, &src.appKeyFile); err != nil {
		return connector.SourceConfig{}, err
	}
	src.sourceName = name
	c, err := src.SourceConfig(now)
	if err != nil {
		var u *UsageError
		if errors.As(err, &u) {
			return c, Usagef("sources[%d] (%s): %s", i, name, u.Msg)
		}
		return c, err
	}
	return c, nil
}
