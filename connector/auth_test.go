package connector

import (
	"context"
	"github.com/callstream/callstream/internal/syncbuf"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/callstream/callstream/metrics"
	"github.com/callstream/callstream/simulator"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// An app key the API refuses: the connector keeps retrying, slowly,
// readiness fails saying why, the auth class is counted, and the log holds
// one line per interval rather than one per attempt, without the key.
func TestAuthFailureFailsReadinessAndLogsOncePerInterval(t *testing.T) {
	cluster := newCluster(t)
	sim := newSimulator(t, simulator.Config{Seed: 1, History: 10, HistorySpan: time.Hour})
	cfg := testConfig(t, sim.URL, cluster.ListenAddrs())
	const wrongKey = "a-wrong-key-that-must-not-leak"
	cfg.AppKey = wrongKey
	cfg.AuthLogEvery = time.Hour
	m := metrics.New(prometheus.NewRegistry())
	var logs syncbuf.Buffer
	c, err := oneSource(cfg, Options{Metrics: m, Logger: slog.New(slog.NewJSONHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	startRunning(t, c)

	deadline := time.Now().Add(30 * time.Second)
	for testutil.ToFloat64(m.APIErrors.WithLabelValues(cfg.SourceName, "auth")) < 4 {
		if time.Now().After(deadline) {
			t.Fatalf("auth failures counted: %v, want 4", testutil.ToFloat64(m.APIErrors.WithLabelValues(cfg.SourceName, "auth")))
		}
		time.Sleep(50 * time.Millisecond)
	}
	ready, why := c.Ready()
	if ready || !strings.Contains(why, "auth") {
		t.Errorf("Ready() = %v, %q; want false naming the auth failure", ready, why)
	}
	text := logs.String()
	if n := strings.Count(text, "api refuses the credentials"); n != 1 {
		t.Errorf("%d log lines about refused credentials after %v attempts, want 1:\n%s",
			n, testutil.ToFloat64(m.APIErrors.WithLabelValues(cfg.SourceName, "auth")), text)
	}
	if strings.Contains(text, wrongKey) || strings.Contains(text, testAppKey.Reveal()) {
		t.Error("the log holds an app key")
	}
}

// startRunning runs c until the test ends.
func startRunning(t *testing.T, c *Connector) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run after cancel = %v, want nil", err)
			}
		case <-time.After(30 * time.Second):
			t.Error("connector did not stop within 30s of cancel")
		}
	})
}
