package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/callstream/callstream/connector"
	"github.com/callstream/callstream/connector/event"
	"github.com/callstream/callstream/connector/registry"
	"github.com/callstream/callstream/connector/sink"
	"github.com/callstream/callstream/connector/source"
	"github.com/callstream/callstream/internal/pause"
	"github.com/callstream/callstream/internal/settings"
	"github.com/callstream/callstream/metrics"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kgo"
	"golang.org/x/sync/errgroup"
)

func cmdRun(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	f := settings.Run{Version: version}
	f.Register(fs)
	if err := settings.Parse(fs, args, os.LookupEnv); err != nil {
		return flagExit(fs, stdout, stderr, "run", err)
	}
	// One source is a list of one: without `sources` the flags define it.
	cfg, err := f.ConnectorConfig(args, os.LookupEnv, time.Now(), nil)
	if err != nil {
		return exitStatus(stderr, "run", err)
	}
	logger, err := f.Log.Logger(stderr)
	if err != nil {
		return exitStatus(stderr, "run", err)
	}
	if f.CheckConfig {
		fmt.Fprintln(stdout, "configuration ok")
		return 0
	}
	setMemoryLimit(logger)
	setGCPercent()
	stopProfile, err := startCPUProfile(f.CPUProfile)
	if err != nil {
		return exitStatus(stderr, "run", err)
	}
	defer stopProfile()
	enc, err := registryEncoder(ctx, f.Registry, cfg.Sources[0], logger)
	if err != nil {
		return exitStatus(stderr, "run", err)
	}
	logger.Info("starting sources", "sources", sourceNames(cfg), "group", cfg.Group)
	if err := runConnector(ctx, cfg, f.Listen, logger, nil, enc, f.FencedHold); err != nil {
		logger.Error("exiting", "class", exitClass(err), "err", err)
		return 1
	}
	logger.Info("stopped")
	return 0
}

// exitClass is the class of the error that ends the process: one of
// sink.Classes (fenced, auth, acl, config, kafka) for a fatal Kafka error,
// or fatal (anything else: the HTTP listener, the state topic, the schema
// registry).
func exitClass(err error) string {
	if class := sink.FatalClass(err); class != "" {
		return class
	}
	return "fatal"
}

// runServing runs run and the HTTP endpoints of h and reg on listen (none
// when empty) until ctx is done or run ends. A run that ends fenced by a
// newer instance keeps the endpoints up, not ready, for fencedHold (see
// holdFenced). A cancelled ctx is a clean stop: nil.
func runServing(ctx context.Context, run func(context.Context) error, h readiness, listen string, reg *prometheus.Registry, logger *slog.Logger, fencedHold time.Duration) error {
	g, gctx := errgroup.WithContext(ctx)
	runCtx, stopRun := context.WithCancel(gctx)
	defer stopRun()
	g.Go(func() error {
		defer stopRun()
		err := run(runCtx)
		if sink.IsFenced(err) && fencedHold > 0 {
			return holdFenced(runCtx, err, fencedHold, logger)
		}
		return err
	})
	if listen != "" {
		g.Go(func() error { return serveHTTP(runCtx, listen, reg, h, logger) })
	}
	err := g.Wait()
	if errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}

// holdFenced waits, after the connector was fenced, for hold or for ctx
// (SIGTERM), whichever comes first. In a rolling update the new pod fences
// the old one as it starts; were the old one to exit, its container would
// restart and fence the new one in turn, until the Deployment deleted it.
// Held, it stays up and not ready until the Deployment stops it, and then
// exits 0. Past hold it exits with the fenced error, so that two instances
// left running with one transactional id show as restarts.
func holdFenced(ctx context.Context, err error, hold time.Duration, logger *slog.Logger) error {
	logger.Warn("fenced by a newer instance with the same transactional id; not ready, waiting to be stopped",
		"exit_in", hold.String(), "err", err)
	t := time.NewTimer(hold)
	defer t.Stop()
	select {
	case <-ctx.Done():
		logger.Info("stopped while fenced")
		return nil
	case <-t.C:
		return err
	}
}

// stepHook is passed to the connector as Options.At. It is nil in the
// binary; tests that run this binary as a child set it to crash the
// process at a named step (see main_test.go).
var stepHook func(sink.Point)

func newRegistry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	registerRuntimeCollectors(reg)
	return reg
}

// runConnector runs the connector of cfg's sources and its HTTP endpoints
// until ctx is done or the connector fails. A connector fenced by a newer
// instance keeps the endpoints up, not ready, for fencedHold (see
// holdFenced); in a group a fenced unit only stops itself, and Run goes on.
func runConnector(ctx context.Context, cfg connector.Config, listen string, logger *slog.Logger, onCommit func(connector.Committed), enc *event.Encoder, fencedHold time.Duration) error {
	reg := newRegistry()
	m := metrics.New(reg)
	setBuildInfo(m)
	var gm *metrics.Group
	if cfg.Group != "" {
		gm = metrics.NewGroup(reg)
	}
	for i := range cfg.Sources {
		cfg.Sources[i].ProducerOpts = append(cfg.Sources[i].ProducerOpts, kgo.WithLogger(kgoLogger(logger)))
	}
	// kprom keeps the collectors of one client: in a group every producer
	// gets its own, told apart by its client id, the transactional id.
	unitOpts := func(tid string) []kgo.Opt {
		if cfg.Group == "" {
			return []kgo.Opt{kgo.WithHooks(kafkaMetrics(reg))}
		}
		return []kgo.Opt{kgo.ClientID(tid), kgo.WithHooks(kafkaMetrics(reg))}
	}
	conn, err := connector.New(cfg, connector.Options{Logger: logger, Metrics: m, OnCommit: onCommit, Encoder: enc, At: stepHook, UnitProducerOpts: unitOpts}, gm)
	if err != nil {
		return err
	}
	return runServing(ctx, conn.Run, conn, listen, reg, logger, fencedHold)
}

// sourceNames lists the sources' names, for the start's log line.
func sourceNames(cfg connector.Config) string {
	names := make([]string, len(cfg.Sources))
	for i, s := range cfg.Sources {
		names[i] = s.SourceName
	}
	return strings.Join(names, ",")
}

// registryEncoder registers or looks up the value schemas of the topics
// and returns an encoder framing values with their ids; without a registry
// it returns nil, the connector's default single-object encoding. An
// incompatible schema or refused credentials stop the start here, before
// Kafka is touched; a registry that does not answer yet (see
// registry.Mendable) is waited for as the brokers are, each attempt
// logged, with a backoff that doubles up to cfg.Retry.Max.
func registryEncoder(ctx context.Context, c *registry.Client, cfg connector.SourceConfig, logger *slog.Logger) (*event.Encoder, error) {
	if c == nil {
		return nil, nil
	}
	t := cfg.Topics
	wait := source.DefaultRetryInitial
	ceiling := max(cfg.Retry.Max, wait)
	var ids registry.IDs
	for attempt := 1; ; attempt++ {
		var err error
		ids, err = c.RegisterTopics(ctx, t.DLQ, t.Calls, t.Failed, t.Latest)
		if err == nil {
			if attempt > 1 {
				logger.Info("schema registry ready", "attempts", attempt)
			}
			break
		}
		if !registry.Mendable(err) || ctx.Err() != nil {
			return nil, fmt.Errorf("schema registry: %w", err)
		}
		logger.Warn("schema registry not ready; retrying", "attempt", attempt, "retry_in_seconds", wait.Seconds(), "err", err)
		if pause.For(ctx, wait) != nil {
			return nil, fmt.Errorf("waiting for the schema registry: %w (last error: %w)", ctx.Err(), err)
		}
		wait = min(2*wait, ceiling)
	}
	subjects := []string{registry.Subject(t.Calls), registry.Subject(t.Failed), registry.Subject(t.DLQ)}
	if t.Latest != "" {
		subjects = append(subjects, registry.Subject(t.Latest))
	}
	logger.Info("schemas registered", "call_event_id", ids.CallEvent, "dead_letter_id", ids.DeadLetter, "subjects", subjects)
	return event.NewRegistryEncoder(ids.CallEvent, ids.DeadLetter), nil
}
