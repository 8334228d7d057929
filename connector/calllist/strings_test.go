package calllist

import (
	"encoding/json"
	"testing"

	"github.com/callstream/callstream/connector/event"
)

// A decoded call's strings share no memory with the input (they are copies,
// interned or parts of an unquoted inner string): a caller may reuse the
// input's bytes once DecodeCall returned.
func TestDecodeCallStringsOutliveTheInput(t *testing.T) {
	for _, r := range samplePage(t).Records {
		raw := append([]byte(nil), r.JSON...)
		rec, err := DecodeCall(raw)
		if err != nil {
			t.Fatalf("record %d: %v", r.ID, err)
		}
		want, err := json.Marshal(rec)
		if err != nil {
			t.Fatal(err)
		}
		for i := range raw {
			raw[i] = 'x'
		}
		got, err := json.Marshal(rec)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != string(want) {
			t.Errorf("record %d changed with its input's bytes:\n got %s\nwant %s", r.ID, got, want)
		}
	}
}

// Strings with escapes or invalid UTF-8 are unquoted, the invalid bytes
// replaced; the others are sliced as they are.
func TestDecodeCallStringForms(t *testing.T) {
	raw := []byte(`{"id":7,"status":1,"gmtCreateTime":"2026-03-21 12:00:00","msgTime":"2026-03-21 12:00:01","salesName":"王\"五\u00e9","method":"plain",` +
		`"callType":"bad` + "\xff" + `","content":"{\"Sentences\":[{\"Text\":\"你好\\\\n\",\"BeginTime\":1}]}","odd":"x` + "\xfe" + `"}`)
	rec, err := DecodeCall(raw)
	if err != nil {
		t.Fatal(err)
	}
	c := rec.Call
	for _, tc := range []struct{ field, got, want string }{
		{"salesName", c.SalesName, "王\"五é"},
		{"method", c.Method, "plain"},
		{"callType", c.CallType, "bad\uFFFD"},
		{"extra odd", c.Extra["odd"], "\"x\uFFFD\""},
	} {
		if tc.got != tc.want {
			t.Errorf("%s = %q, want %q", tc.field, tc.got, tc.want)
		}
	}
	tr, ok := c.Content.(*event.Transcript)
	if !ok || len(tr.Sentences) != 1 || tr.Sentences[0].Text != `你好\n` {
		t.Errorf("content = %#v, want one sentence 你好\\n", c.Content)
	}
}
