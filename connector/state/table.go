package state

import "math/bits"

// table maps call ids to entries in about 24 bytes a call: 256 segments of
// open addressing (linear probing) over parallel arrays. A Go map of the
// same data costs 50–70 bytes a call, for its control bytes, padding and
// doubling growth. A segment grows by half when it is 7/8 full, on its own,
// so memory stays between 28 and 42 bytes a call and growing never copies
// more than 1/256 of the table at once. The arrays hold no pointers, so the
// garbage collector never scans them.
type table struct {
	segs [numSegments]segment
	// Id 0 marks an empty slot; the vendor never uses it, but a state
	// record may hold it, so it is kept aside.
	zero    slot
	hasZero bool
	n       int
}

const (
	segmentBits = 8
	numSegments = 1 << segmentBits
	minCapacity = 8
)

// segment is one open-addressing table. slot i holds keys[i] (0: empty),
// hashes[i], created[i] and meta[i] (status in the high 16 bits, flags in
// the low 8).
type segment struct {
	keys    []int64
	hashes  []uint64
	created []uint32
	meta    []uint32
	n       int
}

func mix(id int64) uint64 { return uint64(id) * 0x9E3779B97F4A7C15 }

func (t *table) seg(h uint64) *segment { return &t.segs[h>>(64-segmentBits)] }

func (t *table) get(id int64) (slot, bool) {
	if id == 0 {
		return t.zero, t.hasZero
	}
	h := mix(id)
	s := t.seg(h)
	if len(s.keys) == 0 {
		return slot{}, false
	}
	for i := s.home(h); ; i = s.next(i) {
		switch s.keys[i] {
		case id:
			return s.slot(i), true
		case 0:
			return slot{}, false
		}
	}
}

func (t *table) put(id int64, v slot) {
	if id == 0 {
		if !t.hasZero {
			t.n++
		}
		t.zero, t.hasZero = v, true
		return
	}
	h := mix(id)
	s := t.seg(h)
	if (s.n+1)*8 > len(s.keys)*7 {
		s.grow()
	}
	if s.set(h, id, v) {
		t.n++
	}
}

func (t *table) remove(id int64) {
	if id == 0 {
		if t.hasZero {
			t.n--
		}
		t.zero, t.hasZero = slot{}, false
		return
	}
	h := mix(id)
	if t.seg(h).del(h, id) {
		t.n--
	}
}

// each calls fn for every entry, in no particular order.
func (t *table) each(fn func(id int64, v slot)) {
	if t.hasZero {
		fn(0, t.zero)
	}
	for si := range t.segs {
		s := &t.segs[si]
		for i, k := range s.keys {
			if k != 0 {
				fn(k, s.slot(i))
			}
		}
	}
}

// home maps h to a slot index by its low bits (the high bits chose the
// segment), for any capacity.
func (s *segment) home(h uint64) int {
	hi, _ := bits.Mul64(h<<segmentBits, uint64(len(s.keys)))
	return int(hi)
}

func (s *segment) next(i int) int {
	if i++; i == len(s.keys) {
		return 0
	}
	return i
}

func (s *segment) slot(i int) slot {
	m := s.meta[i]
	return slot{hash: s.hashes[i], created: s.created[i], status: int16(m >> 16), flags: uint8(m)}
}

func (s *segment) store(i int, id int64, v slot) {
	s.keys[i], s.hashes[i], s.created[i] = id, v.hash, v.created
	s.meta[i] = uint32(uint16(v.status))<<16 | uint32(v.flags)
}

// set inserts or replaces id and reports whether it was new. The segment
// must have a free slot.
func (s *segment) set(h uint64, id int64, v slot) bool {
	for i := s.home(h); ; i = s.next(i) {
		switch s.keys[i] {
		case id:
			s.store(i, id, v)
			return false
		case 0:
			s.store(i, id, v)
			s.n++
			return true
		}
	}
}

// del removes id, shifting later slots of its probe run back so that no
// lookup stops early at the hole (no tombstones needed).
func (s *segment) del(h uint64, id int64) bool {
	if len(s.keys) == 0 {
		return false
	}
	i := s.home(h)
	for s.keys[i] != id {
		if s.keys[i] == 0 {
			return false
		}
		i = s.next(i)
	}
	for j := s.next(i); s.keys[j] != 0; j = s.next(j) {
		home := s.home(mix(s.keys[j]))
		// Move j into the hole at i if its home is not in (i, j],
		// cyclically: then a lookup for it passes i.
		if (j > i && (home <= i || home > j)) || (j < i && home <= i && home > j) {
			s.store(i, s.keys[j], s.slot(j))
			i = j
		}
	}
	s.keys[i] = 0
	s.n--
	return true
}

func (s *segment) grow() {
	old := *s
	c := max(minCapacity, len(old.keys)+len(old.keys)/2)
	*s = segment{keys: make([]int64, c), hashes: make([]uint64, c), created: make([]uint32, c), meta: make([]uint32, c)}
	for i, k := range old.keys {
		if k != 0 {
			s.set(mix(k), k, old.slot(i))
		}
	}
}
