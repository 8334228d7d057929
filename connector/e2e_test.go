package connector

import (
	"context"
	"github.com/callstream/callstream/connector/calllist"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/callstream/callstream/check"
	"github.com/callstream/callstream/connector/schedule"
	"github.com/callstream/callstream/connector/sink"
	"github.com/callstream/callstream/connector/source"
	"github.com/callstream/callstream/metrics"
	"github.com/callstream/callstream/secret"
	"github.com/callstream/callstream/simulator"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
)

const (
	testAppID  = "app-e2e"
	testAppKey = secret.String("k3y-that-must-not-leak")
)

func newCluster(t *testing.T, opts ...kfake.Opt) *kfake.Cluster {
	t.Helper()
	c, err := kfake.NewCluster(append([]kfake.Opt{kfake.NumBrokers(1), kfake.DefaultNumPartitions(3)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

// testType is the request type the tests' connectors ask and their
// simulators list.
const testType = "call"

func newSimulator(t *testing.T, cfg simulator.Config) *httptest.Server {
	t.Helper()
	cfg.AppID, cfg.AppKey, cfg.Types = testAppID, testAppKey, []string{testType}
	sim, err := simulator.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(sim.Handler())
	t.Cleanup(srv.Close)
	return srv
}

// testConfig is a connector configuration with short intervals, so that a
// test sees backfill, live edge and re-scans within seconds.
func testConfig(t *testing.T, apiURL string, brokers []string) Config {
	t.Helper()
	tiers, err := schedule.ParseTiers("recent=1m@0s,deep=3h@2s")
	if err != nil {
		t.Fatal(err)
	}
	return Config{
		APIURL: apiURL, AppID: testAppID, AppKey: testAppKey, Type: testType,
		PageSize: 20, MaxPages: 5, PageConcurrency: source.DefaultPageConcurrency, RequestTimeout: 5 * time.Second,
		Retry:   source.Retry{Initial: 20 * time.Millisecond, Max: 200 * time.Millisecond},
		Brokers: brokers, TransactionalID: "e2e", CreateTopics: true,
		Topics: sink.DefaultTopics(),
		Schedule: schedule.Config{
			Tiers: tiers, Settle: time.Second, PollInterval: 200 * time.Millisecond,
			StartFrom: time.Now().Add(-3 * time.Hour), BackfillWindow: 20 * time.Minute, SweepWindow: time.Hour,
		},
		SourceName: "e2e", ReadyMaxAge: time.Minute, Version: "test",
	}
}

// await polls the output until it matches the simulator's truth, and
// fails the test with the last report if it does not within timeout.
func await(t *testing.T, simURL string, brokers []string, timeout time.Duration) check.Report {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	r, _, err := check.Await(ctx, check.Target{SimURL: simURL, Kafka: []kgo.Opt{kgo.SeedBrokers(brokers...)}},
		check.Want{}, 300*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func runConnector(t *testing.T, cfg Config, m *metrics.Metrics) (stop func() error) {
	t.Helper()
	c, err := New(cfg, Options{Metrics: m})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	return func() error {
		cancel()
		select {
		case err := <-done:
			return err
		case <-time.After(30 * time.Second):
			t.Fatal("connector did not stop within 30s of cancel")
			return nil
		}
	}
}

func TestEndToEndMatchesTruth(t *testing.T) {
	cluster := newCluster(t)
	sim := newSimulator(t, simulator.Config{
		Seed: 7, History: 300, HistorySpan: 2 * time.Hour, Calls: 40, Rate: 20,
		ConvertAfter: 2 * time.Second, FailRatio: 0.2,
	})
	reg := prometheus.NewRegistry()
	m := metrics.New(reg)
	stop := runConnector(t, testConfig(t, sim.URL, cluster.ListenAddrs()), m)
	// All 40 live calls arrive within 2s and settle 2s later.
	time.Sleep(4 * time.Second)
	r := await(t, sim.URL, cluster.ListenAddrs(), 60*time.Second)
	if err := stop(); err != nil {
		t.Fatalf("Run after cancel = %v, want nil", err)
	}
	t.Logf("output matches the truth: %s", r)
	if r.Calls != 340 {
		t.Errorf("truth holds %d calls, want 340", r.Calls)
	}
	if got := testutil.ToFloat64(m.Transactions.WithLabelValues("commit")); got == 0 {
		t.Error("no commit counted")
	}
	if got := testutil.ToFloat64(m.StateEntries); got != 340 {
		t.Errorf("state entries = %v, want 340", got)
	}
	if got := testutil.ToFloat64(m.StateBytes); got < 340*24 {
		t.Errorf("state bytes = %v, want at least 24 for each of 340 entries", got)
	}
}

func TestRestartResumesWithoutDuplicates(t *testing.T) {
	cluster := newCluster(t)
	sim := newSimulator(t, simulator.Config{
		Seed: 11, History: 200, HistorySpan: 2 * time.Hour, Calls: 60, Rate: 10,
		ConvertAfter: 3 * time.Second, FailRatio: 0.3,
	})
	cfg := testConfig(t, sim.URL, cluster.ListenAddrs())
	for i := 0; i < 4; i++ {
		stop := runConnector(t, cfg, nil)
		time.Sleep(time.Duration(300+400*i) * time.Millisecond)
		if err := stop(); err != nil {
			t.Fatalf("run %d: %v", i, err)
		}
	}
	stop := runConnector(t, cfg, nil)
	defer stop()
	time.Sleep(6 * time.Second)
	await(t, sim.URL, cluster.ListenAddrs(), 60*time.Second)
}

// Calls older than the deepest horizon leave the state, as tombstones that a
// restart honours, while the output keeps every change.
func TestStateIsBoundedByTheDeepestHorizon(t *testing.T) {
	cluster := newCluster(t)
	sim := newSimulator(t, simulator.Config{
		Seed: 5, History: 120, HistorySpan: 20 * time.Minute, ConvertAfter: time.Second,
	})
	cfg := testConfig(t, sim.URL, cluster.ListenAddrs())
	cfg.Schedule.Tiers, _ = schedule.ParseTiers("recent=30s@0s,deep=5m@1s")
	cfg.Schedule.StartFrom = time.Now().Add(-30 * time.Minute)
	cfg.PruneEvery = 500 * time.Millisecond

	m := metrics.New(prometheus.NewRegistry())
	stop := runConnector(t, cfg, m)
	await(t, sim.URL, cluster.ListenAddrs(), 60*time.Second)
	// Wait for a prune to follow the backfill.
	deadline := time.Now().Add(20 * time.Second)
	for testutil.ToFloat64(m.StateTombstones) == 0 && time.Now().Before(deadline) {
		time.Sleep(200 * time.Millisecond)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	truth, err := check.FetchTruth(context.Background(), sim.URL)
	if err != nil {
		t.Fatal(err)
	}
	horizon := time.Now().Add(-5*time.Minute - 2*cfg.Schedule.PollInterval)
	var inside int
	for _, r := range truth {
		if created, err := calllist.ParseTime(r.GmtCreateTime); err == nil && created.After(horizon) {
			inside++
		}
	}
	entries := int(testutil.ToFloat64(m.StateEntries))
	if entries >= len(truth) || entries < inside {
		t.Errorf("state holds %d entries; want fewer than the %d calls and at least the %d inside the horizon",
			entries, len(truth), inside)
	}

	// A restart reads the tombstones: the state stays bounded.
	m2 := metrics.New(prometheus.NewRegistry())
	stop = runConnector(t, cfg, m2)
	time.Sleep(time.Second)
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if got := int(testutil.ToFloat64(m2.StateEntries)); got > entries {
		t.Errorf("after restart the state holds %d entries, more than the %d before", got, entries)
	}
	await(t, sim.URL, cluster.ListenAddrs(), 30*time.Second)
}
