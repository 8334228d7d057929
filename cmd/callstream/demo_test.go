package main

import (
	"context"
	"net"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/callstream/callstream/internal/syncbuf"
)

// TestDemo runs `callstream demo` as the README's first command does, with
// the default port taken: it picks another, prints committed events, serves
// metrics where it says, and stops with status 0 on cancellation (Ctrl-C).
func TestDemo(t *testing.T) {
	if ln, err := net.Listen("tcp", "127.0.0.1:9090"); err == nil {
		defer ln.Close() // taken, as a local Prometheus would
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out, errOut syncbuf.Buffer
	done := make(chan int, 1)
	go func() { done <- cmdDemo(ctx, nil, &out, &errOut) }()

	deadline := time.Now().Add(time.Minute)
	for strings.Count(out.String(), "CREATED ") < 3 && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	if n := strings.Count(out.String(), "CREATED "); n < 3 {
		cancel()
		t.Fatalf("the demo printed %d CREATED events in a minute; stdout:\n%s\nstderr:\n%s", n, out.String(), errOut.String())
	}
	m := regexp.MustCompile(`metrics (http://[^ ]+/metrics)`).FindStringSubmatch(out.String())
	if m == nil || strings.Contains(m[1], ":9090/") {
		t.Errorf("the demo's metrics address %v is not a free port; stdout:\n%s", m, out.String())
	} else if resp, err := http.Get(m[1]); err != nil || resp.StatusCode != http.StatusOK {
		t.Errorf("GET %s: %v %v", m[1], resp, err)
	} else {
		resp.Body.Close()
	}
	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Errorf("demo exit status %d after cancellation, want 0; stderr:\n%s", code, errOut.String())
		}
	case <-time.After(time.Minute):
		t.Fatal("the demo did not stop within a minute of cancellation")
	}
	if !strings.Contains(out.String(), "callstream demo: stopped") {
		t.Errorf("the demo did not say it stopped; stdout ends:\n%s", lastLines(out.String(), 5))
	}
}
