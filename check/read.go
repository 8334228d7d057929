package check

import (
	"cmp"
	"context"
	"fmt"

	"github.com/callstream/callstream/connector/event"
	"github.com/callstream/callstream/connector/sink"
	"github.com/callstream/callstream/internal/committed"
	"github.com/twmb/franz-go/pkg/kgo"
)

// Topics names the output topics. An empty name takes its default, the
// connector's (sink.DefaultTopics).
type Topics struct {
	Calls, Failed, DLQ, Latest string
}

// DefaultTopics returns the default topic names.
func DefaultTopics() Topics { return Topics{}.withDefaults() }

func (t Topics) withDefaults() Topics {
	d := sink.DefaultTopics()
	return Topics{
		Calls: cmp.Or(t.Calls, d.Calls), Failed: cmp.Or(t.Failed, d.Failed),
		DLQ: cmp.Or(t.DLQ, d.DLQ), Latest: cmp.Or(t.Latest, d.Latest),
	}
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
// The end of a partition is its last stable offset at the start, as
// committed.Read with ToEnd reads it.
func ReadOutputWith(ctx context.Context, opts []kgo.Opt, topics Topics, dec *event.Decoder) (*Output, error) {
	topics = topics.withDefaults()
	out := &Output{Topics: topics}
	o := committed.Options{Topics: []string{topics.Calls, topics.Failed, topics.DLQ, topics.Latest}, FromStart: true, ToEnd: true}
	if err := committed.Read(ctx, opts, o, func(r *kgo.Record) error { out.add(r, dec); return nil }); err != nil {
		return nil, fmt.Errorf("reading output: %w", err)
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
