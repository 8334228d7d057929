package state

import (
	"math/bits"
	"runtime"
	"unsafe"
)

// table maps call ids to entries in 28 bytes a slot: 256 segments of
// open addressing (linear probing) over parallel arrays. A Go map of the
// same data costs 50–70 bytes a call, for its control bytes, padding and
// doubling growth. A segment grows by half when it is 7/8 full, on its own,
// so memory stays between 32 and 48 bytes a call and growing never copies
// more than 1/256 of the table at once.
//
// The arrays hold no pointers, so the garbage collector never scans them;
// a segment's arrays of 64 KiB or more are mapped outside the Go heap
// altogether (see mapSlots), so that a large state does not raise the heap
// size the collector paces itself by: with 10M calls the state is 350 MB
// that would otherwise let as much garbage pile up before each collection.
type table struct {
	segs *segments // nil until the first put
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
	// slotBytes is one slot's share of the five arrays.
	slotBytes = 8 + 8 + 4 + 4 + 4
)

// offHeapMin is the size from which a segment's arrays are mapped outside
// the Go heap; smaller ones are not worth a system call and whole pages.
// Tests lower it.
var offHeapMin = 64 << 10

// segments are the table's segments and the memory mapped for them. The
// mapped memory is released when a segment grows, and when the table is
// no longer reachable (a cleanup on segments).
type segments struct {
	s      [numSegments]segment
	mapped *[numSegments][]byte
}

func newSegments() *segments {
	ss := &segments{mapped: new([numSegments][]byte)}
	runtime.AddCleanup(ss, func(m *[numSegments][]byte) {
		for _, b := range m {
			unmapSlots(b)
		}
	}, ss.mapped)
	return ss
}

// segment is one open-addressing table. slot i holds keys[i] (0: empty),
// hashes[i], created[i], meta[i] (status in the high 16 bits, flags in
// the low 8) and content[i].
type segment struct {
	keys    []int64
	hashes  []uint64
	created []uint32
	meta    []uint32
	content []uint32
	n       int
}

// newSegment returns an empty segment of c slots and the memory mapped
// for it, nil when its arrays are on the Go heap.
func newSegment(c int) (segment, []byte) {
	if c*slotBytes >= offHeapMin {
		if mem := mapSlots(c * slotBytes); mem != nil {
			p := unsafe.Pointer(unsafe.SliceData(mem))
			return segment{
				keys:    unsafe.Slice((*int64)(p), c),
				hashes:  unsafe.Slice((*uint64)(unsafe.Add(p, 8*c)), c),
				created: unsafe.Slice((*uint32)(unsafe.Add(p, 16*c)), c),
				meta:    unsafe.Slice((*uint32)(unsafe.Add(p, 20*c)), c),
				content: unsafe.Slice((*uint32)(unsafe.Add(p, 24*c)), c),
			}, mem
		}
	}
	return segment{keys: make([]int64, c), hashes: make([]uint64, c), created: make([]uint32, c), meta: make([]uint32, c),
		content: make([]uint32, c)}, nil
}

func mix(id int64) uint64 { return uint64(id) * 0x9E3779B97F4A7C15 }

func segIndex(h uint64) int { return int(h >> (64 - segmentBits)) }

func (t *table) seg(h uint64) *segment { return &t.segs.s[segIndex(h)] }

func (t *table) get(id int64) (slot, bool) {
	if id == 0 {
		return t.zero, t.hasZero
	}
	if t.segs == nil {
		return slot{}, false
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
	if t.segs == nil {
		t.segs = newSegments()
	}
	h := mix(id)
	s := t.seg(h)
	if (s.n+1)*8 > len(s.keys)*7 {
		si := segIndex(h)
		t.segs.mapped[si] = s.grow(t.segs.mapped[si])
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
	if t.segs == nil {
		return
	}
	h := mix(id)
	if t.seg(h).del(h, id) {
		t.n--
	}
}

// each calls fn for every entry, in no particular order. fn must not
// change the table: a growing segment unmaps the arrays being ranged over.
func (t *table) each(fn func(id int64, v slot)) {
	if t.hasZero {
		fn(0, t.zero)
	}
	if t.segs == nil {
		return
	}
	for si := range t.segs.s {
		s := &t.segs.s[si]
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
	return slot{hash: s.hashes[i], created: s.created[i], status: int16(m >> 16), flags: uint8(m), content: s.content[i]}
}

func (s *segment) store(i int, id int64, v slot) {
	s.keys[i], s.hashes[i], s.created[i], s.content[i] = id, v.hash, v.created, v.content
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

// grow moves the segment to arrays half as large again, releasing the
// memory mapped for the old ones (mapped), and returns the memory mapped for
// the new ones.
func (s *segment) grow(mapped []byte) []byte {
	old := *s
	c := max(minCapacity, len(old.keys)+len(old.keys)/2)
	var mem []byte
	*s, mem = newSegment(c)
	for i, k := range old.keys {
		if k != 0 {
			s.set(mix(k), k, old.slot(i))
		}
	}
	unmapSlots(mapped)
	return mem
}

// bytes is the memory the table's arrays hold, on the Go heap or mapped.
func (t *table) bytes() int {
	if t.segs == nil {
		return 0
	}
	n := 0
	for i := range t.segs.s {
		n += len(t.segs.s[i].keys) * slotBytes
	}
	return n
}
