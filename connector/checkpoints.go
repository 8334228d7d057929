package connector

import (
	"context"
	"time"

	"github.com/callstream/callstream/connector/state"
)

// DefaultCheckpointDelay is SourceConfig.CheckpointDelay's default: an idle
// source commits its checkpoints about once a minute, so at most 60
// transactions an hour instead of one a window.
const DefaultCheckpointDelay = time.Minute

// deferredCheckpoints are the checkpoints of windows read whole that
// emitted nothing (no event, dead letter, state change or tombstone), not
// committed yet. They wait, and travel together in a later transaction:
//
//   - The store never holds them before they commit (invariant 2). The
//     schedule reads them over the store's (Connector.checkpoint), so that
//     it moves on to the next window rather than reading the same one
//     again.
//   - Every batch starts with them (carry): a window with events commits
//     at once and takes them along, and they reach the store with it.
//   - A window that emitted nothing commits anyway once the oldest of them
//     has waited SourceConfig.CheckpointDelay, and the loop commits them at a
//     clean stop (flushCheckpoints).
//
// A crash loses them: the restart reads those windows again from the last
// committed checkpoints. They emitted nothing, and the dedup store, which
// they did not change, makes a second reading emit nothing either.
type deferredCheckpoints struct {
	since time.Time // when the oldest was deferred; zero when none wait
	cps   map[string][]byte
}

// checkpoint is a checkpoint as the schedule sees it: the deferred one if
// any, else the committed one.
func (c *poller) checkpoint(name string) []byte {
	if v, ok := c.deferred.cps[name]; ok {
		return v
	}
	return c.store.Checkpoint(name)
}

// carry sets the deferred checkpoints on b, the batch of the next
// transaction; checkpoints b sets later override them.
func (d *deferredCheckpoints) carry(b *state.Batch) {
	for name, v := range d.cps {
		b.SetCheckpoint(name, v)
	}
}

// hold defers b's checkpoints, those it carries included, and reports true,
// when b emits nothing and the oldest deferred checkpoint has waited less
// than delay at now. A delay ≤ 0 never defers.
func (d *deferredCheckpoints) hold(b *batch, now time.Time, delay time.Duration) bool {
	if delay <= 0 || len(b.Events) > 0 || len(b.Records) > 0 || b.tombstones > 0 || b.state.Calls() > 0 {
		return false
	}
	if d.since.IsZero() {
		d.since = now
	} else if now.Sub(d.since) >= delay {
		return false
	}
	cps := make(map[string][]byte, len(d.cps)+1)
	b.state.Checkpoints(func(name string, v []byte) { cps[name] = v })
	d.cps = cps
	return true
}

// committed forgets the deferred checkpoints once a batch that carried them
// committed.
func (d *deferredCheckpoints) committed() { *d = deferredCheckpoints{} }

// commitOrDefer commits b, with the deferred checkpoints it carries, or
// defers its checkpoints (see deferredCheckpoints); it reports whether it
// deferred them.
func (c *poller) commitOrDefer(ctx context.Context, b *batch) (deferred bool, err error) {
	if c.deferred.hold(b, c.cfg.Clock(), c.cfg.CheckpointDelay) {
		return true, nil
	}
	if err := c.commit(ctx, b); err != nil {
		return false, err
	}
	c.deferred.committed()
	return false, nil
}

// flushCheckpoints commits the deferred checkpoints as polling stops
// cleanly (err nil). One that fails is logged, not returned: the windows
// it covers emitted nothing and are read again after the restart.
func (c *poller) flushCheckpoints(ctx context.Context, err error) error {
	if err != nil || len(c.deferred.cps) == 0 {
		return err
	}
	b := &batch{state: c.store.NewBatch()}
	c.deferred.carry(b.state)
	if err := c.commit(ctx, b); err != nil {
		c.log.Warn("deferred checkpoints not committed at the stop", "checkpoints", len(c.deferred.cps), "err", err)
		return nil
	}
	c.deferred.committed()
	return nil
}
