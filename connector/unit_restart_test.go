package connector

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/callstream/callstream/connector/sink"
	"github.com/callstream/callstream/connector/state"
	"github.com/callstream/callstream/metrics"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// A unit whose commit fails with an error a new producer mends (the
// coordinator answered UNKNOWN_SERVER_ERROR: the outcome is unconfirmed,
// class kafka) starts again with backoff, in the same pod: the pod stays a
// member, its other units go on, and the output holds the truth exactly
// once. Before, any non-fence error of one unit ended the whole pod.
func TestGroupUnitRestartsAfterAFailedCommit(t *testing.T) {
	cluster := newCluster(t)
	brokers := cluster.ListenAddrs()
	apps := map[string]string{"app-a": newApp(t, "app-a", 13)}
	srcs, truth := setSources(t, brokers, apps)
	const partitions = 2
	p := state.SourcePartition(srcs[0].SourceName, partitions)
	txnID := fmt.Sprintf("%s-p%d", srcs[0].TransactionalID, p)
	h := cluster.Fault(kfake.Fault{
		Keys: []kmsg.Key{kmsg.EndTxn}, TopLevel: true, Err: kerr.UnknownServerError,
		When: func(r kmsg.Request) bool {
			req, ok := r.(*kmsg.EndTxnRequest)
			return ok && req.TransactionalID == txnID && req.Commit
		},
	})
	defer h.Remove()
	gm := metrics.NewGroup(prometheus.NewRegistry())
	s, _ := runSet(t, Config{Sources: srcs, Group: "g", StatePartitions: partitions, SessionTimeout: 6 * time.Second}, gm)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := h.Wait(ctx, 1); err != nil {
		t.Fatalf("the unit of partition %d never committed: %v", p, err)
	}
	awaitSources(t, brokers, truth, 90*time.Second)
	awaitReady(t, s, 30*time.Second)
	if got := testutil.ToFloat64(gm.UnitRestarts); got != 1 {
		t.Errorf("unit restarts = %v, want 1", got)
	}
}

// Unless told otherwise, a rebalance waits long enough for a unit that is
// committing to end its transaction: the produce and end bounds of a
// commit fit inside the rebalance timeout.
func TestRebalanceTimeoutCoversTheCommit(t *testing.T) {
	cluster := newCluster(t)
	srcs, _ := setSources(t, cluster.ListenAddrs(), map[string]string{"app-a": newApp(t, "app-a", 9)})
	for _, txn := range []time.Duration{0, 2 * time.Minute} {
		for i := range srcs {
			srcs[i].TransactionTimeout = txn
		}
		s, err := New(Config{Sources: srcs, Group: "g", SessionTimeout: 45 * time.Second}, Options{}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if txn == 0 {
			txn = sink.DefaultTransactionTimeout
		}
		produce, end := sink.Bounds(txn)
		if got := s.cfg.RebalanceTimeout; got < produce+end {
			t.Errorf("transaction timeout %s: rebalance timeout %s, want at least the commit's bounds %s", txn, got, produce+end)
		}
	}
}
