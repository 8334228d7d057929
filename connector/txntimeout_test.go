package connector

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/callstream/callstream/connector/sink"
	"github.com/callstream/callstream/metrics"
	"github.com/callstream/callstream/simulator"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// delayCommit holds the nth EndTxn commit for d, as a busy coordinator
// might: past a transaction timeout shorter than d. It returns how many it
// held. A first start commits the restore's barrier (1), then the first
// checkpoints (2), then the windows (3 on).
func delayCommit(c *kfake.Cluster, nth int32, d time.Duration) *atomic.Int32 {
	var commits atomic.Int32
	held := new(atomic.Int32)
	c.ControlKey(int16(kmsg.EndTxn), func(req kmsg.Request) (kmsg.Response, error, bool) {
		if !req.(*kmsg.EndTxnRequest).Commit || commits.Add(1) != nth {
			return nil, nil, false
		}
		held.Add(1)
		c.SleepControl(func() { time.Sleep(d) })
		return nil, nil, false
	})
	return held
}

// A commit held past the transaction timeout is not taken for a fence: the
// unit starts a new producer and restores in the same process, the window
// is read again and committed, and the output holds every change exactly
// once. Before the timeout was a setting and the commit bounded by it, the
// held EndTxn made Commit fail classed "fenced" and Run end.
func TestTransactionTimeoutRestartsTheProducer(t *testing.T) {
	cluster := newCluster(t)
	held := delayCommit(cluster, 3, 4*time.Second)
	sim := newSimulator(t, simulator.Config{
		Seed: 11, History: 120, HistorySpan: 2 * time.Hour, Calls: 20, Rate: 20,
		ConvertAfter: time.Second, FailRatio: 0.2,
	})
	cfg := testConfig(t, sim.URL, cluster.ListenAddrs())
	cfg.TransactionTimeout = 2 * time.Second
	m := metrics.New(prometheus.NewRegistry())
	startConnector(t, cfg, Options{Metrics: m})
	time.Sleep(3 * time.Second)
	r := await(t, sim.URL, cluster.ListenAddrs(), 60*time.Second)
	t.Logf("output matches the truth: %s", r)
	if held.Load() != 1 {
		t.Fatalf("%d commits held, want 1", held.Load())
	}
	if got := testutil.ToFloat64(m.TransactionTimeouts); got != 1 {
		t.Errorf("callstream_transaction_timeouts_total = %v, want 1", got)
	}
	for _, class := range sink.Classes() {
		if got := testutil.ToFloat64(m.FatalErrors.WithLabelValues(class)); got != 0 {
			t.Errorf("callstream_fatal_errors_total{reason=%q} = %v, want 0", class, got)
		}
	}
}
