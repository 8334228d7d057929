package deploy

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/callstream/callstream/internal/proc"
	"github.com/callstream/callstream/internal/syncbuf"
)

// startProc starts callstream with args (which should ask for JSON logs)
// and waits until it logs a line whose msg is ready; it returns that line.
// The process is stopped with SIGTERM at cleanup, and must then exit 0
// within 30 s.
func startProc(t *testing.T, ready string, args ...string) (*proc.Process, map[string]any) {
	t.Helper()
	out := &syncbuf.Buffer{}
	p, err := proc.Start(proc.Command{Name: "callstream " + args[0], Path: callstream(t), Args: args, Output: out})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := p.Stop(30 * time.Second); err != nil {
			t.Errorf("callstream %q: %v; want exit status 0 within 30 s of SIGTERM:\n%s", args, err, out.String())
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		if rec := loggedLine(out.String(), ready); rec != nil {
			return p, rec
		}
		if p.Exited() {
			t.Fatalf("callstream %q exited (%v) before logging %q:\n%s", args, p.Err(), ready, out.String())
		}
		if time.Now().After(deadline) {
			t.Fatalf("callstream %q did not log %q within 30 s:\n%s", args, ready, out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// loggedLine returns the first JSON log line of logs whose msg is msg, or
// nil.
func loggedLine(logs, msg string) map[string]any {
	for line := range strings.Lines(logs) {
		var rec map[string]any
		if json.Unmarshal([]byte(line), &rec) == nil && rec["msg"] == msg {
			return rec
		}
	}
	return nil
}

// healthy runs `callstream healthcheck` against url until it exits 0 or
// the wait is over.
func healthy(ctx context.Context, t *testing.T, url string, wait time.Duration) error {
	t.Helper()
	deadline := time.Now().Add(wait)
	for {
		code, _, stderr := runCallstream(ctx, t, "healthcheck", "--url", url)
		if code == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return errors.New(strings.TrimSpace(stderr))
		}
		time.Sleep(200 * time.Millisecond)
	}
}
