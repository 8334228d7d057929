package connector

import (
	"bytes"
	"fmt"
	"hash/fnv"
	"strconv"

	"github.com/callstream/callstream/connector/state"
	"github.com/twmb/franz-go/pkg/kgo"
)

// The state topic is shared by every source of a deployment. The records of
// the unprefixed source (the one named as --source-name, whose state a
// single-source run wrote) keep the keys of the state package; every other
// source's keys carry its name:
//
//	's' + length of the name (1 byte) + name + the state package's key
//
// so that two sources never share a key and the restore can route each
// record to its source's store.
const prefixSource = 's'

// partitionsCheckpoint is the checkpoint in which a source in a group
// records the partition count of the state topic that placed it: a later
// count that differs is refused rather than silently re-sharded.
const partitionsCheckpoint = "state-partitions"

// stateKeys places one source's records in the state topic.
type stateKeys struct {
	// prefix is put before every key; nil for the unprefixed source.
	prefix []byte
	// partition is the source's state partition in a group; -1 without a
	// group, where the default partitioner places the records.
	partition int32
	// partitions is the state topic's partition count in a group, recorded
	// in the source's state; 0 without a group.
	partitions int
}

func unprefixedKeys() stateKeys { return stateKeys{partition: -1} }

func sourceKeys(name string, unprefixed bool, partition int32, partitions int) stateKeys {
	k := stateKeys{partition: partition, partitions: partitions}
	if !unprefixed {
		k.prefix = append([]byte{prefixSource, byte(len(name))}, name...)
	}
	return k
}

// appendRecords appends the state records of b to recs. In a group it first
// records the partition count in b, once.
func (k stateKeys) appendRecords(recs []*kgo.Record, topic string, b *state.Batch) []*kgo.Record {
	if k.partitions > 0 {
		v := strconv.AppendInt(nil, int64(k.partitions), 10)
		if !bytes.Equal(b.Checkpoint(partitionsCheckpoint), v) {
			b.SetCheckpoint(partitionsCheckpoint, v)
		}
	}
	b.Records(func(key, value []byte) {
		if k.prefix != nil {
			key = append(append(make([]byte, 0, len(k.prefix)+len(key)), k.prefix...), key...)
		}
		r := &kgo.Record{Topic: topic, Key: key, Value: value}
		if k.partition >= 0 {
			r.Partition = k.partition
		}
		recs = append(recs, r)
	})
	return recs
}

// checkPartitions refuses a store whose source recorded another partition
// count than partitions.
func checkPartitions(name string, st *state.Store, partitions int) error {
	v := st.Checkpoint(partitionsCheckpoint)
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

// splitSourceKey splits a state key into the name of its source and the
// state package's key; ok is false for a key of the unprefixed source.
func splitSourceKey(key []byte) (name string, inner []byte, ok bool, err error) {
	if len(key) == 0 || key[0] != prefixSource {
		return "", key, false, nil
	}
	if len(key) < 2 || len(key) < 2+int(key[1]) {
		return "", nil, false, fmt.Errorf("%w: source key of %d bytes", state.ErrBadRecord, len(key))
	}
	n := int(key[1])
	return string(key[2 : 2+n]), key[2+n:], true, nil
}

// StatePartition is the state partition of the source named name among
// partitions: FNV-1a of the name, so that every pod, version and
// configuration order agrees.
func StatePartition(name string, partitions int) int32 {
	h := fnv.New32a()
	h.Write([]byte(name))
	return int32(h.Sum32() % uint32(partitions))
}
