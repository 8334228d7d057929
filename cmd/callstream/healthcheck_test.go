package main

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestHealthcheck(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/readyz":
			_, _ = w.Write([]byte(`{"ready":true}`))
		case "/slow":
			select {
			case <-time.After(5 * time.Second):
			case <-r.Context().Done():
			}
		default:
			http.Error(w, `{"ready":false}`, http.StatusServiceUnavailable)
		}
	}))
	t.Cleanup(srv.Close)
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()

	tests := []struct {
		name   string
		args   []string
		code   int
		stderr string // a part of the one stderr line, "" for none
	}{
		{"ready", []string{"--url", srv.URL + "/readyz"}, 0, ""},
		{"not ready", []string{"--url", srv.URL + "/notready"}, 1, "503"},
		{"refused", []string{"--url", closed.URL + "/readyz"}, 1, "getting"},
		{"timeout", []string{"--url", srv.URL + "/slow", "--timeout", "100ms"}, 1, "deadline"},
		{"password redacted", []string{"--url", strings.Replace(srv.URL, "//", "//u:hunter2@", 1) + "/x"}, 1, "u:xxxxx@"},
		{"not http", []string{"--url", "ftp://example.invalid/"}, 2, "--url"},
		{"no host", []string{"--url", "/readyz"}, 2, "--url"},
		{"bad timeout", []string{"--url", srv.URL, "--timeout", "0s"}, 2, "--timeout"},
		{"unknown flag", []string{"--uri", srv.URL}, 2, "uri"},
		{"help", []string{"-h"}, 0, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := cmdHealthcheck(context.Background(), tc.args, &stdout, &stderr)
			msg := stderr.String()
			if code != tc.code {
				t.Fatalf("healthcheck %q: exit %d (stderr %q), want %d", tc.args, code, msg, tc.code)
			}
			if tc.stderr == "" && msg != "" {
				t.Errorf("healthcheck %q: stderr %q, want none", tc.args, msg)
			}
			if tc.stderr != "" && (!strings.Contains(msg, tc.stderr) || strings.Count(msg, "\n") != 1) {
				t.Errorf("healthcheck %q: stderr %q, want one line containing %q", tc.args, msg, tc.stderr)
			}
			if strings.Contains(msg+stdout.String(), "hunter2") {
				t.Errorf("healthcheck %q: the URL's password was printed: %q", tc.args, msg+stdout.String())
			}
		})
	}
}
