package connector

import (
	"context"
	"fmt"
	"net/http/httptest"
	"runtime"
	"runtime/debug"
	"testing"
	"time"

	"github.com/callstream/callstream/connector/sink"
	"github.com/callstream/callstream/connector/state"
	"github.com/callstream/callstream/internal/cputime"
	"github.com/callstream/callstream/internal/netdelay"
	"github.com/callstream/callstream/internal/procstat"
	"github.com/callstream/callstream/metrics"
	"github.com/callstream/callstream/simulator"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
)

// BenchmarkRestore reads a state topic of a million (and ten million)
// calls, as a restart does, from a kfake broker in a child process:
// "restore-s" is the wall time to ready, "bytes/entry" the memory the
// restored store's table holds (mostly mapped outside the Go heap) and
// "peak-rss-MiB" the process's peak RSS during the restore, which starts
// from about 25 MiB.
//
//	go test -run '^$' -bench Restore -benchtime 3x ./connector/
func BenchmarkRestore(b *testing.B) {
	for _, calls := range []int{1_000_000, 10_000_000} {
		b.Run(fmt.Sprint(calls), func(b *testing.B) { benchRestore(b, calls) })
	}
}

// BenchmarkRestoreOverLatency is BenchmarkRestore of a million calls over
// a network of 20 ms round trips (internal/netdelay delays every
// connection of the restoring client, 10 ms each way), as between a pod and
// brokers in another zone: what the restore costs in round trips.
//
//	go test -run '^$' -bench RestoreOverLatency -benchtime 3x ./connector/
func BenchmarkRestoreOverLatency(b *testing.B) {
	for _, rtt := range []time.Duration{20 * time.Millisecond} {
		b.Run(fmt.Sprintf("rtt=%s/1000000", rtt), func(b *testing.B) { benchRestoreOver(b, 1_000_000, rtt) })
	}
}

func benchRestore(b *testing.B, calls int) { benchRestoreOver(b, calls, 0) }

// benchRestoreOver fills the state topic with calls, then restores it over
// connections that add rtt to every round trip.
func benchRestoreOver(b *testing.B, calls int, rtt time.Duration) {
	brokers := childBroker(b)
	ctx := context.Background()
	cfg := sink.Config{
		TransactionalID: "bench-restore", Topics: benchConfig(b, "http://127.0.0.1:1", brokers).Topics,
		CreateTopics: true, Partitions: 3, ClientOpts: []kgo.Opt{kgo.SeedBrokers(brokers...)},
	}
	sk, err := sink.New(ctx, cfg)
	if err != nil {
		b.Fatal(err)
	}
	defer func() { sk.Close() }()
	fillState(b, sk, calls)
	if rtt > 0 {
		sk.Close()
		cfg.ClientOpts = append(cfg.ClientOpts, kgo.Dialer(netdelay.Dialer(rtt/2)))
		if sk, err = sink.New(ctx, cfg); err != nil {
			b.Fatal(err)
		}
	}

	var store *state.Store
	var restore time.Duration
	var peak int64
	m := cputime.Start()
	for b.Loop() {
		store = nil
		freeMemory()
		if err := procstat.ResetPeak(0); err != nil {
			b.Logf("peak-rss-MiB is the process's since its start: %v", err)
		}
		store = state.New()
		start := time.Now()
		n, err := sk.ReadState(ctx, func(k, v []byte, _ time.Time) error { return store.Load(k, v) })
		if err != nil || n != calls+1 || store.Len() != calls {
			b.Fatalf("restore: %d records, %d calls, %v", n, store.Len(), err)
		}
		restore = time.Since(start)
		peak, _ = procstat.Bytes(0, procstat.PeakRSS)
	}
	m.Report(b, calls*b.N)
	b.ReportMetric(restore.Seconds(), "restore-s")
	b.ReportMetric(float64(store.Bytes())/float64(calls), "bytes/entry")
	b.ReportMetric(float64(peak)/(1<<20), "peak-rss-MiB")
	runtime.KeepAlive(store)
}

// fillState commits calls state entries and a checkpoint, in
// transactions of 100,000 records.
func fillState(b *testing.B, sk *sink.Sink, calls int) {
	b.Helper()
	const perTxn = 100_000
	topic := benchConfig(b, "http://127.0.0.1:1", nil).Topics.State
	for first := 0; first < calls; first += perTxn {
		st := state.New().NewBatch()
		for i := first; i < min(first+perTxn, calls); i++ {
			st.Put(661181201146016+int64(7*i), state.Entry{RawHash: uint64(i) * 0x9E3779B97F4A7C15, Created: 1742883983 + int64(i), Status: 2, Flags: state.Emitted})
		}
		if first == 0 {
			st.SetCheckpoint("backfill", []byte(`{"cursor":1}`))
		}
		recs := make([]*kgo.Record, 0, perTxn+1)
		st.Records(func(k, v []byte) { recs = append(recs, &kgo.Record{Topic: topic, Key: k, Value: v}) })
		if err := sk.Commit(context.Background(), recs); err != nil {
			b.Fatalf("filling the state topic: %v", err)
		}
	}
}

// freeMemory collects garbage and returns the freed memory to the system,
// so that the RSS measured next starts from the live heap.
func freeMemory() {
	runtime.GC()
	debug.FreeOSMemory()
}

// BenchmarkPipeline runs the whole connector in process against an
// in-process simulator holding N backdated calls and an in-process kfake
// broker, until the backfill is done. The CPU per call is the process's:
// connector, simulator and broker together; `callstream bench` runs them
// as separate processes and measures the connector alone.
//
//	go test -run '^$' -bench Pipeline -benchtime 1x ./connector/
func BenchmarkPipeline(b *testing.B) {
	for _, n := range []int{100_000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			m := cputime.Start()
			for b.Loop() {
				runPipeline(b, n)
			}
			m.Report(b, n*b.N)
		})
	}
}

func runPipeline(b *testing.B, calls int) {
	b.Helper()
	cluster, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.DefaultNumPartitions(3))
	if err != nil {
		b.Fatal(err)
	}
	defer cluster.Close()
	s, err := simulator.New(simulator.Config{AppID: testAppID, AppKey: testAppKey, Types: []string{testType}, Seed: 9, History: calls,
		HistorySpan: 24 * time.Hour, ConvertAfter: time.Minute, FailRatio: 0.1})
	if err != nil {
		b.Fatal(err)
	}
	sim := httptest.NewServer(s.Handler())
	defer sim.Close()
	cfg := benchConfig(b, sim.URL, cluster.ListenAddrs())
	mt := metrics.New(prometheus.NewRegistry())
	c, err := New(cfg, Options{Metrics: mt})
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	bf := mt.BackfillRatio.WithLabelValues(cfg.SourceName, cfg.Type)
	for testutil.ToFloat64(bf) < 1 || testutil.ToFloat64(mt.RecordsRead) < float64(calls) {
		select {
		case err := <-done:
			b.Fatalf("connector stopped: %v", err)
		case <-time.After(20 * time.Millisecond):
		}
	}
	cancel()
	if err := <-done; err != nil {
		b.Fatal(err)
	}
}
