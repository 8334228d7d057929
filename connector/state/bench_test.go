package state

import (
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"

	"github.com/callstream/callstream/internal/cputime"
)

// BenchmarkStoreLoad loads n entries as a restore does and reports the
// memory they hold: heap bytes per entry after a GC ("bytes/entry") and
// the peak RSS of the process ("peak-rss-MiB", VmHWM), which for 10M
// entries is dominated by the store.
//
//	go test -run '^$' -bench StoreLoad -benchtime 1x ./connector/state/
func BenchmarkStoreLoad(b *testing.B) {
	for _, n := range []int{1_000_000, 10_000_000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) { benchStoreLoad(b, n) })
	}
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
	m := cputime.Start()
	for b.Loop() {
		s = nil
		before := heapInUse()
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
	}
	m.Report(b, n*b.N)
	if s.Len() != n {
		b.Fatalf("store holds %d entries, want %d", s.Len(), n)
	}
	b.ReportMetric(float64(heap)/float64(n), "bytes/entry")
	if hwm, ok := vmHWM(); ok {
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

// vmHWM returns the peak resident set size of this process in bytes.
func vmHWM() (int64, bool) {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, false
	}
	for line := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10, err == nil
		}
	}
	return 0, false
}
