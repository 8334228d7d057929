package connector

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/callstream/callstream/connector/calllist"
	"github.com/callstream/callstream/connector/diff"
	"github.com/callstream/callstream/connector/event"
	"github.com/callstream/callstream/connector/observe"
	"github.com/callstream/callstream/connector/sink"
	"github.com/callstream/callstream/connector/state"
)

// changeRecord is a converted call as the vendor lists it, with its keys in
// the vendor's order; text is its one sentence, url its recording.
func changeRecord(id int64, status int, text, url string) []byte {
	content := fmt.Sprintf(`{"Sentences":[{"EndTime":900,"BeginTime":0,"Text":%q,"ChannelId":0}]}`, text)
	return fmt.Appendf(nil, `{"id":%d,"status":%d,"gmtCreateTime":"2026-03-21 10:00:00","msgTime":"2026-03-21 10:00:00","salesName":"admin","url":%q,"content":%q}`,
		id, status, url, content)
}

// reordered is the same call as changeRecord's, its keys in another order,
// with whitespace between them and inside its content's JSON.
func reordered(id int64, status int, text, url string) []byte {
	content := fmt.Sprintf(`{ "Sentences" : [ { "Text" : %q, "ChannelId" : 0, "BeginTime" : 0, "EndTime" : 900 } ] }`, text)
	return fmt.Appendf(nil, "{\n  \"content\": %q,\n  \"url\": %q,\n  \"salesName\": \"admin\",\n  \"msgTime\": \"2026-03-21 10:00:00\",\n  \"gmtCreateTime\": \"2026-03-21 10:00:00\",\n  \"status\": %d,\n  \"id\": %d\n}",
		content, url, status, id)
}

// diffOne diffs one record in a batch of its own and, as a commit would,
// applies the batch.
func diffOne(t *testing.T, c *poller, raw []byte) *batch {
	t.Helper()
	b := &batch{state: c.store.NewBatch()}
	c.diff(b, backfillTask(), []calllist.Raw{rawRecord(t, raw)}, 0)
	if b.Err != nil {
		t.Fatal(b.Err)
	}
	b.state.Apply()
	return b
}

func rawRecord(t *testing.T, raw []byte) calllist.Raw {
	t.Helper()
	body := fmt.Appendf(nil, `{"code":0,"data":{"totalCount":1,"totalPage":1,"pageNo":1,"pageSize":100,"result":[%s]}}`, raw)
	p, err := calllist.DecodePage(body)
	if err != nil || len(p.Records) != 1 {
		t.Fatalf("decoding a page of %s: %v", raw, err)
	}
	return p.Records[0]
}

// kinds lists the kinds of b's events, and the topics of its records.
func kinds(b *batch) string {
	var ks []string
	for _, e := range b.Events {
		ks = append(ks, e.Kind)
	}
	for _, r := range b.Records {
		ks = append(ks, r.Topic)
	}
	return strings.Join(ks, " ")
}

// TestDiffUpdates checks when a call whose status stays the same emits
// UPDATED: when its decoded content changes, not when only its key order
// or whitespace does, not with updates off, not when only an ignored field
// changes, and not the first time a first-version state entry (no content
// hash) meets new bytes.
func TestDiffUpdates(t *testing.T) {
	const id = 661181201146016
	newConn := func(edit func(*SourceConfig)) *poller {
		cfg := benchConfig(t, "http://127.0.0.1:1", []string{"127.0.0.1:1"})
		if edit != nil {
			edit(&cfg)
		}
		c, err := newPoller(cfg, Options{}, pollerEnv{totals: new(observe.StateTotals), keys: state.UnprefixedKeys()})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	url1, url2 := "https://oss.example.com/a.mp3?token=1", "https://oss.example.com/a.mp3?token=2"
	type step struct {
		raw  []byte
		want string // kinds of events, then topics of records
	}
	created := "CREATED calls calls.latest"
	updated := "UPDATED calls calls.latest"
	tests := []struct {
		name  string
		edit  func(*SourceConfig)
		steps []step
	}{
		{"a corrected transcript is UPDATED", nil, []step{
			{changeRecord(id, 2, "hello", url1), created},
			{changeRecord(id, 2, "hello, world", url1), updated},
			{changeRecord(id, 2, "hello, world", url1), ""}, // the same bytes: skipped
			{changeRecord(id, 1, "hello, world", url1), "STATUS_CHANGED calls calls.latest"},
		}},
		{"key order and whitespace are no change", nil, []step{
			{changeRecord(id, 2, "hello", url1), created},
			{reordered(id, 2, "hello", url1), ""},
			{changeRecord(id, 2, "hello", url1), ""},
			{reordered(id, 2, "hello again", url1), updated},
		}},
		{"updates off", func(c *SourceConfig) { c.NoUpdates = true }, []step{
			{changeRecord(id, 2, "hello", url1), created},
			{changeRecord(id, 2, "hello, world", url1), ""},
			{changeRecord(id, 0, "hello, world", url1), "STATUS_CHANGED calls.failed calls.latest"},
		}},
		{"an ignored field alone is no change", func(c *SourceConfig) { c.IgnoreChanges = []string{"url"} }, []step{
			{changeRecord(id, 2, "hello", url1), created},
			{changeRecord(id, 2, "hello", url2), ""},
			{changeRecord(id, 2, "hello, world", url1), updated},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := newConn(tc.edit)
			var ids []string
			for i, s := range tc.steps {
				b := diffOne(t, c, s.raw)
				if got := kinds(b); got != s.want {
					t.Fatalf("step %d: %q, want %q", i, got, s.want)
				}
				for _, r := range b.Records {
					if got, _ := header(r, diff.HeaderKind); got != b.Events[0].Kind {
						t.Errorf("step %d: %s kind header %q, want %q", i, r.Topic, got, b.Events[0].Kind)
					}
				}
				if len(b.Events) == 0 {
					continue
				}
				e := b.Events[0]
				if e.Kind == string(event.Updated) && (e.PreviousStatus == nil || *e.PreviousStatus != e.Call.Status) {
					t.Errorf("step %d: UPDATED with previous status %v, want the call's %d", i, e.PreviousStatus, e.Call.Status)
				}
				ev, err := event.NewDecoder(nil).DecodeEvent(b.Records[0].Value)
				if err != nil {
					t.Fatal(err)
				}
				ids = append(ids, ev.EventID)
			}
			seen := map[string]bool{}
			for _, id := range ids {
				if seen[id] {
					t.Errorf("event ids %q repeat one", ids)
				}
				seen[id] = true
			}
		})
	}

	t.Run("a first-version entry learns its content hash first", func(t *testing.T) {
		c := newConn(nil)
		first := rawRecord(t, changeRecord(id, 2, "hello", url1))
		v1 := state.EncodeEntry(state.Entry{RawHash: first.Hash, Created: 1774058400, Status: 2, Flags: state.Emitted})
		v1 = append([]byte{1}, v1[1:22]...) // the first version: no content hash
		if err := c.store.Load(state.CallKey(id), v1); err != nil {
			t.Fatal(err)
		}
		if b := diffOne(t, c, changeRecord(id, 2, "hello, world", url1)); len(b.Records) != 0 {
			t.Fatalf("first change after a v1 entry: %q, want nothing", kinds(b))
		}
		if e, _ := c.store.Get(id); !e.Has(state.ContentKnown) {
			t.Fatalf("entry %+v: content hash still unknown", e)
		}
		if b := diffOne(t, c, changeRecord(id, 2, "hello, world!", url1)); kinds(b) != updated {
			t.Fatalf("the next change: %q, want %q", kinds(b), updated)
		}
	})
}

// randomText is text that compresses badly: random letters and spaces.
func randomText(r *rand.Rand, n int) string {
	const letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 "
	b := make([]byte, n)
	for i := range b {
		b[i] = letters[r.IntN(len(letters))]
	}
	return string(b)
}

// TestDiffTooLarge checks that a call whose event its topic would refuse is
// a dead letter, too_large, naming the call, its size and the limit, with
// as much of its raw JSON as fits the dead-letter topic; that the same
// bytes are not tried again; and that other bytes are.
func TestDiffTooLarge(t *testing.T) {
	const id = 661181201146016
	c := benchConnector(t, "http://127.0.0.1:1", []string{"127.0.0.1:1"})
	topics := c.cfg.Topics
	c.limits = sink.NewLimits(map[string]int{topics.Calls: 4000, topics.Latest: 3000, topics.DLQ: 2500}, 0)
	r := rand.New(rand.NewPCG(1, 2))

	// Fits calls, not calls.latest: a dead letter all the same.
	big := changeRecord(id, 2, randomText(r, 3200), "u")
	b := diffOne(t, c, big)
	if len(b.Records) != 1 || len(b.Events) != 1 || b.Events[0].Reason != diff.ReasonTooLarge || b.Events[0].CallID != id {
		t.Fatalf("oversized call: %q %+v", kinds(b), b.Events)
	}
	dr := b.Records[0]
	if dr.Topic != topics.DLQ || string(dr.Key) != "661181201146016" || sink.RecordSize(dr) > 2500 {
		t.Fatalf("dead letter in %s, key %q, %d bytes: want the dead-letter topic, the id, at most 2500", dr.Topic, dr.Key, sink.RecordSize(dr))
	}
	if got, _ := header(dr, diff.HeaderReason); got != diff.ReasonTooLarge {
		t.Errorf("reason header %q", got)
	}
	dl, err := event.NewDecoder(nil).DecodeDeadLetter(dr.Value)
	if err != nil {
		t.Fatal(err)
	}
	if dl.CallID == nil || *dl.CallID != id || dl.Reason != diff.ReasonTooLarge ||
		!strings.Contains(dl.Error, "more than the 3000 bytes topic calls.latest takes") || !strings.Contains(dl.Error, "raw cut") {
		t.Errorf("dead letter %+v", dl)
	}
	if len(dl.Raw) < 1500 || !strings.HasPrefix(string(big), dl.Raw) {
		t.Errorf("dead letter holds %d bytes of the raw record's %d, not its start", len(dl.Raw), len(big))
	}
	e, _ := c.store.Get(id)
	if !e.Has(state.DeadLettered) || e.Has(state.Emitted) {
		t.Errorf("entry %+v: want dead-lettered, not emitted", e)
	}

	// The same bytes again: not tried again.
	if b := diffOne(t, c, big); len(b.Records) != 0 || b.Skipped != 1 {
		t.Fatalf("the same oversized bytes again: %q, %d skipped", kinds(b), b.Skipped)
	}
	// Other bytes that fit: the call's first event.
	if b := diffOne(t, c, changeRecord(id, 2, "short again", "u")); kinds(b) != "CREATED calls calls.latest" {
		t.Fatalf("after the correction: %q", kinds(b))
	}
	// An update too large: a dead letter, and the event before stays the
	// last emitted: the next change is an UPDATED against it.
	if b := diffOne(t, c, changeRecord(id, 2, randomText(r, 3500), "u")); len(b.Events) != 1 || b.Events[0].Reason != diff.ReasonTooLarge {
		t.Fatalf("oversized update: %q", kinds(b))
	}
	if b := diffOne(t, c, changeRecord(id, 2, "short again", "u")); len(b.Records) != 0 {
		t.Fatalf("back to the emitted content: %q, want nothing", kinds(b))
	}
	if b := diffOne(t, c, changeRecord(id, 2, "short, corrected", "u")); kinds(b) != "UPDATED calls calls.latest" {
		t.Fatalf("a correction that fits: %q", kinds(b))
	}
}
