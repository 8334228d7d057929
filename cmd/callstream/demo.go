package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/callstream/callstream/connector"
	"github.com/callstream/callstream/connector/event"
	"github.com/callstream/callstream/connector/schedule"
	"github.com/callstream/callstream/connector/sink"
	"github.com/callstream/callstream/connector/source"
	"github.com/callstream/callstream/secret"
	"github.com/callstream/callstream/simulator"
)

// The demo's fixed credentials: they guard nothing but the in-process
// simulator.
const (
	demoAppID  = "demo-app"
	demoAppKey = secret.String("demo-app-key")
)

func cmdDemo(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	listen := fs.String("listen", "127.0.0.1:9090", "address of the connector's /metrics, /healthz and /readyz (unless given, a free port when this one is taken)")
	var lf logFlags
	lf.register(fs)
	if err := parseLayered(fs, args, noEnv); err != nil {
		return flagExit(fs, stdout, stderr, "demo", err)
	}
	if lf.level == "info" {
		lf.level = "warn" // the demo's output is its events
	}
	if !flagSet(fs, "listen") {
		*listen = demoListen(*listen)
	}
	logger, err := lf.logger(stderr)
	if err != nil {
		return exitStatus(stderr, "demo", err)
	}
	if err := demo(ctx, *listen, stdout, func(cfg connector.Config, print func(connector.Committed)) error {
		return runConnector(ctx, cfg, *listen, logger, print, nil, 0)
	}); err != nil {
		return exitStatus(stderr, "demo", err)
	}
	return 0
}

// demo starts a broker and a simulator in process, then runs the connector
// against them through run, printing one line per committed event.
func demo(ctx context.Context, listen string, stdout io.Writer, run func(connector.Config, func(connector.Committed)) error) error {
	broker, err := startBroker("127.0.0.1:0", "", 3)
	if err != nil {
		return err
	}
	defer broker.Close()

	sim, err := simulator.New(simulator.Config{
		AppID: demoAppID, AppKey: demoAppKey, Seed: time.Now().UnixNano(),
		History: 12, HistorySpan: 30 * time.Minute, Rate: 0.5,
		ConvertAfter: 8 * time.Second, FailRatio: 0.2,
		// The type the connector below asks; every 10th call's content is
		// not JSON, so that a dead letter shows among the first events.
		Types: []string{source.DefaultType}, BrokenEvery: 10,
	})
	if err != nil {
		return fmt.Errorf("starting simulator: %w", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("starting simulator: %w", err)
	}
	srv := &http.Server{Handler: sim.Handler(), ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()

	tiers, _ := schedule.ParseTiers("recent=2m@0s,hour=1h@30s")
	cfg := connector.Config{
		APIURL: "http://" + ln.Addr().String(), AppID: demoAppID, AppKey: demoAppKey,
		Type: source.DefaultType, PageSize: 50, MaxPages: 20, RequestTimeout: 5 * time.Second,
		Retry:   source.Retry{Initial: 200 * time.Millisecond, Max: 2 * time.Second},
		Brokers: broker.ListenAddrs(), TransactionalID: "callstream-demo", CreateTopics: true, Partitions: 3,
		Topics: sink.Topics{Calls: "calls", Failed: "calls.failed", DLQ: "calls.dlq", State: "callstream.state"},
		Schedule: schedule.Config{
			Tiers: tiers, Settle: time.Second, PollInterval: time.Second,
			StartFrom: time.Now().Add(-time.Hour), BackfillWindow: 10 * time.Minute, SweepWindow: 10 * time.Minute,
		},
		SourceName: "demo", ReadyMaxAge: time.Minute, Version: version,
	}
	fmt.Fprintf(stdout, "callstream demo: simulator %s, broker %s, metrics http://%s/metrics\n",
		cfg.APIURL, strings.Join(cfg.Brokers, ","), listen)
	fmt.Fprintln(stdout, "committed events follow (Ctrl-C to stop):")
	var mu sync.Mutex
	err = run(cfg, func(c connector.Committed) {
		mu.Lock()
		defer mu.Unlock()
		fmt.Fprintln(stdout, demoLine(c))
	})
	if err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	fmt.Fprintln(stdout, "callstream demo: stopped")
	return nil
}

// demoLine renders one committed event for a person to read.
func demoLine(c connector.Committed) string {
	if c.Call == nil {
		return fmt.Sprintf("%-15s %-13s %d reason=%s", c.Kind, c.Topic, c.CallID, c.Reason)
	}
	call := c.Call
	text := ""
	switch v := call.Content.(type) {
	case *event.Transcript:
		if len(v.Sentences) > 0 {
			text = v.Sentences[0].Text
		}
	case *event.TaskStatus:
		text = v.StatusText
	}
	return fmt.Sprintf("%-15s %-13s %d status=%d %s  %s → %s  %s  %s",
		c.Kind, c.Topic, call.ID, call.Status, call.StatusStr, call.SendName, call.ReceiveName,
		call.CallType, text)
}

// demoListen returns addr if it is free, or else another free loopback
// address: the demo's default port is Prometheus's, often taken on a
// developer's machine, and a demo should start whatever runs there.
func demoListen(addr string) string {
	ln, err := net.Listen("tcp", addr)
	if err == nil {
		ln.Close()
		return addr
	}
	if free, err := freeAddr(); err == nil {
		return free
	}
	return addr
}

// flagSet reports whether the named flag was given on the command line.
func flagSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}
