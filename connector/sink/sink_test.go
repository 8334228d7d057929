package sink

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
)

var testTopics = Topics{Calls: "calls", Failed: "calls.failed", DLQ: "calls.dlq", State: "callstream.state"}

func newCluster(t *testing.T, opts ...kfake.Opt) *kfake.Cluster {
	t.Helper()
	c, err := kfake.NewCluster(append([]kfake.Opt{kfake.NumBrokers(1)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

func newSink(t *testing.T, c *kfake.Cluster, txnID string) *Sink {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	s, err := New(ctx, Config{
		TransactionalID: txnID, Topics: testTopics, CreateTopics: true,
		ClientOpts: []kgo.Opt{kgo.SeedBrokers(c.ListenAddrs()...)},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

func stateRecord(k, v string) *kgo.Record {
	var val []byte
	if v != "" {
		val = []byte(v)
	}
	return &kgo.Record{Topic: testTopics.State, Key: []byte(k), Value: val}
}

func readState(t *testing.T, s *Sink) map[string]string {
	t.Helper()
	got := map[string]string{}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if _, err := s.ReadState(ctx, func(k, v []byte, _ time.Time) error {
		if v == nil {
			delete(got, string(k))
		} else {
			got[string(k)] = string(v)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return got
}

func TestCommitAndRestore(t *testing.T) {
	c := newCluster(t)
	s := newSink(t, c, "t1")
	if got := readState(t, s); len(got) != 0 {
		t.Fatalf("empty topic read %v", got)
	}
	ctx := context.Background()
	if err := s.Commit(ctx, []*kgo.Record{
		{Topic: "calls", Key: []byte("1"), Value: []byte("e1")},
		stateRecord("a", "1"), stateRecord("b", "1"),
	}); err != nil {
		t.Fatal(err)
	}
	if err := s.Commit(ctx, []*kgo.Record{stateRecord("a", "2"), stateRecord("b", "")}); err != nil {
		t.Fatal(err)
	}
	// A record that cannot be produced (no topic) fails, and the whole
	// transaction, with its state record, is aborted.
	err := s.Commit(ctx, []*kgo.Record{stateRecord("a", "3"), {Topic: "", Value: []byte("x")}})
	if !errors.Is(err, ErrAborted) || IsFatal(err) {
		t.Fatalf("Commit of an unproducible record = %v, want ErrAborted", err)
	}
	// The producer still works after a clean abort.
	if err := s.Commit(ctx, []*kgo.Record{stateRecord("c", "1")}); err != nil {
		t.Fatal(err)
	}
	got := readState(t, newSink(t, c, "t1"))
	want := map[string]string{"a": "2", "c": "1"}
	if len(got) != len(want) || got["a"] != "2" || got["c"] != "1" {
		t.Errorf("restored state = %v, want %v", got, want)
	}
}

func TestNewFencesOlderInstance(t *testing.T) {
	c := newCluster(t)
	old := newSink(t, c, "same")
	ctx := context.Background()
	if err := old.Commit(ctx, []*kgo.Record{stateRecord("a", "1")}); err != nil {
		t.Fatal(err)
	}
	newer := newSink(t, c, "same")
	err := old.Commit(ctx, []*kgo.Record{stateRecord("a", "old")})
	if !IsFatal(err) {
		t.Fatalf("fenced instance's Commit = %v, want a fatal error", err)
	}
	if got := readState(t, newer); got["a"] != "1" {
		t.Errorf("state after fencing = %v, want a=1", got)
	}
}

func TestRefusesUncompactedState(t *testing.T) {
	c := newCluster(t, kfake.SeedTopics(1, testTopics.State, "calls", "calls.failed", "calls.dlq"))
	_, err := New(context.Background(), Config{
		TransactionalID: "x", Topics: testTopics, CreateTopics: true,
		ClientOpts: []kgo.Opt{kgo.SeedBrokers(c.ListenAddrs()...)},
	})
	if !errors.Is(err, ErrStateNotCompacted) {
		t.Fatalf("New with a delete-policy state topic = %v, want ErrStateNotCompacted", err)
	}
}

func TestRefusesUncompactedLatest(t *testing.T) {
	topics := testTopics
	topics.Latest = "calls.latest"
	c := newCluster(t, kfake.SeedTopics(1, topics.Latest))
	_, err := New(context.Background(), Config{
		TransactionalID: "x", Topics: topics, CreateTopics: true,
		ClientOpts: []kgo.Opt{kgo.SeedBrokers(c.ListenAddrs()...)},
	})
	if !errors.Is(err, ErrStateNotCompacted) || !strings.Contains(err.Error(), `"calls.latest"`) {
		t.Fatalf("New with a delete-policy latest topic = %v, want ErrStateNotCompacted naming it", err)
	}
}

func TestIsFenced(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{&FatalError{fmt.Errorf("committing transaction: %w", kerr.ProducerFenced)}, true},
		{fmt.Errorf("producing: %w", kerr.InvalidProducerEpoch), true},
		{&FatalError{fmt.Errorf("producing 201 records: %w", kerr.InvalidTxnState)}, true},
		{&FatalError{fmt.Errorf("committing transaction: %w", kerr.TransactionalIDAuthorizationFailed)}, false},
		{kerr.UnknownServerError, false},
		{nil, false},
	} {
		if got := IsFenced(tc.err); got != tc.want {
			t.Errorf("IsFenced(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
}

// The read of the state ends at the barrier it commits to every partition
// first, whatever the records before it: here partitions that end in
// aborted transactions or hold nothing. fn never sees a barrier, and each
// read adds one to each partition, to the partition it names whatever its
// key hashes to.
func TestReadStateEndsAtItsBarrier(t *testing.T) {
	c := newCluster(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	s, err := New(ctx, Config{
		TransactionalID: "t1", Topics: testTopics, CreateTopics: true, StatePartitions: 3,
		ClientOpts: []kgo.Opt{kgo.SeedBrokers(c.ListenAddrs()...)},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Commit(ctx, []*kgo.Record{stateRecord("a", "1")}); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if err := s.Commit(ctx, []*kgo.Record{stateRecord("b", "x"), {Topic: "", Value: []byte("x")}}); !errors.Is(err, ErrAborted) {
			t.Fatalf("Commit of an unproducible record = %v, want ErrAborted", err)
		}
	}
	for read := 1; read <= 2; read++ {
		n, err := s.ReadState(ctx, func(k, v []byte, _ time.Time) error {
			if string(k) != "a" || string(v) != "1" {
				t.Errorf("read %d: record %q=%q, want only a=1", read, k, v)
			}
			return nil
		})
		if err != nil || n != 1 {
			t.Fatalf("read %d: ReadState = %d, %v; want 1 record", read, n, err)
		}
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...), kgo.ConsumeTopics(testTopics.State),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	barriers := map[int32]int{}
	for total := 0; total < 6; {
		fs := cl.PollFetches(ctx)
		if err := fs.Err0(); err != nil {
			t.Fatalf("reading the state topic: %v; barriers by partition so far %v", err, barriers)
		}
		fs.EachRecord(func(r *kgo.Record) {
			if bytes.Equal(r.Key, DefaultBarrierKey) {
				if r.Value != nil {
					t.Errorf("barrier at %d[%d] has a value", r.Partition, r.Offset)
				}
				barriers[r.Partition]++
				total++
			}
		})
	}
	if barriers[0] != 2 || barriers[1] != 2 || barriers[2] != 2 {
		t.Errorf("barriers by partition %v, want 2 in each of 3", barriers)
	}
}
