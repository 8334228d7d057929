package connector

import (
	"bytes"
	"strings"
	"testing"

	"github.com/callstream/callstream/connector/state"
)

// A source's state records carry its name and partition; the restore
// splits the name off and loads the state package's key; the legacy
// source's keys are the state package's own.
func TestStateKeysRoundTrip(t *testing.T) {
	st := state.New()

	for _, tc := range []struct {
		name          string
		keys          state.SourceKeys
		wantPrefix    string
		wantPartition int32
		wantStamp     bool
	}{
		{"legacy", state.UnprefixedKeys(), "", 0, false},
		{"named, no group", state.NewSourceKeys("acme", false, -1, 0), "s\x04acme", 0, false},
		{"named, in a group", state.NewSourceKeys("acme", false, 5, 12), "s\x04acme", 5, true},
		{"legacy name, in a group", state.NewSourceKeys("scrm", true, 3, 12), "", 3, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bb := st.NewBatch()
			bb.Put(42, state.Entry{RawHash: 7, Created: 1700000000, Status: 2, Flags: state.Emitted})
			bb.SetCheckpoint("live", []byte("v"))
			recs := appendStateRecords(nil, "state", tc.keys, bb)
			stamped := false
			loaded := state.New()
			for _, r := range recs {
				if !strings.HasPrefix(string(r.Key), tc.wantPrefix) || r.Partition != tc.wantPartition || r.Topic != "state" {
					t.Errorf("record key %q partition %d, want prefix %q partition %d", r.Key, r.Partition, tc.wantPrefix, tc.wantPartition)
				}
				name, inner, prefixed, err := state.SplitSourceKey(r.Key)
				if err != nil || prefixed != (tc.wantPrefix != "") || (prefixed && name != "acme") {
					t.Errorf("state.SplitSourceKey(%q) = %q, %v, %v", r.Key, name, prefixed, err)
				}
				if bytes.Equal(inner, state.CheckpointKey(state.PartitionsCheckpoint)) {
					stamped = true
				}
				if err := loaded.Load(inner, r.Value); err != nil {
					t.Fatal(err)
				}
			}
			if stamped != tc.wantStamp {
				t.Errorf("partition count recorded %v, want %v", stamped, tc.wantStamp)
			}
			if e, ok := loaded.Get(42); !ok || e.Status != 2 || string(loaded.Checkpoint("live")) != "v" {
				t.Errorf("restored entry %+v (%v), checkpoint %q", e, ok, loaded.Checkpoint("live"))
			}
			if tc.wantStamp {
				if err := state.CheckPartitions("acme", loaded, 12); err != nil {
					t.Errorf("checkPartitions with the recorded count: %v", err)
				}
				err := state.CheckPartitions("acme", loaded, 6)
				if err == nil || !strings.Contains(err.Error(), "placed by 12 state partitions but --state-partitions is 6") {
					t.Errorf("checkPartitions with another count = %v", err)
				}
			}
		})
	}
	if _, _, _, err := state.SplitSourceKey([]byte{'s', 9, 'a'}); err == nil {
		t.Error("a source key shorter than its name length was accepted")
	}
}
