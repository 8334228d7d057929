package schedule

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/callstream/callstream/connector/calllist"
)

// Checkpoint names in the state store.
const (
	liveName     = "live"
	backfillName = "backfill"
	tierPrefix   = "tier/"
)

// Config configures a Schedule.
type Config struct {
	Tiers []Tier
	// Settle is how far in the past a window ends, so that it no longer
	// grows while being paged.
	Settle time.Duration
	// PollInterval is how often the live edge is read; tiers with Every 0
	// re-scan at this interval too.
	PollInterval time.Duration
	// StartFrom is where the backfill starts at the first start; nothing
	// older is ever read.
	StartFrom time.Time
	// BackfillWindow and SweepWindow bound the span of one backfill or
	// re-scan window; a window holding too many pages is split further.
	BackfillWindow time.Duration
	SweepWindow    time.Duration
	// BackfillMaxWindow is the span a backfill window may grow to while the
	// windows before it come back (nearly) empty; see Task.Resize. Below
	// BackfillWindow the span never grows.
	BackfillMaxWindow time.Duration
}

// Kind tells the three sorts of task apart.
type Kind int

// Kinds of task.
const (
	Live Kind = iota
	Rescan
	Backfill
)

// Task is one window to read. Its checkpoint, committed with the window's
// events, records that it was read whole.
type Task struct {
	Kind Kind
	// Name is "live", "backfill" or the tier's name: a metric label.
	Name   string
	Window calllist.Window
	// key and value of the checkpoint once Window is read whole.
	cpName string
	cp     checkpoint
	// maxSpan is the backfill span's ceiling, in seconds.
	maxSpan int64
}

// checkpoint is the JSON value of every checkpoint; each kind uses some of
// the fields. Times are Unix seconds.
type checkpoint struct {
	End    int64 `json:"end,omitempty"`    // live: end of the last window read
	Cursor int64 `json:"cursor,omitempty"` // backfill, tiers: next start
	Stop   int64 `json:"stop,omitempty"`   // backfill: where it ends; tiers: sweep end
	At     int64 `json:"at,omitempty"`     // tiers: when the current sweep began
	Start  int64 `json:"start,omitempty"`  // backfill: where it began
	Span   int64 `json:"span,omitempty"`   // backfill: seconds of the next window
	// AtMilli is At in milliseconds: with sub-second intervals, a sweep
	// timed from a whole second would start again at once.
	AtMilli int64 `json:"atMs,omitempty"`
}

// began returns when a tier's current sweep began; checkpoints written
// before AtMilli existed have At only.
func (cp checkpoint) began() time.Time {
	if cp.AtMilli != 0 {
		return time.UnixMilli(cp.AtMilli)
	}
	return sec(cp.At)
}

// Checkpoint returns the checkpoint name and value to commit with the task.
func (t Task) Checkpoint() (string, []byte) {
	cp := t.cp
	next := t.Window.End.Unix() + 1
	switch t.Kind {
	case Live:
		cp.End = t.Window.End.Unix()
	default:
		cp.Cursor = next
	}
	v, _ := json.Marshal(cp) // a struct of int64s always marshals
	return t.cpName, v
}

// Shrink returns the task with only the first half of its window, for a
// window holding too many pages. The next task after it picks up the rest.
// It reports false when the window is one second and cannot shrink.
func (t Task) Shrink() (Task, bool) {
	if !t.Window.End.After(t.Window.Start) {
		return t, false
	}
	half := t.Window.Start.Add(t.Window.End.Sub(t.Window.Start) / 2).Truncate(time.Second)
	if half.Before(t.Window.Start) {
		half = t.Window.Start
	}
	t.Window.End = half
	if t.Kind == Backfill {
		// The next backfill windows start at the size that fit.
		t.cp.Span = half.Unix() - t.Window.Start.Unix() + 1
	}
	return t, true
}

// Resize adapts the span of the backfill's next window to how many records
// this one held: when it held less than a quarter of capacity (the records
// one window may hold before it is split), the span doubles, up to
// Config.BackfillMaxWindow, so that a quiet or empty past costs a request
// per day rather than one per hour. A split window (see Shrink) already
// set the span to what fit. Resize leaves other kinds of task as they are.
func (t Task) Resize(records, capacity int) Task {
	if t.Kind != Backfill || 4*records >= capacity {
		return t
	}
	t.cp.Span = min(2*t.cp.Span, t.maxSpan)
	return t
}

func (t Task) String() string { return fmt.Sprintf("%s %s", t.Name, t.Window) }

func decode(v []byte) (checkpoint, bool) {
	var cp checkpoint
	if v == nil || json.Unmarshal(v, &cp) != nil {
		return cp, false
	}
	return cp, true
}

func sec(u int64) time.Time { return time.Unix(u, 0) }
