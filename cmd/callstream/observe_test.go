package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/callstream/callstream/connector"
	"github.com/callstream/callstream/connector/calllist"
	"github.com/callstream/callstream/connector/schedule"
	"github.com/callstream/callstream/connector/sink"
	"github.com/callstream/callstream/connector/source"
	"github.com/callstream/callstream/internal/proc"
	"github.com/callstream/callstream/internal/syncbuf"
	"github.com/callstream/callstream/secret"
	"github.com/callstream/callstream/simulator"
	"github.com/twmb/franz-go/pkg/kfake"
)

// scrapeFileEnv names a file that TestObservability writes its last /metrics
// scrape to, for `promtool check metrics` in CI.
const scrapeFileEnv = "CALLSTREAM_SCRAPE_FILE"

const (
	obsAppID  = "obs-app"
	obsAppKey = secret.String("obs-app-key-never-logged")
)

// failingAPI serves the simulator, or HTTP 500 for every API request while
// fail is set.
func failingAPI(t *testing.T, fail *atomic.Bool) *httptest.Server {
	t.Helper()
	sim, err := simulator.New(simulator.Config{
		AppID: obsAppID, AppKey: obsAppKey, Seed: 3, History: 150, HistorySpan: time.Hour,
		Rate: 20, ConvertAfter: time.Second, FailRatio: 0.2, Types: []string{source.DefaultType},
	})
	if err != nil {
		t.Fatal(err)
	}
	h := sim.Handler()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if fail.Load() && r.URL.Path == calllist.Path {
			http.Error(w, "injected failure", http.StatusInternalServerError)
			return
		}
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func obsConfig(t *testing.T, apiURL string, brokers []string) connector.SourceConfig {
	t.Helper()
	tiers, err := schedule.ParseTiers("recent=1m@0s,deep=2h@2s")
	if err != nil {
		t.Fatal(err)
	}
	return connector.SourceConfig{
		APIURL: apiURL, AppID: obsAppID, AppKey: obsAppKey, Type: source.DefaultType,
		PageSize: 50, MaxPages: 10, PageConcurrency: source.DefaultPageConcurrency, RequestTimeout: 5 * time.Second,
		Retry:   source.Retry{Initial: 20 * time.Millisecond, Max: 200 * time.Millisecond},
		Brokers: brokers, TransactionalID: "obs", CreateTopics: true, Partitions: 3,
		Topics: sink.DefaultTopics(),
		Schedule: schedule.Config{
			Tiers: tiers, Settle: time.Second, PollInterval: 200 * time.Millisecond,
			StartFrom: time.Now().Add(-time.Hour), BackfillWindow: 15 * time.Minute, SweepWindow: time.Hour,
		},
		SourceName: "obs", ReadyMaxAge: 2 * time.Second, Version: "test",
	}
}

// TestObservability runs the connector with its HTTP endpoints against
// kfake and a simulator that can be made to fail. /readyz turns false once
// the API has failed for longer than --ready-max-age, with the reason, and
// true again after it recovers; the lag grows while it fails and the
// failures are counted. (That every metric the dashboard and the alert
// rules query is exported, deploy's TestComposeCommands checks.)
func TestObservability(t *testing.T) {
	cluster, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.DefaultNumPartitions(3))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cluster.Close)
	var fail atomic.Bool
	api := failingAPI(t, &fail)
	cfg := obsConfig(t, api.URL, cluster.ListenAddrs())

	logs := &syncbuf.Buffer{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		logger := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
		done <- runConnector(ctx, connector.Config{Sources: []connector.SourceConfig{cfg}, UnprefixedSource: cfg.SourceName}, "127.0.0.1:0", logger, nil, nil, 0)
	}()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("runConnector = %v, want nil after cancel", err)
		}
		checkLogs(t, logs.String())
	}()
	base := "http://" + awaitListenAddr(t, logs)

	awaitReady(t, base, true, "ok")
	fail.Store(true)
	why := awaitReady(t, base, false, "no successful poll")
	if !strings.Contains(why, "last API error: http") {
		t.Errorf("/readyz reason %q does not name the API error", why)
	}
	scrape := parseMetrics(t, get(t, base+"/metrics"))
	if lag := sampleValue(t, scrape, "callstream_source_lag_seconds", "source", "obs", "type", source.DefaultType); lag < cfg.ReadyMaxAge.Seconds() {
		t.Errorf("source lag %.1fs while the API failed for more than %s", lag, cfg.ReadyMaxAge)
	}
	if v := sampleValue(t, scrape, "callstream_ready"); v != 0 {
		t.Errorf("callstream_ready = %v while /readyz fails, want 0", v)
	}
	fail.Store(false)
	awaitReady(t, base, true, "ok")

	text := get(t, base+"/metrics")
	if f := os.Getenv(scrapeFileEnv); f != "" {
		if err := os.WriteFile(f, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	scrape = parseMetrics(t, text)
	if v := sampleValue(t, scrape, "callstream_ready"); v != 1 {
		t.Errorf("callstream_ready = %v after recovery, want 1", v)
	}
	if v := sampleValue(t, scrape, "callstream_api_errors_total", "kind", "http"); v == 0 {
		t.Error("no http API errors counted while the API failed")
	}
}

// checkLogs checks the debug log: a line per window and per transaction,
// the failed requests with their class, and no secret.
func checkLogs(t *testing.T, logs string) {
	t.Helper()
	for _, want := range []string{`"msg":"window committed"`, `"msg":"transaction committed"`, `"class":"http"`} {
		if !strings.Contains(logs, want) {
			t.Errorf("the debug log has no %s", want)
		}
	}
	if strings.Contains(logs, obsAppKey.Reveal()) {
		t.Error("the app key appears in the logs")
	}
}

func parseMetrics(t *testing.T, text string) proc.Metrics {
	t.Helper()
	m, err := proc.ParseMetrics(strings.NewReader(text))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// sampleValue returns the sum of the samples of the metric name that
// carry labels, given as name, value pairs.
func sampleValue(t *testing.T, scrape proc.Metrics, name string, labels ...string) float64 {
	t.Helper()
	v, ok := scrape.Sum(name, labels...)
	if !ok {
		t.Fatalf("no sample %s%q in the scrape", name, labels)
	}
	return v
}

// awaitListenAddr returns the address the HTTP server logged.
func awaitListenAddr(t *testing.T, logs *syncbuf.Buffer) string {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		for _, line := range strings.Split(logs.String(), "\n") {
			var l struct{ Msg, Addr string }
			if json.Unmarshal([]byte(line), &l) == nil && l.Msg == "serving metrics and health" {
				return l.Addr
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("the server never logged its address; logs:\n%s", lastLines(logs.String(), 20))
	return ""
}

// awaitReady polls /readyz until it answers ready (200) or not (503) with a
// reason containing want, and returns the reason.
func awaitReady(t *testing.T, base string, ready bool, want string) string {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	var last string
	for time.Now().Before(deadline) {
		resp, err := http.Get(base + "/readyz")
		if err == nil {
			var body struct {
				Ready  bool   `json:"ready"`
				Reason string `json:"reason"`
			}
			err = json.NewDecoder(resp.Body).Decode(&body)
			resp.Body.Close()
			wantStatus := map[bool]int{true: http.StatusOK, false: http.StatusServiceUnavailable}[ready]
			if err == nil && body.Ready == ready && resp.StatusCode == wantStatus && strings.Contains(body.Reason, want) {
				return body.Reason
			}
			last = resp.Status + " " + body.Reason
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("/readyz never answered ready=%v with %q; last: %s", ready, want, last)
	return ""
}

func get(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s, %v", url, resp.Status, err)
	}
	return string(b)
}
