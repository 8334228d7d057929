// Package state is the dedup store: for every call still inside the deepest
// re-scan horizon, what the connector last committed about it, compact in
// memory and durable as records of a compacted Kafka topic.
//
// The in-memory Store changes only through Apply, which the connector calls
// once the transaction that carried the same changes has committed. A Batch
// overlays pending changes on the Store while a transaction is built; after
// an abort the Batch is dropped and the Store is as it was.
package state

// Flags of an Entry.
const (
	// Emitted: an event for this call was committed, with Entry.Status.
	Emitted uint8 = 1 << iota
	// DeadLettered: the record with RawHash went to the dead-letter topic.
	DeadLettered
	// ContentKnown: ContentHash holds the hash of the call as last seen.
	// Entries of the first version of the state topic have none.
	ContentKnown
)

// Entry is what the store keeps of one call.
type Entry struct {
	// RawHash is a 64-bit hash of the record's raw JSON as last seen: a
	// re-scan that returns the same bytes needs no parsing at all.
	RawHash uint64
	// Created is the call's gmtCreateTime in Unix seconds; it decides when
	// the entry leaves the horizon.
	Created int64
	// Status is the status of the last event committed for the call, or the
	// status last seen when nothing was emitted yet.
	Status int32
	// ContentHash is a 32-bit hash of the call as last decoded (see
	// event.Call.Hash), valid when Flags has ContentKnown: a record whose
	// bytes changed but whose decoded call did not (key order, whitespace)
	// is no correction.
	ContentHash uint32
	// Flags holds Emitted, DeadLettered and ContentKnown.
	Flags uint8
}

// Has reports whether all of f are set.
func (e Entry) Has(f uint8) bool { return e.Flags&f == f }

// slot is an Entry packed to 20 bytes of the table's arrays. Created fits
// an uint32 of seconds until 2106; statuses are small integers.
type slot struct {
	hash    uint64
	created uint32
	status  int16
	flags   uint8
	content uint32
}

func pack(e Entry) slot {
	return slot{hash: e.RawHash, created: uint32(e.Created), status: int16(e.Status), flags: e.Flags, content: e.ContentHash}
}

func (s slot) unpack() Entry {
	return Entry{RawHash: s.hash, Created: int64(s.created), Status: int32(s.status), Flags: s.flags, ContentHash: s.content}
}

// Store is the in-memory dedup state and the polling checkpoints. It is not
// safe for concurrent use: the connector's loop owns it.
type Store struct {
	calls       table
	checkpoints map[string][]byte
}

// New returns an empty store.
func New() *Store {
	return &Store{checkpoints: make(map[string][]byte)}
}

// Get returns the entry of a call.
func (s *Store) Get(id int64) (Entry, bool) {
	v, ok := s.calls.get(id)
	return v.unpack(), ok
}

// Len returns the number of calls held.
func (s *Store) Len() int { return s.calls.n }

// Bytes returns the memory the calls' table holds, whether on the Go heap
// or mapped outside it.
func (s *Store) Bytes() int { return s.calls.bytes() }

// Checkpoint returns the value of a named checkpoint, nil if none.
func (s *Store) Checkpoint(name string) []byte { return s.checkpoints[name] }

// put and remove are the only writers, used by Apply and Load.
func (s *Store) put(id int64, e Entry) { s.calls.put(id, pack(e)) }
func (s *Store) remove(id int64)       { s.calls.remove(id) }

// Expired returns the ids of the calls created before cutoff (Unix seconds).
func (s *Store) Expired(cutoff int64) []int64 {
	var ids []int64
	s.calls.each(func(id int64, v slot) {
		if int64(v.created) < cutoff {
			ids = append(ids, id)
		}
	})
	return ids
}
