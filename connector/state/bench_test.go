package state

import (
	"fmt"
	"math"
	"runtime"
	"runtime/debug"
	"testing"

	"github.com/callstream/callstream/internal/cputime"
	"github.com/callstream/callstream/internal/procstat"
)

// BenchmarkStoreLoad loads n entries as a restore does and reports the
// memory they hold: bytes per entry on the Go heap after a GC plus mapped
// outside it ("bytes/entry"; "heap-bytes/entry" is the heap's share) and
// the peak RSS of the process during the load ("peak-rss-MiB", VmHWM),
// which for 10M entries is dominated by the store. "heap/10000000" keeps
// every segment on the Go heap, as before large ones were mapped.
//
//	go test -run '^$' -bench StoreLoad -benchtime 1x ./connector/state/
func BenchmarkStoreLoad(b *testing.B) {
	for _, n := range []int{1_000_000, 10_000_000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) { benchStoreLoad(b, n) })
	}
	b.Run("heap/10000000", func(b *testing.B) {
		saved := offHeapMin
		offHeapMin = math.MaxInt
		defer func() { offHeapMin = saved }()
		benchStoreLoad(b, 10_000_000)
	})
	// A Go map of the same slots, the layout the table replaced.
	b.Run("gomap/1000000", func(b *testing.B) {
		const n = 1_000_000
		var mp map[int64]slot
		var heap uint64
		m := cputime.Start()
		for b.Loop() {
			mp = nil
			before := heapInUse()
			mp = make(map[int64]slot)
			for i := range n {
				mp[661181201146016+7*int64(i)] = pack(Entry{RawHash: uint64(i), Created: 1742883983, Status: 2})
			}
			heap = heapInUse() - before
		}
		m.Report(b, n*b.N)
		b.ReportMetric(float64(heap)/n, "bytes/entry")
		runtime.KeepAlive(mp)
	})
}

func benchStoreLoad(b *testing.B, n int) {
	value := EncodeEntry(Entry{RawHash: 1<<63 + 12345, Created: 1742883983, Status: 2, Flags: Emitted})
	key := CallKey(0)
	var s *Store
	var heap uint64
	var mapped int64
	settledMappedBytes() // tables of earlier benchmarks released
	m := cputime.Start()
	for b.Loop() {
		s = nil
		before := heapInUse()
		if err := procstat.ResetPeak(0); err != nil {
			b.Logf("peak-rss-MiB is the process's since its start: %v", err)
		}
		mappedBefore := mappedBytes.Load()
		s = New()
		for i := range n {
			// Ids as the vendor hands them out: large, increasing, gapped.
			id := uint64(661181201146016 + 7*i)
			for j := range 8 {
				key[1+j] = byte(id >> (56 - 8*j))
			}
			if err := s.Load(key, value); err != nil {
				b.Fatal(err)
			}
		}
		heap = heapInUse() - before
		mapped = mappedBytes.Load() - mappedBefore
	}
	m.Report(b, n*b.N)
	if s.Len() != n {
		b.Fatalf("store holds %d entries, want %d", s.Len(), n)
	}
	b.ReportMetric((float64(heap)+float64(mapped))/float64(n), "bytes/entry")
	b.ReportMetric(float64(heap)/float64(n), "heap-bytes/entry")
	if hwm, err := procstat.Bytes(0, procstat.PeakRSS); err == nil {
		b.ReportMetric(float64(hwm)/(1<<20), "peak-rss-MiB")
	}
	runtime.KeepAlive(s)
}

func heapInUse() uint64 {
	runtime.GC()
	debug.FreeOSMemory()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapInuse
}
