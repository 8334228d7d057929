package source

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestDecodeRecordIDPrecision(t *testing.T) {
	tests := []struct {
		raw  string
		want int64
	}{
		{`{"id":661181201146016}`, 661181201146016},
		{`{"id":9007199254740993}`, 9007199254740993}, // 2^53+1: a float64 would say ...992
		{`{"id":9223372036854775807}`, 9223372036854775807},
		{`{"ID":5,"id":7}`, 7},
		{`{"id":5,"Id":null}`, 5},
	}
	for _, tc := range tests {
		r, err := DecodeRecord([]byte(tc.raw))
		if err != nil || r.ID != tc.want {
			t.Errorf("DecodeRecord(%s) = %d, %v; want %d", tc.raw, r.ID, err, tc.want)
		}
		id, err := PeekID([]byte(tc.raw))
		if err != nil || id != tc.want {
			t.Errorf("PeekID(%s) = %d, %v; want %d", tc.raw, id, err, tc.want)
		}
	}
}

func TestDecodeRecordErrors(t *testing.T) {
	for _, raw := range []string{`{}`, `{"id":null}`, `{"id":0}`, `null`, `{"id":1.5}`, `{"id":"7"}`, `{"id":9223372036854775808}`, `{"id":1`} {
		if _, err := DecodeRecord([]byte(raw)); err == nil {
			t.Errorf("DecodeRecord(%s) succeeded", raw)
		}
		if _, err := PeekID([]byte(raw)); err == nil {
			t.Errorf("PeekID(%s) succeeded", raw)
		}
	}
	if _, err := DecodeRecord([]byte(`{"status":2}`)); !errors.Is(err, ErrNoID) {
		t.Errorf("DecodeRecord without id: %v, want ErrNoID", err)
	}
}

func TestPeekIDSkipsValues(t *testing.T) {
	raw := `{ "content" : "{\"id\":1,\"x\":\"}\"}" , "a":[{"id":2},[3]],"b":{"id":{"id":4}}, "n":-1.5e3,"t":true,"z":null,
	  "i\u0064" : 661181201146016 }`
	id, err := PeekID([]byte(raw))
	if err != nil || id != 661181201146016 {
		t.Errorf("PeekID = %d, %v", id, err)
	}
	r, err := DecodeRecord([]byte(raw))
	if err != nil || r.ID != id {
		t.Errorf("DecodeRecord = %d, %v", r.ID, err)
	}
}

func TestSampleRecords(t *testing.T) {
	p, err := decodePage(sample(t))
	if err != nil {
		t.Fatal(err)
	}
	r, err := DecodeRecord(p.Records[4])
	if err != nil {
		t.Fatal(err)
	}
	if r.ID != 660475461327008 || r.Status != 2 || r.Cost != 21000 || r.Message != nil || r.CallType != "电销手机" ||
		r.SalesID != 445499900074176 || !strings.HasPrefix(r.Content, `{"Sentences":[`) || r.StatusStr != "转换成功" {
		t.Errorf("record 4 = %+v", r)
	}
	first, _ := DecodeRecord(p.Records[0])
	if first.Message == nil || *first.Message != first.Content || first.Status != 0 {
		t.Errorf("failed record: message %v, content %q", first.Message, first.Content)
	}
	at, err := ParseTime(first.GmtCreateTime)
	if err != nil || !at.Equal(time.Date(2025, 3, 25, 6, 26, 23, 0, time.UTC)) {
		t.Errorf("ParseTime(%q) = %s, %v", first.GmtCreateTime, at, err)
	}
}

func TestParseTime(t *testing.T) {
	if _, err := ParseTime("2025-03-21T14:17:44"); err == nil {
		t.Error("ParseTime accepted an ISO time")
	}
	at, _ := ParseTime("2025-03-21 00:00:00")
	if got := FormatTime(at); got != "2025-03-21 00:00:00" {
		t.Errorf("FormatTime(ParseTime) = %s", got)
	}
}

func BenchmarkPeekID(b *testing.B) {
	benchEachRecord(b, func(r json.RawMessage) error { _, err := PeekID(r); return err })
}

func BenchmarkDecodeRecord(b *testing.B) {
	benchEachRecord(b, func(r json.RawMessage) error { _, err := DecodeRecord(r); return err })
}

// benchEachRecord runs fn over every record of the sample page, once a
// loop, and reports records a second.
func benchEachRecord(b *testing.B, fn func(json.RawMessage) error) {
	p, err := decodePage(sample(b))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		for _, r := range p.Records {
			if err := fn(r); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(b.N*len(p.Records))/b.Elapsed().Seconds(), "records/s")
}
