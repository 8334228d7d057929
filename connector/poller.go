package connector

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/callstream/callstream/connector/calllist"
	"github.com/callstream/callstream/connector/diff"
	"github.com/callstream/callstream/connector/event"
	"github.com/callstream/callstream/connector/observe"
	"github.com/callstream/callstream/connector/schedule"
	"github.com/callstream/callstream/connector/sink"
	"github.com/callstream/callstream/connector/source"
	"github.com/callstream/callstream/connector/state"
	"github.com/callstream/callstream/internal/pause"
	"github.com/callstream/callstream/metrics"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kgo"
	"golang.org/x/sync/semaphore"
)

// poller polls one source: it reads the source's windows, diffs them
// against the source's state and hands each window's batch to the
// committer of its unit of work.
type poller struct {
	cfg     SourceConfig
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
	apiLog  *observe.APILog
	notes   *observe.VendorNotes

	// keys places this source's records in the state topic: its key
	// prefix and, in a group, its partition.
	keys state.SourceKeys
	// state sums the state of every source of the process for the state
	// gauges.
	state    *observe.StateTotals
	reported observe.StateReport

	lastPrune time.Time
	backfill  observe.BackfillProgress
	stalls    *observe.StallWatch
	// inconsistentLogged is when a window taken as listed was last logged
	// at warning level, by reason.
	inconsistentLogged map[string]time.Time

	// limits are the output topics' limits, learnt when the unit's
	// producer started; ignore leaves SourceConfig.IgnoreChanges out of the
	// calls' hashes.
	limits   sink.Limits
	ignore   event.Ignore
	deferred deferredCheckpoints

	clockMu sync.Mutex
	last    time.Time // the latest time now returned
}

// DefaultNoRecordsAlert is SourceConfig.NoRecordsAlert's default.
const DefaultNoRecordsAlert = 24 * time.Hour

// pollerEnv is what a poller shares with the other sources of its
// Connector, and where its records go in the state topic.
type pollerEnv struct {
	// inFlight caps the API requests in flight over the process's
	// sources (see source.Config.InFlight); nil: no cap.
	inFlight *semaphore.Weighted
	// totals sums the state of the process's sources.
	totals *observe.StateTotals
	// keys places the source's records in the state topic.
	keys state.SourceKeys
}

// newPoller builds the poller of one source, cfg validated (see
// Config.Validate). Nothing connects until its unit runs.
func newPoller(cfg SourceConfig, opts Options, env pollerEnv) (*poller, error) {
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
	c := &poller{
		cfg: cfg, log: opts.Logger, m: opts.Metrics, enc: opts.Encoder, onEvent: opts.OnCommit, at: opts.At,
		store: state.New(),
		keys:  env.keys, state: env.totals,
		labels: prometheus.Labels{metrics.LabelSource: cfg.SourceName, metrics.LabelType: cfg.Type},
	}
	c.health = newHealth(cfg.ReadyMaxAge, cfg.Clock, c.m, c.labels)
	c.stalls = observe.NewStallWatch(cfg.Schedule, cfg.StallGrace, cfg.Clock)
	c.health.stallWhy = c.stalls.Why
	c.apiLog = observe.NewAPILog(c.log, cfg.AuthLogEvery, cfg.Clock)
	c.notes = observe.NewVendorNotes(c.log, c.m)
	c.backfill.Log = c.log.With("component", "backfill")
	observe.Init(c.m, observe.Source{
		Name: cfg.SourceName, Type: cfg.Type, Tasks: cfg.Schedule.TaskNames(), Topics: cfg.Topics,
		PageSize: cfg.PageSize, NoRecordsAlert: cfg.NoRecordsAlert, Now: cfg.Clock(), Stalls: c.stalls,
	})
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
		RateLimit: cfg.RateLimit, RateBurst: cfg.RateBurst, InFlight: env.inFlight,
	}
	if c.src, err = source.NewClient(scfg); err != nil {
		return nil, fmt.Errorf("configuring the API client: %w", err)
	}
	return c, nil
}

// now is the time on the API server's clock (see source.Client.Now): the
// clock that decides which calls exist, so windows are placed by it. It
// never goes back: the offset is re-estimated with every response, and a
// clock that stepped back could start a re-scan behind the point up to
// which the state was pruned, and take pruned calls for new ones.
func (c *poller) now() time.Time {
	c.clockMu.Lock()
	defer c.clockMu.Unlock()
	if t := c.src.Now(); t.After(c.last) {
		c.last = t
	}
	return c.last
}

// poll is step 3 of a unit's run: once the producer fenced older instances
// and the state was read, it polls until ctx is done.
func (c *poller) poll(ctx context.Context) error {
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

// initialize commits the checkpoints of a first start.
func (c *poller) initialize(ctx context.Context) error {
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
func (c *poller) syncClock(ctx context.Context) error {
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
func (c *poller) countListed(ctx context.Context) {
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

// DefaultPruneEvery is how often the state is scanned for entries past the
// deepest horizon, unless SourceConfig.PruneEvery says otherwise.
const DefaultPruneEvery = time.Minute

// loop runs the schedule's tasks until ctx is done.
func (c *poller) loop(ctx context.Context) error {
	// The pause after a window whose transaction aborted or that kept
	// changing: 1s, doubling up to a minute.
	abortBackoff := pause.Backoff{Initial: time.Second, Max: time.Minute}
	prev := schedule.Live
	c.stalls.Start()
	for ctx.Err() == nil {
		c.updateLag()
		task, ok, wait := c.cfg.Schedule.NextAfter(c.now(), c.checkpoint, prev)
		if !ok {
			_ = pause.For(ctx, wait)
			continue
		}
		if task.Kind != schedule.Live {
			prev = task.Kind // turns are between re-scans and backfill
		}
		err := c.runTask(ctx, task)
		switch {
		case err == nil:
			abortBackoff.Reset()
		case errors.Is(err, sink.ErrAborted):
			// Nothing of the batch is visible and memory is unchanged:
			// the same window is read again after a pause.
			c.log.Warn("transaction aborted", "class", "abort", "task", task.Name, "window", task.Window.String(), "err", err)
			_ = abortBackoff.Wait(ctx)
		case errors.Is(err, source.ErrWindowDrift):
			// Only a window that cannot be narrowed further returns
			// this (see readWhole), which ReadWindow takes as listed
			// instead; kept as a pause and a retry should that change.
			c.log.Warn("window kept changing while paged", "class", "drift", "task", task.Name, "window", task.Window.String(), "err", err)
			_ = abortBackoff.Wait(ctx)
		case ctx.Err() != nil:
			return nil
		default:
			return err
		}
	}
	return nil
}

// runTask reads one window whole and commits what it changed.
func (c *poller) runTask(ctx context.Context, task schedule.Task) error {
	began := time.Now() // for the backfill's pace: local time, not the API's
	read, b, now, keepAfter, err := c.readBatch(ctx, &task)
	if err != nil {
		return err
	}
	task = task.Resize(len(read.Records), read.PageSize*c.cfg.MaxPages)
	name, v := task.Checkpoint()
	b.state.SetCheckpoint(name, v)
	c.prune(b, now, keepAfter)
	if b.Aged {
		if name, v, ok := schedule.RaiseWatermark(b.state.Checkpoint, keepAfter); ok {
			b.state.SetCheckpoint(name, v)
		}
	}
	start := time.Now()
	deferred, err := c.commitOrDefer(ctx, b)
	if err != nil {
		return err
	}
	c.m.WindowsRead.WithLabelValues(task.Name).Inc()
	c.stalls.Advance(task.Name)
	if in := read.Inconsistent; in != nil {
		c.inconsistent(task, read, in)
	}
	c.log.Debug("window committed", "task", task.Name, "window", task.Window.String(), "checkpoint_deferred", deferred,
		"pages", read.Pages, "records", b.Read, "unchanged", b.Skipped,
		"events", len(b.Events), "rereads", read.Rereads,
		"commit_seconds", time.Since(start).Seconds())
	c.health.polled()
	if task.Kind == schedule.Backfill {
		bf, _ := schedule.Progress(c.checkpoint)
		c.backfill.Window(began, time.Now(), len(read.Records), bf, task)
	}
	return nil
}

// inconsistentLogEvery is how often a window taken as listed is logged at
// warning level for each reason; the others in between are logged at debug
// level, and every one is counted.
const inconsistentLogEvery = time.Minute

// inconsistent counts and logs a window taken as listed although its reads
// kept disagreeing, once it committed.
func (c *poller) inconsistent(task schedule.Task, read *source.WindowRead, in *source.Inconsistency) {
	c.m.WindowInconsistent.WithLabelValues(c.cfg.SourceName, in.Reason).Inc()
	level := slog.LevelDebug
	if now := time.Now(); now.Sub(c.inconsistentLogged[in.Reason]) >= inconsistentLogEvery {
		if c.inconsistentLogged == nil {
			c.inconsistentLogged = map[string]time.Time{}
		}
		c.inconsistentLogged[in.Reason] = now
		level = slog.LevelWarn
	}
	c.log.Log(context.Background(), level, "window taken as listed: its reads kept disagreeing; the re-scan tiers read it again",
		"task", task.Name, "window", task.Window.String(), "reason", in.Reason, "drift", in.Drift,
		"total_count", in.TotalCount, "listed", in.Listed, "distinct_ids", len(read.Records),
		"reads", in.Reads, "ids_twice", in.Twice)
}

// readBatch reads the task's window whole and diffs it into a batch,
// halving the window while the batch's records would exceed
// SourceConfig.MaxTransactionBytes, as readWhole halves it while it holds too
// many pages: a transaction that large might not be produced within the
// transaction timeout. A one-second window commits whole whatever its
// size: nothing stops the line.
func (c *poller) readBatch(ctx context.Context, task *schedule.Task) (*source.WindowRead, *batch, time.Time, int64, error) {
	for {
		read, err := c.readWhole(withTier(ctx, task.Name), task)
		if err != nil {
			return nil, nil, time.Time{}, 0, err
		}
		now := c.now()
		b := &batch{state: c.store.NewBatch(), tier: task.Name}
		c.deferred.carry(b.state)
		keepAfter := c.cfg.Schedule.PruneBefore(now, c.checkpoint, *task)
		c.diff(b, *task, read.Records, keepAfter)
		if b.Err != nil {
			return nil, nil, now, 0, b.Err
		}
		size := recordBytes(b.Records)
		if limit := c.cfg.MaxTransactionBytes; limit > 0 && size > limit {
			if smaller, ok := task.Shrink(); ok {
				c.m.TransactionSplits.Inc()
				c.log.Debug("window split", "task", task.Name, "window", task.Window.String(), "bytes", size, "max_transaction_bytes", limit)
				*task = smaller
				continue
			}
			c.log.Warn("a one-second window exceeds the transaction byte bound; committed whole", "task", task.Name,
				"window", task.Window.String(), "bytes", size, "max_transaction_bytes", limit)
		}
		return read, b, now, keepAfter, nil
	}
}

// recordBytes is what recs weigh on the wire before compression: keys,
// values and headers.
func recordBytes(recs []*kgo.Record) int64 {
	var n int64
	for _, r := range recs {
		n += int64(len(r.Key) + len(r.Value))
		for _, h := range r.Headers {
			n += int64(len(h.Key) + len(h.Value))
		}
	}
	return n
}

// readWhole reads the task's window, halving it while it holds more pages
// than the cap or its re-reads keep disagreeing (narrowing it down to
// windows that fit one page, which the client takes as listed if they still
// disagree); the client reads a one-second window whatever its size. Each
// halving keeps the first half: the next task picks up the rest from the
// checkpoint, so every kind of task (live, re-scan, backfill) narrows
// alike. It makes at most one halving per second of the window, each a
// bounded read (see source.Client.ReadWindow).
func (c *poller) readWhole(ctx context.Context, task *schedule.Task) (*source.WindowRead, error) {
	for {
		read, err := c.src.ReadWindow(ctx, task.Window, c.cfg.Retry)
		var tooMany *source.TooManyPagesError
		reason := ""
		switch {
		case errors.As(err, &tooMany):
			reason = observe.NarrowTooManyPages
		case errors.Is(err, source.ErrWindowDrift):
			reason = observe.NarrowDrift
		case err != nil:
			return nil, fmt.Errorf("reading %s window %s: %w", task.Name, task.Window, err)
		default:
			return read, nil
		}
		smaller, ok := task.Shrink()
		if !ok {
			return nil, fmt.Errorf("reading %s window %s: %w", task.Name, task.Window, err)
		}
		c.m.WindowsNarrowed.WithLabelValues(c.cfg.SourceName, reason).Inc()
		c.log.Debug("window narrowed", "task", task.Name, "window", task.Window.String(), "to", smaller.Window.String(),
			"reason", reason, "err", err)
		*task = smaller
	}
}

// prune drops the entries past the deepest horizon, at most every
// SourceConfig.PruneEvery.
func (c *poller) prune(b *batch, now time.Time, before int64) {
	if now.Sub(c.lastPrune) < c.cfg.PruneEvery {
		return
	}
	c.lastPrune = now
	for _, id := range c.store.Expired(before) {
		b.state.Delete(id)
		b.tombstones++
		b.Aged = true
	}
}

// commit produces the batch in one transaction: events, dead letters, then
// the state records and checkpoints that account for them. Only after the
// commit does the in-memory state change.
func (c *poller) commit(ctx context.Context, b *batch) error {
	recs := appendStateRecords(b.Records, c.cfg.Topics.State, c.keys, b.state)
	start := time.Now()
	// The commit runs on a context detached from shutdown, so that a
	// window read whole is committed rather than thrown away; the sink
	// bounds the produce and the end of the transaction inside the
	// transaction timeout (sink.Bounds).
	if err := c.sink.Commit(context.WithoutCancel(ctx), recs); err != nil {
		if errors.Is(err, sink.ErrAborted) {
			c.m.Transactions.WithLabelValues("abort").Inc()
		}
		return err
	}
	committed := time.Now()
	c.m.Transactions.WithLabelValues("commit").Inc()
	c.m.TxnDuration.Observe(committed.Sub(start).Seconds())
	c.log.Debug("transaction committed", "records", len(recs), "events", len(b.Events),
		"tombstones", b.tombstones, "duration_seconds", committed.Sub(start).Seconds())
	c.point(PointCommitted)
	b.state.Apply()
	c.observe(b, committed)
	return nil
}

// observe counts a committed batch and reports it to OnCommit.
func (c *poller) observe(b *batch, committed time.Time) {
	if b.tier != "" {
		c.m.RecordsRead.WithLabelValues(c.cfg.SourceName, b.tier).Add(float64(b.Read))
	}
	if b.Read > 0 {
		c.m.LastRecord.With(c.labels).Set(float64(committed.UnixMilli()) / 1000)
	}
	c.m.RecordsSkipped.Add(float64(b.Skipped))
	c.reportState()
	c.m.StateTombstones.Add(float64(b.tombstones))
	c.notes.UnknownKeys(b.Unknown)
	// The events are counted by topic and kind, of which a batch holds a
	// few: one look-up of each counter a batch, not one an event.
	var counts [8]eventCount
	kinds := counts[:0]
	for _, e := range b.Events {
		if e.Call != nil {
			c.notes.Status(e.Call.Status)
		}
		if e.Kind == diff.KindDeadLetter {
			c.m.DLQRecords.WithLabelValues(c.cfg.SourceName, e.Reason).Inc()
		} else {
			kinds = countEvent(kinds, e.Topic, e.Kind)
			// gmtCreateTime is on the API server's clock.
			c.m.EventDelay.Observe(committed.Add(c.src.Skew()).Sub(e.Call.GmtCreateTime).Seconds())
		}
		if c.onEvent != nil {
			c.onEvent(e)
		}
	}
	for _, k := range kinds {
		c.m.Events.WithLabelValues(c.cfg.SourceName, k.topic, k.kind).Add(float64(k.n))
	}
}

// eventCount is how many events of a batch went to a topic with a kind.
type eventCount struct {
	topic, kind string
	n           int
}

// countEvent adds an event of topic and kind to counts.
func countEvent(counts []eventCount, topic, kind string) []eventCount {
	for i := range counts {
		if counts[i].topic == topic && counts[i].kind == kind {
			counts[i].n++
			return counts
		}
	}
	return append(counts, eventCount{topic: topic, kind: kind, n: 1})
}

// updateLag records the end of the newest live window and the backfill
// progress from the committed checkpoints. The lag itself is computed when
// scraped, so it stays right while idle, backfilling or retrying.
func (c *poller) updateLag() {
	bf, liveEnd := schedule.Progress(c.checkpoint)
	c.stalls.Backfill(bf >= 1)
	c.m.SourceLag.Set(c.cfg.SourceName, c.cfg.Type, liveEnd)
	c.m.BackfillRatio.With(c.labels).Set(bf)
}

func (c *poller) sourceHooks() source.Hooks {
	return source.Hooks{
		Request: func(ctx context.Context, outcome string, d time.Duration) {
			c.m.APIRequests.WithLabelValues(c.cfg.SourceName, outcome, tierOf(ctx)).Inc()
			c.m.APIDuration.Observe(d.Seconds())
			if outcome == "ok" {
				c.health.apiOK()
				c.stalls.APIOK()
				c.apiLog.Succeeded()
			}
		},
		Error: func(kind source.Kind, err error) {
			c.m.APIErrors.WithLabelValues(c.cfg.SourceName, string(kind)).Inc()
			c.apiLog.Failed(kind, err)
			c.health.apiError(kind)
		},
		Reread: func(string) { c.m.WindowRereads.Inc() },
		PageSize: func(from, to int, reason string) {
			c.m.PageSize.WithLabelValues(c.cfg.SourceName).Set(float64(to))
			c.log.Warn("page size changed: the server grants another number of records a page",
				"from", from, "to", to, "reason", reason, "configured", c.cfg.PageSize)
		},
		Skew: func(off time.Duration) {
			c.m.ClockSkew.Set(off.Seconds())
			c.apiLog.Skewed(off)
		},
	}
}

// tierKey is the context key of the task whose window a request reads.
type tierKey struct{}

func withTier(ctx context.Context, name string) context.Context {
	return context.WithValue(ctx, tierKey{}, name)
}

// tierOf returns the task name that ctx carries, or observe.TierProbe.
func tierOf(ctx context.Context) string {
	if name, ok := ctx.Value(tierKey{}).(string); ok {
		return name
	}
	return observe.TierProbe
}

// appendStateRecords appends the state records of b, under keys, to recs:
// in a group to the source's state partition.
func appendStateRecords(recs []*kgo.Record, topic string, keys state.SourceKeys, b *state.Batch) []*kgo.Record {
	// The records come from blocks of about as many as the batch has
	// calls and checkpoints: an allocation a block, not a record.
	size := b.Calls() + 4
	var block []kgo.Record
	recs = slices.Grow(recs, size)
	keys.Records(b, func(key, value []byte) {
		if len(block) == cap(block) {
			block = make([]kgo.Record, 0, size)
		}
		block = append(block, kgo.Record{Topic: topic, Key: key, Value: value})
		r := &block[len(block)-1]
		if p := keys.Partition(); p >= 0 {
			r.Partition = p
		}
		recs = append(recs, r)
	})
	return recs
}

// reportState sets the state gauges to the sum over the process's sources.
// Only the source's own goroutine calls it.
func (c *poller) reportState() {
	c.state.Report(c.m, &c.reported, int64(c.store.Len()), int64(c.store.Bytes()))
}
