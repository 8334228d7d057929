package connector

import (
	"bytes"
	"context"
	"sync"
	"testing"
	"time"

	"github.com/callstream/callstream/connector/observe"
	"github.com/callstream/callstream/connector/schedule"
	"github.com/callstream/callstream/connector/state"
	"github.com/callstream/callstream/simulator"
	"github.com/twmb/franz-go/pkg/kgo"
)

// recordingCommitter commits by keeping each transaction's records.
type recordingCommitter struct {
	mu   sync.Mutex
	txns [][]*kgo.Record
}

func (r *recordingCommitter) Commit(_ context.Context, recs []*kgo.Record) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.txns = append(r.txns, recs)
	return nil
}

// manualClock is a clock that moves only when told.
type manualClock struct {
	mu sync.Mutex
	t  time.Time
}

func (m *manualClock) Now() time.Time {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.t
}

func (m *manualClock) advance(d time.Duration) {
	m.mu.Lock()
	m.t = m.t.Add(d)
	m.mu.Unlock()
}

// deferWorld is a source whose simulator and connector share a manual
// clock, committing to a recordingCommitter: its windows run one at a time
// as the test steps them.
type deferWorld struct {
	clk    *manualClock
	simURL string
	rec    *recordingCommitter
}

func newDeferWorld(t *testing.T, sim simulator.Config) *deferWorld {
	t.Helper()
	w := &deferWorld{clk: &manualClock{t: time.Now().Truncate(time.Second)}, rec: &recordingCommitter{}}
	sim.Clock = w.clk.Now
	w.simURL = newSimulator(t, sim).URL
	return w
}

// connector is a connector of the world, not started: its sink is the
// world's recorder and its events go to onEvent.
func (w *deferWorld) connector(t *testing.T, delay time.Duration, onEvent func(Committed)) *poller {
	t.Helper()
	cfg := testConfig(t, w.simURL, []string{"127.0.0.1:1"})
	tiers, err := schedule.ParseTiers("recent=2m@0s,day=1h@30s")
	if err != nil {
		t.Fatal(err)
	}
	cfg.Schedule.Tiers, cfg.Schedule.PollInterval = tiers, 5*time.Second
	cfg.Schedule.StartFrom = w.clk.Now().Add(-40 * time.Minute)
	cfg.Clock, cfg.CheckpointDelay = w.clk.Now, delay
	c, err := newPoller(cfg, Options{OnCommit: onEvent}, pollerEnv{totals: new(observe.StateTotals), keys: state.UnprefixedKeys()})
	if err != nil {
		t.Fatal(err)
	}
	c.sink = w.rec
	return c
}

// run runs c's tasks as its loop does, one a simulated second, for d of
// the world's time, and returns the tasks it ran.
func (w *deferWorld) run(t *testing.T, c *poller, d time.Duration) []schedule.Task {
	t.Helper()
	ctx := context.Background()
	var ran []schedule.Task
	prev := schedule.Live
	for end := w.clk.Now().Add(d); w.clk.Now().Before(end); {
		task, ok, wait := c.cfg.Schedule.NextAfter(c.now(), c.checkpoint, prev)
		if !ok {
			w.clk.advance(max(wait, time.Second))
			continue
		}
		if task.Kind != schedule.Live {
			prev = task.Kind
		}
		if err := c.runTask(ctx, task); err != nil {
			t.Fatalf("task %s %s: %v", task.Name, task.Window, err)
		}
		ran = append(ran, task)
		w.clk.advance(time.Second)
	}
	return ran
}

func (w *deferWorld) commits() int {
	w.rec.mu.Lock()
	defer w.rec.mu.Unlock()
	return len(w.rec.txns)
}

// committed is the state the recorded transactions left, as a restore
// reads it.
func (w *deferWorld) committed(t *testing.T, load func(key, value []byte) error) {
	t.Helper()
	w.rec.mu.Lock()
	defer w.rec.mu.Unlock()
	for _, txn := range w.rec.txns {
		for _, r := range txn {
			if r.Topic == "callstream.state" {
				if err := load(r.Key, r.Value); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
}

// checkpointsOf returns the checkpoints that transaction i carries.
func (w *deferWorld) checkpointsOf(t *testing.T, i int) map[string][]byte {
	t.Helper()
	w.rec.mu.Lock()
	defer w.rec.mu.Unlock()
	prefix := state.CheckpointKey("")
	out := map[string][]byte{}
	for _, r := range w.rec.txns[i] {
		if r.Topic == "callstream.state" && bytes.HasPrefix(r.Key, prefix) {
			out[string(r.Key[len(prefix):])] = r.Value
		}
	}
	return out
}

// Windows that emit nothing defer their checkpoints: the store keeps the
// committed ones while the schedule moves on, and they commit together
// once the oldest waited the delay, with a window that has events at
// once, and at the stop.
func TestIdleCheckpointsWaitAndCommitTogether(t *testing.T) {
	w := newDeferWorld(t, simulator.Config{Seed: 3, Calls: 1, Rate: 1.0 / 150, ConvertAfter: time.Second})
	events := 0
	c := w.connector(t, time.Minute, func(Committed) { events++ })
	if err := c.initialize(context.Background()); err != nil {
		t.Fatal(err)
	}
	initial := state.New()
	w.committed(t, initial.Load)

	// Empty backfill windows and live windows, within one delay: nothing
	// commits, the store holds the first checkpoints, the schedule's view
	// moved on.
	ran := w.run(t, c, 50*time.Second)
	if len(ran) < 5 || w.commits() != 1 {
		t.Fatalf("ran %d windows and committed %d transactions, want 5 or more windows and the first start's commit alone", len(ran), w.commits())
	}
	for _, name := range []string{"live", "backfill"} {
		if !bytes.Equal(c.store.Checkpoint(name), initial.Checkpoint(name)) {
			t.Errorf("store's %s checkpoint = %s before any commit, want the committed %s", name, c.store.Checkpoint(name), initial.Checkpoint(name))
		}
		if bytes.Equal(c.checkpoint(name), initial.Checkpoint(name)) {
			t.Errorf("the schedule's %s checkpoint did not move past the windows read: %s", name, c.checkpoint(name))
		}
	}

	// Past the delay the next window commits every deferred checkpoint.
	want := map[string][]byte{}
	for _, name := range []string{"live", "backfill"} {
		want[name] = c.checkpoint(name)
	}
	for w.commits() == 1 {
		w.run(t, c, time.Second)
		if w.clk.Now().Sub(initialTime(t, w)) > 5*time.Minute {
			t.Fatal("no commit within 5 minutes of idle windows")
		}
	}
	got := w.checkpointsOf(t, 1)
	for name, v := range want {
		if g, ok := got[name]; !ok || string(g) < string(v) && len(g) == len(v) {
			t.Errorf("commit after the delay carries %s = %s, want it at or past the deferred %s", name, g, v)
		}
	}
	for name, v := range got {
		if !bytes.Equal(c.store.Checkpoint(name), v) {
			t.Errorf("store's %s = %s after the commit, want %s", name, c.store.Checkpoint(name), v)
		}
	}

	// The call arrives within 150 s: its window commits at once (events
	// never wait), taking the checkpoints deferred since along.
	for events == 0 {
		before, waiting := w.commits(), len(c.deferred.cps)
		var names []string
		for name := range c.deferred.cps {
			names = append(names, name)
		}
		w.run(t, c, time.Second)
		if events > 0 {
			if w.commits() != before+1 {
				t.Fatalf("the window with the event made %d commits, want 1", w.commits()-before)
			}
			if waiting == 0 {
				t.Fatal("no checkpoint waited when the event came: the test shows nothing")
			}
			cps := w.checkpointsOf(t, w.commits()-1)
			for _, name := range names {
				if _, ok := cps[name]; !ok {
					t.Errorf("the event's commit carries checkpoints %v, want the deferred %s too", cps, name)
				}
			}
			if len(c.deferred.cps) != 0 {
				t.Errorf("%d checkpoints still deferred after the commit", len(c.deferred.cps))
			}
		}
		if w.clk.Now().Sub(initialTime(t, w)) > 10*time.Minute {
			t.Fatal("the simulator's call did not arrive")
		}
	}

	// Idle again, then the stop commits what waits.
	w.run(t, c, 20*time.Second)
	before := w.commits()
	if len(c.deferred.cps) == 0 {
		t.Fatal("no checkpoint deferred after 20 s of idle windows")
	}
	pending := map[string][]byte{}
	for name, v := range c.deferred.cps {
		pending[name] = v
	}
	if err := c.flushCheckpoints(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	if w.commits() != before+1 {
		t.Fatalf("the stop made %d commits, want 1", w.commits()-before)
	}
	for name, v := range pending {
		if !bytes.Equal(c.store.Checkpoint(name), v) {
			t.Errorf("store's %s = %s after the stop's commit, want the deferred %s", name, c.store.Checkpoint(name), v)
		}
	}
	if events != 1 {
		t.Errorf("%d events, want 1", events)
	}
}

// initialTime is the world's start: the first start's live checkpoint.
func initialTime(t *testing.T, w *deferWorld) time.Time {
	t.Helper()
	st := state.New()
	w.rec.mu.Lock()
	first := w.rec.txns[0]
	w.rec.mu.Unlock()
	for _, r := range first {
		if r.Topic == "callstream.state" {
			if err := st.Load(r.Key, r.Value); err != nil {
				t.Fatal(err)
			}
		}
	}
	_, live := schedule.Progress(st.Checkpoint)
	return live
}

// A crash loses the deferred checkpoints: the next start reads those
// windows again from the committed ones, and they emit nothing twice.
func TestCrashBeforeTheFlushReadsOnlyEmptyWindowsAgain(t *testing.T) {
	w := newDeferWorld(t, simulator.Config{Seed: 5, History: 40, HistorySpan: 30 * time.Minute, ConvertAfter: time.Second})
	seen := map[int64]int{}
	onEvent := func(e Committed) { seen[e.CallID]++ }
	c1 := w.connector(t, time.Hour, onEvent)
	if err := c1.initialize(context.Background()); err != nil {
		t.Fatal(err)
	}
	w.run(t, c1, 30*time.Second)
	if len(seen) != 40 {
		t.Fatalf("first run emitted %d calls, want the 40 of the history", len(seen))
	}
	// Idle windows after the backfill's events: deferred, then the crash.
	commits := w.commits()
	w.run(t, c1, 40*time.Second)
	if w.commits() != commits || len(c1.deferred.cps) == 0 {
		t.Fatalf("idle windows committed %d transactions and deferred %d checkpoints, want none and some", w.commits()-commits, len(c1.deferred.cps))
	}
	_, deferredLive := schedule.Progress(c1.checkpoint)
	_, committedLive := schedule.Progress(c1.store.Checkpoint)

	c2 := w.connector(t, time.Hour, onEvent)
	w.committed(t, c2.loadState)
	_, restoredLive := schedule.Progress(c2.store.Checkpoint)
	if !restoredLive.Equal(committedLive) {
		t.Fatalf("restored live edge %s, want the committed %s", restoredLive, committedLive)
	}
	ran := w.run(t, c2, 30*time.Second)
	reread := false
	for _, task := range ran {
		if task.Kind == schedule.Live && task.Window.Start.Before(deferredLive) {
			reread = true
		}
	}
	if !reread {
		t.Errorf("the restart read no live window before %s, the deferred edge", deferredLive)
	}
	for id, n := range seen {
		if n != 1 {
			t.Errorf("call %d emitted %d times, want once", id, n)
		}
	}
	if len(seen) != 40 {
		t.Errorf("%d calls emitted in all, want 40", len(seen))
	}
}
