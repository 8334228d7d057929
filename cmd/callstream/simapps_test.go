package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/callstream/callstream/connector/calllist"
	"github.com/callstream/callstream/connector/source"
	"github.com/callstream/callstream/internal/syncbuf"
	"github.com/callstream/callstream/secret"
)

func TestSimulateApps(t *testing.T) {
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "b.key")
	if err := os.WriteFile(keyFile, []byte("key-b\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	apps := filepath.Join(dir, "apps.yaml")
	text := "- {app-id: app-a, app-key: key-a, seed: 1, history: 30, types: [chat, call]}\n" +
		"- {app-id: app-b, app-key-file: " + keyFile + ", seed: 2, history: 12}\n"
	if err := os.WriteFile(apps, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stderr syncbuf.Buffer
	done := make(chan int, 1)
	go func() {
		done <- cmdSimulate(ctx, []string{"--listen", "127.0.0.1:0", "--apps", apps, "--rate", "0", "--log-format", "json"},
			&bytes.Buffer{}, &stderr)
	}()
	var addr string
	for deadline := time.Now().Add(10 * time.Second); addr == "" && time.Now().Before(deadline); {
		for _, l := range strings.Split(stderr.String(), "\n") {
			var line struct{ Msg, Addr string }
			if json.Unmarshal([]byte(l), &line) == nil && line.Msg == "simulator listening" {
				addr = line.Addr
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	if addr == "" {
		t.Fatalf("no listen address logged: %s", stderr.String())
	}
	now := time.Now()
	for _, tc := range []struct {
		app, key, typ string
		want          int
	}{{"app-a", "key-a", "call", 30}, {"app-a", "key-a", "chat", 30}, {"app-b", "key-b", "chat", 12}} {
		resp, err := http.Get("http://" + addr + "/_sim/records?app-id=" + tc.app)
		if err != nil {
			t.Fatal(err)
		}
		var truth struct{ Records []json.RawMessage }
		err = json.NewDecoder(resp.Body).Decode(&truth)
		resp.Body.Close()
		if err != nil || len(truth.Records) != tc.want {
			t.Errorf("truth of %s: %d records (%v), want %d", tc.app, len(truth.Records), err, tc.want)
		}
		c, err := source.NewClient(source.Config{BaseURL: "http://" + addr, AppID: tc.app, AppKey: "dummy", Type: tc.typ, PageSize: 100})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.FetchPage(ctx, calllist.Window{Start: now.Add(-2 * time.Hour), End: now}, 1); err == nil {
			t.Errorf("%s answered a wrong app key", tc.app)
		}
		c, _ = source.NewClient(source.Config{BaseURL: "http://" + addr, AppID: tc.app, AppKey: secret.String(tc.key), Type: tc.typ, PageSize: 100})
		p, err := c.FetchPage(ctx, calllist.Window{Start: now.Add(-2 * time.Hour), End: now}, 1)
		if err != nil || p.TotalCount != tc.want {
			t.Errorf("%s type %s: page %+v, %v; want %d calls", tc.app, tc.typ, p, err, tc.want)
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

func TestSimulateAppsRefused(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct{ name, text, want string }{
		{"not a list", "app-id: a\n", "want a list of apps"},
		{"listen per app", "- {app-id: a, app-key: k, listen: ':1'}\n", `"listen" is not a setting of one app`},
		{"no id", "- {app-key: k}\n", "app 0: --app-id: required"},
		{"twice", "- {app-id: a, app-key: k}\n- {app-id: a, app-key: k}\n", "given twice"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "-")+".yaml")
			if err := os.WriteFile(path, []byte(tc.text), 0o600); err != nil {
				t.Fatal(err)
			}
			var stderr bytes.Buffer
			code := cmdSimulate(context.Background(), []string{"--listen", "127.0.0.1:0", "--apps", path}, &bytes.Buffer{}, &stderr)
			if code != 2 || !strings.Contains(stderr.String(), tc.want) {
				t.Errorf("exit %d, stderr %q; want 2 and %q", code, stderr.String(), tc.want)
			}
		})
	}
}
