// Package metrics defines callstream's Prometheus metrics. Every metric is
// created on a registry passed in, never the global one, so that tests and
// several instances in one process stay apart.
package metrics

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

// Namespace prefixes every metric name.
const Namespace = "callstream"

// Metrics holds callstream's own metrics. Label values stay bounded: kinds,
// outcomes, topic names and tier names, never a call id or a URL.
type Metrics struct {
	// SourceLag is now minus the end of the newest window read whole,
	// computed when scraped.
	SourceLag *Lag
	// LastSuccess is the Unix time of the last window read whole.
	LastSuccess   *prometheus.GaugeVec
	APIRequests   *prometheus.CounterVec
	APIDuration   prometheus.Histogram
	APIErrors     *prometheus.CounterVec
	WindowsRead   *prometheus.CounterVec
	WindowRereads prometheus.Counter
	RecordsRead   *prometheus.CounterVec
	// LastRecord is the Unix time of the last window that held a record.
	LastRecord *prometheus.GaugeVec
	// NoRecordsAlert is the threshold of the CallstreamNoRecords alert.
	NoRecordsAlert prometheus.Gauge
	RecordsSkipped prometheus.Counter
	Events         *prometheus.CounterVec
	DLQRecords     *prometheus.CounterVec
	// UnknownFields counts keys of vendor records that callstream does
	// not know, kept as raw JSON in an extra map.
	UnknownFields prometheus.Counter
	// OtherStatuses counts calls whose status is not 0, 1 or 2, by value.
	OtherStatuses   *prometheus.CounterVec
	Transactions    *prometheus.CounterVec
	TxnDuration     prometheus.Histogram
	StateEntries    prometheus.Gauge
	StateBytes      prometheus.Gauge
	StateTombstones prometheus.Counter
	EventDelay      prometheus.Histogram
	// Ready is 1 when /readyz would answer 200, computed when scraped.
	Ready         *FuncGauge
	BackfillRatio *prometheus.GaugeVec
	ClockSkew     prometheus.Gauge
	Restores      prometheus.Histogram
	// FatalErrors counts failures that end the connector, by reason
	// (fenced, auth, acl, config, kafka: see sink.FatalClass); the process
	// exits and is restarted after one.
	FatalErrors *prometheus.CounterVec
	// BuildInfo is 1, labelled with the version, the VCS revision and the
	// Go version of the binary.
	BuildInfo *prometheus.GaugeVec

	// Reading a window whole on an imperfect listing.
	//
	// WindowInconsistent counts windows accepted as listed although their
	// reads kept disagreeing, by source and reason (count_mismatch,
	// duplicate_id, one_second: see source.InconsistentReasons).
	WindowInconsistent *prometheus.CounterVec
	// WindowsNarrowed counts windows cut to their first half before being
	// read, by source and reason (too_many_pages, drift).
	WindowsNarrowed *prometheus.CounterVec
	// PageSize is the page size in use, by source: the configured one, or
	// the cap the server showed.
	PageSize *prometheus.GaugeVec
	// CheckpointAge is, by source and tier (live, backfill or a re-scan
	// tier), how long ago the task's checkpoint last advanced, computed
	// when scraped; a finished backfill exports none.
	CheckpointAge *FuncGaugeVec
	// TierStalled is 1 for a tier whose checkpoint has not advanced for
	// several of its intervals while the API answers, computed when
	// scraped.
	TierStalled *FuncGaugeVec
	// Transactions sized to their timeout, and restores that wait.

	// TransactionTimeouts counts transactions that outlasted their bounds
	// or the coordinator's timeout; each starts a new producer and a
	// restore in the same process (not a fence, no exit).
	TransactionTimeouts prometheus.Counter
	// TransactionSplits counts windows halved because their batch would
	// exceed the transaction byte bound.
	TransactionSplits prometheus.Counter
	// RestoreUnstable is how many offsets of the state partitions being
	// restored lie between the last stable offset and the restore's
	// barrier: records held back by another producer's open transaction;
	// 0 when no restore waits.
	RestoreUnstable prometheus.Gauge
}

// Labels of the per-source gauges.
const (
	LabelSource = "source"
	LabelType   = "type"
	LabelTier   = "tier"
)

// New creates callstream's metrics on reg.
func New(reg prometheus.Registerer) *Metrics {
	f := promauto.With(reg)
	src := []string{LabelSource, LabelType}
	return &Metrics{
		SourceLag: newLag(reg),
		LastSuccess: f.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: Namespace, Name: "last_success_timestamp_seconds",
			Help: "Unix time of the last window read whole and committed.",
		}, src),
		APIRequests: f.NewCounterVec(prometheus.CounterOpts{
			Namespace: Namespace, Name: "api_requests_total",
			Help: "Requests to the vendor API, by outcome (ok or an error kind) and by the tier whose window they read (live, backfill, a re-scan tier, or probe for the count at start).",
		}, []string{LabelSource, "outcome", LabelTier}),
		APIDuration: f.NewHistogram(prometheus.HistogramOpts{
			Namespace: Namespace, Name: "api_request_duration_seconds",
			Help:    "Duration of requests to the vendor API.",
			Buckets: prometheus.ExponentialBucketsRange(0.01, 60, 14),
		}),
		APIErrors: f.NewCounterVec(prometheus.CounterOpts{
			Namespace: Namespace, Name: "api_errors_total",
			Help: "Failed requests to the vendor API, by source and kind (transport, http, business, decode, auth).",
		}, []string{LabelSource, "kind"}),
		WindowsRead: f.NewCounterVec(prometheus.CounterOpts{
			Namespace: Namespace, Name: "windows_read_total",
			Help: "Windows read whole, by tier.",
		}, []string{"tier"}),
		WindowRereads: f.NewCounter(prometheus.CounterOpts{
			Namespace: Namespace, Name: "window_rereads_total",
			Help: "Windows read again because they changed while being paged.",
		}),
		RecordsRead: f.NewCounterVec(prometheus.CounterOpts{
			Namespace: Namespace, Name: "records_read_total",
			Help: "Records read from the vendor API, by source and by the tier whose window held them (live, backfill or a re-scan tier).",
		}, []string{LabelSource, LabelTier}),
		LastRecord: f.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: Namespace, Name: "last_record_timestamp_seconds",
			Help: "Unix time of the last window that held at least one record (the process start until one does).",
		}, src),
		NoRecordsAlert: f.NewGauge(prometheus.GaugeOpts{
			Namespace: Namespace, Name: "no_records_alert_seconds",
			Help: "--no-records-alert: how long requests may succeed without a record before CallstreamNoRecords fires.",
		}),
		RecordsSkipped: f.NewCounter(prometheus.CounterOpts{
			Namespace: Namespace, Name: "records_unchanged_total",
			Help: "Records skipped on re-scan because their bytes had not changed.",
		}),
		Events: f.NewCounterVec(prometheus.CounterOpts{
			Namespace: Namespace, Name: "events_total",
			Help: "Events committed, by source, topic and kind.",
		}, []string{LabelSource, "topic", "kind"}),
		UnknownFields: f.NewCounter(prometheus.CounterOpts{
			Namespace: Namespace, Name: "unknown_fields_total",
			Help: "Keys of vendor records that callstream does not know, kept as raw JSON in extra; the log names each new key once.",
		}),
		OtherStatuses: f.NewCounterVec(prometheus.CounterOpts{
			Namespace: Namespace, Name: "other_status_total",
			Help: "Calls read whose status is not 0, 1 or 2, by value (at most 16 values, then \"other\"), passed on as they are.",
		}, []string{"status"}),
		DLQRecords: f.NewCounterVec(prometheus.CounterOpts{
			Namespace: Namespace, Name: "dlq_records_total",
			Help: "Records committed to the dead-letter topic, by source and reason.",
		}, []string{LabelSource, "reason"}),
		Transactions: f.NewCounterVec(prometheus.CounterOpts{
			Namespace: Namespace, Name: "transactions_total",
			Help: "Kafka transactions ended, by outcome (commit, abort).",
		}, []string{"outcome"}),
		TxnDuration: f.NewHistogram(prometheus.HistogramOpts{
			Namespace: Namespace, Name: "transaction_duration_seconds",
			Help:    "Time from the first produce of a transaction to its commit.",
			Buckets: prometheus.ExponentialBucketsRange(0.001, 30, 14),
		}),
		StateEntries: f.NewGauge(prometheus.GaugeOpts{
			Namespace: Namespace, Name: "state_entries",
			Help: "Calls held in the dedup state.",
		}),
		StateBytes: f.NewGauge(prometheus.GaugeOpts{
			Namespace: Namespace, Name: "state_bytes",
			Help: "Memory the dedup state's table holds, most of it mapped outside the Go heap (not in go_memstats_*).",
		}),
		StateTombstones: f.NewCounter(prometheus.CounterOpts{
			Namespace: Namespace, Name: "state_tombstones_total",
			Help: "Dedup entries dropped past the deepest re-scan horizon.",
		}),
		EventDelay: f.NewHistogram(prometheus.HistogramOpts{
			Namespace: Namespace, Name: "event_delay_seconds",
			Help:    "Commit time minus the call's gmtCreateTime.",
			Buckets: prometheus.ExponentialBucketsRange(1, 86400, 16),
		}),
		Ready: newFuncGauge(reg, "ready",
			"1 when the connector is ready (state loaded, producer ready, recent poll), computed when scraped."),
		BackfillRatio: f.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: Namespace, Name: "backfill_progress_ratio",
			Help: "Share of the backfill range read, from 0 to 1.",
		}, src),
		ClockSkew: f.NewGauge(prometheus.GaugeOpts{
			Namespace: Namespace, Name: "clock_skew_seconds",
			Help: "The API server's clock minus ours, from its Date header.",
		}),
		Restores: f.NewHistogram(prometheus.HistogramOpts{
			Namespace: Namespace, Name: "state_restore_duration_seconds",
			Help:    "Time to read the state topic at start.",
			Buckets: prometheus.ExponentialBucketsRange(0.01, 300, 12),
		}),
		FatalErrors: f.NewCounterVec(prometheus.CounterOpts{
			Namespace: Namespace, Name: "fatal_errors_total",
			Help: "Failures that end the connector, by reason (fenced, auth, acl, config, kafka).",
		}, []string{"reason"}),
		BuildInfo: f.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: Namespace, Name: "build_info",
			Help: "Always 1, labelled with the version, VCS revision and Go version of the binary.",
		}, []string{"version", "revision", "goversion"}),
		WindowInconsistent: f.NewCounterVec(prometheus.CounterOpts{
			Namespace: Namespace, Name: "window_inconsistent_total",
			Help: "Windows accepted as listed although their reads kept disagreeing, by source and reason (count_mismatch, duplicate_id: a window of one page; one_second: a window of one second over several pages); the re-scan tiers read them again.",
		}, []string{LabelSource, "reason"}),
		WindowsNarrowed: f.NewCounterVec(prometheus.CounterOpts{
			Namespace: Namespace, Name: "windows_narrowed_total",
			Help: "Windows cut to their first half before being read, by source and reason (too_many_pages, drift: re-reads kept disagreeing).",
		}, []string{LabelSource, "reason"}),
		PageSize: f.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: Namespace, Name: "page_size",
			Help: "Records a page the connector asks for: --page-size, or the cap the server showed.",
		}, []string{LabelSource}),
		CheckpointAge: newFuncGaugeVec(reg, "checkpoint_age_seconds",
			"Seconds since the checkpoint of each task (live, backfill, a re-scan tier) last advanced, computed when scraped; none for a finished backfill.",
			LabelTier),
		TierStalled: newFuncGaugeVec(reg, "tier_stalled",
			"1 when a task (live, backfill, a re-scan tier) has not advanced its checkpoint for several of its intervals while the API answers, computed when scraped.",
			LabelTier),
		TransactionTimeouts: f.NewCounter(prometheus.CounterOpts{
			Namespace: Namespace, Name: "transaction_timeouts_total",
			Help: "Transactions that outlasted their bounds or the brokers' transaction timeout; each restarts the unit's producer and restore in the same process.",
		}),
		TransactionSplits: f.NewCounter(prometheus.CounterOpts{
			Namespace: Namespace, Name: "transaction_splits_total",
			Help: "Windows halved because their transaction would exceed --max-transaction-bytes.",
		}),
		RestoreUnstable: f.NewGauge(prometheus.GaugeOpts{
			Namespace: Namespace, Name: "restore_unstable_offsets",
			Help: "Offsets of the state partitions being restored between the last stable offset and the restore's barrier (held by another producer's open transaction); 0 when no restore waits.",
		}),
	}
}
