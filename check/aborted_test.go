package check

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/callstream/callstream/connector/event"
	"github.com/callstream/callstream/simulator"
	"github.com/twmb/franz-go/pkg/kgo"
)

// readUncommitted reads the output topics read_uncommitted until it holds
// n records: what a reader sees that takes aborted records for committed.
func readUncommitted(t *testing.T, ctx context.Context, opts []kgo.Opt, n int) *Output {
	t.Helper()
	topics := DefaultTopics()
	cl, err := kgo.NewClient(append(opts,
		kgo.ConsumeTopics(topics.Calls, topics.Failed, topics.DLQ),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.FetchIsolationLevel(kgo.ReadUncommitted()),
	)...)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	out := &Output{Topics: topics}
	dec := event.NewDecoder(nil)
	for got := 0; got < n; {
		fetches := cl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			t.Fatalf("read %d of %d records read_uncommitted: %v", got, n, err)
		}
		fetches.EachRecord(func(r *kgo.Record) {
			out.add(r, dec)
			got++
		})
	}
	return out
}

// TestCompareFailsAbortedReadAsCommitted writes a committed transaction
// that matches the truth and an aborted one that repeats a change, goes
// past the truth's status and names an unknown call. Read read_committed
// the output passes; read read_uncommitted, with the aborted records taken
// for committed, it must fail.
func TestCompareFailsAbortedReadAsCommitted(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	opts, cl := committedOutput(t, ctx)
	produceTxn(t, ctx, cl, kgo.TryAbort,
		eventRecord(t, "calls", 1, 1, nil), eventRecord(t, "calls", 1, 2, st(1)), eventRecord(t, "calls", 9, 2, nil))
	truth := []simulator.Record{{ID: 1, Status: 1}, {ID: 2, Status: 0}, {ID: 4, Status: 2}}
	dlq := map[int64]bool{4: true}

	committed, err := ReadOutput(ctx, opts, Topics{})
	if err != nil {
		t.Fatal(err)
	}
	if r := Compare(truth, committed, dlq); !r.OK() {
		t.Fatalf("Compare of the read_committed output: %s", r)
	}
	r := Compare(truth, readUncommitted(t, ctx, opts, 6), dlq)
	for _, want := range []string{"call 1 status 1: again", "call 9 is not in the truth", "call 1: last status 2, truth says 1"} {
		if !slices.ContainsFunc(r.Problems, func(p string) bool { return strings.Contains(p, want) }) {
			t.Errorf("Compare of the read_uncommitted output: %s\nwant a problem containing %q", r, want)
		}
	}
	if r.OK() || r.Duplicated != 1 {
		t.Errorf("read_uncommitted: %d duplicated, ok %v; want 1 duplicate and a failure", r.Duplicated, r.OK())
	}
}
