package event

import (
	"testing"
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
