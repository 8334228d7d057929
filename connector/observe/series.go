package observe

import (
	"sync/atomic"
	"time"

	"github.com/callstream/callstream/connector/diff"
	"github.com/callstream/callstream/connector/event"
	"github.com/callstream/callstream/connector/sink"
	"github.com/callstream/callstream/connector/source"
	"github.com/callstream/callstream/metrics"
	"github.com/prometheus/client_golang/prometheus"
)

// TierProbe labels the requests made outside any task: the clock's and the
// count of calls listed.
const TierProbe = "probe"

// Reasons a window is narrowed: the label values of WindowsNarrowed.
const (
	NarrowTooManyPages = "too_many_pages"
	NarrowDrift        = "drift"
)

// Source is what the series of one source are made of.
type Source struct {
	Name, Type string
	// Tasks are the schedule's task names (schedule.Config.TaskNames).
	Tasks          []string
	Topics         sink.Topics
	PageSize       int
	NoRecordsAlert time.Duration
	// Now is when the source starts: its last record's time until one is
	// read.
	Now time.Time
	// Stalls gives the checkpoints' ages and the stalled tasks.
	Stalls *StallWatch
}

// Labels are the source and type labels of the source's own series.
func (s Source) Labels() prometheus.Labels {
	return prometheus.Labels{metrics.LabelSource: s.Name, metrics.LabelType: s.Type}
}

// Init creates the series of every bounded label value of s, so that rates
// and alerts see zero rather than nothing before the first event of a kind.
func Init(m *metrics.Metrics, s Source) {
	name, labels := s.Name, s.Labels()
	tiers := append(append([]string(nil), s.Tasks...), TierProbe)
	for _, tier := range tiers {
		m.APIRequests.WithLabelValues(name, "ok", tier)
		for _, k := range source.Kinds() {
			m.APIRequests.WithLabelValues(name, string(k), tier)
		}
		if tier != TierProbe {
			m.RecordsRead.WithLabelValues(name, tier)
		}
	}
	for _, k := range source.Kinds() {
		m.APIErrors.WithLabelValues(name, string(k))
	}
	m.LastRecord.With(labels).Set(float64(s.Now.UnixMilli()) / 1000)
	m.NoRecordsAlert.Set(s.NoRecordsAlert.Seconds())
	for _, topic := range []string{s.Topics.Calls, s.Topics.Failed} {
		for _, kind := range event.Kinds() {
			m.Events.WithLabelValues(name, topic, kind.String())
		}
	}
	for _, r := range diff.Reasons() {
		m.DLQRecords.WithLabelValues(name, r)
	}
	m.Transactions.WithLabelValues("commit")
	m.Transactions.WithLabelValues("abort")
	for _, class := range sink.Classes() {
		m.FatalErrors.WithLabelValues(class)
	}
	m.LastSuccess.With(labels)
	for _, r := range source.InconsistentReasons() {
		m.WindowInconsistent.WithLabelValues(name, r)
	}
	for _, r := range []string{NarrowTooManyPages, NarrowDrift} {
		m.WindowsNarrowed.WithLabelValues(name, r)
	}
	m.PageSize.WithLabelValues(name).Set(float64(s.PageSize))
	m.CheckpointAge.Set(name, s.Stalls.Ages)
	m.TierStalled.Set(name, s.Stalls.StalledFlags)
}

// Forget drops the series of the source named name of type typ, once its
// unit of work stopped because its partition moved: the pod that runs it
// now exports them, and stale ones here would age into false alerts.
func Forget(m *metrics.Metrics, name, typ string) {
	labels := prometheus.Labels{metrics.LabelSource: name, metrics.LabelType: typ}
	m.SourceLag.Delete(name, typ)
	m.LastSuccess.Delete(labels)
	m.LastRecord.Delete(labels)
	m.BackfillRatio.Delete(labels)
	own := prometheus.Labels{metrics.LabelSource: name}
	for _, v := range []*prometheus.CounterVec{m.APIRequests, m.APIErrors, m.RecordsRead, m.Events, m.DLQRecords,
		m.WindowInconsistent, m.WindowsNarrowed} {
		v.DeletePartialMatch(own)
	}
	m.PageSize.DeletePartialMatch(own)
	m.CheckpointAge.Delete(name)
	m.TierStalled.Delete(name)
}

// StateTotals is the state of every source of a process, for the
// callstream_state_entries and callstream_state_bytes gauges: each source
// adds what its store grew or shrank by since it last reported.
type StateTotals struct {
	calls, bytes atomic.Int64
}

// StateReport is what one source last added to its StateTotals.
type StateReport struct {
	calls, bytes int64
}

// Report sets the state gauges to the sum over the process's sources, the
// source of r now holding calls entries of bytes. Only the source's own
// goroutine calls it.
func (t *StateTotals) Report(m *metrics.Metrics, r *StateReport, calls, bytes int64) {
	m.StateEntries.Set(float64(t.calls.Add(calls - r.calls)))
	m.StateBytes.Set(float64(t.bytes.Add(bytes - r.bytes)))
	*r = StateReport{calls, bytes}
}

// Forget takes the source of r out of the totals, once its unit of work
// stopped.
func (t *StateTotals) Forget(m *metrics.Metrics, r *StateReport) { t.Report(m, r, 0, 0) }
