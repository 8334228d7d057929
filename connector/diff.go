package connector

import (
	"github.com/callstream/callstream/connector/calllist"
	"github.com/callstream/callstream/connector/diff"
	"github.com/callstream/callstream/connector/event"
	"github.com/callstream/callstream/connector/schedule"
	"github.com/callstream/callstream/connector/state"
)

// Committed describes one record of a batch after its transaction
// committed (see diff.Committed): what Options.OnCommit is called with.
type Committed = diff.Committed

// batch is one transaction in the making: the output records and the state
// changes that account for them.
type batch struct {
	state      *state.Batch
	tier       string // the task whose window it holds; empty for checkpoints alone
	tombstones int
	// Output is what the diff of the window added (Aged is also set by a
	// prune).
	diff.Output
}

// diff diffs a window's records with the source's state into b (see
// diff.Window).
func (c *poller) diff(b *batch, t schedule.Task, raws []calllist.Raw, keepAfter int64) {
	cfg := diff.Config{Topics: c.cfg.Topics, NoUpdates: c.cfg.NoUpdates, Ignore: c.ignore, Limits: c.limits, Encoder: c.enc}
	diff.Window(&cfg, b.state, c.eventSource(t), raws, keepAfter, &b.Output)
}

func (c *poller) eventSource(t schedule.Task) event.Source {
	return event.Source{
		App: c.cfg.AppID, Type: c.cfg.Type, Tier: t.Name,
		WindowStart: t.Window.Start, WindowEnd: t.Window.End,
		ObservedAt: c.now(), ConnectorVersion: c.cfg.Version, Name: c.cfg.SourceName,
	}
}
