package sink

import (
	"context"
	"errors"
	"math/rand/v2"
	"strconv"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
)

// TestLimitsLearnt checks that a sink learns each topic's limit at start:
// the topic's own max.message.bytes where it has one (here set on the
// topics it creates), the broker's message.max.bytes elsewhere; and that
// --batch-max-bytes lowers them.
func TestLimitsLearnt(t *testing.T) {
	c := newCluster(t, kfake.BrokerConfigs(map[string]string{"message.max.bytes": "20000"}))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	opts := []kgo.Opt{kgo.SeedBrokers(c.ListenAddrs()...)}
	// The dead-letter topic exists before, with a limit of its own.
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	dlqLimit := "9000"
	if _, err := kadm.NewClient(cl).CreateTopic(ctx, 1, 1, map[string]*string{"max.message.bytes": &dlqLimit}, testTopics.DLQ); err != nil {
		t.Fatal(err)
	}
	s, err := New(ctx, Config{TransactionalID: "limits", Topics: testTopics, CreateTopics: true, ClientOpts: opts})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	l := s.Limits()
	for topic, want := range map[string]int{testTopics.Calls: 20000, testTopics.Failed: 20000, testTopics.DLQ: 9000, testTopics.State: 20000} {
		if got := l.Of(topic); got != want {
			t.Errorf("limit of %s = %d, want %d", topic, got, want)
		}
	}
	s.Close()

	s, err = New(ctx, Config{TransactionalID: "limits-capped", Topics: testTopics, CreateTopics: true, ClientOpts: opts, BatchMaxBytes: 12000})
	if err != nil {
		t.Fatal(err)
	}
	if got := s.Limits().Of(testTopics.Calls); got != 12000 {
		t.Errorf("limit of %s under a cap of 12000 = %d", testTopics.Calls, got)
	}
	if got := s.Limits().Of(testTopics.DLQ); got != 9000 {
		t.Errorf("limit of %s under a cap of 12000 = %d, want its own 9000", testTopics.DLQ, got)
	}
}

// TestRecordSizeIsFranzGosAccounting produces records around their topic's
// limit by RecordSize, with values that do not compress: every record
// within the limit commits, in a fresh producer as in one that knows the
// broker's produce version, and a record 4 bytes over fails with
// MESSAGE_TOO_LARGE. So RecordSize never counts less than the producer
// does, and at most 4 bytes more: a record it finds within the limit is
// one the producer and the broker take, and one it finds over is at most
// 4 bytes from being taken.
//
// A limit above a produce request's own bound (minWriteBytes) holds the
// same way: the sink raises the bound to carry it.
func TestRecordSizeIsFranzGosAccounting(t *testing.T) {
	for _, limit := range []int{30000, minWriteBytes + 1<<20} {
		t.Run(strconv.Itoa(limit), func(t *testing.T) { recordSizeIsFranzGosAccounting(t, limit) })
	}
}

func recordSizeIsFranzGosAccounting(t *testing.T, limit int) {
	c := newCluster(t, kfake.BrokerConfigs(map[string]string{"message.max.bytes": strconv.Itoa(limit)}))
	s := newSink(t, c, "accounting")
	r := rand.New(rand.NewPCG(3, 4))
	record := func(size int) *kgo.Record {
		rec := &kgo.Record{Topic: testTopics.Calls, Key: []byte("661181201146016"),
			Headers: []kgo.RecordHeader{{Key: "callstream-kind", Value: []byte("CREATED")}}}
		rec.Value = make([]byte, size-RecordSize(rec))
		for RecordSize(rec) > size { // the value's length varint grows with it
			rec.Value = rec.Value[:len(rec.Value)-1]
		}
		for i := range rec.Value {
			rec.Value[i] = byte(r.Uint32())
		}
		if got := RecordSize(rec); got != size {
			t.Fatalf("built a record of %d bytes, want %d", got, size)
		}
		return rec
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if l := s.Limits().Of(testTopics.Calls); l != limit {
		t.Fatalf("limit %d, want %d", l, limit)
	}
	tooLarge := func(err error) bool { return errors.Is(err, ErrAborted) && errors.Is(err, kerr.MessageTooLarge) }
	for _, d := range []int{0, -1, -3, 0} {
		if err := s.Commit(ctx, []*kgo.Record{record(limit + d)}); err != nil {
			t.Fatalf("a record %d bytes from the limit: %v", d, err)
		}
	}
	for _, d := range []int{4, 5, 100} {
		if err := s.Commit(ctx, []*kgo.Record{record(limit + d)}); !tooLarge(err) {
			t.Fatalf("a record %d bytes over the limit: %v, want an abort of MESSAGE_TOO_LARGE", d, err)
		}
	}
}
