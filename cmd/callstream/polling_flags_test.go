package main

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/callstream/callstream/connector/source"
)

// The polling flags of run reach the connector's configuration.
func TestPollingFlags(t *testing.T) {
	good := []string{"--api-url", "http://x", "--app-id", "a", "--app-key", "k", "--brokers", "b:1"}
	f, err := parseRun(t, append(good, "--rate-limit", "2.5", "--rate-burst", "4", "--retry-max", "10s",
		"--backfill-max-window", "48h", "--page-concurrency", "8"), map[string]string{"CALLSTREAM_REQUEST_TIMEOUT": "7s"})
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := f.toConfig(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	want := source.Retry{Initial: source.DefaultRetryInitial, Max: 10 * time.Second}
	if cfg.RateLimit != 2.5 || cfg.RateBurst != 4 || cfg.Retry != want || cfg.RequestTimeout != 7*time.Second ||
		cfg.Schedule.BackfillMaxWindow != 48*time.Hour || cfg.PageConcurrency != 8 {
		t.Errorf("config: rate %v burst %d retry %+v timeout %s backfill max %s", cfg.RateLimit, cfg.RateBurst,
			cfg.Retry, cfg.RequestTimeout, cfg.Schedule.BackfillMaxWindow)
	}

	// Defaults: no rate limit, 30s backoff cap, backfill windows up to a
	// day, four pages at once.
	f, _ = parseRun(t, good, nil)
	cfg, err = f.toConfig(time.Now())
	if err != nil || cfg.RateLimit != 0 || cfg.Retry.Max != 30*time.Second || cfg.Schedule.BackfillMaxWindow != 24*time.Hour ||
		cfg.PageConcurrency != 4 {
		t.Errorf("defaults: %v, rate %v, retry max %s, backfill max %s", err, cfg.RateLimit, cfg.Retry.Max, cfg.Schedule.BackfillMaxWindow)
	}
}

func TestBadPollingFlags(t *testing.T) {
	good := []string{"--api-url", "http://x", "--app-id", "a", "--app-key", "k", "--brokers", "b:1", "--check-config"}
	for _, tc := range []struct{ args []string }{
		{[]string{"--rate-limit", "-1"}},
		{[]string{"--rate-burst", "-2"}},
		{[]string{"--retry-max", "-1s"}},
		{[]string{"--backfill-max-window", "1m"}},
		{[]string{"--fenced-hold", "-1s"}},
		{[]string{"--page-concurrency", "0"}},
		{[]string{"--page-concurrency", "65"}},
		{[]string{"--fenced-hold", "soon"}},
	} {
		var stdout, stderr bytes.Buffer
		code := cmdRun(t.Context(), append(good, tc.args...), &stdout, &stderr)
		if msg := stderr.String(); code != 2 || !strings.Contains(msg, strings.TrimPrefix(tc.args[0], "--")) {
			t.Errorf("run %v: exit %d, stderr %q; want 2 naming %s", tc.args, code, msg, tc.args[0])
		}
	}
}
