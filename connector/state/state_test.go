package state

import (
	"bytes"
	"errors"
	"testing"
)

func TestBatchOverlaysAndApplies(t *testing.T) {
	s := New()
	s.put(1, Entry{RawHash: 11, Created: 100, Status: 1, Flags: Emitted})
	s.put(2, Entry{RawHash: 22, Created: 50, Status: 2, Flags: Emitted})

	b := s.NewBatch()
	b.Put(1, Entry{RawHash: 12, Created: 100, Status: 2, Flags: Emitted})
	b.Put(3, Entry{RawHash: 33, Created: 200, Status: 1})
	b.Delete(2)
	b.SetCheckpoint("live", []byte("x"))

	if e, _ := b.Get(1); e.Status != 2 {
		t.Errorf("batch Get(1).Status = %d, want 2", e.Status)
	}
	if _, ok := b.Get(2); ok {
		t.Error("batch Get(2) found a deleted call")
	}
	// Nothing reaches the store before Apply: an aborted batch is dropped.
	if e, _ := s.Get(1); e.Status != 1 {
		t.Errorf("store changed before Apply: status %d", e.Status)
	}
	if _, ok := s.Get(3); ok || s.Checkpoint("live") != nil {
		t.Error("store changed before Apply")
	}

	var keys [][]byte
	b.Records(func(k, v []byte) { keys = append(keys, k) })
	if len(keys) != 4 || !bytes.Equal(keys[0], CallKey(1)) || !bytes.Equal(keys[2], CallKey(2)) {
		t.Errorf("record keys = %q", keys)
	}

	b.Apply()
	if e, _ := s.Get(1); e.Status != 2 || e.RawHash != 12 {
		t.Errorf("after Apply Get(1) = %+v", e)
	}
	if _, ok := s.Get(2); ok {
		t.Error("deleted call still held after Apply")
	}
	if s.Len() != 2 || string(s.Checkpoint("live")) != "x" {
		t.Errorf("Len = %d, checkpoint %q", s.Len(), s.Checkpoint("live"))
	}
}

func TestRestoreReplaysTheTopic(t *testing.T) {
	src := New()
	b := src.NewBatch()
	b.Put(661181201146016, Entry{RawHash: 1<<63 + 5, Created: 1742883983, Status: 0, Flags: Emitted | DeadLettered})
	b.Put(-7, Entry{RawHash: 9, Created: 1, Status: -1, Flags: DeadLettered})
	b.Put(5, Entry{Created: 3})
	b.Put(8, Entry{RawHash: 4, Created: 1742883983, Status: 2, Flags: Emitted | ContentKnown, ContentHash: 0xdeadbeef})
	b.SetCheckpoint("tier/day", []byte(`{"at":1}`))
	var log [][2][]byte
	b.Records(func(k, v []byte) { log = append(log, [2][]byte{k, v}) })
	b2 := src.NewBatch()
	b2.Delete(5)
	b2.Records(func(k, v []byte) { log = append(log, [2][]byte{k, v}) })

	dst := New()
	for _, r := range log {
		if err := dst.Load(r[0], r[1]); err != nil {
			t.Fatal(err)
		}
	}
	for _, id := range []int64{661181201146016, -7, 8} {
		want, _ := b.Get(id)
		if got, ok := dst.Get(id); !ok || got != want {
			t.Errorf("restored %d = %+v, want %+v", id, got, want)
		}
	}
	if _, ok := dst.Get(5); ok {
		t.Error("tombstoned call restored")
	}
	if string(dst.Checkpoint("tier/day")) != `{"at":1}` {
		t.Errorf("checkpoint = %q", dst.Checkpoint("tier/day"))
	}
}

func TestLoadRejectsBadRecords(t *testing.T) {
	for _, tc := range []struct {
		name       string
		key, value []byte
	}{
		{"empty key", nil, []byte{1}},
		{"unknown prefix", []byte("z1"), []byte{1}},
		{"short call key", []byte("c123"), EncodeEntry(Entry{})},
		{"short entry", CallKey(1), []byte{1, 2, 3}},
		{"future version", CallKey(1), append([]byte{9}, make([]byte, entrySize-1)...)},
		{"version 2 of the first version's size", CallKey(1), append([]byte{2}, make([]byte, entryV1Size-1)...)},
		{"version 1 of the second version's size", CallKey(1), append([]byte{1}, make([]byte, entrySize-1)...)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := New().Load(tc.key, tc.value); !errors.Is(err, ErrBadRecord) {
				t.Errorf("Load(%q, %x) = %v, want ErrBadRecord", tc.key, tc.value, err)
			}
		})
	}
}

func TestExpired(t *testing.T) {
	s := New()
	s.put(1, Entry{Created: 10})
	s.put(2, Entry{Created: 20})
	if got := s.Expired(15); len(got) != 1 || got[0] != 1 {
		t.Errorf("Expired(15) = %v, want [1]", got)
	}
}

// TestEntryVersions checks that an entry written by the first version of
// the state topic (22 bytes, no content hash) still loads, with its content
// hash unknown, and that the current version keeps the content hash.
func TestEntryVersions(t *testing.T) {
	e := Entry{RawHash: 1<<63 + 5, Created: 1742883983, Status: 2, Flags: Emitted | ContentKnown, ContentHash: 0x01020304}
	v2 := EncodeEntry(e)
	if len(v2) != 26 || v2[0] != 2 {
		t.Fatalf("EncodeEntry = %x: want 26 bytes of version 2", v2)
	}
	if got, err := DecodeEntry(v2); err != nil || got != e {
		t.Errorf("DecodeEntry(v2) = %+v, %v; want %+v", got, err, e)
	}
	// The first version's bytes, as it wrote them: version 1, flags,
	// status, created, raw hash. A flag byte with the bit that is now
	// ContentKnown set does not make a hash known that was never written.
	v1 := []byte{1, Emitted | ContentKnown, 0, 0, 0, 2, 0, 0, 0, 0, 0x67, 0xe2, 0x4c, 0x8f, 0x80, 0, 0, 0, 0, 0, 0, 5}
	want := Entry{RawHash: 1<<63 + 5, Created: 1742883983, Status: 2, Flags: Emitted}
	got, err := DecodeEntry(v1)
	if err != nil || got != want {
		t.Errorf("DecodeEntry(v1) = %+v, %v; want %+v", got, err, want)
	}
	s := New()
	if err := s.Load(CallKey(9), v1); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Get(9); got.Has(ContentKnown) || got.Status != 2 || !got.Has(Emitted) {
		t.Errorf("loaded v1 entry = %+v: want emitted, status 2, content unknown", got)
	}
}
