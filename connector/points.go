package connector

import "github.com/callstream/callstream/connector/sink"

// point calls Options.At, if set.
func (c *Connector) point(p sink.Point) {
	if c.at != nil {
		c.at(p)
	}
}

// loadState loads one record of the state topic into the store, reaching
// sink.PointRestoring after each.
func (c *Connector) loadState(key, value []byte) error {
	if err := c.store.Load(key, value); err != nil {
		return err
	}
	c.point(sink.PointRestoring)
	return nil
}
