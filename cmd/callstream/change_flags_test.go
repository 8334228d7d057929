package main

import (
	"bytes"
	"strings"
	"testing"
)

// A bad value of either is a one-line error naming the flag, exit 2.
func TestBadChangeFlags(t *testing.T) {
	good := []string{"--api-url", "http://x", "--app-id", "a", "--app-key", "k", "--brokers", "b:1", "--check-config"}
	for _, args := range [][]string{
		{"--ignore-changes", "url,cost2"},
		{"--ignore-changes", "extra."},
		{"--emit-updates=sometimes"},
	} {
		var stdout, stderr bytes.Buffer
		code := cmdRun(t.Context(), append(good, args...), &stdout, &stderr)
		msg := stderr.String()
		name := strings.SplitN(strings.TrimPrefix(args[0], "--"), "=", 2)[0]
		if code != 2 || !strings.Contains(msg, "--"+name) || strings.Count(strings.TrimSpace(msg), "\n") != 0 {
			t.Errorf("run %v: exit %d, stderr %q; want 2 and one line naming --%s", args, code, msg, name)
		}
	}
}
