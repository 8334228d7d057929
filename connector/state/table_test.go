package state

import (
	"math/rand/v2"
	"runtime"
	"testing"
	"time"
)

// TestTableAgreesWithAMap runs random puts and removes on the table and on
// a Go map and compares them after every step, with ids drawn from small
// ranges so that probe runs collide, wrap and shift on delete; "mapped"
// puts every segment's arrays outside the Go heap, as large ones are.
func TestTableAgreesWithAMap(t *testing.T) {
	for _, tc := range []struct {
		name   string
		ids    int64
		ops    int
		mapped bool
	}{
		{"dense", 64, 20_000, false},
		{"wide", 50_000, 200_000, false},
		{"with zero and negatives", 300, 20_000, false},
		{"wide mapped", 50_000, 200_000, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.mapped {
				mapEverySegment(t)
			}
			rng := rand.New(rand.NewPCG(1, uint64(tc.ids)))
			var tb table
			want := map[int64]slot{}
			for op := range tc.ops {
				id := rng.Int64N(tc.ids) - tc.ids/4
				if rng.IntN(3) == 0 {
					tb.remove(id)
					delete(want, id)
				} else {
					v := slot{hash: rng.Uint64(), created: uint32(op), status: int16(rng.IntN(5) - 1), flags: uint8(rng.IntN(8)), content: rng.Uint32()}
					tb.put(id, v)
					want[id] = v
				}
				got, ok := tb.get(id)
				w, wok := want[id]
				if ok != wok || got != w {
					t.Fatalf("op %d: get(%d) = %+v, %v; want %+v, %v", op, id, got, ok, w, wok)
				}
			}
			if tb.n != len(want) {
				t.Fatalf("table holds %d entries, map %d", tb.n, len(want))
			}
			seen := 0
			tb.each(func(id int64, v slot) {
				seen++
				if w, ok := want[id]; !ok || w != v {
					t.Errorf("each: %d = %+v, map has %+v, %v", id, v, w, ok)
				}
			})
			if seen != len(want) {
				t.Errorf("each visited %d entries, want %d", seen, len(want))
			}
			for id, w := range want {
				if got, ok := tb.get(id); !ok || got != w {
					t.Errorf("get(%d) = %+v, %v; want %+v", id, got, ok, w)
				}
			}
		})
	}
}

// mapEverySegment maps the arrays of every segment outside the Go heap,
// however small, for the rest of the test.
func mapEverySegment(t *testing.T) {
	t.Helper()
	saved := offHeapMin
	offHeapMin = 0
	t.Cleanup(func() { offHeapMin = saved })
}

// TestMappedMemoryIsReleased checks that a growing segment releases its old
// mapping at once and that a table no longer reachable releases the rest.
func TestMappedMemoryIsReleased(t *testing.T) {
	if !canMap {
		t.Skip("no memory is mapped on this system")
	}
	mapEverySegment(t)
	before := settledMappedBytes()
	s := New()
	for i := range 100_000 {
		s.put(int64(i+1), Entry{RawHash: uint64(i), Created: 1742883983, Status: 2})
	}
	if got := mappedBytes.Load() - before; got != int64(s.Bytes()) {
		t.Errorf("%d bytes mapped for a table of %d bytes: old arrays were not released", got, s.Bytes())
	}
	if s.Bytes() > 100_000*42 {
		t.Errorf("a table of 100,000 calls holds %d bytes, want at most 42 a call", s.Bytes())
	}
	// Collections while the table is in use release nothing of it.
	runtime.GC()
	runtime.GC()
	time.Sleep(10 * time.Millisecond)
	for i := range 100_000 {
		if e, ok := s.Get(int64(i + 1)); !ok || e.RawHash != uint64(i) {
			t.Fatalf("after a collection, Get(%d) = %+v, %v", i+1, e, ok)
		}
	}
	runtime.KeepAlive(s)
	s = nil
	if got := settledMappedBytes() - before; got != 0 {
		t.Errorf("%d bytes still mapped after the table became unreachable", got)
	}
}

// settledMappedBytes collects garbage until the cleanups of unreachable
// tables (from earlier tests too) have run, and returns the bytes mapped.
func settledMappedBytes() int64 {
	last, same := mappedBytes.Load(), 0
	for deadline := time.Now().Add(10 * time.Second); same < 5 && time.Now().Before(deadline); {
		runtime.GC()
		time.Sleep(10 * time.Millisecond)
		if n := mappedBytes.Load(); n == last {
			same++
		} else {
			last, same = n, 0
		}
	}
	return last
}
