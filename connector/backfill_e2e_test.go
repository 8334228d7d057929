package connector

import (
	"github.com/callstream/callstream/internal/syncbuf"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/callstream/callstream/connector/schedule"
	"github.com/callstream/callstream/metrics"
	"github.com/callstream/callstream/simulator"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// A backfill of days of backdated calls reaches the truth while live calls
// keep flowing: the live calls that arrive during the backfill commit
// within a small part of its duration. A request rate limit, as a vendor
// would impose, makes the backfill last whatever the machine's speed.
func TestBackfillOfDaysAlongsideLiveCalls(t *testing.T) {
	cluster := newCluster(t)
	sim := newSimulator(t, simulator.Config{
		Seed: 23, History: 6000, HistorySpan: 4 * 24 * time.Hour, Calls: 300, Rate: 20,
		ConvertAfter: time.Second, FailRatio: 0.1,
	})
	simStart := time.Now()
	cfg := testConfig(t, sim.URL, cluster.ListenAddrs())
	cfg.Schedule.StartFrom = time.Now().Add(-5 * 24 * time.Hour)
	cfg.Schedule.Tiers = mustTiers(t, "recent=10s@1s,deep=120h@1m")
	cfg.RateLimit, cfg.RateBurst = 30, 5
	cfg.Schedule.BackfillWindow, cfg.Schedule.BackfillMaxWindow = 10*time.Minute, 24*time.Hour
	m := metrics.New(prometheus.NewRegistry())
	var logs syncbuf.Buffer
	seen := &committedAt{created: map[int64]time.Time{}, calls: map[int64]time.Time{}}
	start := time.Now()
	startConnector(t, cfg, Options{Metrics: m, OnCommit: seen.onCommit,
		Logger: slog.New(slog.NewJSONHandler(&logs, nil))})

	// The backfill is done when its progress reaches 1.
	for testutil.ToFloat64(m.BackfillRatio.WithLabelValues(cfg.SourceName, cfg.Type)) < 1 {
		if time.Since(start) > 3*time.Minute {
			t.Fatal("backfill not done within 3 minutes")
		}
		time.Sleep(50 * time.Millisecond)
	}
	backfill := time.Since(start)
	r, _ := awaitTruth(t, sim.URL, cluster.ListenAddrs(), 90*time.Second)

	seen.mu.Lock()
	var delays []time.Duration
	for id, created := range seen.calls {
		if created.After(simStart) && seen.created[id].Before(start.Add(backfill)) {
			delays = append(delays, seen.created[id].Sub(created))
		}
	}
	seen.mu.Unlock()
	if len(delays) < 10 {
		t.Fatalf("only %d live calls committed during a backfill of %s; the test needs a longer one", len(delays), backfill)
	}
	slices.Sort(delays)
	worst := delays[len(delays)-1]
	if worst > backfill/3 {
		t.Errorf("live calls during the backfill waited up to %s, more than a third of the backfill's %s", worst, backfill)
	}
	if !strings.Contains(logs.String(), `"msg":"backfill done"`) {
		t.Error("no backfill done log line")
	}
	t.Logf("backfill of %d calls over 4 days took %s; %d live calls committed meanwhile, delay median %s, max %s; %s",
		6000, backfill, len(delays), delays[len(delays)/2], worst, r)
}

func mustTiers(t *testing.T, spec string) []schedule.Tier {
	t.Helper()
	tiers, err := schedule.ParseTiers(spec)
	if err != nil {
		t.Fatal(err)
	}
	return tiers
}
