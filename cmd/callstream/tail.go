package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/callstream/callstream/connector/event"
	"github.com/callstream/callstream/connector/registry"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// defaultTailTopics are the output topics that tail reads without --topic.
var defaultTailTopics = []string{"calls", "calls.failed", "calls.dlq"}

// topicList is a repeatable string flag.
type topicList []string

func (l *topicList) String() string { return strings.Join(*l, ",") }

func (l *topicList) Set(v string) error {
	if v == "" {
		return errors.New("empty topic")
	}
	*l = append(*l, v)
	return nil
}

// tailOptions are the settings of one tail.
type tailOptions struct {
	seeds         []string
	security      []kgo.Opt
	decoder       *event.Decoder
	topics        []string
	fromBeginning bool
	exitAtEnd     bool
}

func cmdTail(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("tail", flag.ContinueOnError)
	brokers := fs.String("brokers", "", "HOST:PORT[,…] of the Kafka brokers (required)")
	var topics topicList
	fs.Var(&topics, "topic", "a topic to read; repeat for several (default calls, calls.failed, calls.dlq)")
	fromBeginning := fs.Bool("from-beginning", false, "start at the oldest record rather than at the end")
	exitAtEnd := fs.Bool("exit-at-end", false, "exit once the end offsets found at start are reached")
	var kf kafkaFlags
	kf.register(fs)
	// The environment counts as for run, so that tail inside the
	// connector's pod finds the brokers, security and registry it uses.
	if err := parseLayered(fs, args, os.LookupEnv); err != nil {
		return flagExit(fs, stdout, stderr, "tail", err)
	}
	o := tailOptions{seeds: splitList(*brokers), topics: topics, fromBeginning: *fromBeginning, exitAtEnd: *exitAtEnd}
	if len(o.seeds) == 0 {
		return exitStatus(stderr, "tail", usagef("--brokers: required"))
	}
	var err error
	if o.security, err = kf.clientOpts(); err != nil {
		return exitStatus(stderr, "tail", err)
	}
	reg, err := kf.registryClient(registry.Backward)
	if err != nil {
		return exitStatus(stderr, "tail", err)
	}
	o.decoder = event.NewDecoder(nil)
	if reg != nil {
		o.decoder = event.NewDecoder(reg.Lookup(ctx))
	}
	if len(o.topics) == 0 {
		o.topics = defaultTailTopics
	}
	if err := tail(ctx, o, stdout); err != nil && ctx.Err() == nil {
		return exitStatus(stderr, "tail", err)
	}
	return 0
}

// tailLine is one line of tail's output.
type tailLine struct {
	Topic     string  `json:"topic"`
	Partition int32   `json:"partition"`
	Offset    int64   `json:"offset"`
	Key       *string `json:"key"`
	Value     any     `json:"value,omitempty"`
	Error     string  `json:"error,omitempty"`
}

// tail prints the records of o.topics, read_committed and decoded, one
// JSON object a line, until ctx is done or, with o.exitAtEnd, the end
// offsets found at the start are reached.
func tail(ctx context.Context, o tailOptions, stdout io.Writer) error {
	base := append([]kgo.Opt{kgo.SeedBrokers(o.seeds...)}, o.security...)
	var remaining map[string]map[int32]int64
	if o.exitAtEnd {
		var err error
		if remaining, err = tailEnds(ctx, base, o); err != nil {
			return err
		}
		if len(remaining) == 0 {
			return nil
		}
	}
	start := kgo.NewOffset().AtEnd()
	if o.fromBeginning {
		start = kgo.NewOffset().AtStart()
	}
	cl, err := kgo.NewClient(append(base,
		kgo.ConsumeTopics(o.topics...),
		kgo.ConsumeResetOffset(start),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		// Control records mark the end of a partition whose last
		// transaction was aborted, so that --exit-at-end sees it.
		kgo.KeepControlRecords(),
	)...)
	if err != nil {
		return fmt.Errorf("creating Kafka client: %w", err)
	}
	defer cl.Close()
	enc := json.NewEncoder(stdout)
	enc.SetEscapeHTML(false)
	dec := o.decoder
	if dec == nil {
		dec = event.NewDecoder(nil)
	}
	for !o.exitAtEnd || len(remaining) > 0 {
		fetches := cl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			return err
		}
		var ferr error
		fetches.EachError(func(t string, p int32, err error) { ferr = fmt.Errorf("reading %s/%d: %w", t, p, err) })
		if ferr != nil {
			return ferr
		}
		for it := fetches.RecordIter(); !it.Done(); {
			r := it.Next()
			reached(remaining, r)
			if r.Attrs.IsControl() {
				continue
			}
			if err := enc.Encode(lineOf(r, dec)); err != nil {
				return fmt.Errorf("writing output: %w", err)
			}
		}
	}
	return nil
}

// tailEnds returns, for each partition of o.topics that holds records
// to read, its last stable offset now.
func tailEnds(ctx context.Context, base []kgo.Opt, o tailOptions) (map[string]map[int32]int64, error) {
	cl, err := kgo.NewClient(base...)
	if err != nil {
		return nil, fmt.Errorf("creating Kafka client: %w", err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	ends, err := adm.ListCommittedOffsets(ctx, o.topics...)
	if err != nil {
		return nil, fmt.Errorf("listing end offsets: %w", err)
	}
	starts := ends
	if o.fromBeginning {
		if starts, err = adm.ListStartOffsets(ctx, o.topics...); err != nil {
			return nil, fmt.Errorf("listing start offsets: %w", err)
		}
	}
	remaining := make(map[string]map[int32]int64)
	ends.Each(func(e kadm.ListedOffset) {
		s, ok := starts.Lookup(e.Topic, e.Partition)
		if e.Err != nil || !ok || s.Err != nil || e.Offset <= s.Offset {
			return // an unknown topic, or nothing to read
		}
		if remaining[e.Topic] == nil {
			remaining[e.Topic] = make(map[int32]int64)
		}
		remaining[e.Topic][e.Partition] = e.Offset
	})
	return remaining, nil
}

// reached removes r's partition from remaining once r is its last record
// before the end.
func reached(remaining map[string]map[int32]int64, r *kgo.Record) {
	ps := remaining[r.Topic]
	if end, ok := ps[r.Partition]; ok && r.Offset >= end-1 {
		delete(ps, r.Partition)
		if len(ps) == 0 {
			delete(remaining, r.Topic)
		}
	}
}

func lineOf(r *kgo.Record, dec *event.Decoder) tailLine {
	l := tailLine{Topic: r.Topic, Partition: r.Partition, Offset: r.Offset}
	if r.Key != nil {
		k := string(r.Key)
		l.Key = &k
	}
	v, err := dec.Decode(r.Value)
	if err != nil {
		l.Error = err.Error()
		return l
	}
	if e, ok := v.(*event.Event); ok && e.Call != nil {
		emptyExtras(e.Call)
	}
	l.Value = v
	return l
}

// emptyExtras makes every nil extra map of c empty. The decoder gives an
// empty map as nil, which JSON prints as null; the schema's default for
// extra is {}, and a reader comparing the two outputs should see the same
// value.
func emptyExtras(c *event.Call) {
	fill := func(m *map[string]string) {
		if *m == nil {
			*m = map[string]string{}
		}
	}
	fill(&c.Extra)
	if c.Message != nil {
		fill(&c.Message.Extra)
	}
	switch content := c.Content.(type) {
	case *event.TaskStatus:
		fill(&content.Extra)
	case *event.Transcript:
		fill(&content.Extra)
		for i := range content.Sentences {
			fill(&content.Sentences[i].Extra)
		}
	}
}
