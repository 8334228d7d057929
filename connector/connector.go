package connector

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/callstream/callstream/connector/calllist"
	"github.com/callstream/callstream/connector/event"
	"github.com/callstream/callstream/connector/schedule"
	"github.com/callstream/callstream/connector/sink"
	"github.com/callstream/callstream/connector/source"
	"github.com/callstream/callstream/connector/state"
	"github.com/callstream/callstream/metrics"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kgo"
	"golang.org/x/sync/semaphore"
)

// Connector moves the vendor's call list into Kafka exactly once.
type Connector struct {
	cfg     Config
	log     *slog.Logger
	m       *metrics.Metrics
	src     *source.Client
	enc     *event.Encoder
	store   *state.Store
	sink    committer
	health  *Health
	labels  prometheus.Labels
	onEvent func(Committed)
	at      func(sink.Point)
	apiLog  *apiLog
	notes   *vendorNotes

	// keys places this source's records in the state topic: its key
	// prefix and, in a group, its partition.
	keys stateKeys
	// state, in a Set, sums the state of every source of the process
	// for the state gauges; nil for a single source.
	state    *stateTotals
	reported stateReport

	lastPrune time.Time
	backfill  backfillProgress
	stalls    *stallWatch
	// inconsistentLogged is when a window taken as listed was last logged
	// at warning level, by reason.
	inconsistentLogged map[string]time.Time

	// limits are the output topics' limits, learnt when the unit's
	// producer started; ignore leaves Config.IgnoreChanges out of the
	// calls' hashes.
	limits   sink.Limits
	ignore   event.Ignore
	deferred deferredCheckpoints

	clockMu sync.Mutex
	last    time.Time // the latest time now returned
}

// DefaultNoRecordsAlert is Config.NoRecordsAlert's default.
const DefaultNoRecordsAlert = 24 * time.Hour

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
	// InFlight, if set, caps the API requests in flight across every
	// connector that shares it (see source.Config.InFlight).
	InFlight *semaphore.Weighted
	// UnitProducerOpts, if set, is called once for every producer a Set
	// starts, with its transactional id, for options of that producer
	// alone: a client id, metrics hooks that take one client each.
	UnitProducerOpts func(transactionalID string) []kgo.Opt
}

// New validates cfg and builds a connector. Nothing connects until Run.
func New(cfg Config, opts Options) (*Connector, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	if cfg.PruneEvery <= 0 {
		cfg.PruneEvery = DefaultPruneEvery
	}
	if cfg.CheckpointDelay == 0 {
		cfg.CheckpointDelay = DefaultCheckpointDelay
	}
	if cfg.NoRecordsAlert <= 0 {
		cfg.NoRecordsAlert = DefaultNoRecordsAlert
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Metrics == nil {
		opts.Metrics = metrics.New(prometheus.NewRegistry())
	}
	c := &Connector{
		cfg: cfg, log: opts.Logger, m: opts.Metrics, enc: opts.Encoder, onEvent: opts.OnCommit, at: opts.At,
		store:  state.New(),
		keys:   legacyKeys(),
		labels: prometheus.Labels{metrics.LabelSource: cfg.SourceName, metrics.LabelType: cfg.Type},
	}
	c.health = newHealth(cfg.ReadyMaxAge, cfg.Clock, c.m, c.labels)
	c.stalls = newStallWatch(cfg)
	c.health.stallWhy = c.stalls.why
	c.apiLog = newAPILog(c.log, cfg.AuthLogEvery, cfg.Clock)
	c.notes = newVendorNotes(c.log, c.m)
	c.backfill.log = c.log.With("component", "backfill")
	c.initMetrics()
	if c.enc == nil {
		c.enc = event.NewEncoder()
	}
	var err error
	if c.ignore, err = event.ParseIgnore(cfg.IgnoreChanges); err != nil {
		return nil, fmt.Errorf("configuring ignored changes: %w", err) // Validate has checked them
	}
	scfg := source.Config{
		BaseURL: cfg.APIURL, AppID: cfg.AppID, AppKey: cfg.AppKey, Type: cfg.Type,
		PageSize: cfg.PageSize, MaxPages: cfg.MaxPages, PageConcurrency: cfg.PageConcurrency, Signer: cfg.Signer,
		Timeout: cfg.RequestTimeout, Clock: cfg.Clock, Hooks: c.sourceHooks(),
		RateLimit: cfg.RateLimit, RateBurst: cfg.RateBurst, InFlight: opts.InFlight,
	}
	if c.src, err = source.NewClient(scfg); err != nil {
		return nil, fmt.Errorf("configuring the API client: %w", err)
	}
	return c, nil
}

// Health returns the connector's liveness and readiness, for /healthz and
// /readyz.
func (c *Connector) Health() *Health { return c.health }

// now is the time on the API server's clock (see source.Client.Now): the
// clock that decides which calls exist, so windows are placed by it. It
// never goes back: the offset is re-estimated with every response, and a
// clock that stepped back could start a re-scan behind the point up to
// which the state was pruned, and take pruned calls for new ones.
func (c *Connector) now() time.Time {
	c.clockMu.Lock()
	defer c.clockMu.Unlock()
	if t := c.src.Now(); t.After(c.last) {
		c.last = t
	}
	return c.last
}

// Run fences older instances, reads the state, then polls until ctx is done,
// as the one source of a unit of work (see unit.run). It returns nil after
// a clean shutdown (the open transaction finished or aborted) and an error
// otherwise; a *sink.FatalError means the process should exit non-zero and
// be restarted.
func (c *Connector) Run(ctx context.Context) error {
	return runSole(ctx, func(restart bool) (*unit, error) {
		if restart {
			c.store = state.New() // restored afresh from the topic
			c.health.set(producerReady, false)
			c.health.set(stateLoaded, false)
		}
		return c.soleUnit(), nil
	})
}

// poll is step 3 of a unit's run: once the producer fenced older instances
// and the state was read, it polls until ctx is done.
func (c *Connector) poll(ctx context.Context) error {
	// 3. Poll, once the server's clock is known: windows are placed by it.
	if err := c.syncClock(ctx); err != nil {
		return err
	}
	c.countListed(ctx)
	if !schedule.IsInitialized(c.store.Checkpoint) {
		if err := c.initialize(ctx); err != nil {
			return err
		}
	}
	return c.flushCheckpoints(ctx, c.loop(ctx))
}

// sinkConfig is the producer of cfg, fenced by its transactional id.
func sinkConfig(cfg Config, log *slog.Logger, at func(sink.Point)) sink.Config {
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

// initialize commits the checkpoints of a first start.
func (c *Connector) initialize(ctx context.Context) error {
	b := c.store.NewBatch()
	for name, v := range c.cfg.Schedule.Initial(c.now()) {
		b.SetCheckpoint(name, v)
	}
	if err := c.commit(ctx, &batch{state: b}); err != nil {
		return fmt.Errorf("committing the first checkpoints: %w", err)
	}
	bf, live := schedule.Progress(c.store.Checkpoint)
	c.log.Info("first start", "start_from", c.cfg.Schedule.StartFrom, "live_from", live, "backfill_done", bf == 1)
	return nil
}

// syncClock reads a one-second window just past the settle delay, retrying
// until it succeeds, only to learn the API server's clock from the answer's
// Date header before the first window is placed. Its records are left to
// the live edge. It fails only when ctx is done.
func (c *Connector) syncClock(ctx context.Context) error {
	t := c.cfg.Clock().Add(-c.cfg.Schedule.Settle).Truncate(time.Second)
	if _, err := c.src.ReadWindow(ctx, calllist.Window{Start: t, End: t}, c.cfg.Retry); err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("reading the API server's clock: %w", err)
		}
		// A window that drifts still answered with Date headers; the
		// offset is learnt from the responses to come in any case.
		c.log.Warn("api clock not read", "err", err)
		return nil
	}
	c.log.Info("api clock known", "skew_seconds", c.src.Skew().Seconds())
	return nil
}

// countListed asks the API, once, how many calls it lists for the
// configured type over the deepest re-scan horizon, and logs it. None is a
// warning: a wrong --type or --app-id is otherwise answered with empty
// pages, which look like success.
func (c *Connector) countListed(ctx context.Context) {
	now, horizon := c.now(), c.cfg.Schedule.Horizon()
	n, err := c.src.Count(ctx, calllist.Window{Start: now.Add(-horizon), End: now.Add(-c.cfg.Schedule.Settle)})
	if err != nil {
		c.log.Warn("could not ask the API how many calls it lists", "err", err)
		return
	}
	msg := fmt.Sprintf("the API lists %d calls of type %s in the last %s", n, c.cfg.Type, schedule.FormatSpan(horizon))
	attrs := []any{"calls", n, "type", c.cfg.Type, "horizon", schedule.FormatSpan(horizon)}
	if n == 0 {
		c.log.Warn(msg+": if calls were made in that time, check --type (the vendor documents chat) and --app-id; callstream doctor tries the other types",
			append(attrs, "app_id", c.cfg.AppID)...)
		return
	}
	c.log.Info(msg, attrs...)
}

func ignoreCanceled(ctx context.Context, err error) error {
	if err != nil && ctx.Err() != nil && !sink.IsFatal(err) && errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}
