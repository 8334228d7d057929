package schedule

import (
	"testing"
	"time"
)

// backfillConfig backfills three days with one-hour windows that may grow
// to a day.
func backfillConfig() Config {
	c := testConfig()
	c.StartFrom = t0.Add(-72 * time.Hour)
	c.BackfillMaxWindow = 24 * time.Hour
	return c
}

// nextBackfill returns the next task, which must be a backfill.
func nextBackfill(t *testing.T, c Config, now time.Time, s cps) (Task, bool) {
	t.Helper()
	task, ok, _ := c.Next(now, s.get)
	if ok && task.Kind != Backfill {
		t.Fatalf("Next = %v, want a backfill task", task)
	}
	return task, ok
}

func span(w Task) time.Duration { return w.Window.End.Sub(w.Window.Start) + time.Second }

func TestBackfillWindowsGrowWhenEmpty(t *testing.T) {
	for _, tc := range []struct {
		name    string
		records int // records every window holds
		want    []time.Duration
	}{
		{"empty", 0, []time.Duration{time.Hour, 2 * time.Hour, 4 * time.Hour, 8 * time.Hour, 16 * time.Hour, 24 * time.Hour}},
		{"sparse", 10, []time.Duration{time.Hour, 2 * time.Hour, 4 * time.Hour, 8 * time.Hour}},
		{"busy", 30, []time.Duration{time.Hour, time.Hour, time.Hour}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := backfillConfig()
			s := start(c, t0)
			for i, want := range tc.want {
				task, ok := nextBackfill(t, c, t0, s)
				if !ok {
					t.Fatalf("window %d: backfill over early", i)
				}
				if got := span(task); got != want {
					t.Errorf("window %d (%d records each, capacity 100) spans %s, want %s", i, tc.records, got, want)
				}
				s.done(task.Resize(tc.records, 100))
			}
		})
	}
}

// A split window sets the span of the next ones, and an empty stretch
// grows it again.
func TestBackfillSplitThenGrow(t *testing.T) {
	c := backfillConfig()
	s := start(c, t0)
	task, _ := nextBackfill(t, c, t0, s)
	task, _ = task.Shrink()
	task, _ = task.Shrink()
	if got := span(task); got != 15*time.Minute {
		t.Fatalf("twice halved window spans %s, want 15m", got)
	}
	s.done(task.Resize(90, 100))
	task, _ = nextBackfill(t, c, t0, s)
	if got := span(task); got != 15*time.Minute {
		t.Errorf("window after a split spans %s, want the 15m that fit", got)
	}
	s.done(task.Resize(0, 100))
	if task, _ = nextBackfill(t, c, t0, s); span(task) != 30*time.Minute {
		t.Errorf("window after an empty one spans %s, want 30m", span(task))
	}
}

// The backfill resumes after a restart from its checkpoint alone: a
// schedule built afresh later continues at the cursor with the grown span,
// covering the range exactly once, while the live edge continues from its
// own checkpoint.
func TestBackfillResumesAfterRestart(t *testing.T) {
	c := backfillConfig()
	s := start(c, t0)
	var covered time.Duration
	for range 3 {
		task, _ := nextBackfill(t, c, t0, s)
		covered += span(task)
		s.done(task.Resize(0, 100))
	}
	before, _ := Progress(s.get)

	// The restart: a new Config value, later, with only the checkpoints.
	restarted := backfillConfig()
	later := t0.Add(time.Minute)
	task, ok, _ := restarted.Next(later, s.get)
	if !ok || task.Kind != Live {
		t.Fatalf("first task after restart = %v, want the live edge", task)
	}
	s.done(task)
	first := true
	for {
		task, ok, _ := restarted.Next(later, s.get)
		if !ok {
			break
		}
		if task.Kind != Backfill {
			s.done(task)
			continue
		}
		if first && span(task) != 8*time.Hour {
			t.Errorf("first window after restart spans %s, want the grown 8h", span(task))
		}
		first = false
		covered += span(task)
		s.done(task.Resize(0, 100))
	}
	if want := t0.Add(-c.Settle).Sub(c.StartFrom); covered != want {
		t.Errorf("backfill covered %s across the restart, want %s", covered, want)
	}
	if after, _ := Progress(s.get); before <= 0 || before >= 1 || after != 1 {
		t.Errorf("progress %v before the restart and %v at the end, want in (0,1) then 1", before, after)
	}
}

// A tier due every 200ms sweeps once per 200ms, not again and again within
// the second its sweep began.
func TestSubSecondTierInterval(t *testing.T) {
	c := testConfig()
	c.PollInterval = 200 * time.Millisecond
	c.Tiers = []Tier{{Name: "recent", Horizon: time.Minute}}
	s := start(c, t0)
	for task, ok, _ := c.Next(t0, s.get); ok; task, ok, _ = c.Next(t0, s.get) {
		s.done(task) // the backfill
	}
	sweeps := 0
	for now := t0.Add(time.Second + 100*time.Millisecond); now.Before(t0.Add(2 * time.Second)); now = now.Add(10 * time.Millisecond) {
		for task, ok, _ := c.Next(now, s.get); ok; task, ok, _ = c.Next(now, s.get) {
			if task.Kind == Rescan && task.Window.Start.Equal(now.Add(-time.Minute).Truncate(time.Second)) {
				sweeps++
			}
			s.done(task)
		}
	}
	if sweeps < 3 || sweeps > 5 {
		t.Errorf("%d sweeps in 900ms at a 200ms interval, want 3 to 5", sweeps)
	}
}
