package committed

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
)

// produce writes values to topic t in one transaction, committed or
// aborted.
func produce(t *testing.T, ctx context.Context, seeds []string, commit kgo.TransactionEndTry, values ...string) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(seeds...), kgo.TransactionalID("committed-test"), kgo.DefaultProduceTopic("t"))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	if err := cl.BeginTransaction(); err != nil {
		t.Fatal(err)
	}
	for _, v := range values {
		if err := cl.ProduceSync(ctx, kgo.StringRecord(v)).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	if err := cl.EndTransaction(ctx, commit); err != nil {
		t.Fatal(err)
	}
}

// broker starts a broker with topic t, for the test's time, and returns a
// context bounded by it too.
func broker(t *testing.T) (context.Context, []string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	t.Cleanup(cancel)
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(1, "t"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return ctx, c.ListenAddrs()
}

func TestReadToEndSkipsAborted(t *testing.T) {
	ctx, seeds := broker(t)
	produce(t, ctx, seeds, kgo.TryCommit, "a", "b")
	produce(t, ctx, seeds, kgo.TryAbort, "aborted")
	produce(t, ctx, seeds, kgo.TryCommit, "c")
	produce(t, ctx, seeds, kgo.TryAbort, "aborted last")

	opts := []kgo.Opt{kgo.SeedBrokers(seeds...)}
	var got []string
	err := Read(ctx, opts, Options{Topics: []string{"t", "absent"}, FromStart: true, ToEnd: true}, func(r *kgo.Record) error {
		got = append(got, string(r.Value))
		return nil
	})
	if err != nil || !slices.Equal(got, []string{"a", "b", "c"}) {
		t.Fatalf("Read to the end = %q, %v; want the committed records, then the end", got, err)
	}

	got = nil
	if err := Read(ctx, opts, Options{Topics: []string{"t"}, ToEnd: true}, func(r *kgo.Record) error {
		got = append(got, string(r.Value))
		return nil
	}); err != nil || got != nil {
		t.Fatalf("Read from the end to the end = %q, %v; want nothing", got, err)
	}
}

// Without ToEnd the read follows the topic: a record committed after the
// read began is read, and the read ends with its context.
func TestReadFollows(t *testing.T) {
	ctx, seeds := broker(t)
	produce(t, ctx, seeds, kgo.TryCommit, "before")
	rctx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	var got []string
	go func() {
		done <- Read(rctx, []kgo.Opt{kgo.SeedBrokers(seeds...)}, Options{Topics: []string{"t"}, FromStart: true}, func(r *kgo.Record) error {
			got = append(got, string(r.Value))
			if len(got) == 2 {
				stop()
			}
			return nil
		})
	}()
	produce(t, ctx, seeds, kgo.TryAbort, "aborted")
	produce(t, ctx, seeds, kgo.TryCommit, "after")
	if err := <-done; err != context.Canceled {
		t.Fatalf("Read = %v; want it stopped by its context", err)
	}
	if !slices.Equal(got, []string{"before", "after"}) {
		t.Fatalf("read %q; want the committed records before and after the start", got)
	}
}
