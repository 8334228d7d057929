package sink

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// DefaultBarrierKey is the restore barrier's key unless Config.BarrierKey
// names another.
var DefaultBarrierKey = []byte("\x00callstream-restore-barrier")

// ReadState reads the state topic from its start, read_committed, calling
// fn for each record in offset order (value nil for a tombstone) with the
// time it was written (the record's timestamp). Call it
// after New, which fenced older instances and resolved their open
// transaction.
//
// Where the state ends is not read from the broker's end offsets: the last
// records before them may be ones a read_committed reader never sees (a
// transaction aborted without its marker, as kfake does to one left open
// across a crash of the broker; a batch emptied by compaction), and a
// reader that waits to see the last offset would wait for ever. The read
// first commits a barrier, a tombstone of Config.BarrierKey, to every
// partition it reads, and reads up to it: it is committed data after
// everything committed before, so it is always seen. fn never sees a
// barrier; compaction removes them.
func (s *Sink) ReadState(ctx context.Context, fn func(key, value []byte, written time.Time) error) (int, error) {
	return s.readState(ctx, -1, fn)
}

// ReadPartition is ReadState for one partition of the state topic: the
// state of one unit of work.
func (s *Sink) ReadPartition(ctx context.Context, partition int32, fn func(key, value []byte, written time.Time) error) (int, error) {
	return s.readState(ctx, partition, fn)
}

// barrierAttempts bounds the barrier commits a restore tries when they are
// aborted cleanly (ErrAborted) before it gives up.
const barrierAttempts = 3

// barrier commits a barrier to each partition of ps and returns the offset
// after each one: where the read of that partition ends.
func (s *Sink) barrier(ctx context.Context, ps []int32) (map[int32]int64, error) {
	recs := make([]*kgo.Record, len(ps))
	for i, p := range ps {
		recs[i] = &kgo.Record{Topic: s.cfg.Topics.State, Partition: p, Key: s.cfg.BarrierKey}
	}
	var err error
	for range barrierAttempts {
		if err = s.Commit(ctx, recs); !errors.Is(err, ErrAborted) {
			break
		}
	}
	if err != nil {
		return nil, fmt.Errorf("committing the restore barrier: %w", err)
	}
	ends := make(map[int32]int64, len(recs))
	for _, r := range recs {
		ends[r.Partition] = r.Offset + 1
	}
	return ends, nil
}

// readState reads partition only, or every partition when only is -1.
func (s *Sink) readState(ctx context.Context, only int32, fn func(key, value []byte, written time.Time) error) (int, error) {
	topic := s.cfg.Topics.State
	var ps []int32
	if only >= 0 {
		ps = []int32{only}
	} else {
		listed, err := s.adm.ListEndOffsets(ctx, topic)
		if err == nil {
			err = listed.Error()
		}
		if err != nil {
			return 0, fmt.Errorf("listing the partitions of %q: %w", topic, err)
		}
		listed.Each(func(o kadm.ListedOffset) { ps = append(ps, o.Partition) })
	}
	remaining, err := s.barrier(ctx, ps)
	if err != nil {
		return 0, err
	}
	parts := make(map[int32]kgo.Offset, len(ps))
	for _, p := range ps {
		parts[p] = kgo.NewOffset().AtStart()
	}
	opts := append(append([]kgo.Opt(nil), s.cfg.ClientOpts...),
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: parts}),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		// Fetches of 1 MiB: one partition has one fetch in flight, so
		// over a real network each costs a round trip, and 256 KiB
		// fetches took 2.6 s to restore 1M calls at 20 ms round trips,
		// 1 MiB ones 1.1 s (BenchmarkRestoreOverLatency). Not larger: a
		// state record is about 35 bytes, but franz-go holds each
		// fetched one in a Record of some 160, and the records of a
		// fetch and of the one buffered behind it are live together;
		// 1 MiB peaks some 30 MiB above 256 KiB, 4 MiB some 200 MiB,
		// and was no faster (docs/performance.md).
		kgo.FetchMaxBytes(1<<20), kgo.FetchMaxPartitionBytes(1<<20),
	)
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return 0, fmt.Errorf("creating state reader: %w", err)
	}
	defer cl.Close()
	n := 0
	w := s.newWatch(topic, remaining)
	defer w.done()
	for len(remaining) > 0 {
		pctx, cancel := context.WithTimeout(ctx, w.every)
		fetches := cl.PollFetches(pctx)
		cancel()
		if err := ctx.Err(); err != nil {
			return n, fmt.Errorf("reading state: %w", err)
		}
		var ferr error
		fetches.EachError(func(t string, p int32, err error) {
			if !errors.Is(err, context.DeadlineExceeded) { // the poll's own bound
				ferr = fmt.Errorf("reading state %s[%d]: %w", t, p, err)
			}
		})
		if ferr != nil {
			return n, ferr
		}
		if fetches.NumRecords() == 0 {
			if err := w.waiting(ctx); err != nil {
				return n, err
			}
			continue
		}
		w.progressed()
		var lerr error
		fetches.EachRecord(func(r *kgo.Record) {
			end, ok := remaining[r.Partition]
			if !ok || lerr != nil || r.Offset >= end {
				return
			}
			w.next[r.Partition] = r.Offset + 1
			if !bytes.Equal(r.Key, s.cfg.BarrierKey) {
				n++
				if err := fn(r.Key, r.Value, r.Timestamp); err != nil {
					lerr = fmt.Errorf("state record at offset %d: %w", r.Offset, err)
				}
			}
			if r.Offset+1 >= end {
				delete(remaining, r.Partition)
			}
		})
		if lerr != nil {
			return n, lerr
		}
	}
	return n, nil
}

// restoreWatch tells what a restore waits for while it reads nothing: every
// Config.RestoreCheckEvery it logs and reports (Config.OnRestoreWait) where
// each partition's last stable offset stands against the barrier and which
// producers hold it, and after Config.RestoreStall of reading nothing it
// fails the restore with that diagnosis.
type restoreWatch struct {
	s        *Sink
	topic    string
	ends     map[int32]int64 // partitions still read → the offset after their barrier
	next     map[int32]int64 // partition → the next offset to read
	every    time.Duration
	last     time.Time // when a record was last read
	reported bool
}

func (s *Sink) newWatch(topic string, ends map[int32]int64) *restoreWatch {
	return &restoreWatch{s: s, topic: topic, ends: ends, next: map[int32]int64{},
		every: cmp.Or(s.cfg.RestoreCheckEvery, DefaultRestoreCheckEvery), last: time.Now()}
}

func (w *restoreWatch) progressed() {
	w.last = time.Now()
	w.clear()
}

func (w *restoreWatch) done() { w.clear() }

func (w *restoreWatch) clear() {
	if w.reported && w.s.cfg.OnRestoreWait != nil {
		w.s.cfg.OnRestoreWait(nil)
	}
	w.reported = false
}

// waiting is called after a poll that read nothing.
func (w *restoreWatch) waiting(ctx context.Context) error {
	waited := time.Since(w.last)
	if waited < w.every {
		return nil
	}
	dctx, cancel := context.WithTimeout(ctx, w.every)
	waits := w.s.diagnose(dctx, w.topic, w.next, w.ends, waited)
	cancel()
	for _, wt := range waits {
		w.s.log.Warn("restore waiting", "partition", wt.Partition, "read_offset", wt.Read, "barrier_offset", wt.Barrier,
			"last_stable_offset", wt.Stable, "unstable_offsets", wt.Unstable(), "waited_seconds", waited.Seconds(), "detail", wt.String())
	}
	if w.s.cfg.OnRestoreWait != nil {
		w.reported = true
		w.s.cfg.OnRestoreWait(waits)
	}
	if stall := w.s.cfg.RestoreStall; stall > 0 && waited >= stall {
		return &RestoreStalledError{Topic: w.topic, After: stall, Waits: waits}
	}
	return nil
}
