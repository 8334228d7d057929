// Package connector drives callstream: it owns the order of steps between
// the source (the vendor API), the dedup state, the event encoding and the
// Kafka sink, and keeps the one invariant they share: a window's events,
// state and checkpoint commit together, and memory changes only after.
package connector

import (
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/callstream/callstream/connector/calllist"
	"github.com/callstream/callstream/connector/schedule"
	"github.com/callstream/callstream/connector/sink"
	"github.com/callstream/callstream/connector/source"
	"github.com/callstream/callstream/secret"
	"github.com/twmb/franz-go/pkg/kgo"
)

// Config is everything the connector needs. The command line fills it from
// flags, environment and a YAML file; Validate checks it once, before
// anything starts.
type Config struct {
	APIURL   string
	AppID    string
	AppKey   secret.String
	Type     string
	PageSize int
	// MaxPages is the page cap of one window; a larger window is split.
	MaxPages int
	// PageConcurrency is how many pages of a window are fetched at once
	// after page 1; 0 means source.DefaultPageConcurrency.
	PageConcurrency int
	Signer          calllist.Signer
	RequestTimeout  time.Duration
	Retry           source.Retry
	// RateLimit caps the API requests a second, retries included; 0 means
	// no limit. RateBurst is how many may go at once; default 1.
	RateLimit float64
	RateBurst int
	// AuthLogEvery is how often a refused credential is logged while it
	// keeps being refused; default DefaultAuthLogEvery.
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
	// TopicConfigs are set on the topics created; see sink.Config.
	TopicConfigs map[string]string
	// KafkaOpts are added to every Kafka client (security, dialing).
	KafkaOpts []kgo.Opt
	// ProducerOpts are added to the transactional producer only.
	ProducerOpts []kgo.Opt

	Schedule schedule.Config
	// SourceName labels this source in metrics and events.
	SourceName string
	// ReadyMaxAge is how long after the last successful poll /readyz stays
	// true.
	ReadyMaxAge time.Duration
	// PruneEvery is how often entries past the deepest horizon are dropped
	// and tombstoned; default DefaultPruneEvery.
	PruneEvery time.Duration
	// Version is the connector version written into every event.
	Version string
	// Clock returns the current time; default time.Now.
	Clock func() time.Time
}

// Validate reports the first setting that is missing or out of range,
// naming it as the command line does.
func (c *Config) Validate() error {
	var errs []error
	need := func(ok bool, name, msg string) {
		if !ok {
			errs = append(errs, fmt.Errorf("--%s: %s", name, msg))
		}
	}
	u, err := url.Parse(c.APIURL)
	need(err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "", "api-url", "want an http(s) URL")
	need(c.AppID != "", "app-id", "is required")
	need(c.AppKey != "", "app-key", "is required (or --app-key-file)")
	need(len(c.Brokers) > 0, "brokers", "is required")
	need(c.TransactionalID != "", "transactional-id", "is required")
	need(c.PageSize >= 1 && c.PageSize <= source.MaxPageSize, "page-size", fmt.Sprintf("want 1..%d", source.MaxPageSize))
	need(c.MaxPages >= 1, "max-pages", "want at least 1")
	need(c.PageConcurrency >= 0 && c.PageConcurrency <= 64, "page-concurrency", "want 1..64")
	need(c.Schedule.PollInterval > 0, "poll-interval", "want a positive duration")
	need(c.Schedule.Settle >= 0, "settle-delay", "want a duration ≥ 0")
	need(len(c.Schedule.Tiers) > 0, "tiers", "want at least one tier")
	need(c.Schedule.BackfillWindow >= time.Second, "backfill-window", "want at least 1s")
	need(c.Schedule.SweepWindow >= time.Second, "sweep-window", "want at least 1s")
	need(c.Schedule.BackfillMaxWindow == 0 || c.Schedule.BackfillMaxWindow >= c.Schedule.BackfillWindow,
		"backfill-max-window", "want at least --backfill-window")
	need(c.RateLimit >= 0, "rate-limit", "want requests a second ≥ 0 (0: no limit)")
	need(c.RateBurst >= 0, "rate-burst", "want at least 0")
	need(c.Retry.Max >= 0, "retry-max", "want a duration ≥ 0")
	t := c.Topics
	need(t.Calls != "" && t.Failed != "" && t.DLQ != "" && t.State != "", "topic-calls", "topic names must not be empty")
	names := []string{t.Calls, t.Failed, t.DLQ, t.State}
	if t.Latest != "" {
		names = append(names, t.Latest)
	}
	need(distinct(names...), "topic-state", "the topics must differ")
	return errors.Join(errs...)
}

func distinct(names ...string) bool {
	seen := map[string]bool{}
	for _, n := range names {
		if seen[n] {
			return false
		}
		seen[n] = true
	}
	return true
}
