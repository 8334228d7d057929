package check

import (
	"context"
	"errors"
	"fmt"

	"github.com/callstream/callstream/connector/event"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// Topics names the output topics. An empty name takes its default.
type Topics struct {
	Calls  string // default "calls"
	Failed string // default "calls.failed"
	DLQ    string // default "calls.dlq"
	Latest string // default "calls.latest"
}

// DefaultTopics returns the default topic names.
func DefaultTopics() Topics { return Topics{}.withDefaults() }

func (t Topics) withDefaults() Topics {
	if t.Calls == "" {
		t.Calls = "calls"
	}
	if t.Failed == "" {
		t.Failed = "calls.failed"
	}
	if t.DLQ == "" {
		t.DLQ = "calls.dlq"
	}
	if t.Latest == "" {
		t.Latest = "calls.latest"
	}
	return t
}

// Meta locates a record.
type Meta struct {
	Topic     string
	Partition int32
	Offset    int64
	Key       string
}

// EventRecord is a record of the calls or failed topic.
type EventRecord struct {
	Meta
	Event *event.Event
}

// DeadLetterRecord is a record of the dead-letter topic.
type DeadLetterRecord struct {
	Meta
	DeadLetter *event.DeadLetter
}

// BadRecord is a record whose value did not decode.
type BadRecord struct {
	Meta
	Err error
}

// Output is what a read_committed reader sees in the output topics.
type Output struct {
	Topics Topics
	// Events holds the calls and failed topics, each partition in offset
	// order.
	Events []EventRecord
	// Latest holds the current-state topic, each partition in offset
	// order.
	Latest      []EventRecord
	DeadLetters []DeadLetterRecord
	Bad         []BadRecord
}

// ReadOutput reads the output topics from their start to the end they
// have when it begins, read_committed, decoding values with a Decoder
// without registry lookup. opts configure the Kafka client (seed brokers,
// SASL, ...). A topic that does not exist reads as empty.
func ReadOutput(ctx context.Context, opts []kgo.Opt, topics Topics) (*Output, error) {
	return ReadOutputWith(ctx, opts, topics, event.NewDecoder(nil))
}

// ReadOutputWith is ReadOutput with a given decoder, for output written
// with schema registry framing.
//
// The end of a partition is its last stable offset at the start. Control
// records are kept, so that a partition whose last record before that end
// is a commit or abort marker is known to be read whole. A partition whose
// last record is aborted data of a transaction that another, still open
// transaction interleaves with is not, and ReadOutputWith then waits until
// ctx is done; one transactional producer per output, as callstream uses,
// never writes that.
func ReadOutputWith(ctx context.Context, opts []kgo.Opt, topics Topics, dec *event.Decoder) (*Output, error) {
	topics = topics.withDefaults()
	starts, ends, err := listOffsets(ctx, opts, topics)
	if err != nil {
		return nil, err
	}
	out := &Output{Topics: topics}
	if len(starts) == 0 {
		return out, nil
	}
	cl, err := kgo.NewClient(append(append([]kgo.Opt(nil), opts...),
		kgo.ConsumePartitions(starts),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		kgo.KeepControlRecords(),
	)...)
	if err != nil {
		return nil, fmt.Errorf("creating Kafka client: %w", err)
	}
	defer cl.Close()
	for len(ends) > 0 {
		fetches := cl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("reading output (%d partitions unfinished): %w", len(ends), err)
		}
		if err := firstError(fetches); err != nil {
			return nil, fmt.Errorf("reading output: %w", err)
		}
		fetches.EachRecord(func(r *kgo.Record) {
			tp := topicPartition{r.Topic, r.Partition}
			end, ok := ends[tp]
			if !ok || r.Offset >= end {
				return // after the end seen at the start
			}
			if r.Offset >= end-1 {
				delete(ends, tp)
			}
			if !r.Attrs.IsControl() {
				out.add(r, dec)
			}
		})
	}
	return out, nil
}

func (o *Output) add(r *kgo.Record, dec *event.Decoder) {
	m := Meta{Topic: r.Topic, Partition: r.Partition, Offset: r.Offset, Key: string(r.Key)}
	if r.Topic == o.Topics.DLQ {
		d, err := dec.DecodeDeadLetter(r.Value)
		if err != nil {
			o.Bad = append(o.Bad, BadRecord{m, err})
			return
		}
		o.DeadLetters = append(o.DeadLetters, DeadLetterRecord{m, d})
		return
	}
	e, err := dec.DecodeEvent(r.Value)
	if err != nil {
		o.Bad = append(o.Bad, BadRecord{m, err})
		return
	}
	if r.Topic == o.Topics.Latest {
		o.Latest = append(o.Latest, EventRecord{m, e})
		return
	}
	o.Events = append(o.Events, EventRecord{m, e})
}

// Source returns the part of o that the source named name wrote: its
// events, current-state records and dead letters, by the name each value
// carries (event.Source.Name), each in the order of o.
func (o *Output) Source(name string) *Output {
	part := &Output{Topics: o.Topics}
	for _, e := range o.Events {
		if e.Event.Source.Name == name {
			part.Events = append(part.Events, e)
		}
	}
	for _, e := range o.Latest {
		if e.Event.Source.Name == name {
			part.Latest = append(part.Latest, e)
		}
	}
	for _, d := range o.DeadLetters {
		if d.DeadLetter.Source.Name == name {
			part.DeadLetters = append(part.DeadLetters, d)
		}
	}
	return part
}

type topicPartition struct {
	topic     string
	partition int32
}

// listOffsets returns the offset to start each non-empty partition at and
// the end offset (exclusive) to read it to.
func listOffsets(ctx context.Context, opts []kgo.Opt, topics Topics) (map[string]map[int32]kgo.Offset, map[topicPartition]int64, error) {
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return nil, nil, fmt.Errorf("creating Kafka client: %w", err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	names := []string{topics.Calls, topics.Failed, topics.DLQ, topics.Latest}
	startList, err := adm.ListStartOffsets(ctx, names...)
	if err == nil {
		err = listError(startList)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("listing start offsets: %w", err)
	}
	endList, err := adm.ListCommittedOffsets(ctx, names...)
	if err == nil {
		err = listError(endList)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("listing end offsets: %w", err)
	}
	starts := make(map[string]map[int32]kgo.Offset)
	ends := make(map[topicPartition]int64)
	endList.Each(func(e kadm.ListedOffset) {
		s, ok := startList.Lookup(e.Topic, e.Partition)
		if !ok || e.Partition < 0 || e.Offset <= s.Offset {
			return
		}
		if starts[e.Topic] == nil {
			starts[e.Topic] = make(map[int32]kgo.Offset)
		}
		starts[e.Topic][e.Partition] = kgo.NewOffset().At(s.Offset)
		ends[topicPartition{e.Topic, e.Partition}] = e.Offset
	})
	return starts, ends, nil
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
