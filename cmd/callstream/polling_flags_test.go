package main

import (
	"bytes"
	"strings"
	"testing"
)

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
