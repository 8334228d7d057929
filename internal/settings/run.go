package settings

import (
	"errors"
	"flag"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/callstream/callstream/connector"
	"github.com/callstream/callstream/connector/calllist"
	"github.com/callstream/callstream/connector/registry"
	"github.com/callstream/callstream/connector/schedule"
	"github.com/callstream/callstream/connector/security"
	"github.com/callstream/callstream/connector/sink"
	"github.com/callstream/callstream/connector/source"
	"github.com/callstream/callstream/secret"
)

// Run are the settings of `callstream run` as the command line holds
// them; Config turns them into a connector.SourceConfig.
type Run struct {
	// Version is the connector's version, for the events' source block.
	Version string
	// Listen is the address of /metrics, /healthz and /readyz.
	Listen string
	// FencedHold is how long a fenced instance stays up, not ready.
	FencedHold time.Duration
	// CheckConfig asks for the settings to be checked only.
	CheckConfig bool
	// Log are the logging settings.
	Log Log
	// CPUProfile is the file that receives a pprof CPU profile of the
	// whole process (--cpuprofile; empty: none).
	CPUProfile string
	// Registry is built from the flags by SourceConfig and ConnectorConfig; nil without
	// --schema-registry-url.
	Registry *registry.Client

	apiURL, appID, appKey, appKeyFile, typ, sign string
	brokers, startFrom, tiers                    string
	topics                                       sink.Topics
	transactionalID, sourceName                  string
	pageSize, maxPages, partitions, replication  int
	pageConcurrency                              int
	pollInterval, settle, backfillWindow         time.Duration
	sweepWindow, requestTimeout, readyMaxAge     time.Duration
	noRecordsAlert                               time.Duration
	checkpointDelay                              time.Duration
	retryMax, backfillMaxWindow                  time.Duration
	transactionTimeout, restoreStallTimeout      time.Duration
	maxTransactionBytes                          int64
	rateLimit                                    float64
	rateBurst                                    int
	createTopics                                 bool
	emitUpdates                                  bool
	ignoreChanges                                string
	group                                        groupFlags
	kafka                                        Kafka
	produce                                      produceFlags
}

// Register defines run's flags on fs.
func (f *Run) Register(fs *flag.FlagSet) {
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
	fs.IntVar(&f.replication, "replication-factor", 0, "replication factor of created topics (0: 3, or every broker when the cluster has fewer; -1: the brokers' default.replication.factor)")
	fs.DurationVar(&f.transactionTimeout, "transaction-timeout", sink.DefaultTransactionTimeout, "transaction timeout asked of the brokers (at most their transaction.max.timeout.ms); a commit produces for at most half of it and ends within a quarter")
	fs.DurationVar(&f.restoreStallTimeout, "restore-stall-timeout", connector.DefaultRestoreStallTimeout, "a restore of the state topic that reads nothing for this long fails, naming the producer whose open transaction holds it (0: wait for good)")
	fs.Int64Var(&f.maxTransactionBytes, "max-transaction-bytes", connector.DefaultMaxTransactionBytes, "largest batch of one window's transaction, in bytes of keys, values and headers; a window whose batch would weigh more is halved (0: no bound)")
	fs.StringVar(&f.Listen, "listen", ":9090", "address of /metrics, /healthz and /readyz")
	fs.StringVar(&f.startFrom, "start-from", "", "backfill start at the first start: RFC 3339 time or a duration ago (default: the deepest tier's horizon)")
	fs.DurationVar(&f.pollInterval, "poll-interval", 5*time.Second, "how often the live edge is read")
	fs.DurationVar(&f.settle, "settle-delay", 10*time.Second, "windows end this far in the past")
	fs.StringVar(&f.tiers, "tiers", schedule.DefaultTiers, "re-scan tiers NAME=HORIZON@EVERY,…")
	fs.DurationVar(&f.backfillWindow, "backfill-window", time.Hour, "span of one backfill window")
	fs.DurationVar(&f.backfillMaxWindow, "backfill-max-window", 24*time.Hour, "span a backfill window may grow to while the windows before it are (nearly) empty")
	fs.DurationVar(&f.sweepWindow, "sweep-window", time.Hour, "span of one re-scan window")
	fs.StringVar(&f.sourceName, "source-name", "scrm", "name of this source in metrics")
	fs.DurationVar(&f.readyMaxAge, "ready-max-age", 5*time.Minute, "/readyz fails when no poll succeeded for this long")
	fs.DurationVar(&f.checkpointDelay, "checkpoint-delay", connector.DefaultCheckpointDelay, "how long the checkpoints of windows that emitted nothing may wait to commit together with a later window's (0: every window commits on its own)")
	fs.DurationVar(&f.noRecordsAlert, "no-records-alert", connector.DefaultNoRecordsAlert, "how long API requests may succeed without a record before the CallstreamNoRecords alert fires (exported for the rule)")
	fs.DurationVar(&f.FencedHold, "fenced-hold", 2*time.Minute, "once a newer instance with the same transactional id has fenced this one, stay up, not ready, this long before exiting, so that a rolling update removes it rather than restarting it; longer than a new instance takes to be ready (0: exit at once)")
	fs.BoolVar(&f.CheckConfig, "check-config", false, "validate the settings and exit")
	fs.BoolVar(&f.emitUpdates, "emit-updates", true, "emit an UPDATED event when a call's content changes with its status unchanged (false: CREATED and STATUS_CHANGED only)")
	fs.StringVar(&f.ignoreChanges, "ignore-changes", "", "call fields, FIELD[,…], whose changes alone emit no UPDATED event, e.g. url when it carries an expiring token (extra.KEY for one key of extra)")
	f.group.register(fs)
	f.kafka.Register(fs)
	f.produce.register(fs)
	f.Log.Register(fs)
	fs.StringVar(&f.CPUProfile, "cpuprofile", "", "write a pprof CPU profile of the process to this file, from the start to the exit (for performance work; empty: none)")
}

// SourceConfig validates the flags and builds the connector's configuration
// of the one source they define, and the registry client (f.Registry).
// now is the time --start-from counts back from.
func (f *Run) SourceConfig(now time.Time) (connector.SourceConfig, error) {
	var cfg connector.SourceConfig
	key, err := security.Password(secret.String(f.appKey), f.appKeyFile, "--app-key")
	if err != nil {
		return cfg, Usagef("%v", err)
	}
	signer, err := calllist.ParseSigner(f.sign)
	if err != nil {
		return cfg, InvalidValue("sign", f.sign, err.Error())
	}
	tiers, err := schedule.ParseTiers(f.tiers)
	if err != nil {
		return cfg, InvalidValue("tiers", f.tiers, err.Error())
	}
	if f.FencedHold < 0 {
		return cfg, InvalidValue("fenced-hold", f.FencedHold.String(), "want a duration ≥ 0 (0: exit at once)")
	}
	for _, n := range []struct {
		name string
		v    int
		max  int
	}{{"partitions", f.partitions, math.MaxInt32}, {"replication-factor", f.replication, math.MaxInt16}} {
		if n.v > n.max {
			return cfg, InvalidValue(n.name, strconv.Itoa(n.v), "want at most "+strconv.Itoa(n.max))
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
	cfg = connector.SourceConfig{
		APIURL: f.apiURL, AppID: f.appID, AppKey: key, Type: f.typ,
		PageSize: f.pageSize, MaxPages: f.maxPages, PageConcurrency: f.pageConcurrency, Signer: signer, RequestTimeout: f.requestTimeout,
		Retry:     source.Retry{Initial: source.DefaultRetryInitial, Max: f.retryMax},
		RateLimit: f.rateLimit, RateBurst: f.rateBurst,
		Brokers: SplitList(f.brokers), TransactionalID: f.transactionalID, Topics: f.topics,
		CreateTopics: f.createTopics, Partitions: int32(f.partitions), ReplicationFactor: int16(f.replication),
		TransactionTimeout: f.transactionTimeout, MaxTransactionBytes: f.maxTransactionBytes, RestoreStallTimeout: f.restoreStallTimeout,
		Schedule: sched, SourceName: f.sourceName, ReadyMaxAge: f.readyMaxAge, NoRecordsAlert: f.noRecordsAlert, Version: f.Version,
		NoUpdates: !f.emitUpdates, IgnoreChanges: SplitList(f.ignoreChanges),
		CheckpointDelay: f.checkpointDelay,
	}
	if f.checkpointDelay == 0 {
		cfg.CheckpointDelay = -1 // the connector's 0 is its default
	}
	if err := f.applyKafka(&cfg); err != nil {
		return cfg, err
	}
	if err := cfg.Validate(); err != nil {
		return cfg, flagError(err)
	}
	return cfg, nil
}

// configFlags are the flags of the connector.SourceConfig fields that
// Validate names.
var configFlags = map[string]string{
	"APIURL": "api-url", "AppID": "app-id", "AppKey": "app-key", "PageSize": "page-size", "MaxPages": "max-pages",
	"PageConcurrency": "page-concurrency", "RequestTimeout": "request-timeout", "Retry.Max": "retry-max",
	"RateLimit": "rate-limit", "RateBurst": "rate-burst", "Brokers": "brokers", "TransactionalID": "transactional-id",
	"Topics.Calls": "topic-calls", "Topics.Failed": "topic-failed", "Topics.DLQ": "topic-dlq", "Topics.State": "topic-state",
	"Topics.Latest": "topic-latest",
	"Partitions":    "partitions", "ReplicationFactor": "replication-factor",
	"TransactionTimeout": "transaction-timeout", "MaxTransactionBytes": "max-transaction-bytes",
	"RestoreStallTimeout": "restore-stall-timeout",
	"Schedule.Tiers":      "tiers", "Schedule.Settle": "settle-delay", "Schedule.PollInterval": "poll-interval",
	"Schedule.BackfillWindow": "backfill-window", "Schedule.SweepWindow": "sweep-window",
	"Schedule.BackfillMaxWindow": "backfill-max-window", "ReadyMaxAge": "ready-max-age", "NoRecordsAlert": "no-records-alert",
	"BatchMaxBytes": "batch-max-bytes", "IgnoreChanges": "ignore-changes",
}

// flagError turns the first *connector.FieldError of err into the one-line
// usage error of its flag.
func flagError(err error) error {
	var fe *connector.FieldError
	if !errors.As(err, &fe) {
		return &UsageError{strings.Split(err.Error(), "\n")[0]}
	}
	name, ok := configFlags[fe.Field]
	if !ok {
		name = fe.Field // a field without a flag of its own; TestConfigFlagsNameEveryField keeps this from happening
	}
	switch {
	case fe.Field == "AppKey":
		return Usagef("--app-key: %s (or --app-key-file, or CALLSTREAM_APP_KEY)", fe.Want)
	case fe.Value == "":
		return Usagef("--%s: %s", name, fe.Want)
	}
	return InvalidValue(name, fe.Value, fe.Want)
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
	return time.Time{}, InvalidValue("start-from", s, "want an RFC 3339 time such as 2026-01-02T15:04:05+08:00, or a duration ago such as 48h")
}

// SplitList splits a comma-separated list, dropping empty items.
func SplitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func newRunFlagSet() *flag.FlagSet { return flag.NewFlagSet("run", flag.ContinueOnError) }
