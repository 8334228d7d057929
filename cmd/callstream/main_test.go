package main

import (
	"fmt"
	"github.com/callstream/callstream/connector"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/callstream/callstream/connector/sink"
)

// asMainEnv makes the test binary act as the callstream binary: tests that
// need the connector as a child process (to kill it with SIGKILL) run
// themselves with it set, so no separate build is needed.
const asMainEnv = "CALLSTREAM_TEST_AS_MAIN"

// crashAtEnv, read only by this test binary acting as main, names a step
// (sink.Point) and the how-manieth time it is reached, POINT[:N] (N
// default 1): the process kills itself with SIGKILL there, after printing
// crashMark on stderr. The callstream binary itself has no such setting.
const crashAtEnv = "CALLSTREAM_CRASH_AT"

// crashMark starts the line a child prints as it crashes at a step.
const crashMark = "crashing at step "

func TestMain(m *testing.M) {
	if os.Getenv(asMainEnv) == "1" {
		if spec := os.Getenv(crashAtEnv); spec != "" {
			hook, err := crashHook(spec)
			if err != nil {
				fmt.Fprintf(os.Stderr, "%s: %v\n", crashAtEnv, err)
				os.Exit(2)
			}
			stepHook = hook
		}
		os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// crashHook returns a step hook that kills the process the n-th time it
// reaches the named point.
func crashHook(spec string) (func(sink.Point), error) {
	name, count, _ := strings.Cut(spec, ":")
	want := int64(1)
	if count != "" {
		n, err := strconv.ParseInt(count, 10, 64)
		if err != nil || n < 1 {
			return nil, fmt.Errorf("%q: want POINT[:N] with N ≥ 1", spec)
		}
		want = n
	}
	point := sink.Point(name)
	known := false
	for _, p := range connector.Points() {
		known = known || p == point
	}
	if !known {
		return nil, fmt.Errorf("unknown point %q, want one of %v", name, connector.Points())
	}
	var reached atomic.Int64
	return func(p sink.Point) {
		if p == point && reached.Add(1) == want {
			fmt.Fprintf(os.Stderr, "%s%s #%d\n", crashMark, p, want)
			_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
			select {} // the signal is on its way; go no further
		}
	}, nil
}

// TestMainHelp checks that `callstream --help` lists every command once,
// each description starting in the same column.
func TestMainHelp(t *testing.T) {
	var out, errOut strings.Builder
	if code := run([]string{"--help"}, &out, &errOut); code != 0 {
		t.Fatalf("callstream --help: exit %d, stderr %q", code, errOut.String())
	}
	listed := map[string]bool{}
	col := -1
	for _, line := range strings.Split(out.String(), "\n") {
		name, _, ok := strings.Cut(strings.TrimPrefix(line, "  "), " ")
		if !strings.HasPrefix(line, "  ") || !ok || commands[name] == nil {
			continue
		}
		listed[name] = true
		at := len(line) - len(strings.TrimLeft(line[2+len(name):], " "))
		if col == -1 {
			col = at
		}
		if at != col {
			t.Errorf("%q: description at column %d, the first one's at %d", line, at, col)
		}
	}
	for name := range commands {
		if !listed[name] {
			t.Errorf("--help does not list %q:\n%s", name, out.String())
		}
	}
}
