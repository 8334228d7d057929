package schedule

import (
	"encoding/json"
	"time"

	"github.com/callstream/callstream/connector/calllist"
)

// Checkpoints reads checkpoint values by name (nil when absent).
type Checkpoints func(name string) []byte

// Initial returns the checkpoints of a first start at now: the live edge
// begins now and the backfill covers everything from StartFrom up to it.
// Tiers start as if just swept: the backfill reads their range fresh.
func (c Config) Initial(now time.Time) map[string][]byte {
	edge := c.edge(now)
	start := c.StartFrom.Truncate(time.Second).Unix()
	if start > edge {
		start = edge + 1
	}
	out := map[string][]byte{
		liveName:     mustJSON(checkpoint{End: edge}),
		backfillName: mustJSON(checkpoint{Start: start, Cursor: start, Stop: edge}),
	}
	for _, t := range c.Tiers {
		out[tierPrefix+t.Name] = mustJSON(checkpoint{At: now.Unix(), AtMilli: now.UnixMilli(), Cursor: edge + 1, Stop: edge})
	}
	return out
}

// IsInitialized reports whether a first start's checkpoints exist.
func IsInitialized(cps Checkpoints) bool { return cps(liveName) != nil }

// Next returns the next task due at now, live edge first, then re-scans,
// then the backfill; or, if none is due, false and how long until one is.
func (c Config) Next(now time.Time, cps Checkpoints) (Task, bool, time.Duration) {
	live, _ := decode(cps(liveName))
	edge := c.edge(now)
	wait := c.PollInterval
	if t, ok, w := c.nextLive(now, live, edge); ok {
		return t, true, 0
	} else if w < wait {
		wait = w
	}
	for _, tier := range c.Tiers {
		if t, ok, w := c.nextRescan(now, tier, cps, live.End); ok {
			return t, true, 0
		} else if w < wait {
			wait = w
		}
	}
	if t, ok := c.nextBackfill(cps); ok {
		return t, true, 0
	}
	return Task{}, false, max(wait, time.Second)
}

// NextAfter is Next taking turns: when the last task other than the live
// edge was a re-scan, the backfill (when it has work) goes before the next
// re-scan, so that sweeps which take longer than their interval cannot
// starve it. The live edge still goes first.
func (c Config) NextAfter(now time.Time, cps Checkpoints, prev Kind) (Task, bool, time.Duration) {
	if prev == Rescan {
		live, _ := decode(cps(liveName))
		if t, ok, _ := c.nextLive(now, live, c.edge(now)); ok {
			return t, true, 0
		}
		if t, ok := c.nextBackfill(cps); ok {
			return t, true, 0
		}
	}
	return c.Next(now, cps)
}

// edge is the newest second a window may end at.
func (c Config) edge(now time.Time) int64 { return now.Add(-c.Settle).Unix() - 1 }

func (c Config) nextLive(now time.Time, live checkpoint, edge int64) (Task, bool, time.Duration) {
	due := sec(live.End + 1).Add(c.Settle + c.PollInterval)
	if now.Before(due) || edge <= live.End {
		return Task{}, false, due.Sub(now)
	}
	w := calllist.Window{Start: sec(live.End + 1), End: sec(edge)}
	return Task{Kind: Live, Name: liveName, Window: w, cpName: liveName}, true, 0
}

func (c Config) nextRescan(now time.Time, tier Tier, cps Checkpoints, liveEnd int64) (Task, bool, time.Duration) {
	name := tierPrefix + tier.Name
	cp, _ := decode(cps(name))
	if cp.Cursor > cp.Stop {
		every := max(tier.Every, c.PollInterval)
		next := cp.began().Add(every)
		if now.Before(next) {
			return Task{}, false, next.Sub(now)
		}
		// A new sweep over [now-Horizon, live edge], never before the
		// backfill's start (nothing older than StartFrom is ever read) nor
		// before the state's watermark (those calls may have left the
		// state: read again they would look new).
		start := max(now.Add(-tier.Horizon).Unix(), c.StartFrom.Unix(), Watermark(cps))
		cp = checkpoint{At: now.Unix(), AtMilli: now.UnixMilli(), Cursor: start, Stop: liveEnd}
		if cp.Cursor > cp.Stop {
			return Task{}, false, every
		}
	}
	end := min(cp.Cursor+int64(c.SweepWindow/time.Second)-1, cp.Stop)
	w := calllist.Window{Start: sec(cp.Cursor), End: sec(end)}
	return Task{Kind: Rescan, Name: tier.Name, Window: w, cpName: name, cp: cp}, true, 0
}

func (c Config) nextBackfill(cps Checkpoints) (Task, bool) {
	cp, ok := decode(cps(backfillName))
	if !ok || cp.Cursor > cp.Stop {
		return Task{}, false
	}
	base := int64(c.BackfillWindow / time.Second)
	maxSpan := max(int64(c.BackfillMaxWindow/time.Second), base)
	if cp.Span <= 0 {
		cp.Span = base
	}
	cp.Span = min(cp.Span, maxSpan)
	end := min(cp.Cursor+cp.Span-1, cp.Stop)
	w := calllist.Window{Start: sec(cp.Cursor), End: sec(end)}
	return Task{Kind: Backfill, Name: backfillName, Window: w, cpName: backfillName, cp: cp, maxSpan: maxSpan}, true
}

// Progress reports the backfill's progress from 0 to 1 (1 when done or when
// there was nothing to backfill), and the live edge's end.
func Progress(cps Checkpoints) (backfill float64, liveEnd time.Time) {
	live, _ := decode(cps(liveName))
	cp, ok := decode(cps(backfillName))
	backfill = 1
	if ok && cp.Stop >= cp.Start && cp.Cursor <= cp.Stop {
		backfill = float64(cp.Cursor-cp.Start) / float64(cp.Stop-cp.Start+1)
	}
	return backfill, sec(live.End)
}

// TaskNames returns the name of every task the schedule makes: "live",
// "backfill" and each tier's, the bounded values of a metric's tier label.
func (c Config) TaskNames() []string {
	names := []string{liveName, backfillName}
	for _, t := range c.Tiers {
		names = append(names, t.Name)
	}
	return names
}

// Horizon returns the deepest re-scan horizon: calls created before now
// minus it can no longer change in the connector's view.
func (c Config) Horizon() time.Duration {
	if len(c.Tiers) == 0 {
		return 0
	}
	return c.Tiers[len(c.Tiers)-1].Horizon
}

// watermarkName is the checkpoint below which the state may lack calls.
const watermarkName = "watermark"

// Watermark returns the Unix second before which calls may be missing from
// the dedup state (pruned, or read by the backfill past the horizon and
// never kept); 0 when none are. Re-scans never start before it, even when
// the clock steps back across a restart.
func Watermark(cps Checkpoints) int64 {
	cp, _ := decode(cps(watermarkName))
	return cp.Cursor
}

// RaiseWatermark returns the watermark checkpoint raised to before, to be
// committed with the batch that dropped or skipped calls created before it;
// ok is false when the watermark is already there.
func RaiseWatermark(cps Checkpoints, before int64) (name string, value []byte, ok bool) {
	if before <= Watermark(cps) {
		return "", nil, false
	}
	return watermarkName, mustJSON(checkpoint{Cursor: before}), true
}

// PruneBefore returns the Unix second before which dedup entries may be
// dropped while running task: past the deepest horizon, and never inside the
// task's window or a sweep still under way, which would read them again and
// take them for new calls.
func (c Config) PruneBefore(now time.Time, cps Checkpoints, task Task) int64 {
	cut := min(now.Add(-c.Horizon()-c.PollInterval).Unix(), task.Window.Start.Unix())
	for _, t := range c.Tiers {
		if cp, ok := decode(cps(tierPrefix + t.Name)); ok && cp.Cursor <= cp.Stop {
			cut = min(cut, cp.Cursor)
		}
	}
	return cut
}

func mustJSON(cp checkpoint) []byte {
	v, _ := json.Marshal(cp)
	return v
}
