package simulator

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/callstream/callstream/internal/vendortest"
)

func FuzzAppendString(f *testing.F) {
	for _, s := range []string{"", "plain", `{"Sentences":[{"Text":"您好,欢迎。"}]}`, "tab\tnew\nline\r\x00\x1f", "bad \xff utf8", `back\slash "quote"`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		enc := appendString([]byte("x"), s)
		var got string
		if err := json.Unmarshal(enc[1:], &got); err != nil {
			t.Fatalf("appendString(%q) = %s: %v", s, enc[1:], err)
		}
		if want := strings.ToValidUTF8(s, "\uFFFD"); got != want {
			t.Fatalf("appendString(%q) decodes to %q", s, got)
		}
	})
}

// The vendor's sample, read into Record, holds what the shared table says,
// and appendRecord writes each record back byte for byte as the vendor did.
func TestSampleRoundTrip(t *testing.T) {
	var env struct {
		Data struct {
			Result []json.RawMessage `json:"result"`
		} `json:"data"`
	}
	if err := json.Unmarshal(vendortest.SampleResponse, &env); err != nil {
		t.Fatal(err)
	}
	if len(env.Data.Result) != len(vendortest.SampleRecords) {
		t.Fatalf("%d records in the sample, the table has %d", len(env.Data.Result), len(vendortest.SampleRecords))
	}
	for i, raw := range env.Data.Result {
		want := vendortest.SampleRecords[i]
		var r Record
		if err := json.Unmarshal(raw, &r); err != nil {
			t.Fatal(err)
		}
		at, err := parseTime(r.GmtCreateTime)
		if err != nil || !at.Equal(want.GmtCreate) || r.ID != want.ID || r.Status != want.Status ||
			r.StatusStr != want.StatusStr || r.Cost != want.Cost || r.PreCost != want.PreCost ||
			r.SalesID != want.SalesID || r.CallType != want.CallType || (r.Message != nil) != want.HasMessage {
			t.Errorf("record %d: %+v (time %s, %v), want %+v", i, r, at, err, want)
		}
		var compact bytes.Buffer
		if err := json.Compact(&compact, raw); err != nil {
			t.Fatal(err)
		}
		if got := appendRecord(nil, &r); !bytes.Equal(got, compact.Bytes()) {
			t.Errorf("record %d written back:\n%s\nwant\n%s", i, got, compact.Bytes())
		}
	}
}

func TestVendorTime(t *testing.T) {
	for _, v := range vendortest.TimeVectors {
		got, err := parseTime(v.Text)
		if err != nil || !got.Equal(v.UTC) {
			t.Errorf("parseTime(%q) = %s, %v; want %s", v.Text, got, err, v.UTC)
		}
		for _, at := range []time.Time{v.UTC, v.UTC.Add(999 * time.Millisecond), v.UTC.In(time.FixedZone("", -5*3600))} {
			if s := formatTime(at); s != v.Text {
				t.Errorf("formatTime(%s) = %q, want %q", at, s, v.Text)
			}
		}
	}
	for _, s := range vendortest.BadTimes {
		if at, err := parseTime(s); err == nil {
			t.Errorf("parseTime(%q) = %s, want an error", s, at)
		}
	}
}
