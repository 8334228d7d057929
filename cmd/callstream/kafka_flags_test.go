package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/callstream/callstream/connector"
	"github.com/callstream/callstream/connector/registry"
	"github.com/callstream/callstream/connector/sink"
	"github.com/callstream/callstream/connector/source"
	"github.com/callstream/callstream/internal/syncbuf"
	"github.com/callstream/callstream/schemas"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/sr"
	"github.com/twmb/franz-go/pkg/sr/srfake"
)

// The refusals at start, through the command: each is one clear line.
func TestRunRefusesAtStart(t *testing.T) {
	// older lacks every field after eventId: our schema cannot read its
	// data (no defaults), so it is not BACKWARD compatible.
	var m map[string]any
	if err := json.Unmarshal([]byte(schemas.CallEvent().Text()), &m); err != nil {
		t.Fatal(err)
	}
	m["fields"] = m["fields"].([]any)[:1]
	older, _ := json.Marshal(m)
	for _, tc := range []struct {
		name   string
		topics []string // topics that exist before the start, not compacted
		seed   bool     // the registry holds an incompatible version
		extra  []string
		want   string
	}{
		{"state topic not compacted", []string{"calls", "calls.failed", "calls.dlq", "callstream.state"}, false, nil,
			"topic is not compacted: set cleanup.policy=compact on"},
		{"topics missing, creation off", nil, false, []string{"--create-topics=false"}, "is missing"},
		{"incompatible schema", nil, true, nil, `schema for subject "calls-value" is not BACKWARD compatible with its version 1`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			opts := []kfake.Opt{kfake.NumBrokers(1)}
			if len(tc.topics) > 0 {
				opts = append(opts, kfake.SeedTopics(1, tc.topics...))
			}
			c, err := kfake.NewCluster(opts...)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			reg := srfake.New()
			defer reg.Close()
			if tc.seed {
				reg.SeedSchema("calls-value", 1, 1, sr.Schema{Schema: string(older), Type: sr.TypeAvro})
			}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			var errOut strings.Builder
			args := append([]string{"--api-url", "http://127.0.0.1:1", "--app-id", "a", "--app-key", "k",
				"--brokers", c.ListenAddrs()[0], "--schema-registry-url", reg.URL(), "--listen", "",
				"--log-format", "text"}, tc.extra...)
			if code := cmdRun(ctx, args, io.Discard, &errOut); code != 1 {
				t.Fatalf("exit %d, want 1; stderr %q", code, errOut.String())
			}
			if !strings.Contains(errOut.String(), tc.want) {
				t.Errorf("stderr %q, want it to say %q", errOut.String(), tc.want)
			}
			if tc.seed && reg.SubjectExists("calls.failed-value") {
				t.Error("schemas were registered after the refusal")
			}
		})
	}
}

// A Schema Registry that does not answer yet at start is waited for, as the
// brokers are, each attempt logged; the schemas are registered once it
// listens. Before, the start ended at the first refused connection.
func TestRunWaitsForTheSchemaRegistry(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	c, err := registry.New(registry.Config{URL: "http://" + addr, Compatibility: registry.Backward})
	if err != nil {
		t.Fatal(err)
	}
	reg := srfake.NewRegistry()
	srv := &http.Server{Handler: reg.Handler()}
	t.Cleanup(func() { srv.Close() })
	go func() {
		time.Sleep(1500 * time.Millisecond)
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			t.Error(err)
			return
		}
		_ = srv.Serve(ln)
	}()
	var logs syncbuf.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, nil))
	cfg := connector.SourceConfig{Topics: sink.DefaultTopics(), Retry: source.Retry{Max: 200 * time.Millisecond}}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	enc, err := registryEncoder(ctx, c, cfg, logger)
	if err != nil || enc == nil {
		t.Fatalf("registryEncoder = %v, %v; want an encoder once the registry listens", enc, err)
	}
	if !strings.Contains(logs.String(), "schema registry not ready; retrying") {
		t.Errorf("logs %q, want the waits logged", logs.String())
	}
	if !reg.SubjectExists("calls-value") {
		t.Error("calls-value not registered")
	}
}
