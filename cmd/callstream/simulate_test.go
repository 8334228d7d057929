package main

import (
	"bytes"
	"context"
	"encoding/json"
	"github.com/callstream/callstream/internal/syncbuf"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/callstream/callstream/connector/calllist"
	"github.com/callstream/callstream/connector/source"
)

func TestSimulateBadFlags(t *testing.T) {
	keyFile := filepath.Join(t.TempDir(), "key")
	if err := os.WriteFile(keyFile, []byte("k\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	base := []string{"--listen", "127.0.0.1:0", "--app-id", "a"}
	tests := []struct {
		args []string
		flag string
	}{
		{[]string{"--app-id", "a", "--app-key", "k"}, "--listen"},
		{[]string{"--listen", "127.0.0.1:0", "--app-key", "k"}, "--app-id"},
		{base, "--app-key"},
		{append(base, "--app-key", "k", "--app-key-file", keyFile), "--app-key-file"},
		{append(base, "--app-key-file", filepath.Join(t.TempDir(), "missing")), "--app-key-file"},
		{append(base, "--app-key", "k", "--seed", "x"), "-seed"},
		{append(base, "--app-key", "k", "--history", "-1"), "--history"},
		{append(base, "--app-key", "k", "--history-span", "-1h"), "--history-span"},
		{append(base, "--app-key", "k", "--calls", "-2"), "--calls"},
		{append(base, "--app-key", "k", "--rate", "-1"), "--rate"},
		{append(base, "--app-key", "k", "--calls", "3", "--rate", "0"), "--rate"},
		{append(base, "--app-key", "k", "--convert-after", "-1s"), "--convert-after"},
		{append(base, "--app-key", "k", "--fail-ratio", "1.5"), "--fail-ratio"},
		{append(base, "--app-key", "k", "--sign", "md7"), "--sign"},
		{append(base, "--app-key", "k", "--types", "chat,"), "--types"},
		{append(base, "--app-key", "k", "--max-page-size", "0"), "--max-page-size"},
		{append(base, "--app-key", "k", "--broken-every", "-1"), "--broken-every"},
		{append(base, "--app-key", "k", "--faults", "http500=2"), "--faults"},
		{append(base, "--app-key", "k", "--faults", "gremlins=0.1"), "--faults"},
		{[]string{"--listen", "not an address", "--app-id", "a", "--app-key", "k"}, "--listen"},
	}
	for _, tc := range tests {
		var stdout, stderr bytes.Buffer
		code := cmdSimulate(context.Background(), tc.args, &stdout, &stderr)
		msg := stderr.String()
		if code != 2 || !strings.Contains(msg, tc.flag) || strings.Count(msg, "\n") != 1 {
			t.Errorf("simulate %q: exit %d, stderr %q; want 2 and one line naming %s", tc.args, code, msg, tc.flag)
		}
	}
}

func TestSimulateServes(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stderr syncbuf.Buffer
	done := make(chan int, 1)
	go func() {
		done <- cmdSimulate(ctx, []string{"--listen", "127.0.0.1:0", "--app-id", "app", "--app-key", "key",
			"--history", "40", "--rate", "0", "--max-page-size", "25", "--log-format", "json"}, &bytes.Buffer{}, &stderr)
	}()
	var addr string
	for deadline := time.Now().Add(10 * time.Second); addr == "" && time.Now().Before(deadline); {
		var line struct{ Msg, Addr string }
		first, _, _ := strings.Cut(stderr.String(), "\n")
		if json.Unmarshal([]byte(first), &line) == nil && line.Msg == "simulator listening" {
			addr = line.Addr
		}
		time.Sleep(10 * time.Millisecond)
	}
	if addr == "" {
		t.Fatalf("no listen address logged: %s", stderr.String())
	}
	resp, err := http.Get("http://" + addr + "/_sim/records")
	if err != nil {
		t.Fatal(err)
	}
	var truth struct{ Records []json.RawMessage }
	err = json.NewDecoder(resp.Body).Decode(&truth)
	resp.Body.Close()
	if err != nil || len(truth.Records) != 40 {
		t.Fatalf("truth: %d records, %v", len(truth.Records), err)
	}
	// The default --types is chat: another type reads as an empty list,
	// and a page holds at most --max-page-size records.
	now := time.Now()
	for _, tc := range []struct {
		typ          string
		total, pages int
	}{{"chat", 40, 2}, {"call", 0, 0}} {
		c, err := source.NewClient(source.Config{BaseURL: "http://" + addr, AppID: "app", AppKey: "key", Type: tc.typ, PageSize: 30})
		if err != nil {
			t.Fatal(err)
		}
		p, err := c.FetchPage(ctx, calllist.Window{Start: now.Add(-2 * time.Hour), End: now}, 1)
		if err != nil || p.TotalCount != tc.total || p.TotalPage != tc.pages || (tc.total > 0 && (p.PageSize != 25 || len(p.Records) != 25)) {
			t.Fatalf("FetchPage of type %s: %+v, %v", tc.typ, p, err)
		}
	}
	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Errorf("exit %d after cancel, want 0; stderr %s", code, stderr.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("simulate did not stop")
	}
}
