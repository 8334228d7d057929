package connector

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/callstream/callstream/connector/event"
	"github.com/callstream/callstream/connector/sink"
	"github.com/callstream/callstream/connector/source"
	"github.com/callstream/callstream/metrics"
	"github.com/callstream/callstream/simulator"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// Readiness follows the producer, the state and the age of the last
// successful poll, and says why it is false.
func TestHealthReadiness(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	h := newHealth(time.Minute, func() time.Time { return now }, metrics.New(prometheus.NewRegistry()),
		prometheus.Labels{metrics.LabelSource: "s", metrics.LabelType: "call"})
	steps := []struct {
		name      string
		do        func()
		wantReady bool
		wantWhy   string
	}{
		{"at start", func() {}, false, "producer not initialised"},
		{"producer ready", func() { h.set(producerReady, true) }, false, "state not loaded"},
		{"state loaded, API unreachable", func() { h.set(stateLoaded, true); h.apiError(source.KindTransport) }, false,
			"no window read whole since the start (last API error: transport)"},
		{"still unreachable past the age", func() { now = now.Add(10 * time.Minute) }, false, "no window read whole since the start"},
		{"first window read", func() { h.polled() }, true, "ok"},
		{"API failing within the age", func() { now = now.Add(50 * time.Second); h.apiError(source.KindHTTP) }, true, "ok"},
		{"API failing past the age", func() { now = now.Add(20 * time.Second) }, false, "no successful poll for 1m10s (last API error: http)"},
		{"API recovered", func() { h.polled() }, true, "ok"},
		{"idle past the age", func() { now = now.Add(2 * time.Minute) }, false, "no successful poll for 2m0s"},
	}
	for _, s := range steps {
		s.do()
		ready, why := h.Ready()
		if ready != s.wantReady || !strings.Contains(why, s.wantWhy) {
			t.Errorf("%s: Ready() = %v, %q; want %v, %q", s.name, ready, why, s.wantReady, s.wantWhy)
		}
	}
}

// A connector exports zero-valued series for every bounded label value
// before anything happened, so that rates and alerts see them.
func TestMetricsExistBeforeEvents(t *testing.T) {
	reg := prometheus.NewRegistry()
	cfg := testConfig(t, "http://127.0.0.1:1", []string{"127.0.0.1:1"})
	if _, err := New(cfg, Options{Metrics: metrics.New(reg)}); err != nil {
		t.Fatal(err)
	}
	tiers := len(cfg.Schedule.TaskNames())
	for name, want := range map[string]int{
		"callstream_api_errors_total":               len(source.Kinds()),
		"callstream_api_requests_total":             (len(source.Kinds()) + 1) * (tiers + 1), // the tasks' and the probe's
		"callstream_records_read_total":             tiers,
		"callstream_last_record_timestamp_seconds":  1,
		"callstream_no_records_alert_seconds":       1,
		"callstream_events_total":                   2 * len(event.Kinds()), // calls and failed
		"callstream_transactions_total":             2,
		"callstream_fatal_errors_total":             len(sink.Classes()),
		"callstream_ready":                          1,
		"callstream_dlq_records_total":              len(Reasons()),
		"callstream_source_lag_seconds":             0, // until the checkpoints are read
		"callstream_last_success_timestamp_seconds": 1,
	} {
		if got := testutil.CollectAndCount(reg, name); got != want {
			t.Errorf("%s has %d series, want %d", name, got, want)
		}
	}
}

// A second instance with the same transactional id fences the first, which
// stops with a fatal error counted as fenced, and is no longer ready.
func TestFencedCounted(t *testing.T) {
	cluster := newCluster(t)
	sim := newSimulator(t, simulator.Config{Seed: 9, History: 50, HistorySpan: time.Hour, Rate: 5, ConvertAfter: time.Second})
	cfg := testConfig(t, sim.URL, cluster.ListenAddrs())
	m := metrics.New(prometheus.NewRegistry())
	first, err := New(cfg, Options{Metrics: m})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- first.Run(ctx) }()
	deadline := time.Now().Add(30 * time.Second)
	for testutil.ToFloat64(m.Transactions.WithLabelValues("commit")) < 2 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}

	stopSecond := runConnector(t, cfg, nil)
	defer stopSecond()
	select {
	case err := <-done:
		if !sink.IsFatal(err) || !sink.IsFenced(err) {
			t.Fatalf("fenced instance's Run = %v, want a fatal fenced error", err)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("the first instance kept running after being fenced")
	}
	if got := testutil.ToFloat64(m.FatalErrors.WithLabelValues(fatalFenced)); got != 1 {
		t.Errorf("fatal errors (fenced) = %v, want 1", got)
	}
	if ok, why := first.Health().Ready(); ok || !strings.Contains(why, "fenced") {
		t.Errorf("fenced instance's readiness = %v, %q; want not ready, fenced", ok, why)
	}
}
