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
	"github.com/callstream/callstream/connector/sink"
	"github.com/callstream/callstream/internal/committed"
	"github.com/callstream/callstream/internal/settings"
	"github.com/twmb/franz-go/pkg/kgo"
)

// defaultTailTopics are the output topics that tail reads without --topic:
// the events and the dead letters.
func defaultTailTopics() []string {
	t := sink.DefaultTopics()
	return []string{t.Calls, t.Failed, t.DLQ}
}

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
	fs.Var(&topics, "topic", "a topic to read; repeat for several (default "+strings.Join(defaultTailTopics(), ", ")+")")
	fromBeginning := fs.Bool("from-beginning", false, "start at the oldest record rather than at the end")
	exitAtEnd := fs.Bool("exit-at-end", false, "exit once the end offsets found at start are reached")
	var kf settings.Kafka
	kf.Register(fs)
	// The environment counts as for run, so that tail inside the
	// connector's pod finds the brokers, security and registry it uses.
	if err := settings.Parse(fs, args, os.LookupEnv); err != nil {
		return flagExit(fs, stdout, stderr, "tail", err)
	}
	o := tailOptions{seeds: settings.SplitList(*brokers), topics: topics, fromBeginning: *fromBeginning, exitAtEnd: *exitAtEnd}
	if len(o.seeds) == 0 {
		return exitStatus(stderr, "tail", settings.Usagef("--brokers: required"))
	}
	var err error
	if o.security, err = kf.ClientOpts(); err != nil {
		return exitStatus(stderr, "tail", err)
	}
	reg, err := kf.RegistryClient(registry.Backward)
	if err != nil {
		return exitStatus(stderr, "tail", err)
	}
	o.decoder = event.NewDecoder(nil)
	if reg != nil {
		o.decoder = event.NewDecoder(reg.Lookup(ctx))
	}
	if len(o.topics) == 0 {
		o.topics = defaultTailTopics()
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
	enc := json.NewEncoder(stdout)
	enc.SetEscapeHTML(false)
	dec := o.decoder
	if dec == nil {
		dec = event.NewDecoder(nil)
	}
	opts := append([]kgo.Opt{kgo.SeedBrokers(o.seeds...)}, o.security...)
	read := committed.Options{Topics: o.topics, FromStart: o.fromBeginning, ToEnd: o.exitAtEnd}
	return committed.Read(ctx, opts, read, func(r *kgo.Record) error {
		if err := enc.Encode(lineOf(r, dec)); err != nil {
			return fmt.Errorf("writing output: %w", err)
		}
		return nil
	})
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
