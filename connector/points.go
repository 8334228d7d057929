package connector

import "github.com/callstream/callstream/connector/sink"

// The connector's own steps, beside the sink's (sink.PointProduced,
// sink.PointEndTxnSent).
const (
	// PointRestoring: one more record of the state topic was read at
	// start; the state is only partly loaded.
	PointRestoring sink.Point = "during-restore"
	// PointCommitted: the transaction committed and the connector has not
	// yet applied the batch to its memory.
	PointCommitted sink.Point = "after-commit"
)

// Points lists every step Options.At is called at, in the order a start
// and a commit reach them.
func Points() []sink.Point {
	return []sink.Point{PointRestoring, sink.PointProduced, sink.PointEndTxnSent, PointCommitted}
}

// point calls Options.At, if set.
func (c *poller) point(p sink.Point) {
	if c.at != nil {
		c.at(p)
	}
}

// loadState loads one record of the state topic into the store, reaching
// PointRestoring after each.
func (c *poller) loadState(key, value []byte) error {
	if err := c.store.Load(key, value); err != nil {
		return err
	}
	c.point(PointRestoring)
	return nil
}
