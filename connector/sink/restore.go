package sink

import (
	"context"
	"fmt"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// ReadState reads the state topic from its start to its last stable offset,
// read_committed, calling fn for each record in offset order (value nil for
// a tombstone). Call it after New, which fenced older instances: then no
// transaction of ours is left open and the end found here is the end.
func (s *Sink) ReadState(ctx context.Context, fn func(key, value []byte) error) (int, error) {
	return s.readState(ctx, -1, fn)
}

// ReadPartition is ReadState for one partition of the state topic: the
// state of one unit of work.
func (s *Sink) ReadPartition(ctx context.Context, partition int32, fn func(key, value []byte) error) (int, error) {
	return s.readState(ctx, partition, fn)
}

// readState reads partition only, or every partition when only is -1.
func (s *Sink) readState(ctx context.Context, only int32, fn func(key, value []byte) error) (int, error) {
	topic := s.cfg.Topics.State
	ends, err := s.adm.ListCommittedOffsets(ctx, topic)
	if err != nil {
		return 0, fmt.Errorf("listing end offsets of %q: %w", topic, err)
	}
	if err := ends.Error(); err != nil {
		return 0, fmt.Errorf("listing end offsets of %q: %w", topic, err)
	}
	remaining := make(map[int32]int64)
	parts := make(map[int32]kgo.Offset)
	ends.Each(func(o kadm.ListedOffset) {
		if o.Offset > 0 && (only < 0 || o.Partition == only) {
			remaining[o.Partition] = o.Offset
			parts[o.Partition] = kgo.NewOffset().AtStart()
		}
	})
	if len(remaining) == 0 {
		return 0, nil
	}
	opts := append(append([]kgo.Opt(nil), s.cfg.ClientOpts...),
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: parts}),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		// Control records tell where a partition ending in a commit
		// marker ends; without them the last data offset would fall
		// short of the end and the read would never finish.
		kgo.KeepControlRecords(),
		// Small fetches: a state record is about 35 bytes, but franz-go
		// holds each fetched one in a Record of some 160, and the
		// records of a fetch and of the one buffered behind it are live
		// together. 256 KiB fetches keep that near 20 MB; with 64 MiB the
		// restore of 10M calls peaked 250 MB above the store it built,
		// and took no less time (BenchmarkRestore).
		kgo.FetchMaxBytes(256<<10), kgo.FetchMaxPartitionBytes(256<<10),
	)
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return 0, fmt.Errorf("creating state reader: %w", err)
	}
	defer cl.Close()
	n := 0
	for len(remaining) > 0 {
		fetches := cl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			return n, fmt.Errorf("reading state: %w", err)
		}
		var ferr error
		fetches.EachError(func(t string, p int32, err error) {
			ferr = fmt.Errorf("reading state %s[%d]: %w", t, p, err)
		})
		if ferr != nil {
			return n, ferr
		}
		var lerr error
		fetches.EachRecord(func(r *kgo.Record) {
			end, ok := remaining[r.Partition]
			if !ok || lerr != nil || r.Offset >= end {
				return
			}
			if !r.Attrs.IsControl() {
				n++
				if err := fn(r.Key, r.Value); err != nil {
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
