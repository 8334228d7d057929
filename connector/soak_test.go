package connector

import (
	"encoding/json"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/callstream/callstream/metrics"
	"github.com/callstream/callstream/simulator"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// SoakFaults is every fault of the simulator at a realistic rate.
const SoakFaults = "http500=0.05,http429=0.05,retry-after=1s,slow=0.02:2s,malformed=0.02,truncated=0.02," +
	"business=0.02,insert-while-paging=0.1:20s,late-status=0.1:90s,broken-json=0.02,skew=90s"

// TestSoakAllFaults runs the connector for CALLSTREAM_SOAK (e.g. 5m)
// against a simulator with every fault on, new calls arriving all along
// and a backfill of three days, then checks that the output equals the
// truth and the dead-letter topic holds exactly the broken records.
//
//	CALLSTREAM_SOAK=5m go test -run TestSoakAllFaults -v -timeout 30m ./connector/
func TestSoakAllFaults(t *testing.T) {
	env := os.Getenv("CALLSTREAM_SOAK")
	if env == "" {
		t.Skip("set CALLSTREAM_SOAK to a duration, e.g. 5m, to run the all-faults soak")
	}
	d, err := time.ParseDuration(env)
	if err != nil || d <= 0 {
		t.Fatalf("CALLSTREAM_SOAK=%q: want a positive duration", env)
	}
	const rate = 20.0
	cluster := newCluster(t)
	sim := faultySimulator(t, simulator.Config{
		Seed: 29, History: 20000, HistorySpan: 72 * time.Hour, Calls: int(rate * d.Seconds()), Rate: rate,
		ConvertAfter: 5 * time.Second, FailRatio: 0.1,
	}, SoakFaults)
	cfg := testConfig(t, sim, cluster.ListenAddrs())
	cfg.RequestTimeout = time.Second // the slow answers time out
	// Pages and tiers as in production, scaled down: every sweep ends well
	// within its interval, so the backfill gets its turns.
	cfg.PageSize, cfg.MaxPages = 100, 20
	cfg.Schedule.Tiers = mustTiers(t, "recent=30s@0s,hour=1h@10s,deep=96h@2m")
	cfg.Schedule.StartFrom = time.Now().Add(-80 * time.Hour)
	cfg.Schedule.BackfillWindow, cfg.Schedule.BackfillMaxWindow = 10*time.Minute, 24*time.Hour
	m := metrics.New(prometheus.NewRegistry())
	start := time.Now()
	startConnector(t, cfg, Options{Metrics: m})
	time.Sleep(d)
	r, out := awaitTruth(t, sim, cluster.ListenAddrs(), 5*time.Minute)

	faults := map[string]int64{}
	resp, err := http.Get(sim + "/_sim/faults")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(&faults); err != nil {
		t.Fatal(err)
	}
	errs := map[string]float64{}
	for _, k := range []string{"transport", "http", "business", "decode", "auth"} {
		errs[k] = sum(m.APIErrors.MustCurryWith(prometheus.Labels{"kind": k}))
	}
	t.Logf("soak %s (%s in all): %s; %d dead letters", d, time.Since(start).Round(time.Second), r, len(out.DeadLetters))
	t.Logf("faults served by the simulator: %v", faults)
	t.Logf("api errors by class: %v; window rereads %v; dlq records %v; clock skew %.1fs",
		errs, testutil.ToFloat64(m.WindowRereads), sum(m.DLQRecords), testutil.ToFloat64(m.ClockSkew))
}
