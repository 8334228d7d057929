package connector

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/callstream/callstream/connector/event"
	"github.com/callstream/callstream/connector/observe"
	"github.com/callstream/callstream/connector/sink"
	"github.com/callstream/callstream/connector/state"
	"github.com/callstream/callstream/internal/pause"
	"github.com/callstream/callstream/metrics"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kgo"
	"golang.org/x/sync/semaphore"
)

// Defaults of Config.
const (
	DefaultStatePartitions       = 12
	DefaultMaxConcurrentRequests = 16
	DefaultSessionTimeout        = 45 * time.Second
	// DefaultRemovedSourceRetention is how long `run` keeps the state of
	// a removed source unless told otherwise: 30 days.
	DefaultRemovedSourceRetention = 720 * time.Hour
)

var sourceNameRE = regexp.MustCompile(`^[a-z0-9-]{1,40}$`)

// Config configures a Connector: its sources, in one process or spread
// over the pods of a group. One source is a list of one.
type Config struct {
	// Sources are the sources, each with every setting of its own. Their
	// Kafka settings (brokers, topics, transactional id, client options)
	// are those of the first: they share the producer and the topics.
	Sources []SourceConfig
	// UnprefixedSource names the source whose state keys carry no source
	// prefix, those of a single-source run (--source-name): its state
	// carries over between one source and many unchanged. Its name is
	// never part of a key, so it need not be [a-z0-9-]{1,40}.
	UnprefixedSource string
	// Group, when set, is the Kafka consumer group through which pods
	// share the state partitions and so the sources.
	Group string
	// StatePartitions is the state topic's partition count in a group;
	// default DefaultStatePartitions.
	StatePartitions int
	// MaxConcurrentRequests caps the API requests in flight over all the
	// sources of the process; default DefaultMaxConcurrentRequests.
	MaxConcurrentRequests int
	// SessionTimeout is the group's session timeout: how long after a pod
	// stops heartbeating its partitions move; default DefaultSessionTimeout.
	SessionTimeout time.Duration
	// RemovedSourceRetention is how long the state of a source that is no
	// longer configured stays in the state topic after it last wrote;
	// then its unit's next start deletes it. 0 keeps it for good.
	RemovedSourceRetention time.Duration
	// RebalanceTimeout bounds a rebalance: how long pods have to end the
	// transactions of the partitions they give up and rejoin, and how long
	// the group waits for a member that does not; default the longer of
	// SessionTimeout and the transaction timeout, which covers a commit in
	// flight (sink.Bounds: its produce and its end take at most three
	// quarters of it).
	RebalanceTimeout time.Duration
}

// defaultRebalanceTimeout is the longer of the session timeout and the
// first source's transaction timeout: a unit given up in a rebalance may
// be committing, and its commit ends within that (sink.Bounds).
func defaultRebalanceTimeout(cfg Config) time.Duration {
	txn := sink.DefaultTransactionTimeout
	if len(cfg.Sources) > 0 && cfg.Sources[0].TransactionTimeout > 0 {
		txn = cfg.Sources[0].TransactionTimeout
	}
	return max(cfg.SessionTimeout, txn)
}

// Validate checks the sources and the group settings, naming the setting
// at fault as the command line does.
func (c *Config) Validate() error {
	if len(c.Sources) == 0 {
		return errors.New("sources: want at least one source")
	}
	if c.Group != "" && (c.StatePartitions < 1 || c.StatePartitions > 10000) {
		return fmt.Errorf("--state-partitions: want 1..10000, got %d", c.StatePartitions)
	}
	if c.RemovedSourceRetention < 0 {
		return fmt.Errorf("--removed-source-retention: want a duration ≥ 0, got %s", c.RemovedSourceRetention)
	}
	if c.MaxConcurrentRequests < 0 {
		return fmt.Errorf("--max-concurrent-requests: want at least 1, got %d", c.MaxConcurrentRequests)
	}
	names := map[string]bool{}
	reads := map[string]string{}
	for i := range c.Sources {
		s := &c.Sources[i]
		if s.SourceName != c.UnprefixedSource && !sourceNameRE.MatchString(s.SourceName) {
			return fmt.Errorf("sources[%d].name: %q is not [a-z0-9-]{1,40}", i, s.SourceName)
		}
		if names[s.SourceName] {
			return fmt.Errorf("sources[%d].name: %q is used twice", i, s.SourceName)
		}
		names[s.SourceName] = true
		// Two sources reading the same calls would emit each twice.
		what := s.APIURL + "\x00" + s.AppID + "\x00" + s.Type
		if other, ok := reads[what]; ok {
			return fmt.Errorf("sources[%d]: %q reads the same app id and type as %q", i, s.SourceName, other)
		}
		reads[what] = s.SourceName
		if err := s.Validate(); err != nil {
			return fmt.Errorf("sources[%d] (%s): %s", i, s.SourceName, strings.Split(err.Error(), "\n")[0])
		}
	}
	return nil
}

// Connector moves the vendor's call list into Kafka exactly once, for each
// of its sources: all of them in this process without a group, or those of
// the state partitions that the group assigns to this pod.
type Connector struct {
	cfg      Config
	opts     Options
	log      *slog.Logger
	m        *metrics.Metrics
	gm       *metrics.Group
	inFlight *semaphore.Weighted
	state    observe.StateTotals

	mu    sync.Mutex
	units map[int32]*unit // by state partition; -1 without a group
	// joined is set once the group assigned this pod its first partitions
	// (perhaps none); always true without a group.
	joined bool
	// stopped says why the group member stopped on a fatal error of its
	// own (not a unit's); empty while it runs.
	stopped string
}

// New validates cfg and builds a Connector. Nothing connects until Run.
// opts.Metrics and opts.Logger are shared by the sources, which add their
// name; gm, if not nil, counts the group's partitions and rebalances.
func New(cfg Config, opts Options, gm *metrics.Group) (*Connector, error) {
	if cfg.StatePartitions == 0 {
		cfg.StatePartitions = DefaultStatePartitions
	}
	if cfg.MaxConcurrentRequests == 0 {
		cfg.MaxConcurrentRequests = DefaultMaxConcurrentRequests
	}
	if cfg.SessionTimeout <= 0 {
		cfg.SessionTimeout = DefaultSessionTimeout
	}
	if cfg.RebalanceTimeout <= 0 {
		cfg.RebalanceTimeout = defaultRebalanceTimeout(cfg)
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Metrics == nil {
		opts.Metrics = metrics.New(prometheus.NewRegistry())
	}
	s := &Connector{
		cfg: cfg, opts: opts, log: opts.Logger, m: opts.Metrics, gm: gm,
		inFlight: semaphore.NewWeighted(int64(cfg.MaxConcurrentRequests)),
		units:    map[int32]*unit{},
		joined:   cfg.Group == "",
	}
	// Build every source once, so that a bad setting stops the start
	// rather than an assignment later. Without a group that is the one
	// unit of work, which Run runs first.
	if cfg.Group == "" {
		u, err := s.newUnit(-1)
		if err != nil {
			return nil, err
		}
		s.units[-1] = u
	} else {
		for _, sc := range cfg.Sources {
			c, err := s.newSource(sc, -1)
			if err != nil {
				return nil, err
			}
			// Only the owner of its partition exports a source's series.
			observe.Forget(c.m, c.cfg.SourceName, c.cfg.Type)
		}
	}
	s.m.Ready.SetFunc(func() float64 {
		if ok, _ := s.Ready(); ok {
			return 1
		}
		return 0
	})
	return s, nil
}

// newSource builds the poller of one source for a unit of work on
// partition (-1: no group), with an empty store.
func (s *Connector) newSource(sc SourceConfig, partition int32) (*poller, error) {
	opts := s.opts
	opts.Logger = s.log.With("source", sc.SourceName)
	parts := 0
	if s.cfg.Group != "" {
		parts = s.cfg.StatePartitions
	}
	c, err := newPoller(sc, opts, pollerEnv{
		inFlight: s.inFlight, totals: &s.state,
		keys: state.NewSourceKeys(sc.SourceName, sc.SourceName == s.cfg.UnprefixedSource, partition, parts),
	})
	if err != nil {
		return nil, fmt.Errorf("source %s: %w", sc.SourceName, err)
	}
	return c, nil
}

// sourcesOf returns the configurations of the sources on partition p, or of
// every source when p is -1.
func (s *Connector) sourcesOf(p int32) []SourceConfig {
	if p < 0 {
		return s.cfg.Sources
	}
	var out []SourceConfig
	for _, sc := range s.cfg.Sources {
		if state.SourcePartition(sc.SourceName, s.cfg.StatePartitions) == p {
			out = append(out, sc)
		}
	}
	return out
}

// sinkConfig is the producer of the unit of work on partition p (-1: no
// group).
func (s *Connector) sinkConfig(p int32) sink.Config {
	c := s.cfg.Sources[0]
	sc := sinkConfig(c, s.log, s.opts.At)
	if p >= 0 {
		sc.TransactionalID = fmt.Sprintf("%s-p%d", c.TransactionalID, p)
		sc.StatePartitions = int32(s.cfg.StatePartitions)
		sc.ManualStatePartition = true
		sc.Logger = sc.Logger.With("partition", p)
	}
	if f := s.opts.UnitProducerOpts; f != nil {
		sc.ProducerOpts = append(append([]kgo.Opt(nil), sc.ProducerOpts...), f(sc.TransactionalID)...)
	}
	return sc
}

// Run runs the sources until ctx is done: without a group all of them in one
// unit of work, fenced by the transactional id; with one, those of the
// partitions the group assigns. It returns nil after a clean shutdown.
func (s *Connector) Run(ctx context.Context) error {
	if s.cfg.Group != "" {
		return s.runGroup(ctx)
	}
	return s.runSole(ctx)
}

// Ready reports whether every unit of work this process owns is restored
// and its sources are ready; a pod of a group that owns no partition is
// ready and idle.
func (s *Connector) Ready() (bool, string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopped != "" {
		return false, s.stopped
	}
	if !s.joined {
		return false, "not yet a member of group " + s.cfg.Group
	}
	if len(s.units) == 0 {
		return true, "idle: no state partition assigned"
	}
	parts := make([]int32, 0, len(s.units))
	for p := range s.units {
		parts = append(parts, p)
	}
	sort.Slice(parts, func(i, j int) bool { return parts[i] < parts[j] })
	for _, p := range parts {
		if ok, why := s.units[p].ready(); !ok {
			if p >= 0 {
				why = fmt.Sprintf("state partition %d: %s", p, why)
			}
			return false, why
		}
	}
	return true, "ok"
}

// Options are the connector's collaborators.
type Options struct {
	Logger  *slog.Logger
	Metrics *metrics.Metrics
	// Encoder encodes events; default: single-object encoding.
	Encoder *event.Encoder
	// OnCommit, if set, is called for every event record after its
	// transaction committed.
	OnCommit func(Committed)
	// At, if set, is called at the named steps of a start and a commit
	// (see sink.Point). Tests crash the process there; leave it nil
	// otherwise.
	At func(sink.Point)
	// UnitProducerOpts, if set, is called once for every producer a Connector
	// starts, with its transactional id, for options of that producer
	// alone: a client id, metrics hooks that take one client each.
	UnitProducerOpts func(transactionalID string) []kgo.Opt
}

func ignoreCanceled(ctx context.Context, err error) error {
	if err != nil && ctx.Err() != nil && !sink.IsFatal(err) && errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}

// restartWait is how long a unit waits before it starts again after a
// transaction timed out: the new producer's initialisation aborts what the
// old one left open, so there is nothing to wait for but a loop to avoid.
const restartWait = time.Second

// runSole runs the one unit of work of a process without a group until
// ctx is done. A transaction that timed out (sink.ClassTimeout) starts the
// unit again, afresh, in the same process, after restartWait: a new
// producer fences and resolves what was left open, and a fresh restore
// tells what committed, so the window is read again and committed exactly
// once. Any other error ends it, a fence included (the command holds it).
func (s *Connector) runSole(ctx context.Context) error {
	for {
		s.mu.Lock()
		u := s.units[-1]
		s.mu.Unlock()
		err := ignoreCanceled(ctx, u.run(ctx))
		if sink.FatalClass(err) != sink.ClassTimeout || ctx.Err() != nil {
			return err
		}
		if pause.For(ctx, restartWait) != nil {
			return nil
		}
		for _, c := range u.sources {
			c.state.Forget(c.m, &c.reported) // restored afresh by the next unit
		}
		if u, err = s.newUnit(-1); err != nil {
			return err
		}
		s.mu.Lock()
		s.units[-1] = u
		s.mu.Unlock()
	}
}

// sinkConfig is the producer of cfg, fenced by its transactional id.
func sinkConfig(cfg SourceConfig, log *slog.Logger, at func(sink.Point)) sink.Config {
	return sink.Config{
		TransactionalID: cfg.TransactionalID, Topics: cfg.Topics, BarrierKey: state.NoopKey,
		CreateTopics: cfg.CreateTopics, Partitions: cfg.Partitions,
		ReplicationFactor: cfg.ReplicationFactor, TopicConfigs: cfg.TopicConfigs,
		TransactionTimeout: cfg.TransactionTimeout, RestoreStall: cfg.RestoreStallTimeout,
		ClientOpts:    append([]kgo.Opt{kgo.SeedBrokers(cfg.Brokers...)}, cfg.KafkaOpts...),
		ProducerOpts:  cfg.ProducerOpts,
		BatchMaxBytes: cfg.BatchMaxBytes,
		Logger:        log.With("component", "sink"),
		At:            at,
	}
}
