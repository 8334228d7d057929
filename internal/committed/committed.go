// Package committed reads Kafka topics as a read_committed consumer sees
// them, either to the last stable offsets they have when the read begins
// (what `callstream tail --exit-at-end` and the output checks read) or on,
// following the topics until the caller stops.
package committed

import (
	"context"
	"errors"
	"fmt"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// Options say what to read.
type Options struct {
	Topics []string
	// FromStart reads each partition from its start offset; otherwise
	// from its end, so that only records written later are read.
	FromStart bool
	// ToEnd ends the read at the last stable offsets the partitions have
	// when it begins; otherwise it follows the topics until ctx is done.
	ToEnd bool
}

// Read reads o.Topics read_committed and calls fn with every record that
// is not a control record, each partition in offset order, until fn fails,
// ctx is done or, with o.ToEnd, every partition is read to its end. A
// topic that does not exist reads as empty; with o.ToEnd and not
// o.FromStart nothing is read. opts configure the Kafka client (seed
// brokers, TLS, SASL).
//
// With o.ToEnd control records are read too, so that a partition whose
// last record before the end is a commit or abort marker is known to be
// read whole. A partition whose last record is aborted data of a
// transaction that another, still open transaction interleaves with is
// not, and Read then waits until ctx is done; one transactional producer
// per output, as callstream uses, never writes that.
func Read(ctx context.Context, opts []kgo.Opt, o Options, fn func(*kgo.Record) error) error {
	if !o.ToEnd {
		start := kgo.NewOffset().AtEnd()
		if o.FromStart {
			start = kgo.NewOffset().AtStart()
		}
		return consume(ctx, opts, nil, fn, kgo.ConsumeTopics(o.Topics...), kgo.ConsumeResetOffset(start))
	}
	if !o.FromStart {
		return nil
	}
	starts, ends, err := listEnds(ctx, opts, o.Topics)
	if err != nil || len(ends) == 0 {
		return err
	}
	return consume(ctx, opts, ends, fn, kgo.ConsumePartitions(starts))
}

// partition names a partition of a topic.
type partition struct {
	Topic     string
	Partition int32
}

// listEnds returns, for each partition of topics that holds records, the
// offset of its first record and its last stable offset (exclusive): the
// range a read_committed reader reads it in now.
func listEnds(ctx context.Context, opts []kgo.Opt, topics []string) (map[string]map[int32]kgo.Offset, map[partition]int64, error) {
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return nil, nil, fmt.Errorf("creating Kafka client: %w", err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	startList, err := adm.ListStartOffsets(ctx, topics...)
	if err == nil {
		err = listError(startList)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("listing start offsets: %w", err)
	}
	endList, err := adm.ListCommittedOffsets(ctx, topics...)
	if err == nil {
		err = listError(endList)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("listing end offsets: %w", err)
	}
	starts := make(map[string]map[int32]kgo.Offset)
	ends := make(map[partition]int64)
	endList.Each(func(e kadm.ListedOffset) {
		s, ok := startList.Lookup(e.Topic, e.Partition)
		if !ok || e.Partition < 0 || e.Offset <= s.Offset {
			return
		}
		if starts[e.Topic] == nil {
			starts[e.Topic] = make(map[int32]kgo.Offset)
		}
		starts[e.Topic][e.Partition] = kgo.NewOffset().At(s.Offset)
		ends[partition{e.Topic, e.Partition}] = e.Offset
	})
	return starts, ends, nil
}

// consume polls a read_committed client of opts and consumeOpts, passing
// the records to fn; with ends (not nil) until each partition of ends is
// read to its end, else until ctx is done.
func consume(ctx context.Context, opts []kgo.Opt, ends map[partition]int64, fn func(*kgo.Record) error, consumeOpts ...kgo.Opt) error {
	cl, err := kgo.NewClient(append(append(append([]kgo.Opt(nil), opts...), consumeOpts...),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		kgo.KeepControlRecords(),
	)...)
	if err != nil {
		return fmt.Errorf("creating Kafka client: %w", err)
	}
	defer cl.Close()
	for ends == nil || len(ends) > 0 {
		fetches := cl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			if ends != nil {
				return fmt.Errorf("reading (%d partitions unfinished): %w", len(ends), err)
			}
			return err
		}
		if err := firstError(fetches); err != nil {
			return fmt.Errorf("reading: %w", err)
		}
		for it := fetches.RecordIter(); !it.Done(); {
			r := it.Next()
			if ends != nil {
				p := partition{r.Topic, r.Partition}
				end, ok := ends[p]
				if !ok || r.Offset >= end {
					continue // after the end seen at the start
				}
				if r.Offset >= end-1 {
					delete(ends, p)
				}
			}
			if r.Attrs.IsControl() {
				continue
			}
			if err := fn(r); err != nil {
				return err
			}
		}
	}
	return nil
}

// listError returns the first partition error of a listing other than
// the topic not existing.
func listError(l kadm.ListedOffsets) error {
	var first error
	l.Each(func(o kadm.ListedOffset) {
		if o.Err != nil && !errors.Is(o.Err, kerr.UnknownTopicOrPartition) && first == nil {
			first = fmt.Errorf("%s/%d: %w", o.Topic, o.Partition, o.Err)
		}
	})
	return first
}

func firstError(f kgo.Fetches) error {
	var first error
	f.EachError(func(t string, p int32, err error) {
		if first == nil {
			first = fmt.Errorf("%s/%d: %w", t, p, err)
		}
	})
	return first
}
