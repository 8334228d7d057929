package connector

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/callstream/callstream/connector/calllist"
	"github.com/callstream/callstream/connector/observe"
	"github.com/callstream/callstream/connector/state"

	"github.com/callstream/callstream/connector/schedule"
	"github.com/callstream/callstream/connector/sink"
	"github.com/callstream/callstream/connector/source"
	"github.com/callstream/callstream/simulator"
)

// benchPageSize is the page size of the benchmarks, as `callstream bench`
// and a backfill use it.
const benchPageSize = 1000

// simPages returns n calls of a seeded simulator as the vendor sends them:
// the bodies of pages of benchPageSize, and every record's raw bytes.
func simPages(tb testing.TB, n int) (bodies [][]byte, raws []calllist.Raw) {
	tb.Helper()
	clock := time.Date(2026, 3, 21, 12, 0, 0, 0, time.UTC)
	sim, err := simulator.New(simulator.Config{
		AppID: testAppID, AppKey: testAppKey, Types: []string{testType}, Seed: 3, History: n, HistorySpan: 24 * time.Hour,
		ConvertAfter: time.Minute, FailRatio: 0.1, Clock: func() time.Time { return clock },
	})
	if err != nil {
		tb.Fatal(err)
	}
	h := sim.Handler()
	for page := 1; (page-1)*benchPageSize < n; page++ {
		body := fmt.Sprintf(`{"type":%q,"pageNo":%d,"pageSize":%d}`, testType, page, benchPageSize)
		ts := strconv.FormatInt(clock.UnixMilli(), 10)
		req := httptest.NewRequest(http.MethodPost, calllist.Path, strings.NewReader(body))
		req.Header.Set("appId", testAppID)
		req.Header.Set("appKey", testAppKey.Reveal())
		req.Header.Set("timestamp", ts)
		req.Header.Set("sign", calllist.Signer{}.Sign(testAppID, testAppKey, ts, []byte(body)).Reveal())
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		p, err := calllist.DecodePage(rec.Body.Bytes())
		if err != nil || len(p.Records) == 0 {
			tb.Fatalf("page %d: %v", page, err)
		}
		bodies = append(bodies, rec.Body.Bytes())
		raws = append(raws, p.Records...)
	}
	return bodies, raws
}

// benchConnector is a connector that is never Run: its diff, encoder and
// store are used directly. Nothing connects until a sink is set.
func benchConnector(tb testing.TB, apiURL string, brokers []string) *poller {
	tb.Helper()
	c, err := newPoller(benchConfig(tb, apiURL, brokers), Options{}, pollerEnv{totals: new(observe.StateTotals), keys: state.UnprefixedKeys()})
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

// benchConfig is the connector configuration of the benchmarks: pages of
// benchPageSize, one-hour backfill windows, no re-scan due while they run.
func benchConfig(tb testing.TB, apiURL string, brokers []string) SourceConfig {
	tb.Helper()
	tiers, err := schedule.ParseTiers("recent=1m@0s,day=24h@1h,week=168h@1h")
	if err != nil {
		tb.Fatal(err)
	}
	return SourceConfig{
		APIURL: apiURL, AppID: testAppID, AppKey: testAppKey, Type: testType,
		PageSize: benchPageSize, MaxPages: 1000, PageConcurrency: source.DefaultPageConcurrency, RequestTimeout: 30 * time.Second,
		Retry:   source.Retry{Initial: 20 * time.Millisecond, Max: 200 * time.Millisecond},
		Brokers: brokers, TransactionalID: "bench", CreateTopics: true,
		Topics: sink.DefaultTopics(),
		Schedule: schedule.Config{
			Tiers: tiers, Settle: time.Second, PollInterval: time.Second,
			StartFrom: time.Now().Add(-25 * time.Hour), BackfillWindow: time.Hour, SweepWindow: time.Hour,
		},
		SourceName: "bench", ReadyMaxAge: time.Minute, Version: "bench",
	}
}

// backfillTask is a backfill task over a window that holds every call.
func backfillTask() schedule.Task {
	end := time.Now()
	return schedule.Task{Kind: schedule.Backfill, Name: "backfill", Window: calllist.Window{Start: end.Add(-30 * 24 * time.Hour), End: end}}
}
