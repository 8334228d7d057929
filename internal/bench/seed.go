package bench

import (
	"context"
	"fmt"
	"time"

	"github.com/callstream/callstream/connector/sink"
	"github.com/callstream/callstream/connector/state"
	"github.com/twmb/franz-go/pkg/kgo"
)

// seedFirstID is the first id of the calls seedState puts in the state
// topic: far above the simulator's ids, so that none is a call the
// simulator holds.
const seedFirstID = 1 << 62

// seedState commits n state entries to the connector's state topic, as a
// connector that had already seen n calls would have left it: settled
// calls, created within the last hour (inside every re-scan horizon, so
// none is pruned while bench runs), in transactions of 100,000 records.
// The topics are created as `callstream run` creates them by default, and
// each record is what the state package writes for a call of the single
// source (state.CallKey, state.EncodeEntry).
func seedState(ctx context.Context, broker string, n int, now time.Time) error {
	topics := sink.DefaultTopics()
	sk, err := sink.New(ctx, sink.Config{
		TransactionalID: "callstream-bench-seed",
		Topics:          topics,
		CreateTopics:    true, Partitions: 3, ReplicationFactor: -1,
		ClientOpts: []kgo.Opt{kgo.SeedBrokers(broker)},
	})
	if err != nil {
		return fmt.Errorf("seeding the state topic: %w", err)
	}
	defer sk.Close()
	const perTxn = 100_000
	recs := make([]*kgo.Record, 0, perTxn)
	for first := 0; first < n; first += perTxn {
		recs = recs[:0]
		for i := first; i < min(first+perTxn, n); i++ {
			e := state.Entry{
				RawHash: uint64(i+1) * 0x9E3779B97F4A7C15, Created: now.Unix() - int64(i%3600),
				Status: 2, Flags: state.Emitted,
			}
			recs = append(recs, &kgo.Record{Topic: topics.State, Key: state.CallKey(seedFirstID + int64(i)), Value: state.EncodeEntry(e)})
		}
		if err := sk.Commit(ctx, recs); err != nil {
			return fmt.Errorf("seeding the state topic: %w", err)
		}
	}
	return nil
}
