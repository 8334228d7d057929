package connector

import (
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/callstream/callstream/connector/observe"
	"github.com/callstream/callstream/internal/syncbuf"
	"github.com/callstream/callstream/metrics"
	"github.com/callstream/callstream/simulator"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// At start the connector says how many calls the API lists for its type;
// for a type the API lists nothing of, it warns naming --type and
// --app-id. Records read are counted by the tier that read them, and
// requests by tier too.
func TestFirstContactCount(t *testing.T) {
	cluster := newCluster(t)
	sim := newSimulator(t, simulator.Config{Seed: 4, History: 40, HistorySpan: time.Hour})
	for _, tc := range []struct {
		typ, want string
		records   bool
	}{
		{testType, `"msg":"the API lists 40 calls of type call in the last 3h"`, true},
		{"chat", `"msg":"the API lists 0 calls of type chat in the last 3h: if calls were made in that time, check --type`, false},
	} {
		t.Run(tc.typ, func(t *testing.T) {
			cfg := testConfig(t, sim.URL, cluster.ListenAddrs())
			cfg.Type, cfg.TransactionalID = tc.typ, "first-contact-"+tc.typ
			cfg.Topics.State += "." + tc.typ
			m := metrics.New(prometheus.NewRegistry())
			var logs syncbuf.Buffer
			c, err := oneSource(cfg, Options{Metrics: m, Logger: slog.New(slog.NewJSONHandler(&logs, nil))})
			if err != nil {
				t.Fatal(err)
			}
			startRunning(t, c)
			read := func() float64 {
				return testutil.ToFloat64(m.RecordsRead.WithLabelValues(cfg.SourceName, "backfill")) + testutil.ToFloat64(m.RecordsRead.WithLabelValues(cfg.SourceName, "live"))
			}
			deadline := time.Now().Add(30 * time.Second)
			for testutil.ToFloat64(m.WindowsRead.WithLabelValues("backfill")) < 3 || (tc.records && read() < 40) {
				if time.Now().After(deadline) {
					t.Fatalf("%v records read in 30s; log:\n%s", read(), logs.String())
				}
				time.Sleep(20 * time.Millisecond)
			}
			if !strings.Contains(logs.String(), tc.want) {
				t.Errorf("log lacks %s:\n%s", tc.want, logs.String())
			}
			if !tc.records && read() > 0 {
				t.Errorf("records read by backfill and live: %v, want none", read())
			}
			if n := testutil.ToFloat64(m.APIRequests.WithLabelValues(cfg.SourceName, "ok", observe.TierProbe)); n < 2 {
				t.Errorf("probe requests (the clock's and the count's) = %v, want at least 2", n)
			}
			if n := testutil.ToFloat64(m.APIRequests.WithLabelValues(cfg.SourceName, "ok", "backfill")); n < 1 {
				t.Errorf("backfill requests = %v", n)
			}
		})
	}
}
