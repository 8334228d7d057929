package connector

import (
	"github.com/callstream/callstream/connector/diff"
	"github.com/callstream/callstream/connector/event"
	"github.com/callstream/callstream/connector/sink"
	"github.com/callstream/callstream/connector/source"
)

// The reasons of the callstream_fatal_errors_total metric are the classes
// of sink.FatalClass.
const fatalFenced = sink.ClassFenced

// initMetrics creates the series of every bounded label value, so that rates
// and alerts see zero rather than nothing before the first event of a kind.
func (c *poller) initMetrics() {
	m, name := c.m, c.cfg.SourceName
	tiers := append(c.cfg.Schedule.TaskNames(), tierProbe)
	for _, tier := range tiers {
		m.APIRequests.WithLabelValues(name, "ok", tier)
		for _, k := range source.Kinds() {
			m.APIRequests.WithLabelValues(name, string(k), tier)
		}
		if tier != tierProbe {
			m.RecordsRead.WithLabelValues(name, tier)
		}
	}
	for _, k := range source.Kinds() {
		m.APIErrors.WithLabelValues(name, string(k))
	}
	m.LastRecord.With(c.labels).Set(float64(c.cfg.Clock().UnixMilli()) / 1000)
	m.NoRecordsAlert.Set(c.cfg.NoRecordsAlert.Seconds())
	for _, topic := range []string{c.cfg.Topics.Calls, c.cfg.Topics.Failed} {
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
	m.LastSuccess.With(c.labels)
	for _, r := range source.InconsistentReasons() {
		m.WindowInconsistent.WithLabelValues(name, r)
	}
	for _, r := range []string{narrowTooManyPages, narrowDrift} {
		m.WindowsNarrowed.WithLabelValues(name, r)
	}
	m.PageSize.WithLabelValues(name).Set(float64(c.cfg.PageSize))
	m.CheckpointAge.Set(name, c.stalls.Ages)
	m.TierStalled.Set(name, c.stalls.StalledFlags)
}
