package connector

import (
	"fmt"
	"sort"
	"sync"
	"time"
)

// Stall detection: a task (the live edge, the backfill, a re-scan tier)
// whose checkpoint has not advanced for stallFactor of its intervals plus
// Config.StallGrace, while the API answers requests, is stalled: the
// process is alive and polling, and delivers nothing of that task.
const (
	stallFactor = 5
	// DefaultStallGrace is Config.StallGrace's default: room for a slow
	// window (retries, narrowing) on top of the intervals.
	DefaultStallGrace = 2 * time.Minute
)

// stallWatch tracks when each task's checkpoint last advanced. It is safe
// for concurrent use: the loop writes it, scrapes and /readyz read it.
type stallWatch struct {
	mu    sync.Mutex
	clock func() time.Time
	// after is how long each task may go without advancing.
	after map[string]time.Duration
	// advanced is when each task's checkpoint last advanced; empty until
	// polling begins.
	advanced     map[string]time.Time
	backfillDone bool
	lastOK       time.Time // the last API request answered
}

func newStallWatch(c Config) *stallWatch {
	grace := c.StallGrace
	if grace <= 0 {
		grace = DefaultStallGrace
	}
	poll := c.Schedule.PollInterval
	after := map[string]time.Duration{}
	for _, name := range c.Schedule.TaskNames() {
		after[name] = stallFactor*poll + grace
	}
	for _, t := range c.Schedule.Tiers {
		after[t.Name] = stallFactor*max(t.Every, poll) + grace
	}
	return &stallWatch{clock: c.Clock, after: after, advanced: map[string]time.Time{}}
}

// start begins the watch, as polling begins: every task counts from now.
func (s *stallWatch) start() {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.clock()
	for name := range s.after {
		s.advanced[name] = now
	}
}

// advance notes that task's checkpoint advanced.
func (s *stallWatch) advance(task string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advanced[task] = s.clock()
}

func (s *stallWatch) backfill(done bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.backfillDone = done
}

func (s *stallWatch) apiOK() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lastOK = s.clock()
}

// ages returns how long ago each task's checkpoint advanced; a finished
// backfill has none.
func (s *stallWatch) ages() map[string]float64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.clock()
	out := make(map[string]float64, len(s.advanced))
	for name, at := range s.advanced {
		if name == "backfill" && s.backfillDone {
			continue
		}
		out[name] = now.Sub(at).Seconds()
	}
	return out
}

// stalledFlags returns 1 for each stalled task, 0 for the others.
func (s *stallWatch) stalledFlags() map[string]float64 {
	stalled := s.stalled()
	out := map[string]float64{}
	for name := range s.ages() {
		out[name] = 0
	}
	for _, st := range stalled {
		out[st.task] = 1
	}
	return out
}

type stall struct {
	task       string
	age, limit time.Duration
}

// stalled returns the stalled tasks by name: those that have not advanced
// for longer than they may while the API answered since.
func (s *stallWatch) stalled() []stall {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.clock()
	var out []stall
	for name, at := range s.advanced {
		if name == "backfill" && s.backfillDone {
			continue
		}
		if age := now.Sub(at); age > s.after[name] && s.lastOK.After(at.Add(s.after[name])) {
			out = append(out, stall{task: name, age: age, limit: s.after[name]})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].task < out[j].task })
	return out
}

// why says which tasks are stalled, "" when none is.
func (s *stallWatch) why() string {
	st := s.stalled()
	if len(st) == 0 {
		return ""
	}
	return fmt.Sprintf("task %s has not advanced its checkpoint for %s (more than %s) while the API answers",
		st[0].task, st[0].age.Round(time.Second), st[0].limit.Round(time.Second))
}
