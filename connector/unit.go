package connector

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/callstream/callstream/connector/observe"
	"github.com/callstream/callstream/connector/sink"
	"github.com/callstream/callstream/connector/state"
	"github.com/twmb/franz-go/pkg/kgo"
	"golang.org/x/sync/errgroup"
)

// unit is one unit of work: a transactional producer and the sources whose
// state it holds. Without a group it is every source, fenced by the
// transactional id; in a group it is the sources of one state partition,
// fenced by the transactional id suffixed with the partition.
type unit struct {
	set        *Connector
	partition  int32 // -1 without a group
	sources    []*poller
	byName     map[string]*poller
	unprefixed *poller // the source with unprefixed state keys, if here

	mu sync.Mutex
	// phase says why the unit is not polling yet, or no longer; empty
	// while it polls.
	phase string
	// unstable is what the unit adds to the RestoreUnstable gauge while
	// its restore waits.
	unstable int64
}

// restoreWaiting says in the unit's readiness what its restore waits for
// (nil: it reads again), and counts the offsets held back in the
// RestoreUnstable gauge.
func (u *unit) restoreWaiting(waits []sink.RestoreWait) {
	var unstable int64
	why := make([]string, len(waits))
	for i, w := range waits {
		unstable += w.Unstable()
		why[i] = w.String()
	}
	u.mu.Lock()
	delta := unstable - u.unstable
	u.unstable = unstable
	u.mu.Unlock()
	u.set.m.RestoreUnstable.Add(float64(delta))
	phase, reason := "restoring state", ""
	if waits != nil {
		reason = "restore waiting: " + strings.Join(why, "; ")
		phase += ", " + reason
	}
	u.setPhase(phase)
	for _, c := range u.sources {
		c.health.restoreWaiting(reason)
	}
}

func (s *Connector) newUnit(p int32) (*unit, error) {
	u := &unit{set: s, partition: p, byName: map[string]*poller{}, phase: "starting the producer"}
	for _, sc := range s.sourcesOf(p) {
		c, err := s.newSource(sc, p)
		if err != nil {
			return nil, err
		}
		u.sources = append(u.sources, c)
		u.byName[sc.SourceName] = c
		if sc.SourceName == s.cfg.UnprefixedSource {
			u.unprefixed = c
		}
	}
	return u, nil
}

func (u *unit) setPhase(phase string) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.phase = phase
}

// ready reports whether the unit polls and every source of it is ready.
func (u *unit) ready() (bool, string) {
	u.mu.Lock()
	phase := u.phase
	u.mu.Unlock()
	if phase != "" {
		return false, phase
	}
	for _, c := range u.sources {
		if ok, why := c.health.Ready(); !ok {
			if len(u.set.cfg.Sources) > 1 {
				why = "source " + c.cfg.SourceName + ": " + why
			}
			return false, why
		}
	}
	return true, "ok"
}

// run fences, reads the unit's state, then polls its sources until ctx is
// done (invariant 3 for each unit of work). It returns nil after a clean
// stop, the open transaction ended.
func (u *unit) run(ctx context.Context) (err error) {
	if len(u.sources) == 0 {
		// A partition no configured source hashes to: nothing to fence,
		// read or poll.
		u.setPhase("")
		<-ctx.Done()
		return nil
	}
	defer func() {
		if u.partition >= 0 {
			// The partition moved: its new owner exports its sources.
			for _, c := range u.sources {
				c.state.Forget(c.m, &c.reported)
				observe.Forget(c.m, c.cfg.SourceName, c.cfg.Type)
			}
		}
		if err != nil && ctx.Err() == nil {
			u.setPhase("stopped: " + err.Error())
		}
		u.countFatal(err)
	}()
	// 1. Fence: whoever held this unit before is fenced and its open
	//    transaction resolved.
	scfg := u.set.sinkConfig(u.partition)
	scfg.OnRestoreWait = u.restoreWaiting
	sk, err := u.startSink(ctx, scfg)
	if err != nil {
		return ignoreCanceled(ctx, fmt.Errorf("starting the producer: %w", err))
	}
	defer sk.Close()
	for _, c := range u.sources {
		c.limits = sk.Limits()
		c.health.set(producerReady, true)
	}
	// 2. Read the unit's state to its end, read_committed.
	u.setPhase("restoring state")
	if err := u.restore(ctx, sk); err != nil {
		return ignoreCanceled(ctx, err)
	}
	for _, c := range u.sources {
		c.health.set(stateLoaded, true)
	}
	u.setPhase("")
	// 3. Poll every source; their batches share the producer.
	shared := newSharedCommitter(sk)
	stop := make(chan struct{})
	go shared.run(stop)
	defer func() { close(stop); <-shared.done }()
	g, gctx := errgroup.WithContext(ctx)
	for _, c := range u.sources {
		c.sink = shared
		g.Go(func() error { return ignoreCanceled(gctx, c.poll(gctx)) })
	}
	return ignoreCanceled(ctx, g.Wait())
}

// restore reads the unit's state, routing each record to its source's
// store. Records of sources not configured here (removed ones) go to no
// store: their state stays in the topic, used again if the source comes
// back, until it ages out (see ageOut).
func (u *unit) restore(ctx context.Context, sk *sink.Sink) error {
	start := time.Now()
	skipped := 0
	removed := map[string]*removedSource{}
	load := func(key, value []byte, written time.Time) error {
		name, inner, prefixed, err := state.SplitSourceKey(key)
		if err != nil {
			return err
		}
		c := u.unprefixed
		if prefixed {
			c = u.byName[name]
		}
		if c != nil {
			return c.loadState(inner, value)
		}
		skipped++
		if prefixed && u.set.cfg.RemovedSourceRetention > 0 {
			r := removed[name]
			if r == nil {
				r = &removedSource{keys: map[string]bool{}}
				removed[name] = r
			}
			r.keys[string(key)] = value != nil
			if written.After(r.written) {
				r.written = written
			}
		}
		return nil
	}
	var n int
	var err error
	if u.partition < 0 {
		n, err = sk.ReadState(ctx, load)
	} else {
		n, err = sk.ReadPartition(ctx, u.partition, load)
	}
	if err != nil {
		return fmt.Errorf("restoring state: %w", err)
	}
	calls := 0
	for _, c := range u.sources {
		if u.partition >= 0 {
			if err := state.CheckPartitions(c.cfg.SourceName, c.store, u.set.cfg.StatePartitions); err != nil {
				return err
			}
		}
		calls += c.store.Len()
		c.reportState()
	}
	d := time.Since(start)
	u.set.m.Restores.Observe(d.Seconds())
	u.set.log.Info("state restored", "partition", u.partition, "sources", len(u.sources), "records", n,
		"calls", calls, "skipped_records", skipped, "duration_seconds", d.Seconds())
	return u.ageOut(ctx, sk, removed)
}

// removedSource is what the restore saw of a source no longer configured:
// its keys, each with whether it holds a value (not a tombstone), and when
// it last wrote.
type removedSource struct {
	keys    map[string]bool
	written time.Time
}

// ageOutBatch is the most tombstones an age-out commits in one transaction.
const ageOutBatch = 100_000

// ageOut deletes the state of each removed source that wrote nothing for
// Config.RemovedSourceRetention: a tombstone for each of its keys, in
// transactions of its own before any polling, to the partition the key is
// in. A source that comes back after that is a new one and starts from its
// start-from; one that comes back before finds its state as it left it.
func (u *unit) ageOut(ctx context.Context, sk *sink.Sink, removed map[string]*removedSource) error {
	keep := u.set.cfg.RemovedSourceRetention
	topic := u.set.cfg.Sources[0].Topics.State
	now := time.Now()
	for name, r := range removed {
		live := 0
		for _, v := range r.keys {
			if v {
				live++
			}
		}
		if live == 0 {
			continue // nothing left of it but tombstones
		}
		if now.Sub(r.written) < keep {
			u.set.log.Info("state of a source no longer configured kept", "removed_source", name, "records", live,
				"last_written", r.written.UTC(), "ages_out_at", r.written.Add(keep).UTC())
			continue
		}
		var recs []*kgo.Record
		for key, v := range r.keys {
			if !v {
				continue
			}
			rec := &kgo.Record{Topic: topic, Key: []byte(key)}
			if u.partition >= 0 {
				rec.Partition = u.partition
			}
			if recs = append(recs, rec); len(recs) == ageOutBatch {
				if err := sk.Commit(ctx, recs); err != nil {
					return fmt.Errorf("ageing out the state of %q: %w", name, err)
				}
				recs = recs[:0]
			}
		}
		if err := sk.Commit(ctx, recs); err != nil {
			return fmt.Errorf("ageing out the state of %q: %w", name, err)
		}
		u.set.log.Warn("state of a source no longer configured aged out", "removed_source", name, "records", live,
			"last_written", r.written.UTC(), "retention", keep.String())
	}
	return nil
}

// The reasons of the callstream_fatal_errors_total metric are the classes
// of sink.FatalClass.
const fatalFenced = sink.ClassFenced

// countFatal counts and logs an error that ends the unit, if it is a fatal
// Kafka error, and says so in the readiness of the unit and its sources. A
// transaction that timed out is counted as such and logged as a warning:
// the unit starts again.
func (u *unit) countFatal(err error) {
	if !sink.IsFatal(err) {
		return
	}
	class := sink.FatalClass(err)
	if class == sink.ClassTimeout {
		u.setPhase("restarting the producer after a transaction timed out")
		u.set.m.TransactionTimeouts.Inc()
		u.set.log.Warn("transaction timed out; starting the producer again and restoring", "class", class, "partition", u.partition, "err", err)
		return
	}
	why := "stopped on a fatal Kafka error (" + class + ")"
	if class == fatalFenced {
		why = "fenced: a newer instance with the same transactional id took over"
	}
	u.setPhase(why)
	for _, c := range u.sources {
		c.health.end(why)
	}
	u.set.m.FatalErrors.WithLabelValues(class).Inc()
	log := u.set.log
	if u.partition >= 0 {
		log = log.With("partition", u.partition)
	}
	log.Error("fatal error", "class", class, "err", err)
}
