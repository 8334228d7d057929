package connector

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/callstream/callstream/connector/sink"
	"github.com/callstream/callstream/connector/source"
	"github.com/callstream/callstream/internal/pause"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/plugin/kslog"
)

// member is this pod in the group: Kafka's group coordinator assigns it
// state partitions, and it runs one unit of work for each. Membership,
// assignment and failure detection are the brokers'; a pod only follows.
type member struct {
	set   *Connector
	ctx   context.Context // Run's: the units stop when it is done
	topic string
	fatal chan error

	// refence is how long a unit fenced while its partition is still
	// assigned here waits before it starts again: two heartbeats.
	refence time.Duration

	mu      sync.Mutex
	workers map[int32]*worker
}

// worker runs the unit of one owned partition.
type worker struct {
	cancel context.CancelFunc
	done   chan struct{}
}

// defaultHeartbeat is the group heartbeat interval, Kafka's default; a
// third of a shorter session timeout.
const defaultHeartbeat = 3 * time.Second

// runGroup joins the group as a consumer of the state topic and runs the
// units of the partitions assigned, until ctx is done or a unit fails with
// something other than a fence.
func (s *Connector) runGroup(ctx context.Context) error {
	c := s.cfg.Sources[0]
	// The state topic must exist, with its partition count checked, before
	// the group can assign its partitions.
	if err := s.ensureTopics(ctx); err != nil {
		return ignoreCanceled(ctx, fmt.Errorf("checking the topics: %w", err))
	}
	if err := s.checkSession(ctx); err != nil {
		return err
	}
	heartbeat := min(defaultHeartbeat, s.cfg.SessionTimeout/3)
	g := &member{set: s, ctx: ctx, topic: c.Topics.State, fatal: make(chan error, 1), workers: map[int32]*worker{}, refence: 2 * heartbeat}
	opts := append([]kgo.Opt{kgo.SeedBrokers(c.Brokers...)}, c.KafkaOpts...)
	opts = append(opts,
		kgo.ConsumerGroup(s.cfg.Group), kgo.ConsumeTopics(c.Topics.State),
		kgo.SessionTimeout(s.cfg.SessionTimeout), kgo.RebalanceTimeout(s.cfg.RebalanceTimeout), kgo.HeartbeatInterval(heartbeat),
		kgo.DisableAutoCommit(),
		// The group is for ownership only: each unit reads its partition
		// with a client of its own, read_committed, to its end. This one
		// is paused and would start at the end, so it fetches nothing.
		kgo.ConsumeResetOffset(kgo.NewOffset().AtEnd()),
		kgo.FetchMaxBytes(1<<10), kgo.FetchMaxPartitionBytes(1<<10),
		kgo.OnPartitionsAssigned(g.assigned),
		kgo.OnPartitionsRevoked(g.revoked),
		kgo.OnPartitionsLost(g.lost),
		kgo.WithHooks(groupErrors{g}),
		kgo.WithLogger(kslog.New(s.log.With("component", "group"))),
	)
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return fmt.Errorf("joining group %q: %w", s.cfg.Group, err)
	}
	cl.PauseFetchTopics(c.Topics.State)
	s.log.Info("joining group", "group", s.cfg.Group, "state_partitions", s.cfg.StatePartitions,
		"sources", len(s.cfg.Sources), "session_timeout_seconds", s.cfg.SessionTimeout.Seconds())
	select {
	case <-ctx.Done():
	case err = <-g.fatal:
	}
	// The units stop with ctx (or are stopped here after a failure), each
	// ending its transaction; only then does the pod leave the group, so
	// that the next owner finds nothing open.
	g.stopAll()
	cl.Close()
	return err
}

// ensureTopics creates or checks the topics, waiting for the brokers as a
// single source's start does: a failure that waiting may mend is logged and
// tried again after a backoff that doubles up to the first source's
// Retry.Max; a fatal one, or a state topic of another partition count, ends
// the start.
func (s *Connector) ensureTopics(ctx context.Context) error {
	c := s.cfg.Sources[0]
	initial := max(c.Retry.Initial, source.DefaultRetryInitial)
	b := pause.Backoff{Initial: initial, Max: max(c.Retry.Max, initial)}
	for attempt := 1; ; attempt++ {
		err := sink.EnsureTopics(ctx, s.sinkConfig(0))
		var spe *sink.StatePartitionsError
		switch {
		case err == nil:
			return nil
		case sink.IsFatal(err) || errors.As(err, &spe) || ctx.Err() != nil:
			return err
		}
		s.log.Warn("kafka not ready; retrying", "attempt", attempt, "retry_in_seconds", b.Peek().Seconds(), "err", err)
		_ = b.Wait(ctx)
	}
}

// checkSession refuses a session timeout outside the brokers'
// group.min/max.session.timeout.ms where they can be read: the group
// coordinator would refuse every join with INVALID_SESSION_TIMEOUT.
func (s *Connector) checkSession(ctx context.Context) error {
	c := s.cfg.Sources[0]
	lctx, cancel := context.WithTimeout(ctx, startAttemptTimeout)
	defer cancel()
	l, err := sink.DialBrokerLimits(lctx, append([]kgo.Opt{kgo.SeedBrokers(c.Brokers...)}, c.KafkaOpts...))
	if err != nil {
		s.log.Info("brokers' group limits not readable; session timeout not checked against them", "err", err)
	}
	if err := l.CheckSessionTimeout(s.cfg.SessionTimeout); err != nil {
		err = &sink.FatalError{Err: err}
		s.countFatal(err)
		return err
	}
	return nil
}

// groupErrors feeds the errors that break the group client's session
// (kgo.HookGroupManageError) into the pod's fatal path when waiting cannot
// mend them: a group ACL denied (GROUP_AUTHORIZATION_FAILED, class acl), a
// session timeout or protocol the coordinator refuses (class config).
// Others (a coordinator moving, a rebalance) the client retries itself.
// Without it such errors went only to the client's retry loop, and the pod
// stayed "not yet a member" for good.
type groupErrors struct{ g *member }

var _ kgo.HookGroupManageError = groupErrors{}

// OnGroupManageError implements kgo.HookGroupManageError.
func (h groupErrors) OnGroupManageError(err error) {
	f := sink.AsFatal(err)
	if !sink.IsFatal(f) {
		return
	}
	f = &sink.FatalError{Err: fmt.Errorf("group %q: %w", h.g.set.cfg.Group, err)}
	h.g.set.countFatal(f)
	h.g.fail(f)
}

// countFatal counts and logs a fatal error of the group itself, not of a
// unit (units count their own).
func (s *Connector) countFatal(err error) {
	class := sink.FatalClass(err)
	s.m.FatalErrors.WithLabelValues(class).Inc()
	s.mu.Lock()
	s.stopped = "stopped on a fatal Kafka error (" + class + "): " + err.Error()
	s.mu.Unlock()
	s.log.Error("fatal error", "class", class, "group", s.cfg.Group, "err", err)
}

func (g *member) assigned(_ context.Context, _ *kgo.Client, m map[string][]int32) {
	g.start(m[g.topic])
	g.set.mu.Lock()
	g.set.joined = true
	g.set.mu.Unlock()
	g.count("assigned", m)
}

// start starts a unit for each partition of ps not already owned.
func (g *member) start(ps []int32) {
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, p := range ps {
		if _, ok := g.workers[p]; ok {
			continue
		}
		u, err := g.unit(p)
		if err != nil {
			g.fail(err)
			continue
		}
		wctx, cancel := context.WithCancel(g.ctx)
		w := &worker{cancel: cancel, done: make(chan struct{})}
		g.workers[p] = w
		go func() {
			defer close(w.done)
			g.work(wctx, p, u)
		}()
	}
}

// unit makes the unit of p, the one the pod's readiness looks at.
func (g *member) unit(p int32) (*unit, error) {
	s := g.set
	u, err := s.newUnit(p)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	s.units[p] = u
	s.mu.Unlock()
	s.log.Info("state partition assigned", "partition", p, "sources", len(u.sources))
	return u, nil
}

// work runs the unit of p until ctx is done. A unit fenced while this pod
// still owns p starts again after two heartbeats: had the group moved p,
// it would have revoked it by then (ctx done); since it did not, the fence
// came from the broker (a transaction it lost across a restart), and the
// partition's sources would otherwise stand still while the pod
// heartbeats. Any other failure but one that waiting cannot mend (an
// auth, acl or config class: see stopsPod) starts the unit again too,
// after a backoff that doubles up to Retry.Max: a transaction that timed
// out, a broker that failed a commit, a source that failed. Whoever the new
// producer fences, the unit restores its state first, so the output stays
// exactly once either way.
func (g *member) work(ctx context.Context, p int32, u *unit) {
	s := g.set
	c := s.cfg.Sources[0]
	initial := max(c.Retry.Initial, source.DefaultRetryInitial)
	b := pause.Backoff{Initial: initial, Max: max(c.Retry.Max, initial)}
	for {
		began := time.Now()
		err := u.run(ctx)
		if time.Since(began) > 2*max(c.Retry.Max, source.DefaultRetryMax) {
			b.Reset() // it ran a good while: not a loop
		}
		var retry time.Duration
		switch {
		case err == nil:
			return
		case ctx.Err() != nil:
			// p was just revoked or lost: whatever the producer failed
			// with is moot.
			s.log.Warn("producer failed as the state partition was released", "partition", p, "err", err)
			return
		case sink.IsFenced(err):
			retry = g.refence
			s.log.Warn("fenced: state partition taken over by another pod or its transaction ended by the broker; starting it again unless the group moves it",
				"partition", p, "retry_in_seconds", retry.Seconds(), "err", err)
		case stopsPod(err):
			g.fail(fmt.Errorf("state partition %d: %w", p, err))
			return
		default:
			retry = b.Next()
			s.log.Warn("unit of work failed; starting it again", "partition", p, "class", sink.FatalClass(err),
				"retry_in_seconds", retry.Seconds(), "err", err)
		}
		if pause.For(ctx, retry) != nil {
			return
		}
		if s.gm != nil {
			s.gm.UnitRestarts.Inc()
		}
		if u, err = g.unit(p); err != nil {
			g.fail(err)
			return
		}
	}
}

// stopsPod reports whether a unit's failure is one that no restart of the
// unit can mend, so that the pod exits: refused credentials, a denied ACL,
// a setting the brokers refuse.
func stopsPod(err error) bool {
	switch sink.FatalClass(err) {
	case sink.ClassAuth, sink.ClassACL, sink.ClassConfig:
		return true
	}
	return false
}

func (g *member) revoked(_ context.Context, _ *kgo.Client, m map[string][]int32) {
	g.stop(m[g.topic])
	g.count("revoked", m)
}

func (g *member) lost(_ context.Context, _ *kgo.Client, m map[string][]int32) {
	g.stop(m[g.topic])
	g.count("lost", m)
}

// stop stops the units of ps and waits until each ended its transaction
// and closed its producer: only then may the group give them to another
// pod. Called from the group's callbacks, it holds up the rebalance, as
// the group protocol intends.
func (g *member) stop(ps []int32) {
	g.mu.Lock()
	defer g.mu.Unlock()
	var stopped []*worker
	for _, p := range ps {
		if w, ok := g.workers[p]; ok {
			w.cancel()
			stopped = append(stopped, w)
			delete(g.workers, p)
		}
	}
	for _, w := range stopped {
		<-w.done
	}
	g.set.mu.Lock()
	for _, p := range ps {
		delete(g.set.units, p)
	}
	g.set.mu.Unlock()
	if len(ps) > 0 {
		g.set.log.Info("state partitions released", "partitions", ps)
	}
}

func (g *member) stopAll() {
	g.mu.Lock()
	ps := make([]int32, 0, len(g.workers))
	for p := range g.workers {
		ps = append(ps, p)
	}
	g.mu.Unlock()
	g.stop(ps)
}

func (g *member) fail(err error) {
	select {
	case g.fatal <- err:
	default:
	}
}

// count records an event of the group protocol; the callers hold no lock
// that the metrics need.
func (g *member) count(event string, m map[string][]int32) {
	if g.set.gm == nil {
		return
	}
	if len(m[g.topic]) > 0 {
		g.set.gm.Rebalances.WithLabelValues(event).Inc()
	}
	g.mu.Lock()
	n := len(g.workers)
	g.mu.Unlock()
	g.set.gm.PartitionsOwned.Set(float64(n))
}
