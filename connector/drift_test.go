package connector

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/callstream/callstream/connector/observe"
	"github.com/callstream/callstream/metrics"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// A window that keeps drifting through every reread does not stop the
// connector: it is narrowed (down to one second, taken as listed), and
// committed once it holds still.
func TestDriftingWindowIsReadAgainLater(t *testing.T) {
	var requests atomic.Int64
	const drifting = 14 // requests answered with a short page 1
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Date", time.Now().UTC().Format(http.TimeFormat))
		if requests.Add(1) <= drifting {
			// Page 1 of 2, but short: the window moved under us.
			fmt.Fprint(w, `{"code":0,"message":"ok","data":{"totalCount":30,"totalPage":2,"pageNo":1,"pageSize":20,"result":[]}}`)
			return
		}
		fmt.Fprint(w, `{"code":0,"message":"ok","data":{"totalCount":0,"totalPage":0,"pageNo":1,"pageSize":20,"result":[]}}`)
	}))
	t.Cleanup(api.Close)
	cluster := newCluster(t)
	cfg := testConfig(t, api.URL, cluster.ListenAddrs())
	m := metrics.New(prometheus.NewRegistry())
	startConnector(t, cfg, Options{Metrics: m})
	deadline := time.Now().Add(60 * time.Second)
	for testutil.ToFloat64(m.WindowsRead.WithLabelValues("live")) == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("no live window committed after %d requests", requests.Load())
		}
		time.Sleep(50 * time.Millisecond)
	}
	if got := testutil.ToFloat64(m.WindowRereads); got < 5 {
		t.Errorf("window rereads = %v, want at least 5", got)
	}
	narrowed := testutil.ToFloat64(m.WindowsNarrowed.WithLabelValues("e2e", observe.NarrowDrift))
	listed := sum(m.WindowInconsistent)
	if narrowed+listed == 0 {
		t.Error("the drifting window was neither narrowed nor taken as listed")
	}
	t.Logf("rereads %v, narrowed %v, taken as listed %v", testutil.ToFloat64(m.WindowRereads), narrowed, listed)
}
