package connector

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/callstream/callstream/connector/sink"
	"github.com/callstream/callstream/metrics"
	"github.com/callstream/callstream/simulator"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// A restore held by another transactional id's open transaction on the
// state partition (the single-mode id after a move to --group, a second
// deployment on the same topic) says in /readyz how far the last stable
// offset is from the barrier and which producer holds it, counts the
// offsets held in callstream_restore_unstable_offsets, and fails after
// --restore-stall-timeout with that diagnosis.
func TestRestoreStuckBehindAnOpenTransaction(t *testing.T) {
	cluster := newCluster(t)
	brokers := cluster.ListenAddrs()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.TransactionalID("other-deployment"), kgo.TransactionTimeout(5*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	topics := sink.DefaultTopics()
	compact := "compact"
	if _, err := kadm.NewClient(cl).CreateTopic(ctx, 1, 1, map[string]*string{"cleanup.policy": &compact}, topics.State); err != nil {
		t.Fatal(err)
	}
	if err := cl.BeginTransaction(); err != nil {
		t.Fatal(err)
	}
	if err := cl.ProduceSync(ctx, &kgo.Record{Topic: topics.State, Key: []byte("x"), Value: []byte("open")}).FirstErr(); err != nil {
		t.Fatal(err)
	}

	sim := newSimulator(t, simulator.Config{Seed: 5, History: 10, HistorySpan: time.Hour})
	cfg := testConfig(t, sim.URL, brokers)
	cfg.RestoreStallTimeout = 7 * time.Second
	m := metrics.New(prometheus.NewRegistry())
	c, err := New(cfg, Options{Metrics: m})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	deadline := time.Now().Add(20 * time.Second)
	for {
		_, why := c.Health().Ready()
		if strings.Contains(why, `transactional id "other-deployment"`) && strings.Contains(why, "offsets before the barrier") {
			t.Logf("readyz: %s", why)
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("readiness %q after 20s, want it to name the holder", why)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if got := testutil.ToFloat64(m.RestoreUnstable); got <= 0 {
		t.Errorf("callstream_restore_unstable_offsets = %v while the restore waits, want above 0", got)
	}
	err = <-done
	var stalled *sink.RestoreStalledError
	if !errors.As(err, &stalled) || !strings.Contains(err.Error(), "other-deployment") {
		t.Fatalf("Run = %v, want a *sink.RestoreStalledError naming the holder", err)
	}
	if got := testutil.ToFloat64(m.RestoreUnstable); got != 0 {
		t.Errorf("callstream_restore_unstable_offsets = %v after the restore ended, want 0", got)
	}
}
