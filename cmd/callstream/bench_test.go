package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

func TestBenchRejectsBadFlags(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"no calls", []string{"--calls", "0"}, "--calls"},
		{"short span", []string{"--history-span", "1s"}, "--history-span"},
		{"negative state", []string{"--state-calls", "-1"}, "--state-calls"},
		{"no pages at once", []string{"--page-concurrency", "0"}, "--page-concurrency"},
		{"bad faults", []string{"--faults", "slow=2"}, "--faults"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			if code := cmdBench(context.Background(), tc.args, &out, &errOut); code != 2 || !strings.Contains(errOut.String(), tc.want) {
				t.Errorf("bench %q = %d, stderr %q; want 2 naming %s", tc.args, code, errOut.String(), tc.want)
			}
		})
	}
}

// TestBenchRunsTheThreeProcesses runs a small `callstream bench` with calls
// already in the state topic: the connector restores them, the output
// holds the simulator's truth, and the report says so.
func TestBenchRunsTheThreeProcesses(t *testing.T) {
	t.Setenv(asMainEnv, "1") // the children are this test binary acting as callstream
	var out, errOut bytes.Buffer
	args := []string{"--calls", "2000", "--state-calls", "30000", "--history-span", "1h", "--timeout", "3m"}
	if code := cmdBench(context.Background(), args, &out, &errOut); code != 0 {
		t.Fatalf("bench %q = %d; stderr:\n%s", args, code, errOut.String())
	}
	for _, want := range []string{
		"2000 calls, ", " 0 lost, 0 duplicated, 0 problems",
		"state at the start         30000 calls",
		"state at the end           32000 calls held", // restored, and the simulator's
		"connector ready ", "connector RSS ", "MiB at the end",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("bench output lacks %q:\n%s", want, out.String())
		}
	}
}
