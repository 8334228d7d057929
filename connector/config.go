// Package connector drives callstream: it owns the order of steps between
// the source (the vendor API), the dedup state, the event encoding and the
// Kafka sink, and keeps the one invariant they share: a window's events,
// state and checkpoint commit together, and memory changes only after.
package connector

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/callstream/callstream/connector/calllist"
	"github.com/callstream/callstream/connector/event"
	"github.com/callstream/callstream/connector/schedule"
	"github.com/callstream/callstream/connector/sink"
	"github.com/callstream/callstream/connector/source"
	"github.com/callstream/callstream/secret"
	"github.com/twmb/franz-go/pkg/kgo"
)

// SourceConfig is everything one source needs: its API, its Kafka settings
// (those of a Config's first source are the producer's and the topics') and
// its schedule. The command line fills it from flags, environment and a
// YAML file; Validate checks it once, before anything starts.
type SourceConfig struct {
	APIURL   string
	AppID    string
	AppKey   secret.String
	Type     string
	PageSize int
	// MaxPages is the page cap of one window; a larger window is split.
	MaxPages int
	// PageConcurrency is how many pages of a window are fetched at once
	// after page 1: 1..source.MaxPageConcurrency, with no default here (the
	// command's is source.DefaultPageConcurrency).
	PageConcurrency int
	Signer          calllist.Signer
	RequestTimeout  time.Duration
	// Retry is the backoff of failed API requests, and of the brokers
	// while they are not ready at start.
	Retry source.Retry
	// RateLimit caps the API requests a second, retries included; 0 means
	// no limit. RateBurst is how many may go at once; default 1.
	RateLimit float64
	RateBurst int
	// AuthLogEvery is how often a refused credential is logged while it
	// keeps being refused; default observe.DefaultAuthLogEvery.
	AuthLogEvery time.Duration
	// NoRecordsAlert is how long API requests may succeed without reading
	// a record before the CallstreamNoRecords alert fires; exported as
	// callstream_no_records_alert_seconds for the rule to compare with.
	NoRecordsAlert time.Duration

	Brokers           []string
	TransactionalID   string
	Topics            sink.Topics
	CreateTopics      bool
	Partitions        int32
	ReplicationFactor int16
	// TransactionTimeout is the producer's transaction timeout, at most
	// the brokers' transaction.max.timeout.ms; default
	// sink.DefaultTransactionTimeout. A commit produces for at most half
	// of it and ends in at most a quarter (sink.Bounds).
	TransactionTimeout time.Duration
	// MaxTransactionBytes bounds the bytes (keys, values, headers) of one
	// window's transaction: a window whose batch would weigh more is
	// halved and read again, as one of too many pages is; 0: no bound.
	MaxTransactionBytes int64
	// RestoreStallTimeout fails a restore that read nothing for this long,
	// naming the producer whose open transaction holds the state topic's
	// last stable offset short of the barrier (see sink.Config.RestoreStall);
	// 0 waits for good.
	RestoreStallTimeout time.Duration
	// TopicConfigs are set on the topics created; see sink.Config.
	TopicConfigs map[string]string
	// KafkaOpts are added to every Kafka client (security, dialing).
	KafkaOpts []kgo.Opt
	// ProducerOpts are added to the transactional producer only.
	ProducerOpts []kgo.Opt
	// BatchMaxBytes, when above 0, lowers the topics' limits learnt at
	// start (see sink.Config.BatchMaxBytes).
	BatchMaxBytes int

	// NoUpdates turns UPDATED events off (--emit-updates=false): a call
	// whose content changes with its status unchanged emits nothing, as
	// before UPDATED existed; its state still follows the content, so
	// turning updates on later emits only later changes.
	NoUpdates bool
	// IgnoreChanges names the call fields (event.HashFields, or
	// "extra.KEY") whose changes alone emit no UPDATED event, such as a URL
	// that carries an expiring token.
	IgnoreChanges []string

	Schedule schedule.Config
	// SourceName labels this source in metrics and events.
	SourceName string
	// ReadyMaxAge is how long after the last successful poll /readyz stays
	// true.
	ReadyMaxAge time.Duration
	// StallGrace is added to five of a task's intervals (the poll interval
	// for the live edge and the backfill, a tier's own for a tier) to give
	// how long its checkpoint may go without advancing, while the API
	// answers, before /readyz and callstream_tier_stalled say it stalled;
	// default observe.DefaultStallGrace.
	StallGrace time.Duration
	// PruneEvery is how often entries past the deepest horizon are dropped
	// and tombstoned; default DefaultPruneEvery.
	PruneEvery time.Duration
	// CheckpointDelay is how long the checkpoints of windows that emitted
	// nothing may wait to travel together in one transaction (see
	// deferredCheckpoints); default DefaultCheckpointDelay, negative: every
	// window commits at once. Windows with events always commit at once.
	CheckpointDelay time.Duration
	// Version is the connector version written into every event.
	Version string
	// Clock returns the current time; default time.Now.
	Clock func() time.Time
}

// DefaultMaxTransactionBytes is the command's default of
// SourceConfig.MaxTransactionBytes: 32 MiB, produced within half the default
// transaction timeout even at a producer quota of 2 MiB/s.
const DefaultMaxTransactionBytes = 32 << 20

// DefaultRestoreStallTimeout is the command's default of
// SourceConfig.RestoreStallTimeout: past Kafka's default
// transaction.max.timeout.ms (15 minutes), after which the coordinator
// aborts any transaction left open.
const DefaultRestoreStallTimeout = 20 * time.Minute

// FieldError is a Config field whose value is missing or out of range. It
// names the field as Go does (Field "PageConcurrency", "Schedule.Settle"),
// so that a command can name its own setting for it. Value never holds a
// secret: secret fields are only ever reported missing.
type FieldError struct {
	Field string // the field's path in Config
	Value string // the value given, as text; "" when missing
	Want  string // what a valid value is, e.g. "want 1..64"
}

func (e *FieldError) Error() string {
	if e.Value == "" {
		return e.Field + ": " + e.Want
	}
	return fmt.Sprintf("%s: invalid value %q: %s", e.Field, e.Value, e.Want)
}

// Validate reports every field that is missing or out of range, each as a
// *FieldError, in the order of Config; errors.As finds the first. This is
// the one place these rules live: the command line checks only what it
// parses, and the API client's own checks of the same fields are the same
// rules (see source.NewClient).
func (c *SourceConfig) Validate() error {
	var errs []error
	need := func(ok bool, field string, value any, want string) {
		if !ok {
			errs = append(errs, &FieldError{Field: field, Value: fmt.Sprint(value), Want: want})
		}
	}
	required := func(ok bool, field string) {
		if !ok {
			errs = append(errs, &FieldError{Field: field, Want: "required"})
		}
	}
	u, err := url.Parse(c.APIURL)
	switch {
	case c.APIURL == "":
		required(false, "APIURL")
	case err != nil:
		// The text may hold a password (user:password@host); not echoed.
		need(false, "APIURL", "", "want an http(s) URL")
	default:
		need((u.Scheme == "http" || u.Scheme == "https") && u.Host != "", "APIURL", u.Redacted(), "want an http(s) URL")
	}
	required(c.AppID != "", "AppID")
	required(c.AppKey != "", "AppKey")
	need(c.PageSize >= 1 && c.PageSize <= source.MaxPageSize, "PageSize", c.PageSize, fmt.Sprintf("want 1..%d", source.MaxPageSize))
	need(c.MaxPages >= 1, "MaxPages", c.MaxPages, "want 1 or more")
	need(c.PageConcurrency >= 1 && c.PageConcurrency <= source.MaxPageConcurrency, "PageConcurrency", c.PageConcurrency,
		fmt.Sprintf("want 1..%d", source.MaxPageConcurrency))
	need(c.RequestTimeout >= 0, "RequestTimeout", c.RequestTimeout, "want a duration ≥ 0 (0: the default)")
	need(c.Retry.Max >= 0, "Retry.Max", c.Retry.Max, "want a duration ≥ 0")
	need(c.RateLimit >= 0, "RateLimit", c.RateLimit, "want requests a second ≥ 0 (0: no limit)")
	need(c.RateBurst >= 0, "RateBurst", c.RateBurst, "want 0 or more")
	required(len(c.Brokers) > 0, "Brokers")
	required(c.TransactionalID != "", "TransactionalID")
	t := c.Topics
	// Each topic is required and its own, but Latest, which empty turns off.
	seen := map[string]string{}
	for _, f := range []struct{ field, role, name string }{
		{"Topics.Calls", "calls", t.Calls}, {"Topics.Failed", "failed", t.Failed}, {"Topics.DLQ", "dead-letter", t.DLQ},
		{"Topics.State", "state", t.State}, {"Topics.Latest", "latest", t.Latest},
	} {
		if f.name == "" {
			required(f.field == "Topics.Latest", f.field)
			continue
		}
		other, dup := seen[f.name]
		need(!dup, f.field, f.name, "want a topic of its own, not the "+other+" topic")
		seen[f.name] = f.role
	}
	need(c.BatchMaxBytes == 0 || (c.BatchMaxBytes >= 1<<10 && c.BatchMaxBytes <= sink.MaxBatchBytes), "BatchMaxBytes", c.BatchMaxBytes,
		fmt.Sprintf("want 0 (the topics' limits) or 1024..%d", sink.MaxBatchBytes))
	for _, f := range c.IgnoreChanges {
		_, err := event.ParseIgnore([]string{f})
		need(err == nil, "IgnoreChanges", f, "want fields of the call ("+strings.Join(event.HashFields, ", ")+") or extra.KEY")
	}
	need(c.Partitions >= -1, "Partitions", c.Partitions, "want 1 or more (0 or -1: the broker's default)")
	need(c.ReplicationFactor >= -1, "ReplicationFactor", c.ReplicationFactor,
		"want 1 or more (0: 3, or every broker when fewer; -1: the brokers' default)")
	need(c.TransactionTimeout == 0 || c.TransactionTimeout >= time.Second, "TransactionTimeout", c.TransactionTimeout,
		"want at least 1s (0: the default, 1m)")
	need(c.RestoreStallTimeout >= 0, "RestoreStallTimeout", c.RestoreStallTimeout, "want a duration ≥ 0 (0: wait for good)")
	need(c.MaxTransactionBytes >= 0, "MaxTransactionBytes", c.MaxTransactionBytes, "want 0 or more bytes (0: no bound)")
	s := c.Schedule
	need(len(s.Tiers) > 0, "Schedule.Tiers", "", "want at least one tier")
	need(s.Settle >= 0, "Schedule.Settle", s.Settle, "want a duration ≥ 0")
	need(s.PollInterval > 0, "Schedule.PollInterval", s.PollInterval, "want a positive duration")
	need(s.BackfillWindow >= time.Second, "Schedule.BackfillWindow", s.BackfillWindow, "want at least 1s")
	need(s.SweepWindow >= time.Second, "Schedule.SweepWindow", s.SweepWindow, "want at least 1s")
	need(s.BackfillMaxWindow == 0 || s.BackfillMaxWindow >= s.BackfillWindow, "Schedule.BackfillMaxWindow", s.BackfillMaxWindow,
		"want 0 or at least the backfill window, "+s.BackfillWindow.String())
	need(c.ReadyMaxAge >= 0, "ReadyMaxAge", c.ReadyMaxAge, "want a duration ≥ 0 (0: the default)")
	need(c.NoRecordsAlert >= 0, "NoRecordsAlert", c.NoRecordsAlert, "want a duration ≥ 0 (0: the default, 24h)")
	return errors.Join(errs...)
}
