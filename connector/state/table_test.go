package state

import (
	"math/rand/v2"
	"testing"
)

// TestTableAgreesWithAMap runs random puts and removes on the table and on
// a Go map and compares them after every step, with ids drawn from small
// ranges so that probe runs collide, wrap and shift on delete.
func TestTableAgreesWithAMap(t *testing.T) {
	for _, tc := range []struct {
		name string
		ids  int64
		ops  int
	}{
		{"dense", 64, 20_000},
		{"wide", 50_000, 200_000},
		{"with zero and negatives", 300, 20_000},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(1, uint64(tc.ids)))
			var tb table
			want := map[int64]slot{}
			for op := range tc.ops {
				id := rng.Int64N(tc.ids) - tc.ids/4
				if rng.IntN(3) == 0 {
					tb.remove(id)
					delete(want, id)
				} else {
					v := slot{hash: rng.Uint64(), created: uint32(op), status: int16(rng.IntN(5) - 1), flags: uint8(rng.IntN(4))}
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
