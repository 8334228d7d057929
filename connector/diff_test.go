package connector

import (
	"strconv"
	"testing"

	"github.com/callstream/callstream/connector/calllist"
	"github.com/callstream/callstream/connector/diff"
	"github.com/twmb/franz-go/pkg/kgo"
)

func header(r *kgo.Record, key string) (string, bool) {
	for _, h := range r.Headers {
		if h.Key == key {
			return string(h.Value), true
		}
	}
	return "", false
}

// TestDiffRecords checks what a window's batch holds for each kind of
// record: an event goes to its topic and, the same value under the same
// key, to the current-state topic, both with the kind, status and source
// headers; a dead letter carries its kind, reason and source.
func TestDiffRecords(t *testing.T) {
	c := benchConnector(t, "http://127.0.0.1:1", []string{"127.0.0.1:1"})
	c.cfg.SourceName = "acme"
	body := []byte(`{"code":0,"data":{"totalCount":2,"totalPage":1,"pageNo":1,"pageSize":100,"result":[
		{"id":7,"status":0,"gmtCreateTime":"2026-03-21 10:00:00","msgTime":"2026-03-21 10:00:00","content":"{\"TaskId\":\"t\",\"StatusCode\":1}"},
		{"id":8,"status":2,"gmtCreateTime":"2026-03-21 10:00:00","msgTime":"2026-03-21 10:00:00","content":"{\"Sentences\":["}]}}`)
	p, err := calllist.DecodePage(body)
	if err != nil {
		t.Fatal(err)
	}
	b := &batch{state: c.store.NewBatch()}
	c.diff(b, backfillTask(), p.Records, 0)
	if b.Err != nil || len(b.Records) != 3 {
		t.Fatalf("batch: %d records, %v", len(b.Records), b.Err)
	}
	failed, latest, dead := b.Records[0], b.Records[1], b.Records[2]
	if failed.Topic != "calls.failed" || latest.Topic != "calls.latest" || dead.Topic != "calls.dlq" {
		t.Fatalf("topics %s, %s, %s", failed.Topic, latest.Topic, dead.Topic)
	}
	if string(latest.Key) != "7" || string(latest.Value) != string(failed.Value) {
		t.Errorf("latest record is not the event: key %q", latest.Key)
	}
	for _, r := range []*kgo.Record{failed, latest} {
		for key, want := range map[string]string{diff.HeaderKind: "CREATED", diff.HeaderStatus: strconv.Itoa(0), diff.HeaderSource: "acme"} {
			if got, _ := header(r, key); got != want {
				t.Errorf("%s header %s = %q, want %q", r.Topic, key, got, want)
			}
		}
	}
	for key, want := range map[string]string{diff.HeaderKind: diff.KindDeadLetter, diff.HeaderReason: calllist.ReasonContentJSON, diff.HeaderSource: "acme"} {
		if got, _ := header(dead, key); got != want {
			t.Errorf("dead letter header %s = %q, want %q", key, got, want)
		}
	}
	if _, ok := header(dead, diff.HeaderStatus); ok {
		t.Error("a dead letter carries a status header")
	}

	c.cfg.Topics.Latest = ""
	b = &batch{state: c.store.NewBatch()}
	c.diff(b, backfillTask(), p.Records[:1], 0)
	if len(b.Records) != 1 || b.Records[0].Topic != "calls.failed" {
		t.Errorf("with the current-state topic off: %d records", len(b.Records))
	}
}
