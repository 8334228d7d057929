package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/callstream/callstream/connector"
	"github.com/callstream/callstream/connector/event"
	"github.com/callstream/callstream/connector/registry"
	"github.com/callstream/callstream/connector/schedule"
	"github.com/callstream/callstream/connector/sink"
	"github.com/callstream/callstream/connector/source"
	"github.com/callstream/callstream/internal/devbroker"
	"github.com/callstream/callstream/internal/proc"
	"github.com/callstream/callstream/internal/settings"
	"github.com/callstream/callstream/secret"
	"github.com/callstream/callstream/simulator"
)

// The demo's fixed credentials: they guard nothing but the in-process
// simulator.
const (
	demoAppID  = "demo-app"
	demoAppKey = secret.String("demo-app-key")
)

// demoBrokenEvery is how often the demo's simulator breaks a call's inner
// JSON: the 10th, 20th, … call to arrive, history included, becomes a dead
// letter in the first poll.
const demoBrokenEvery = 10

// demoOptions are the settings of one demo.
type demoOptions struct {
	listen string // the connector's /metrics, /healthz and /readyz
	broker string // the broker's HOST:PORT
	// registry, when set, serves a Schema Registry in process and frames
	// values with its schema ids, as production with a registry does.
	registry bool
	seed     int64 // of the simulator's data
	logger   *slog.Logger
}

// demoRun runs the connector on cfg with enc (nil: single-object
// encoding), calling onCommit for every committed record.
type demoRun func(cfg connector.SourceConfig, enc *event.Encoder, onCommit func(connector.Committed)) error

func cmdDemo(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	listen := fs.String("listen", "127.0.0.1:9090", "address of the connector's /metrics, /healthz and /readyz (unless given, a free port when this one is taken)")
	brokerListen := fs.String("broker-listen", "127.0.0.1:9092", "HOST:PORT of the demo's broker (unless given, a free port when this one is taken)")
	withRegistry := fs.Bool("registry", false, "serve a Schema Registry in process and frame values 00 + schema id, as with --schema-registry-url")
	seed := fs.Int64("seed", 0, "seed of the simulator's data; 0: from the clock, other calls every time")
	var lf settings.Log
	lf.Register(fs)
	if err := settings.Parse(fs, args, settings.NoEnv); err != nil {
		return flagExit(fs, stdout, stderr, "demo", err)
	}
	if lf.Level == "info" {
		lf.Level = "warn" // the demo's output is its events
	}
	if !flagSet(fs, "listen") {
		*listen = demoListen(*listen)
	}
	if !flagSet(fs, "broker-listen") {
		*brokerListen = demoListen(*brokerListen)
	}
	logger, err := lf.Logger(stderr)
	if err != nil {
		return exitStatus(stderr, "demo", err)
	}
	if *seed == 0 {
		*seed = time.Now().UnixNano()
	}
	o := demoOptions{listen: *listen, broker: *brokerListen, registry: *withRegistry, seed: *seed, logger: logger}
	if err := demo(ctx, o, stdout, func(cfg connector.SourceConfig, enc *event.Encoder, print func(connector.Committed)) error {
		return runConnector(ctx, connector.Config{Sources: []connector.SourceConfig{cfg}, UnprefixedSource: cfg.SourceName}, *listen, logger, print, enc, 0)
	}); err != nil {
		return exitStatus(stderr, "demo", err)
	}
	return 0
}

// demo starts a broker, a simulator and, with o.registry, a Schema Registry
// in process, then runs the connector against them through run, printing
// one line per committed record, and on stop a summary.
func demo(ctx context.Context, o demoOptions, stdout io.Writer, run demoRun) error {
	broker, err := startBroker(ctx, devbroker.Options{Listen: o.broker})
	if err != nil {
		return err
	}
	defer broker.Close()
	apiURL, stopSim, err := startDemoSimulator(o.seed)
	if err != nil {
		return err
	}
	defer stopSim()

	tiers, _ := schedule.ParseTiers("recent=2m@0s,hour=1h@30s")
	cfg := connector.SourceConfig{
		APIURL: apiURL, AppID: demoAppID, AppKey: demoAppKey,
		Type: source.DefaultType, PageSize: 50, MaxPages: 20, PageConcurrency: source.DefaultPageConcurrency, RequestTimeout: 5 * time.Second,
		Retry:   source.Retry{Initial: 200 * time.Millisecond, Max: 2 * time.Second},
		Brokers: broker.ListenAddrs(), TransactionalID: "callstream-demo", CreateTopics: true, Partitions: 3,
		Topics: sink.DefaultTopics(),
		Schedule: schedule.Config{
			Tiers: tiers, Settle: time.Second, PollInterval: time.Second,
			StartFrom: time.Now().Add(-time.Hour), BackfillWindow: 10 * time.Minute, SweepWindow: 10 * time.Minute,
		},
		SourceName: "demo", ReadyMaxAge: time.Minute, Version: version,
	}
	tailCmd := "callstream tail --brokers " + strings.Join(cfg.Brokers, ",") + " --from-beginning"
	var enc *event.Encoder
	if o.registry {
		reg, err := devbroker.StartRegistry("127.0.0.1:0")
		if err != nil {
			return err
		}
		defer reg.Close()
		if enc, err = demoRegistryEncoder(ctx, reg.URL(), cfg, o.logger); err != nil {
			return err
		}
		tailCmd += " --schema-registry-url " + reg.URL()
		fmt.Fprintf(stdout, "callstream demo: schema registry %s (values framed 00 + schema id)\n", reg.URL())
	}
	fmt.Fprintf(stdout, "callstream demo: simulator %s, broker %s, metrics http://%s/metrics\n",
		cfg.APIURL, strings.Join(cfg.Brokers, ","), o.listen)
	fmt.Fprintf(stdout, "read the topics from another terminal while the demo runs: %s\n", tailCmd)
	fmt.Fprintln(stdout, "committed records follow (Ctrl-C to stop):")
	p := newDemoPrinter(stdout)
	p.header()
	err = run(cfg, enc, p.print)
	if err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	fmt.Fprintln(stdout, "callstream demo: stopped")
	p.summary()
	fmt.Fprintf(stdout, "its broker stopped with it; while a demo runs, this reads the topics: %s\n", tailCmd)
	return nil
}

// startDemoSimulator serves a simulator of the vendor API on a free
// loopback port, with a few records broken so that dead letters show. It
// returns the API's base URL and a function that stops it.
func startDemoSimulator(seed int64) (string, func(), error) {
	sim, err := simulator.New(simulator.Config{
		AppID: demoAppID, AppKey: demoAppKey, Seed: seed,
		History: 12, HistorySpan: 30 * time.Minute, Rate: 0.5,
		ConvertAfter: 8 * time.Second, FailRatio: 0.2,
		// The type the connector below asks; every demoBrokenEvery-th
		// call's content is not JSON, so that a dead letter shows among
		// the first events.
		Types: []string{source.DefaultType}, BrokenEvery: demoBrokenEvery,
	})
	if err != nil {
		return "", nil, fmt.Errorf("starting simulator: %w", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, fmt.Errorf("starting simulator: %w", err)
	}
	srv := &http.Server{Handler: sim.Handler(), ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	return "http://" + ln.Addr().String(), func() { srv.Close() }, nil
}

// demoRegistryEncoder registers the demo's value schemas in the registry
// at url and returns the encoder that frames values with their ids.
func demoRegistryEncoder(ctx context.Context, url string, cfg connector.SourceConfig, logger *slog.Logger) (*event.Encoder, error) {
	c, err := registry.New(registry.Config{URL: url, Compatibility: registry.Backward})
	if err != nil {
		return nil, err
	}
	return registryEncoder(ctx, c, cfg, logger)
}

// demoListen returns addr if it is free, or else another free loopback
// address: the demo's default ports are Prometheus's and Kafka's, often
// taken on a developer's machine, and a demo should start whatever runs
// there.
func demoListen(addr string) string {
	ln, err := net.Listen("tcp", addr)
	if err == nil {
		ln.Close()
		return addr
	}
	if free, err := proc.FreeAddr(); err == nil {
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
