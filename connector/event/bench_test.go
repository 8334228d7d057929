package event

import (
	"encoding/json"
	"testing"

	"github.com/callstream/callstream/internal/cputime"
)

// BenchmarkAppendEvent measures the hot path: one event to one value,
// reusing the buffer as a producer that copies values out would.
func BenchmarkAppendEvent(b *testing.B) {
	events := sampleEvents(b)
	inProgress := *events[4]
	call := *inProgress.Call
	call.Content, call.Status = nil, 1
	inProgress.Call = &call
	cases := []struct {
		name string
		e    *Event
	}{
		{"transcript", events[4]},  // 3 sentences
		{"task-status", events[0]}, // a failed conversion
		{"in-progress", &inProgress},
	}
	for _, enc := range []struct {
		name string
		enc  *Encoder
	}{{"single-object", NewEncoder()}, {"registry", NewRegistryEncoder(7, 8)}} {
		for _, tc := range cases {
			b.Run(enc.name+"/"+tc.name, func(b *testing.B) {
				b.ReportAllocs()
				var buf []byte
				for b.Loop() {
					var err error
					if buf, err = enc.enc.AppendEvent(buf[:0], tc.e); err != nil {
						b.Fatal(err)
					}
				}
				b.SetBytes(int64(len(buf)))
				b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
			})
		}
	}
}

func BenchmarkFromRecord(b *testing.B) {
	_, recs := sampleRecords(b)
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		r := &recs[n%len(recs)]
		if _, err := FromRecord(r); err != nil {
			b.Fatal(err)
		}
		n++
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "records/s")
}

func BenchmarkDecodeEvent(b *testing.B) {
	value, err := NewEncoder().AppendEvent(nil, sampleEvents(b)[4])
	if err != nil {
		b.Fatal(err)
	}
	dec := NewDecoder(nil)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := dec.DecodeEvent(value); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkInnerJSON decodes the sample records' content and
// departmentName with the one-pass decoders and, for the ratio, with
// encoding/json as before.
func BenchmarkInnerJSON(b *testing.B) {
	_, recs := sampleRecords(b)
	for _, tc := range []struct {
		name                string
		content, department func(string) bool
	}{
		{"one-pass", func(s string) bool { _, ok := decodeContentFast(s); return ok },
			func(s string) bool { _, ok := decodeDepartmentsFast(s); return ok }},
		{"encoding-json", func(s string) bool { var c contentJSON; return json.Unmarshal([]byte(s), &c) == nil },
			func(s string) bool { var d []departmentJSON; return json.Unmarshal([]byte(s), &d) == nil }},
	} {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			m := cputime.Start()
			n := 0
			for b.Loop() {
				r := &recs[n%len(recs)]
				if (r.Content != "" && !tc.content(r.Content)) || (r.DepartmentName != "" && !tc.department(r.DepartmentName)) {
					b.Fatalf("record %d did not decode", r.ID)
				}
				n++
			}
			m.Report(b, n)
		})
	}
}
