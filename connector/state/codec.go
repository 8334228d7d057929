package state

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// The state topic holds two kinds of records, told apart by the first byte
// of the key:
//
//	'c' + 8-byte big-endian call id  →  an entry (26 bytes), or a tombstone
//	'k' + checkpoint name            →  the checkpoint's value (opaque here)
//
// An entry's value is: version (2), flags, status (int32 BE), created (int64
// BE, Unix seconds), raw hash (uint64 BE), content hash (uint32 BE). Version
// 1, written before content hashes were kept, is the same without the
// content hash (22 bytes); it still loads, its content hash unknown (no
// ContentKnown flag). Keys are binary to keep the topic and the restore
// small; `callstream tail` is for the event topics.
const (
	prefixCall       = 'c'
	prefixCheckpoint = 'k'
	entryVersion     = 2
	entrySize        = 26
	entryV1Size      = 22
	callKeySize      = 9
)

// ErrBadRecord is wrapped by every error Load returns.
var ErrBadRecord = errors.New("bad state record")

// CallKey is the state-topic key of a call.
func CallKey(id int64) []byte { return appendCallKey(make([]byte, 0, callKeySize), id) }

// appendCallKey appends the state-topic key of a call to dst.
func appendCallKey(dst []byte, id int64) []byte {
	return binary.BigEndian.AppendUint64(append(dst, prefixCall), uint64(id))
}

// CheckpointKey is the state-topic key of a checkpoint.
func CheckpointKey(name string) []byte { return append([]byte{prefixCheckpoint}, name...) }

// EncodeEntry is the state-topic value of an entry.
func EncodeEntry(e Entry) []byte { return appendEntry(make([]byte, 0, entrySize), e) }

// appendEntry appends the state-topic value of an entry to dst.
func appendEntry(dst []byte, e Entry) []byte {
	dst = append(dst, entryVersion, e.Flags)
	dst = binary.BigEndian.AppendUint32(dst, uint32(e.Status))
	dst = binary.BigEndian.AppendUint64(dst, uint64(e.Created))
	dst = binary.BigEndian.AppendUint64(dst, e.RawHash)
	return binary.BigEndian.AppendUint32(dst, e.ContentHash)
}

// DecodeEntry parses a state-topic value of a call, of either version. A
// version 1 entry has no content hash: its ContentKnown flag is cleared,
// whatever the value held.
func DecodeEntry(v []byte) (Entry, error) {
	switch {
	case len(v) == entrySize && v[0] == entryVersion:
	case len(v) == entryV1Size && v[0] == 1:
	default:
		return Entry{}, fmt.Errorf("%w: entry of %d bytes, version %d", ErrBadRecord, len(v), firstByte(v))
	}
	e := Entry{
		Flags:   v[1],
		Status:  int32(binary.BigEndian.Uint32(v[2:])),
		Created: int64(binary.BigEndian.Uint64(v[6:])),
		RawHash: binary.BigEndian.Uint64(v[14:]),
	}
	if v[0] == 1 {
		e.Flags &^= ContentKnown
		return e, nil
	}
	e.ContentHash = binary.BigEndian.Uint32(v[22:])
	return e, nil
}

func firstByte(v []byte) int {
	if len(v) == 0 {
		return -1
	}
	return int(v[0])
}

// NoopKey is a key that Load takes for a checkpoint that no one sets, so
// that a tombstone of it changes nothing. The restore's barrier
// (sink.Config.BarrierKey) is such a tombstone: a version of callstream
// that knows no barrier reads it as nothing.
var NoopKey = append([]byte{prefixCheckpoint}, "\x00restore-barrier"...)

// Load applies one record of the state topic, read in offset order, to the
// store: the restore at start. A nil value is a tombstone.
func (s *Store) Load(key, value []byte) error {
	if len(key) == 0 {
		return fmt.Errorf("%w: empty key", ErrBadRecord)
	}
	switch key[0] {
	case prefixCall:
		if len(key) != callKeySize {
			return fmt.Errorf("%w: call key of %d bytes", ErrBadRecord, len(key))
		}
		id := int64(binary.BigEndian.Uint64(key[1:]))
		if value == nil {
			s.remove(id)
			return nil
		}
		e, err := DecodeEntry(value)
		if err != nil {
			return fmt.Errorf("loading call %d: %w", id, err)
		}
		s.put(id, e)
	case prefixCheckpoint:
		name := string(key[1:])
		if value == nil {
			delete(s.checkpoints, name)
			return nil
		}
		s.checkpoints[name] = append([]byte(nil), value...)
	default:
		return fmt.Errorf("%w: unknown key prefix %q", ErrBadRecord, key[0])
	}
	return nil
}
