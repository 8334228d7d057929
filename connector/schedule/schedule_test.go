package schedule

import (
	"github.com/callstream/callstream/connector/calllist"
	"testing"
	"time"
)

// cps is an in-memory checkpoint store that applies a task's checkpoint as
// a committed transaction would.
type cps map[string][]byte

func (c cps) get(name string) []byte { return c[name] }

func (c cps) done(t Task) {
	name, v := t.Checkpoint()
	c[name] = v
}

var t0 = time.Date(2026, 3, 21, 12, 0, 0, 0, time.UTC)

func testConfig() Config {
	tiers, err := ParseTiers("recent=10m@0s,day=24h@5m")
	if err != nil {
		panic(err)
	}
	return Config{
		Tiers: tiers, Settle: 5 * time.Second, PollInterval: 5 * time.Second,
		StartFrom: t0.Add(-3 * time.Hour), BackfillWindow: time.Hour, SweepWindow: time.Hour,
	}
}

func start(c Config, now time.Time) cps {
	s := cps{}
	for k, v := range c.Initial(now) {
		s[k] = v
	}
	return s
}

func TestFirstStartBackfillsThenFollowsLiveEdge(t *testing.T) {
	c := testConfig()
	s := start(c, t0)
	if !IsInitialized(s.get) {
		t.Fatal("not initialized after Initial")
	}
	// Right after the first start only the backfill is due, window by window.
	var covered time.Duration
	for i := 0; ; i++ {
		task, ok, _ := c.Next(t0, s.get)
		if !ok {
			break
		}
		if task.Kind != Backfill {
			t.Fatalf("task %d = %v, want backfill", i, task)
		}
		if i == 0 && !task.Window.Start.Equal(c.StartFrom) {
			t.Errorf("backfill starts at %v, want %v", task.Window.Start, c.StartFrom)
		}
		covered += task.Window.End.Sub(task.Window.Start) + time.Second
		s.done(task)
	}
	// The backfill ends where the live edge begins: now - settle - 1s.
	if want := t0.Add(-c.Settle).Sub(c.StartFrom); covered != want {
		t.Errorf("backfill covered %v, want %v", covered, want)
	}
	if bf, _ := Progress(s.get); bf != 1 {
		t.Errorf("backfill progress %v, want 1", bf)
	}

	// One poll interval later the live edge is due, starting where the
	// backfill stopped, with no gap and no overlap.
	now := t0.Add(c.PollInterval)
	task, ok, _ := c.Next(now, s.get)
	if !ok || task.Kind != Live {
		t.Fatalf("Next = %v %v, want live", task, ok)
	}
	if want := t0.Add(-c.Settle); !task.Window.Start.Equal(want) {
		t.Errorf("live starts at %v, want %v", task.Window.Start, want)
	}
	if want := now.Add(-c.Settle - time.Second); !task.Window.End.Equal(want) {
		t.Errorf("live ends at %v, want %v", task.Window.End, want)
	}
	s.done(task)
	if _, liveEnd := Progress(s.get); !liveEnd.Equal(task.Window.End) {
		t.Errorf("live checkpoint %v, want %v", liveEnd, task.Window.End)
	}
}

func TestRescanSweepsTheHorizonAtItsInterval(t *testing.T) {
	c := testConfig()
	s := start(c, t0)
	for task, ok, _ := c.Next(t0, s.get); ok; task, ok, _ = c.Next(t0, s.get) {
		s.done(task)
	}
	// The recent tier (every poll) sweeps its 10 minutes after one poll
	// interval, in one window ending at the live edge.
	now := t0.Add(c.PollInterval)
	live, _, _ := c.Next(now, s.get)
	s.done(live)
	task, ok, _ := c.Next(now, s.get)
	if !ok || task.Kind != Rescan || task.Name != "recent" {
		t.Fatalf("Next = %v %v, want the recent tier", task, ok)
	}
	if want := now.Add(-10 * time.Minute); !task.Window.Start.Equal(want) || !task.Window.End.Equal(live.Window.End) {
		t.Errorf("recent sweep window %v, want %v..%v", task.Window, want, live.Window.End)
	}
	s.done(task)
	if task, ok, _ := c.Next(now, s.get); ok {
		t.Errorf("after the sweep Next = %v, want nothing due", task)
	}
	// The day tier is due after 5 minutes and sweeps 24h in 1h windows,
	// never before StartFrom.
	now = t0.Add(5 * time.Minute)
	var windows int
	for task, ok, _ := c.Next(now, s.get); ok; task, ok, _ = c.Next(now, s.get) {
		if task.Kind == Rescan && task.Name == "day" {
			if windows == 0 && !task.Window.Start.Equal(c.StartFrom) {
				t.Errorf("day sweep starts at %v, want StartFrom %v", task.Window.Start, c.StartFrom)
			}
			windows++
		}
		s.done(task)
	}
	if windows != 4 {
		t.Errorf("day sweep took %d windows, want 4 (3h of history + the last minutes)", windows)
	}
}

func TestShrinkHalvesAndTheRestFollows(t *testing.T) {
	c := testConfig()
	s := start(c, t0)
	task, _, _ := c.Next(t0, s.get)
	half, ok := task.Shrink()
	if !ok || !half.Window.Start.Equal(task.Window.Start) || !half.Window.End.Before(task.Window.End) {
		t.Fatalf("Shrink(%v) = %v %v", task.Window, half.Window, ok)
	}
	s.done(half)
	next, _, _ := c.Next(t0, s.get)
	if !next.Window.Start.Equal(half.Window.End.Add(time.Second)) {
		t.Errorf("after a shrunk window the next starts at %v, want %v", next.Window.Start, half.Window.End.Add(time.Second))
	}
	one := Task{Window: halfWindow(t0, t0)}
	if _, ok := one.Shrink(); ok {
		t.Error("a one-second window shrank")
	}
}

func TestPruneNeverCutsASweepUnderWay(t *testing.T) {
	c := testConfig()
	s := start(c, t0)
	now := t0.Add(48 * time.Hour)
	live := Task{Window: halfWindow(now, now)}
	if got, want := c.PruneBefore(now, s.get, live), now.Add(-24*time.Hour-c.PollInterval).Unix(); got != want {
		t.Errorf("PruneBefore = %d, want %d", got, want)
	}
	// The day sweep begins; its first window is read slowly, and later
	// windows run while the sweep is still under way.
	for task, ok, _ := c.Next(now, s.get); ok; task, ok, _ = c.Next(now, s.get) {
		if task.Name == "day" {
			later := now.Add(2 * time.Hour)
			if got := c.PruneBefore(later, s.get, task); got > task.Window.Start.Unix() {
				t.Errorf("PruneBefore = %d cuts into the window at %d", got, task.Window.Start.Unix())
			}
			s.done(task)
			sweepAt := task.Window.End.Unix() + 1
			if got := c.PruneBefore(later, s.get, live); got > sweepAt {
				t.Errorf("PruneBefore = %d cuts into the sweep under way at %d", got, sweepAt)
			}
			return
		}
		s.done(task)
	}
	t.Fatal("the day tier never became due")
}

func TestParseTiers(t *testing.T) {
	for _, tc := range []struct {
		spec string
		ok   bool
	}{
		{DefaultTiers, true},
		{"a=1m@0s", true},
		{"a=1m", false},
		{"a=0s@1s", false},
		{"a=1h@1m,b=30m@1m", false},
		{"a=1m@1s,a=2m@1s", false},
		{"live=1m@1s", false},
		{"=1m@1s", false},
		{"a=1m@-1s", false},
	} {
		tiers, err := ParseTiers(tc.spec)
		if (err == nil) != tc.ok {
			t.Errorf("ParseTiers(%q) error = %v, want ok %v", tc.spec, err, tc.ok)
			continue
		}
		if tc.ok && len(tiers) == 0 {
			t.Errorf("ParseTiers(%q) gave no tiers", tc.spec)
		}
	}
}

func halfWindow(a, b time.Time) calllist.Window { return calllist.Window{Start: a, End: b} }

// A clock that steps back (a restart measuring the API's clock anew) must
// not start a sweep below the watermark: calls there may have left the
// state and would be taken for new ones.
func TestSweepNeverStartsBelowTheWatermark(t *testing.T) {
	c := testConfig()
	now := t0.Add(48 * time.Hour)
	s := start(c, now)
	cut := now.Add(-24*time.Hour + 10*time.Minute).Unix() // above later-24h
	name, v, ok := RaiseWatermark(s.get, cut)
	if !ok {
		t.Fatal("RaiseWatermark refused a higher watermark")
	}
	s[name] = v
	if _, _, ok := RaiseWatermark(s.get, cut-1); ok {
		t.Error("RaiseWatermark lowered the watermark")
	}
	later := now.Add(5 * time.Minute)
	for task, ok, _ := c.Next(later, s.get); ok; task, ok, _ = c.Next(later, s.get) {
		if task.Name == "day" {
			if got := task.Window.Start.Unix(); got < cut {
				t.Fatalf("day sweep starts at %d, below the watermark %d", got, cut)
			}
			return
		}
		s.done(task)
	}
	t.Fatal("the day tier never became due")
}

// Re-scans that are always due (sweeps longer than their interval) take
// turns with the backfill instead of starving it.
func TestBackfillTakesTurnsWithRescans(t *testing.T) {
	c := testConfig()
	c.Tiers, _ = ParseTiers("recent=10m@0s,day=24h@0s")
	c.StartFrom = t0.Add(-30 * 24 * time.Hour)
	c.BackfillWindow = time.Hour
	s := start(c, t0)
	now := t0.Add(time.Minute)
	prev, backfills, rescans := Live, 0, 0
	for range 60 {
		// Each task takes 2s: the live edge is due every few tasks, and
		// the day tier's sweep (24 windows) is always under way.
		now = now.Add(2 * time.Second)
		task, ok, _ := c.NextAfter(now, s.get, prev)
		if !ok {
			t.Fatal("nothing due while the backfill has a month to go")
		}
		switch task.Kind {
		case Backfill:
			backfills++
		case Rescan:
			rescans++
		}
		if task.Kind != Live {
			prev = task.Kind
		}
		s.done(task)
	}
	if backfills == 0 || backfills < rescans-1 {
		t.Errorf("backfill ran %d turns against %d re-scans while re-scans were always due; want turns about even", backfills, rescans)
	}
}

func TestFormatSpan(t *testing.T) {
	for d, want := range map[time.Duration]string{
		168 * time.Hour: "168h", 90 * time.Minute: "1h30m", 10 * time.Minute: "10m", 90 * time.Second: "1m30s", 5 * time.Second: "5s",
	} {
		if got := FormatSpan(d); got != want {
			t.Errorf("FormatSpan(%s) = %q, want %q", d, got, want)
		}
	}
}
