package state

import (
	"bytes"
	"fmt"
	"hash/fnv"
	"strconv"
)

// The state topic is shared by every source of a deployment. The records of
// the unprefixed source (the one named as --source-name, whose state a
// single-source run wrote) keep the keys above; every other source's keys
// carry its name:
//
//	's' + length of the name (1 byte) + name + the key above
//
// so that two sources never share a key and the restore can route each
// record to its source's store.
const prefixSource = 's'

// PartitionsCheckpoint is the checkpoint in which a source in a group
// records the partition count of the state topic that placed it: a later
// count that differs is refused rather than silently re-sharded.
const PartitionsCheckpoint = "state-partitions"

// SourceKeys places one source's records in the state topic.
type SourceKeys struct {
	// prefix is put before every key; nil for the unprefixed source.
	prefix []byte
	// partition is the source's state partition in a group; -1 without a
	// group, where the default partitioner places the records.
	partition int32
	// partitions is the state topic's partition count in a group, recorded
	// in the source's state; 0 without a group.
	partitions int
}

// UnprefixedKeys are the keys of the unprefixed source without a group.
func UnprefixedKeys() SourceKeys { return SourceKeys{partition: -1} }

// NewSourceKeys are the keys of the source named name: unprefixed or not,
// on partition (-1: no group) of partitions (0: no group).
func NewSourceKeys(name string, unprefixed bool, partition int32, partitions int) SourceKeys {
	k := SourceKeys{partition: partition, partitions: partitions}
	if !unprefixed {
		k.prefix = append([]byte{prefixSource, byte(len(name))}, name...)
	}
	return k
}

// Partition is the source's state partition; -1 without a group.
func (k SourceKeys) Partition() int32 { return k.partition }

// Records calls f with every record of b under the source's keys. In a
// group it first records the partition count in b, once.
func (k SourceKeys) Records(b *Batch, f func(key, value []byte)) {
	if k.partitions > 0 {
		v := strconv.AppendInt(nil, int64(k.partitions), 10)
		if !bytes.Equal(b.Checkpoint(PartitionsCheckpoint), v) {
			b.SetCheckpoint(PartitionsCheckpoint, v)
		}
	}
	b.Records(func(key, value []byte) {
		if k.prefix != nil {
			key = append(append(make([]byte, 0, len(k.prefix)+len(key)), k.prefix...), key...)
		}
		f(key, value)
	})
}

// CheckPartitions refuses a store whose source, named name, recorded
// another partition count than partitions.
func CheckPartitions(name string, st *Store, partitions int) error {
	v := st.Checkpoint(PartitionsCheckpoint)
	if v == nil {
		return nil
	}
	if n, err := strconv.Atoi(string(v)); err != nil || n != partitions {
		return fmt.Errorf("source %q was placed by %s state partitions but --state-partitions is %d: "+
			"a change would separate sources from their state; set it back, or start afresh with a new state topic and transactional id",
			name, v, partitions)
	}
	return nil
}

// SplitSourceKey splits a state key into the name of its source and the
// key above; prefixed is false for a key of the unprefixed source.
func SplitSourceKey(key []byte) (name string, inner []byte, prefixed bool, err error) {
	if len(key) == 0 || key[0] != prefixSource {
		return "", key, false, nil
	}
	if len(key) < 2 || len(key) < 2+int(key[1]) {
		return "", nil, false, fmt.Errorf("%w: source key of %d bytes", ErrBadRecord, len(key))
	}
	n := int(key[1])
	return string(key[2 : 2+n]), key[2+n:], true, nil
}

// SourcePartition is the state partition of the source named name among
// partitions: FNV-1a of the name, so that every pod, version and
// configuration order agrees.
func SourcePartition(name string, partitions int) int32 {
	h := fnv.New32a()
	h.Write([]byte(name))
	return int32(h.Sum32() % uint32(partitions))
}
