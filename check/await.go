package check

import (
	"context"
	"fmt"
	"time"

	"github.com/callstream/callstream/connector/event"
	"github.com/callstream/callstream/simulator"
	"github.com/twmb/franz-go/pkg/kgo"
)

// Target is where Await looks: the simulator whose truth the output must
// hold, and how to read the output.
type Target struct {
	SimURL string
	// Kafka configures the reading client (seed brokers, TLS, SASL).
	Kafka  []kgo.Opt
	Topics Topics
	// Decoder decodes the values; nil decodes single-object encoding only.
	Decoder *event.Decoder
}

// Want says when Await is satisfied, beyond Compare finding no problem.
type Want struct {
	// Calls, when above 0, is how many calls the truth must hold: all have
	// arrived.
	Calls int
	// Settled waits until no call of the truth is still in progress.
	Settled bool
	// Broken expects exactly the simulator's broken calls (GET
	// /_sim/broken) in the dead-letter topic; otherwise none.
	Broken bool
	// Large expects the simulator's calls with large transcripts (GET
	// /_sim/large) in the dead-letter topic too, as too_large, in place of
	// their converted events: the output topics keep Kafka's default
	// limits. Otherwise a large call must be delivered as any other.
	Large bool
	// Clean requires every output value to decode.
	Clean bool
}

// Await reads the truth and the output every interval until the output
// holds the truth as want asks, or ctx is done. It returns the last report
// and output, and an error with the last report when ctx ended first.
func Await(ctx context.Context, t Target, want Want, every time.Duration) (Report, *Output, error) {
	dec := t.Decoder
	if dec == nil {
		dec = event.NewDecoder(nil)
	}
	var last Report
	for {
		out, done, err := t.compare(ctx, want, dec, &last)
		if done {
			return last, out, nil
		}
		select {
		case <-ctx.Done():
			return last, out, fmt.Errorf("output never held the truth (last error %v): %s", err, last)
		case <-time.After(every):
		}
	}
}

// compare reads the truth and the output once and reports whether want
// holds; last receives the report.
func (t Target) compare(ctx context.Context, want Want, dec *event.Decoder, last *Report) (*Output, bool, error) {
	var broken map[int64]bool
	if want.Broken {
		var err error
		if broken, err = FetchBroken(ctx, t.SimURL); err != nil {
			return nil, false, err
		}
	}
	var large map[int64]bool
	if want.Large {
		var err error
		if large, err = FetchLarge(ctx, t.SimURL); err != nil {
			return nil, false, err
		}
		if broken == nil {
			broken = make(map[int64]bool, len(large))
		}
		for id := range large {
			broken[id] = true
		}
	}
	truth, err := FetchTruth(ctx, t.SimURL)
	if err != nil {
		return nil, false, err
	}
	out, err := ReadOutputWith(ctx, t.Kafka, t.Topics, dec)
	if err != nil {
		return nil, false, err
	}
	*last = Compare(truth, out, broken)
	last.checkReason(out, large, ReasonTooLarge)
	done := last.OK() && (want.Calls <= 0 || len(truth) == want.Calls) &&
		(!want.Settled || Settled(truth)) && (!want.Clean || len(out.Bad) == 0)
	return out, done, nil
}

// Settled reports whether no call of the truth is still in progress: every
// status is converted (2) or failed (0).
func Settled(truth []simulator.Record) bool {
	for _, r := range truth {
		if r.Status != 0 && r.Status != 2 {
			return false
		}
	}
	return true
}
