package event

import (
	"testing"
	"time"
)

func hashCall() *Call {
	at := time.UnixMilli(1742883983000).UTC()
	return &Call{ID: 7, TaskID: "t", Status: 2, SalesName: "admin", URL: "https://x/a.mp3?token=1",
		GmtCreateTime: at, MsgTime: at, Departments: []Department{{ID: 1, Level: "0.1.", Path: []int64{0, 1}, Name: "d"}},
		Content: &Transcript{Sentences: []Sentence{{BeginTimeMs: 0, EndTimeMs: 900, Text: "hello"}}},
		Extra:   map[string]string{"a": "1", "b": `"x"`}}
}

// TestCallHash checks what Call.Hash sees: every field but the id, the
// fields an Ignore names left out; and that its value for one call stays
// what it was, since the state topic stores it.
func TestCallHash(t *testing.T) {
	c := hashCall()
	h := c.Hash(Ignore{})
	for _, tc := range []struct {
		name   string
		edit   func(*Call)
		ignore []string
		same   bool
	}{
		{"the id", func(c *Call) { c.ID = 8 }, nil, true},
		{"a sentence", func(c *Call) { c.Content.(*Transcript).Sentences[0].Text = "hullo" }, nil, false},
		{"a department's extra", func(c *Call) { c.Departments[0].Extra = map[string]string{"k": "1"} }, nil, false},
		{"the url", func(c *Call) { c.URL = "https://x/a.mp3?token=2" }, nil, false},
		{"the url, ignored", func(c *Call) { c.URL = "https://x/a.mp3?token=2" }, []string{"url"}, true},
		{"an extra key, ignored", func(c *Call) { c.Extra["b"] = `"y"` }, []string{"extra.b"}, true},
		{"another extra key, not ignored", func(c *Call) { c.Extra["a"] = "2" }, []string{"extra.b"}, false},
		{"empty strings moved between fields", func(c *Call) { c.TaskID, c.CorpID = "", "t" }, nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ig, err := ParseIgnore(tc.ignore)
			if err != nil {
				t.Fatal(err)
			}
			base, other := hashCall(), hashCall()
			tc.edit(other)
			if same := base.Hash(ig) == other.Hash(ig); same != tc.same {
				t.Errorf("hashes equal %v, want %v", same, tc.same)
			}
		})
	}
	if h != hashCall().Hash(Ignore{}) {
		t.Error("the hash of one call differs between two computations")
	}
	if _, err := ParseIgnore([]string{"bogus"}); err == nil {
		t.Error("ParseIgnore took an unknown field")
	}
}

// TestCallHashPinned keeps Call.Hash's value for one call: the state topic
// stores hashes, and a hash that changed between versions would make every
// call's next re-read with other bytes an UPDATED event.
func TestCallHashPinned(t *testing.T) {
	if got := hashCall().Hash(Ignore{}); got != 0x2a827446 {
		t.Errorf("Hash = %#x, want 0x2a827446", got)
	}
}
