package observe

import (
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/callstream/callstream/connector/schedule"
)

// Stall detection: a task (the live edge, the backfill, a re-scan tier)
// whose checkpoint has not advanced for stallFactor of its intervals plus
// connector.SourceConfig.StallGrace, while the API answers requests, is stalled: the
// process is alive and polling, and delivers nothing of that task.
const (
	stallFactor = 5
	// DefaultStallGrace is connector.SourceConfig.StallGrace's default: room for a slow
	// window (retries, narrowing) on top of the intervals.
	DefaultStallGrace = 2 * time.Minute
)

// StallWatch tracks when each task's checkpoint last advanced. It is safe
// for concurrent use: the poller writes it, scrapes and /readyz read it.
type StallWatch struct {
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

// NewStallWatch watches the tasks of sched on clock, each allowed
// stallFactor of its intervals plus grace (0: DefaultStallGrace).
func NewStallWatch(sched schedule.Config, grace time.Duration, clock func() time.Time) *StallWatch {
	if grace <= 0 {
		grace = DefaultStallGrace
	}
	poll := sched.PollInterval
	after := map[string]time.Duration{}
	for _, name := range sched.TaskNames() {
		after[name] = stallFactor*poll + grace
	}
	for _, t := range sched.Tiers {
		after[t.Name] = stallFactor*max(t.Every, poll) + grace
	}
	return &StallWatch{clock: clock, after: after, advanced: map[string]time.Time{}}
}

// Start begins the watch, as polling begins: every task counts from now.
func (s *StallWatch) Start() {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.clock()
	for name := range s.after {
		s.advanced[name] = now
	}
}

// Advance notes that task's checkpoint advanced.
func (s *StallWatch) Advance(task string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advanced[task] = s.clock()
}

// Backfill notes whether the backfill is done: a finished backfill never
// stalls and exports no checkpoint age.
func (s *StallWatch) Backfill(done bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.backfillDone = done
}

// APIOK notes a request the API answered: a task stalls only while the
// API answers.
func (s *StallWatch) APIOK() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lastOK = s.clock()
}

// Ages returns how long ago each task's checkpoint advanced; a finished
// backfill has none.
func (s *StallWatch) Ages() map[string]float64 {
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

// StalledFlags returns 1 for each stalled task, 0 for the others.
func (s *StallWatch) StalledFlags() map[string]float64 {
	stalled := s.stalled()
	out := map[string]float64{}
	for name := range s.Ages() {
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
func (s *StallWatch) stalled() []stall {
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

// Why says which tasks are stalled, "" when none is.
func (s *StallWatch) Why() string {
	st := s.stalled()
	if len(st) == 0 {
		return ""
	}
	return fmt.Sprintf("task %s has not advanced its checkpoint for %s (more than %s) while the API answers",
		st[0].task, st[0].age.Round(time.Second), st[0].limit.Round(time.Second))
}
