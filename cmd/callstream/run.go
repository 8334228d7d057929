package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"github.com/callstream/callstream/connector/calllist"
	"io"
	"log/slog"
	"math"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/callstream/callstream/connector"
	"github.com/callstream/callstream/connector/event"
	"github.com/callstream/callstream/connector/registry"
	"github.com/callstream/callstream/connector/schedule"
	"github.com/callstream/callstream/connector/sink"
	"github.com/callstream/callstream/connector/source"
	"github.com/callstream/callstream/metrics"
	"github.com/callstream/callstream/secret"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kgo"
	"golang.org/x/sync/errgroup"
)

// runFlags are the settings of `callstream run` as the command line holds
// them; toConfig turns them into a connector.Config.
type runFlags struct {
	apiURL, appID, appKey, appKeyFile, typ, sign string
	brokers, listen, startFrom, tiers            string
	topics                                       sink.Topics
	transactionalID, sourceName                  string
	pageSize, maxPages, partitions, replication  int
	pageConcurrency                              int
	pollInterval, settle, backfillWindow         time.Duration
	sweepWindow, requestTimeout, readyMaxAge     time.Duration
	noRecordsAlert                               time.Duration
	retryMax, backfillMaxWindow, fencedHold      time.Duration
	rateLimit                                    float64
	rateBurst                                    int
	createTopics, checkConfig                    bool
	log                                          logFlags
	group                                        groupFlags
	kafka                                        kafkaFlags
	produce                                      produceFlags
	// registry is built from the flags by applyKafka; nil without
	// --schema-registry-url.
	registry *registry.Client
}

func (f *runFlags) register(fs *flag.FlagSet) {
	fs.String("config", "", "YAML file of settings; keys are the flag names")
	fs.StringVar(&f.apiURL, "api-url", "", "base URL of the vendor API (the client appends "+calllist.Path+")")
	fs.StringVar(&f.appID, "app-id", "", "the vendor app id")
	fs.StringVar(&f.appKey, "app-key", "", "the vendor app key (prefer CALLSTREAM_APP_KEY or --app-key-file)")
	fs.StringVar(&f.appKeyFile, "app-key-file", "", "file holding the vendor app key")
	fs.StringVar(&f.typ, "type", source.DefaultType, "request type: the category of the archive to list; "+source.DefaultType+" is the only one the vendor's example request shows (its records say \"type\": \"call\" whatever the category); the vendor has others")
	fs.StringVar(&f.sign, "sign", calllist.DefaultSignSpec, "sign recipe DIGEST:FIELD+FIELD…:CASE:UNIT (see README)")
	fs.IntVar(&f.pageSize, "page-size", source.DefaultPageSize, "records per page")
	fs.IntVar(&f.maxPages, "max-pages", 50, "pages of one window before it is split")
	fs.IntVar(&f.pageConcurrency, "page-concurrency", source.DefaultPageConcurrency, "pages of a window fetched at once after the first (1: one at a time); --rate-limit still applies")
	fs.DurationVar(&f.requestTimeout, "request-timeout", source.DefaultTimeout, "timeout of one API request")
	fs.DurationVar(&f.retryMax, "retry-max", source.DefaultRetryMax, "longest wait between retries of a failed API request or of Kafka not ready at start, and the wait after an auth failure")
	fs.Float64Var(&f.rateLimit, "rate-limit", 0, "API requests a second, retries included (0: no limit)")
	fs.IntVar(&f.rateBurst, "rate-burst", 1, "API requests that may go at once under --rate-limit")
	fs.StringVar(&f.brokers, "brokers", "", "Kafka seed brokers, HOST:PORT[,…]")
	fs.StringVar(&f.transactionalID, "transactional-id", "callstream", "Kafka transactional id; one per connector")
	defaultTopics := sink.DefaultTopics()
	fs.StringVar(&f.topics.Calls, "topic-calls", defaultTopics.Calls, "topic of converted and in-progress calls")
	fs.StringVar(&f.topics.Failed, "topic-failed", defaultTopics.Failed, "topic of failed conversions (status 0)")
	fs.StringVar(&f.topics.DLQ, "topic-dlq", defaultTopics.DLQ, "dead-letter topic")
	fs.StringVar(&f.topics.State, "topic-state", defaultTopics.State, "compacted state topic")
	fs.StringVar(&f.topics.Latest, "topic-latest", defaultTopics.Latest, "compacted current-state topic: every call's latest event (empty: off)")
	fs.BoolVar(&f.createTopics, "create-topics", true, "create missing topics (false: only verify)")
	fs.IntVar(&f.partitions, "partitions", 3, "partitions of created event topics")
	fs.IntVar(&f.replication, "replication-factor", -1, "replication factor of created topics (-1: broker default)")
	fs.StringVar(&f.listen, "listen", ":9090", "address of /metrics, /healthz and /readyz")
	fs.StringVar(&f.startFrom, "start-from", "", "backfill start at the first start: RFC 3339 time or a duration ago (default: the deepest tier's horizon)")
	fs.DurationVar(&f.pollInterval, "poll-interval", 5*time.Second, "how often the live edge is read")
	fs.DurationVar(&f.settle, "settle-delay", 10*time.Second, "windows end this far in the past")
	fs.StringVar(&f.tiers, "tiers", schedule.DefaultTiers, "re-scan tiers NAME=HORIZON@EVERY,…")
	fs.DurationVar(&f.backfillWindow, "backfill-window", time.Hour, "span of one backfill window")
	fs.DurationVar(&f.backfillMaxWindow, "backfill-max-window", 24*time.Hour, "span a backfill window may grow to while the windows before it are (nearly) empty")
	fs.DurationVar(&f.sweepWindow, "sweep-window", time.Hour, "span of one re-scan window")
	fs.StringVar(&f.sourceName, "source-name", "scrm", "name of this source in metrics")
	fs.DurationVar(&f.readyMaxAge, "ready-max-age", 5*time.Minute, "/readyz fails when no poll succeeded for this long")
	fs.DurationVar(&f.noRecordsAlert, "no-records-alert", connector.DefaultNoRecordsAlert, "how long API requests may succeed without a record before the CallstreamNoRecords alert fires (exported for the rule)")
	fs.DurationVar(&f.fencedHold, "fenced-hold", 2*time.Minute, "once a newer instance with the same transactional id has fenced this one, stay up, not ready, this long before exiting, so that a rolling update removes it rather than restarting it; longer than a new instance takes to be ready (0: exit at once)")
	fs.BoolVar(&f.checkConfig, "check-config", false, "validate the settings and exit")
	f.group.register(fs)
	f.kafka.register(fs)
	f.produce.register(fs)
	f.log.register(fs)
}

// toConfig validates the flags and builds the connector's configuration.
func (f *runFlags) toConfig(now time.Time) (connector.Config, error) {
	var cfg connector.Config
	key, err := f.readAppKey()
	if err != nil {
		return cfg, err
	}
	signer, err := calllist.ParseSigner(f.sign)
	if err != nil {
		return cfg, invalidValue("sign", f.sign, err.Error())
	}
	tiers, err := schedule.ParseTiers(f.tiers)
	if err != nil {
		return cfg, invalidValue("tiers", f.tiers, err.Error())
	}
	if f.fencedHold < 0 {
		return cfg, invalidValue("fenced-hold", f.fencedHold.String(), "want a duration ≥ 0 (0: exit at once)")
	}
	for _, n := range []struct {
		name string
		v    int
		max  int
	}{{"partitions", f.partitions, math.MaxInt32}, {"replication-factor", f.replication, math.MaxInt16}} {
		if n.v > n.max {
			return cfg, invalidValue(n.name, strconv.Itoa(n.v), "want at most "+strconv.Itoa(n.max))
		}
	}
	sched := schedule.Config{
		Tiers: tiers, Settle: f.settle, PollInterval: f.pollInterval,
		BackfillWindow: f.backfillWindow, SweepWindow: f.sweepWindow,
		BackfillMaxWindow: f.backfillMaxWindow,
	}
	if sched.StartFrom, err = parseStartFrom(f.startFrom, now, sched.Horizon()); err != nil {
		return cfg, err
	}
	cfg = connector.Config{
		APIURL: f.apiURL, AppID: f.appID, AppKey: key, Type: f.typ,
		PageSize: f.pageSize, MaxPages: f.maxPages, PageConcurrency: f.pageConcurrency, Signer: signer, RequestTimeout: f.requestTimeout,
		Retry:     source.Retry{Initial: source.DefaultRetryInitial, Max: f.retryMax},
		RateLimit: f.rateLimit, RateBurst: f.rateBurst,
		Brokers: splitList(f.brokers), TransactionalID: f.transactionalID, Topics: f.topics,
		CreateTopics: f.createTopics, Partitions: int32(f.partitions), ReplicationFactor: int16(f.replication),
		Schedule: sched, SourceName: f.sourceName, ReadyMaxAge: f.readyMaxAge, NoRecordsAlert: f.noRecordsAlert, Version: version,
	}
	if err := f.applyKafka(&cfg); err != nil {
		return cfg, err
	}
	if err := cfg.Validate(); err != nil {
		return cfg, flagError(err)
	}
	return cfg, nil
}

// configFlags are the flags of the connector.Config fields that
// Validate names.
var configFlags = map[string]string{
	"APIURL": "api-url", "AppID": "app-id", "AppKey": "app-key", "PageSize": "page-size", "MaxPages": "max-pages",
	"PageConcurrency": "page-concurrency", "RequestTimeout": "request-timeout", "Retry.Max": "retry-max",
	"RateLimit": "rate-limit", "RateBurst": "rate-burst", "Brokers": "brokers", "TransactionalID": "transactional-id",
	"Topics.Calls": "topic-calls", "Topics.Failed": "topic-failed", "Topics.DLQ": "topic-dlq", "Topics.State": "topic-state",
	"Topics.Latest": "topic-latest",
	"Partitions":    "partitions", "ReplicationFactor": "replication-factor",
	"Schedule.Tiers": "tiers", "Schedule.Settle": "settle-delay", "Schedule.PollInterval": "poll-interval",
	"Schedule.BackfillWindow": "backfill-window", "Schedule.SweepWindow": "sweep-window",
	"Schedule.BackfillMaxWindow": "backfill-max-window", "ReadyMaxAge": "ready-max-age", "NoRecordsAlert": "no-records-alert",
}

// flagError turns the first *connector.FieldError of err into the one-line
// usage error of its flag.
func flagError(err error) error {
	var fe *connector.FieldError
	if !errors.As(err, &fe) {
		return &usageError{strings.Split(err.Error(), "\n")[0]}
	}
	name, ok := configFlags[fe.Field]
	if !ok {
		name = fe.Field // a field without a flag of its own; TestConfigFlagsNameEveryField keeps this from happening
	}
	switch {
	case fe.Field == "AppKey":
		return usagef("--app-key: %s (or --app-key-file, or CALLSTREAM_APP_KEY)", fe.Want)
	case fe.Value == "":
		return usagef("--%s: %s", name, fe.Want)
	}
	return invalidValue(name, fe.Value, fe.Want)
}

func (f *runFlags) readAppKey() (secret.String, error) {
	switch {
	case f.appKey != "" && f.appKeyFile != "":
		return "", usagef("--app-key-file: give the app key once, not also --app-key")
	case f.appKeyFile != "":
		b, err := os.ReadFile(f.appKeyFile)
		if err != nil {
			return "", usagef("--app-key-file: %v", err)
		}
		return secret.String(strings.TrimSpace(string(b))), nil
	}
	return secret.String(f.appKey), nil
}

// parseStartFrom reads --start-from: an RFC 3339 time, or a duration ago.
func parseStartFrom(s string, now time.Time, horizon time.Duration) (time.Time, error) {
	if s == "" {
		return now.Add(-horizon), nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	if d, err := time.ParseDuration(s); err == nil && d >= 0 {
		return now.Add(-d), nil
	}
	return time.Time{}, invalidValue("start-from", s, "want an RFC 3339 time such as 2026-01-02T15:04:05+08:00, or a duration ago such as 48h")
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func newRunFlagSet() *flag.FlagSet { return flag.NewFlagSet("run", flag.ContinueOnError) }

func cmdRun(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newRunFlagSet()
	var f runFlags
	f.register(fs)
	cpuProfile := registerCPUProfile(fs)
	if err := parseLayered(fs, args, os.LookupEnv); err != nil {
		return flagExit(fs, stdout, stderr, "run", err)
	}
	// Without `sources` and `group` the flags define one connector, run as
	// it always was; otherwise a Set of sources.
	var (
		first connector.Config
		start func(*slog.Logger, *event.Encoder) error
	)
	if f.group.many() {
		cfg, err := f.toSetConfig(args, os.LookupEnv, time.Now(), nil)
		if err != nil {
			return exitStatus(stderr, "run", err)
		}
		first = cfg.Sources[0]
		start = func(logger *slog.Logger, enc *event.Encoder) error {
			logger.Info("starting sources", "sources", sourceNames(cfg), "group", cfg.Group)
			return runSet(ctx, cfg, f.listen, logger, enc, f.fencedHold)
		}
	} else {
		cfg, err := f.toConfig(time.Now())
		if err != nil {
			return exitStatus(stderr, "run", err)
		}
		first = cfg
		start = func(logger *slog.Logger, enc *event.Encoder) error {
			return runConnector(ctx, cfg, f.listen, logger, nil, enc, f.fencedHold)
		}
	}
	logger, err := f.log.logger(stderr)
	if err != nil {
		return exitStatus(stderr, "run", err)
	}
	if f.checkConfig {
		fmt.Fprintln(stdout, "configuration ok")
		return 0
	}
	setMemoryLimit(logger)
	stopProfile, err := startCPUProfile(*cpuProfile)
	if err != nil {
		return exitStatus(stderr, "run", err)
	}
	defer stopProfile()
	enc, err := registryEncoder(ctx, f.registry, first, logger)
	if err != nil {
		return exitStatus(stderr, "run", err)
	}
	if err := start(logger, enc); err != nil {
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

// runConnector runs the connector and its HTTP endpoints until ctx is done
// or the connector fails. A connector fenced by a newer instance keeps the
// endpoints up, not ready, for fencedHold (see holdFenced).
func runConnector(ctx context.Context, cfg connector.Config, listen string, logger *slog.Logger, onCommit func(connector.Committed), enc *event.Encoder, fencedHold time.Duration) error {
	reg := newRegistry()
	m := metrics.New(reg)
	setBuildInfo(m)
	kp := kafkaMetrics(reg)
	cfg.ProducerOpts = append(cfg.ProducerOpts, kgo.WithHooks(kp), kgo.WithLogger(kgoLogger(logger)))
	conn, err := connector.New(cfg, connector.Options{Logger: logger, Metrics: m, OnCommit: onCommit, Encoder: enc, At: stepHook})
	if err != nil {
		return err
	}
	return runServing(ctx, conn.Run, conn.Health(), listen, reg, logger, fencedHold)
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
