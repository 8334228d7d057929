// Package observe is the connector's observability above metrics: each
// source's series created with every bounded label value and forgotten when
// its partition moves, the state gauges' totals, the API
// log (refusals logged once an interval, the clock's skew), notes on what
// the vendor sends that the code does not know, the backfill's progress
// and the watch on tasks whose checkpoint stalls. It imports metrics and
// pipeline steps, never the connector root, which feeds it.
package observe
