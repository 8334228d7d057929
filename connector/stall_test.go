package connector

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/callstream/callstream/connector/observe"
	"github.com/callstream/callstream/connector/schedule"
	"github.com/callstream/callstream/metrics"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// testClock is a clock moved by the test.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *testClock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// A task whose checkpoint does not advance for five of its intervals plus
// the grace, while the API answers, is stalled: /readyz says which, the
// gauges say so; one that advances, or an API that does not answer, is not.
func TestStallIsVisible(t *testing.T) {
	clock := &testClock{t: time.Date(2025, 3, 21, 6, 0, 0, 0, time.UTC)}
	tiers, _ := schedule.ParseTiers("recent=1m@0s,deep=3h@1m")
	cfg := SourceConfig{Clock: clock.now, StallGrace: 10 * time.Second, SourceName: "s",
		Schedule: schedule.Config{Tiers: tiers, PollInterval: time.Second}}
	w := observe.NewStallWatch(cfg.Schedule, cfg.StallGrace, cfg.Clock)
	m := metrics.New(prometheus.NewRegistry())
	m.TierStalled.Set("s", w.StalledFlags)
	m.CheckpointAge.Set("s", w.Ages)
	h := newHealth(time.Hour, clock.now, m, prometheus.Labels{metrics.LabelSource: "s", metrics.LabelType: "t"})
	h.stallWhy = w.Why
	h.set(producerReady, true)
	h.set(stateLoaded, true)
	h.polled()
	w.Start()

	// Live, backfill and recent may go 5·1s+10s; deep 5·1m+10s.
	clock.add(14 * time.Second)
	w.APIOK()
	w.Advance("live")
	w.Advance("backfill")
	w.Advance("recent")
	clock.add(2 * time.Second)
	w.APIOK()
	if ok, why := h.Ready(); !ok {
		t.Fatalf("not ready after 16s: %s", why)
	}
	clock.add(14 * time.Second) // live, backfill, recent: 16s without advancing
	if ok, why := h.Ready(); !ok {
		t.Fatalf("stalled while the API did not answer since: %s", why)
	}
	w.APIOK()
	w.Advance("live")
	w.Advance("recent")
	ok, why := h.Ready()
	if ok || !strings.Contains(why, "task backfill has not advanced its checkpoint for 16s") {
		t.Fatalf("Ready() = %v, %q; want the backfill stalled", ok, why)
	}
	if got := m.TierStalled.Values("s"); got["backfill"] != 1 || got["live"] != 0 || got["deep"] != 0 {
		t.Errorf("tier_stalled = %v, want backfill only", got)
	}
	if got := m.CheckpointAge.Values("s"); got["backfill"] != 16 || got["deep"] != 30 || got["live"] != 0 {
		t.Errorf("checkpoint ages %v, want backfill 16, deep 30, live 0", got)
	}
	// A finished backfill is not stalled and has no age.
	w.Backfill(true)
	if ok, why := h.Ready(); !ok {
		t.Fatalf("not ready with the backfill done: %s", why)
	}
	if _, ok := m.CheckpointAge.Values("s")["backfill"]; ok {
		t.Error("a finished backfill exports an age")
	}
	if n := testutil.CollectAndCount(m.TierStalled); n != 3 {
		t.Errorf("%d tier_stalled series, want 3 (live, recent, deep)", n)
	}
}
