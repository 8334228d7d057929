package check

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/callstream/callstream/connector/event"
	"github.com/callstream/callstream/simulator"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
)

// newCluster starts an in-process Kafka with the default output topics, two
// partitions each.
func newCluster(t *testing.T) []kgo.Opt {
	t.Helper()
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(2, "calls", "calls.failed", "calls.dlq"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return []kgo.Opt{kgo.SeedBrokers(c.ListenAddrs()...)}
}

func eventRecord(t *testing.T, topic string, id int64, status int32, prev *int32) *kgo.Record {
	t.Helper()
	e := ev(topic, 0, id, status, prev).Event
	e.Call.GmtCreateTime = time.UnixMilli(1742883983000).UTC()
	value, err := event.NewEncoder().AppendEvent(nil, e)
	if err != nil {
		t.Fatal(err)
	}
	return &kgo.Record{Topic: topic, Key: []byte(strconv.FormatInt(id, 10)), Value: value}
}

func deadLetterRecord(t *testing.T, id int64) *kgo.Record {
	t.Helper()
	value, err := event.NewEncoder().AppendDeadLetter(nil, dead(0, id, "{").DeadLetter)
	if err != nil {
		t.Fatal(err)
	}
	return &kgo.Record{Topic: "calls.dlq", Key: []byte(strconv.FormatInt(id, 10)), Value: value}
}

// produceTxn produces records in one transaction and commits or aborts it.
// committedOutput starts a cluster and a transactional client, and commits
// one transaction that holds the truth {1: 1, 2: 0} and a dead letter for
// call 4. The client is closed when the test ends.
func committedOutput(t *testing.T, ctx context.Context) ([]kgo.Opt, *kgo.Client) {
	t.Helper()
	opts := newCluster(t)
	cl, err := kgo.NewClient(append(opts, kgo.TransactionalID("test-txn"))...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	produceTxn(t, ctx, cl, kgo.TryCommit,
		eventRecord(t, "calls", 1, 1, nil), eventRecord(t, "calls.failed", 2, 0, nil), deadLetterRecord(t, 4))
	return opts, cl
}

func produceTxn(t *testing.T, ctx context.Context, cl *kgo.Client, commit kgo.TransactionEndTry, records ...*kgo.Record) {
	t.Helper()
	if err := cl.BeginTransaction(); err != nil {
		t.Fatal(err)
	}
	if err := cl.ProduceSync(ctx, records...).FirstErr(); err != nil {
		t.Fatal(err)
	}
	if err := cl.EndTransaction(ctx, commit); err != nil {
		t.Fatal(err)
	}
}

// TestReadOutputSkipsAborted writes one committed and one aborted
// transaction. The partitions that the aborted one touched end with an
// abort marker: ReadOutput must still finish, and must not return the
// aborted records.
func TestReadOutputSkipsAborted(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	opts, cl := committedOutput(t, ctx)
	produceTxn(t, ctx, cl, kgo.TryAbort,
		eventRecord(t, "calls", 1, 2, st(1)), eventRecord(t, "calls", 3, 2, nil),
		eventRecord(t, "calls.failed", 5, 0, nil), deadLetterRecord(t, 6))

	out, err := ReadOutput(ctx, opts, Topics{})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Events) != 2 || len(out.DeadLetters) != 1 || len(out.Bad) != 0 {
		t.Fatalf("read %d events, %d dead letters, %d bad; want 2, 1, 0: %+v", len(out.Events), len(out.DeadLetters), len(out.Bad), out)
	}
	for _, er := range out.Events {
		if er.Offset != 0 || er.Key != strconv.FormatInt(er.Event.Call.ID, 10) {
			t.Errorf("event of call %d at %s key %q, want offset 0 and the call id as key", er.Event.Call.ID, er.Meta, er.Key)
		}
	}
	truth := []simulator.Record{{ID: 1, Status: 1}, {ID: 2, Status: 0}, {ID: 4, Status: 2}}
	if r := Compare(truth, out, map[int64]bool{4: true}); !r.OK() {
		t.Errorf("Compare: %s", r)
	}
}

func TestReadOutputMissingTopics(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	opts := newCluster(t)
	out, err := ReadOutput(ctx, opts, Topics{Calls: "absent", Failed: "calls.failed", DLQ: "also-absent"})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Events)+len(out.DeadLetters)+len(out.Bad) != 0 || out.Topics.Calls != "absent" {
		t.Errorf("read %+v from missing and empty topics, want nothing", out)
	}
}

func TestReadOutputBadValue(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	opts := newCluster(t)
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	if err := cl.ProduceSync(ctx, &kgo.Record{Topic: "calls", Key: []byte("1"), Value: []byte("{}")}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	out, err := ReadOutput(ctx, opts, DefaultTopics())
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Bad) != 1 || out.Bad[0].Key != "1" {
		t.Fatalf("bad records %+v, want the one undecodable value", out.Bad)
	}
}

func TestFetchTruth(t *testing.T) {
	tests := []struct {
		name    string
		status  int
		body    string
		want    int
		wantErr bool
	}{
		{"records", http.StatusOK, `{"records":[{"id":661181201146016,"status":2},{"id":2,"status":0}]}`, 2, false},
		{"no records", http.StatusOK, `{"records":[]}`, 0, false},
		{"missing array", http.StatusOK, `{}`, 0, true},
		{"not JSON", http.StatusOK, `<html>`, 0, true},
		{"server error", http.StatusInternalServerError, `{"records":[]}`, 0, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path != "/_sim/records" || r.Method != http.MethodGet {
					http.NotFound(w, r)
					return
				}
				w.WriteHeader(tc.status)
				w.Write([]byte(tc.body))
			}))
			defer srv.Close()
			recs, err := FetchTruth(context.Background(), srv.URL+"/")
			if (err != nil) != tc.wantErr || len(recs) != tc.want {
				t.Fatalf("FetchTruth = %d records, %v; want %d, error %v", len(recs), err, tc.want, tc.wantErr)
			}
			if tc.want == 2 && (recs[0].ID != 661181201146016 || recs[0].Status != 2) {
				t.Errorf("first record %+v", recs[0])
			}
		})
	}
}
