package connector

import (
	"testing"
	"time"

	"github.com/callstream/callstream/connector/observe"
	"github.com/callstream/callstream/connector/source"
	"github.com/callstream/callstream/metrics"
	"github.com/callstream/callstream/simulator"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// For each fault of the listing, and for all of them at once, every call
// of the truth appears with its final status exactly once, the backfill
// completes, and the metrics count what the connector did about it.
func TestListingFaultsOutputMatchesTruth(t *testing.T) {
	const all = "count-plus-one=0.3,unstable-order=0.2,unstable-windows=0.3,page-cap=7"
	inconsistent := func(m *metrics.Metrics, reason string) float64 {
		return testutil.ToFloat64(m.WindowInconsistent.WithLabelValues("e2e", reason))
	}
	narrowed := func(m *metrics.Metrics) float64 {
		return testutil.ToFloat64(m.WindowsNarrowed.WithLabelValues("e2e", observe.NarrowDrift))
	}
	for _, tc := range []struct {
		name, spec string
		// check fails the test unless the metrics show the fault handled.
		check func(t *testing.T, m *metrics.Metrics)
	}{
		{"count one too many", "count-plus-one=0.3", func(t *testing.T, m *metrics.Metrics) {
			if inconsistent(m, source.InconsistentCount) == 0 || narrowed(m) == 0 {
				t.Errorf("windows taken as listed %v, narrowed %v; want both above 0", inconsistent(m, source.InconsistentCount), narrowed(m))
			}
		}},
		{"order unstable on some requests", "unstable-order=0.3", func(t *testing.T, m *metrics.Metrics) {
			if testutil.ToFloat64(m.WindowRereads) == 0 {
				t.Error("no window read again")
			}
		}},
		{"order unstable on every read of some windows", "unstable-windows=0.3", func(t *testing.T, m *metrics.Metrics) {
			if narrowed(m) == 0 {
				t.Error("no window narrowed")
			}
		}},
		{"silent page cap", "page-cap=7", func(t *testing.T, m *metrics.Metrics) {
			if got := testutil.ToFloat64(m.PageSize.WithLabelValues("e2e")); got != 7 {
				t.Errorf("page size in use %v, want the cap 7", got)
			}
		}},
		{"all at once", all, func(t *testing.T, m *metrics.Metrics) {
			if got := testutil.ToFloat64(m.PageSize.WithLabelValues("e2e")); got != 7 {
				t.Errorf("page size in use %v, want the cap 7", got)
			}
			if inconsistent(m, source.InconsistentCount) == 0 || narrowed(m) == 0 {
				t.Errorf("windows taken as listed %v, narrowed %v; want both above 0", inconsistent(m, source.InconsistentCount), narrowed(m))
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cluster := newCluster(t)
			// Dense history: backfill windows of several pages.
			const history, calls = 400, 180
			sim := faultySimulator(t, simulator.Config{
				Seed: 23, History: history, HistorySpan: 2 * time.Hour, Calls: calls, Rate: 60,
				ConvertAfter: time.Second, FailRatio: 0.2,
			}, tc.spec)
			cfg := testConfig(t, sim, cluster.ListenAddrs())
			m := metrics.New(prometheus.NewRegistry())
			startConnector(t, cfg, Options{Metrics: m})
			time.Sleep(time.Duration(calls/60+2) * time.Second)
			r, _ := awaitTruth(t, sim, cluster.ListenAddrs(), 120*time.Second)
			if r.Calls != history+calls {
				t.Errorf("truth holds %d calls, want %d", r.Calls, history+calls)
			}
			// More re-scans of the same faulty listing add nothing.
			sweeps := testutil.ToFloat64(m.WindowsRead.WithLabelValues("deep"))
			deadline := time.Now().Add(30 * time.Second)
			for testutil.ToFloat64(m.WindowsRead.WithLabelValues("deep")) < sweeps+3 && time.Now().Before(deadline) {
				time.Sleep(200 * time.Millisecond)
			}
			r, _ = awaitTruth(t, sim, cluster.ListenAddrs(), 30*time.Second)
			if got := testutil.ToFloat64(m.BackfillRatio.WithLabelValues("e2e", testType)); got != 1 {
				t.Errorf("backfill progress %v, want 1", got)
			}
			tc.check(t, m)
			t.Logf("%s: %s; rereads %v, narrowed %v (too many pages %v), taken as listed %v count / %v duplicate / %v one second, page size %v",
				tc.spec, r, testutil.ToFloat64(m.WindowRereads), narrowed(m),
				testutil.ToFloat64(m.WindowsNarrowed.WithLabelValues("e2e", observe.NarrowTooManyPages)),
				inconsistent(m, source.InconsistentCount), inconsistent(m, source.InconsistentDuplicate),
				inconsistent(m, source.InconsistentOneSecond), testutil.ToFloat64(m.PageSize.WithLabelValues("e2e")))
		})
	}
}
