package connector

import (
	"sync/atomic"

	"github.com/callstream/callstream/metrics"
	"github.com/prometheus/client_golang/prometheus"
)

// stateTotals is the state of every source of a process, for the
// callstream_state_entries and callstream_state_bytes gauges: each source
// adds what its store grew or shrank by since it last reported.
type stateTotals struct {
	calls, bytes atomic.Int64
}

// stateReport is what one source last added to its stateTotals.
type stateReport struct {
	calls, bytes int64
}

// reportState sets the state gauges: to the store's size for a single
// source, to the sum over the process's sources in a Set. Only the
// source's own goroutine calls it.
func (c *Connector) reportState() {
	calls, bytes := int64(c.store.Len()), int64(c.store.Bytes())
	if c.state == nil {
		c.m.StateEntries.Set(float64(calls))
		c.m.StateBytes.Set(float64(bytes))
		return
	}
	c.m.StateEntries.Set(float64(c.state.calls.Add(calls - c.reported.calls)))
	c.m.StateBytes.Set(float64(c.state.bytes.Add(bytes - c.reported.bytes)))
	c.reported = stateReport{calls, bytes}
}

// forgetState takes the source's state out of the totals, once its unit
// of work stopped.
func (c *Connector) forgetState() {
	if c.state == nil {
		return
	}
	c.m.StateEntries.Set(float64(c.state.calls.Add(-c.reported.calls)))
	c.m.StateBytes.Set(float64(c.state.bytes.Add(-c.reported.bytes)))
	c.reported = stateReport{}
}

// forgetMetrics drops the source's own series, once its unit of work
// stopped because its partition moved: the pod that runs it now exports
// them, and stale ones here would age into false alerts.
func (c *Connector) forgetMetrics() {
	c.m.SourceLag.Delete(c.cfg.SourceName, c.cfg.Type)
	c.m.LastSuccess.Delete(c.labels)
	c.m.LastRecord.Delete(c.labels)
	c.m.BackfillRatio.Delete(c.labels)
	own := prometheus.Labels{metrics.LabelSource: c.cfg.SourceName}
	for _, v := range []*prometheus.CounterVec{c.m.APIRequests, c.m.APIErrors, c.m.RecordsRead, c.m.Events, c.m.DLQRecords,
		c.m.WindowInconsistent, c.m.WindowsNarrowed} {
		v.DeletePartialMatch(own)
	}
	c.m.PageSize.DeletePartialMatch(own)
	c.m.CheckpointAge.Delete(c.cfg.SourceName)
	c.m.TierStalled.Delete(c.cfg.SourceName)
}
