package metrics

import (
	"math"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"
)

// TestNewLints creates every metric, gives each labelled one a series and
// checks the registry against Prometheus' naming conventions.
func TestNewLints(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := New(reg)
	m.SourceLag.Set("scrm", "call", time.Now())
	m.Ready.SetFunc(func() float64 { return 1 })
	m.LastSuccess.WithLabelValues("scrm", "call").Set(1)
	m.APIRequests.WithLabelValues("scrm", "ok", "live").Inc()
	m.APIErrors.WithLabelValues("scrm", "http").Inc()
	m.WindowsRead.WithLabelValues("live").Inc()
	m.Events.WithLabelValues("scrm", "calls", "CREATED").Inc()
	m.DLQRecords.WithLabelValues("scrm", "content_json").Inc()
	m.Transactions.WithLabelValues("commit").Inc()
	m.BackfillRatio.WithLabelValues("scrm", "call").Set(0.5)
	m.FatalErrors.WithLabelValues("fenced").Inc()
	m.BuildInfo.WithLabelValues("v1", "abc", "go1.26").Set(1)
	problems, err := testutil.GatherAndLint(reg)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("%s: %s", p.Metric, p.Text)
	}
}

func TestHistogramBuckets(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := New(reg)
	m.APIDuration.Observe(0.1)
	m.EventDelay.Observe(10)
	tests := []struct {
		name          string
		wantFirstLast [2]float64
		minPerDecade  float64
	}{
		{name: "callstream_api_request_duration_seconds", wantFirstLast: [2]float64{0.01, 60}, minPerDecade: 3},
		{name: "callstream_event_delay_seconds", wantFirstLast: [2]float64{1, 86400}, minPerDecade: 3},
	}
	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := buckets(t, fams, tc.name)
			first, last := b[0], b[len(b)-1]
			if !near(first, tc.wantFirstLast[0]) || !near(last, tc.wantFirstLast[1]) {
				t.Errorf("buckets run from %g to %g, want %g to %g", first, last, tc.wantFirstLast[0], tc.wantFirstLast[1])
			}
			if perDecade := float64(len(b)-1) / math.Log10(last/first); perDecade < tc.minPerDecade {
				t.Errorf("%.1f buckets a decade, want at least %g", perDecade, tc.minPerDecade)
			}
		})
	}
}

func buckets(t *testing.T, fams []*dto.MetricFamily, name string) []float64 {
	t.Helper()
	for _, f := range fams {
		if f.GetName() != name {
			continue
		}
		var out []float64
		for _, b := range f.GetMetric()[0].GetHistogram().GetBucket() {
			out = append(out, b.GetUpperBound())
		}
		return out
	}
	t.Fatalf("no metric %s", name)
	return nil
}

func near(a, b float64) bool { return math.Abs(a-b) <= 1e-9*math.Max(1, math.Abs(b)) }

// The lag is computed when scraped: it grows while nothing calls Set.
func TestLagGrowsWhileIdle(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := New(reg)
	now := time.Unix(1_000_000, 0)
	m.SourceLag.now = func() time.Time { return now }
	if n := testutil.CollectAndCount(m.SourceLag); n != 0 {
		t.Fatalf("lag exports %d series before Set, want 0", n)
	}
	m.SourceLag.Set("scrm", "call", now.Add(-10*time.Second))
	for _, tc := range []struct {
		advance time.Duration
		want    float64
	}{{0, 10}, {time.Minute, 70}, {time.Hour, 3670}} {
		now = now.Add(tc.advance)
		want := strings.NewReader(`# HELP callstream_source_lag_seconds Now minus the end of the newest window read whole, computed when scraped.
# TYPE callstream_source_lag_seconds gauge
callstream_source_lag_seconds{source="scrm",type="call"} ` + strconv.FormatFloat(tc.want, 'g', -1, 64) + "\n")
		if err := testutil.GatherAndCompare(reg, want, "callstream_source_lag_seconds"); err != nil {
			t.Errorf("after %s more: %v", tc.advance, err)
		}
	}
}

func TestFuncGauge(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := New(reg)
	if n := testutil.CollectAndCount(m.Ready); n != 0 {
		t.Fatalf("ready exports %d series before SetFunc, want 0", n)
	}
	v := 0.0
	m.Ready.SetFunc(func() float64 { return v })
	for _, want := range []float64{0, 1, 0} {
		v = want
		if got := testutil.ToFloat64(m.Ready); got != want {
			t.Errorf("ready = %v, want %v", got, want)
		}
	}
	m.Ready.SetFunc(nil)
	if n := testutil.CollectAndCount(m.Ready); n != 0 {
		t.Errorf("ready exports %d series after SetFunc(nil), want 0", n)
	}
}
