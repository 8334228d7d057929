package connector

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/callstream/callstream/check"
	"github.com/callstream/callstream/connector/sink"
	"github.com/callstream/callstream/connector/state"
	"github.com/callstream/callstream/metrics"
	"github.com/callstream/callstream/secret"
	"github.com/callstream/callstream/simulator"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// setTypes are the request types each test app lists its calls under.
var setTypes = []string{"call", "chat"}

// newApp serves a simulated app with its own id, key and calls.
func newApp(t *testing.T, appID string, seed int64) string {
	t.Helper()
	sim, err := simulator.New(simulator.Config{
		AppID: appID, AppKey: secret.String("key-" + appID), Types: setTypes,
		Seed: seed, History: 80, HistorySpan: 2 * time.Hour, Calls: 20, Rate: 10,
		ConvertAfter: 2 * time.Second, FailRatio: 0.2,
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(sim.Handler())
	t.Cleanup(srv.Close)
	return srv.URL
}

// setSources is one source per app and type, named app-type; truth maps
// each source to its app's URL.
func setSources(t *testing.T, brokers []string, apps map[string]string) (srcs []SourceConfig, truth map[string]string) {
	t.Helper()
	truth = map[string]string{}
	for appID, url := range apps {
		for _, typ := range setTypes {
			c := testConfig(t, url, brokers)
			c.AppID, c.AppKey, c.Type = appID, secret.String("key-"+appID), typ
			c.SourceName = appID + "-" + typ
			srcs = append(srcs, c)
			truth[c.SourceName] = url
		}
	}
	return srcs, truth
}

// awaitSources waits until the output of every source, told apart by the
// source name in its events, holds its app's truth exactly once.
func awaitSources(t *testing.T, brokers []string, truth map[string]string, timeout time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	var last string
	for {
		bad, err := compareSources(ctx, brokers, truth)
		if err == nil && bad == "" {
			return
		}
		if err != nil {
			bad = err.Error()
		}
		last = bad
		select {
		case <-ctx.Done():
			t.Fatalf("output never held the truth of every source: %s", last)
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// compareSources compares each source's events with its truth once and
// describes the first source that differs; "" when none does.
func compareSources(ctx context.Context, brokers []string, truth map[string]string) (string, error) {
	out, err := check.ReadOutput(ctx, []kgo.Opt{kgo.SeedBrokers(brokers...)}, check.DefaultTopics())
	if err != nil {
		return "", err
	}
	for _, e := range out.Events {
		if _, ok := truth[e.Event.Source.Name]; !ok {
			return fmt.Sprintf("events of an unknown source %q", e.Event.Source.Name), nil
		}
	}
	for name, url := range truth {
		calls, err := check.FetchTruth(ctx, url)
		if err != nil {
			return "", err
		}
		r := check.Compare(calls, out.Source(name), nil)
		if !r.OK() {
			return fmt.Sprintf("source %s: %s", name, r), nil
		}
	}
	return "", nil
}

// awaitReady waits until s is ready, or fails the test with the reason.
func awaitReady(t *testing.T, s *Connector, d time.Duration) {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		ok, why := s.Ready()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("not ready after %s: %s", d, why)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func runSet(t *testing.T, cfg Config, gm *metrics.Group) (s *Connector, stop func() error) {
	t.Helper()
	s, err := New(cfg, Options{Metrics: metrics.New(prometheus.NewRegistry())}, gm)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	stopped := false
	stop = func() error {
		if stopped {
			return nil
		}
		stopped = true
		cancel()
		select {
		case err := <-done:
			return err
		case <-time.After(60 * time.Second):
			t.Fatal("set did not stop within 60s of cancel")
			return nil
		}
	}
	t.Cleanup(func() { _ = stop() })
	return s, stop
}

// A state topic written by a single-source run is read by a Set without a
// group: the legacy source carries on from its state, a new source starts,
// and nothing is emitted twice; a restart of the Set changes nothing.
func TestSetCarriesOnASingleSourceState(t *testing.T) {
	cluster := newCluster(t)
	brokers := cluster.ListenAddrs()
	apps := map[string]string{"app-a": newApp(t, "app-a", 3), "app-b": newApp(t, "app-b", 4)}
	srcs, truth := setSources(t, brokers, apps)

	var legacy SourceConfig
	for _, s := range srcs {
		if s.SourceName == "app-a-call" {
			legacy = s
		}
	}
	stop := runConnector(t, legacy, nil)
	awaitSources(t, brokers, map[string]string{"app-a-call": apps["app-a"]}, 60*time.Second)
	if err := stop(); err != nil {
		t.Fatal(err)
	}

	for i := range 2 {
		s, stop := runSet(t, Config{Sources: srcs, UnprefixedSource: "app-a-call"}, nil)
		awaitSources(t, brokers, truth, 90*time.Second)
		awaitReady(t, s, 30*time.Second)
		// The state gauge sums the sources: each holds its app's 100 calls.
		if got := testutil.ToFloat64(s.m.StateEntries); got != 400 {
			t.Errorf("run %d: state entries %v, want 400 (4 sources of 100 calls)", i, got)
		}
		if err := stop(); err != nil {
			t.Fatalf("run %d: %v", i, err)
		}
	}
}

// Pods of one group share the state partitions: each source is polled by
// exactly one of them, and its output stays exactly once as pods stop and
// join.
func TestGroupSharesSources(t *testing.T) {
	cluster := newCluster(t)
	brokers := cluster.ListenAddrs()
	apps := map[string]string{"app-a": newApp(t, "app-a", 5), "app-b": newApp(t, "app-b", 6)}
	srcs, truth := setSources(t, brokers, apps)
	cfg := Config{Sources: srcs, Group: "g", StatePartitions: 4, SessionTimeout: 6 * time.Second}

	gms := []*metrics.Group{metrics.NewGroup(prometheus.NewRegistry()), metrics.NewGroup(prometheus.NewRegistry())}
	a, stopA := runSet(t, cfg, gms[0])
	b, _ := runSet(t, cfg, gms[1])
	awaitSources(t, brokers, truth, 90*time.Second)
	deadline := time.Now().Add(30 * time.Second)
	for {
		owned := testutil.ToFloat64(gms[0].PartitionsOwned) + testutil.ToFloat64(gms[1].PartitionsOwned)
		okA, whyA := a.Ready()
		okB, whyB := b.Ready()
		if owned == 4 && okA && okB {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("partitions owned %v, want 4; ready %v (%s), %v (%s)", owned, okA, whyA, okB, whyB)
		}
		time.Sleep(200 * time.Millisecond)
	}

	// A pod that stops hands its partitions over: the other takes them.
	if n := testutil.CollectAndCount(a.m.LastSuccess); n == 0 {
		t.Error("a pod that polls sources exports no last success of them")
	}
	if err := stopA(); err != nil {
		t.Fatal(err)
	}
	// and exports nothing more of the sources it no longer runs.
	for name, c := range map[string]prometheus.Collector{
		"last success": a.m.LastSuccess, "last record": a.m.LastRecord, "backfill": a.m.BackfillRatio, "lag": a.m.SourceLag,
	} {
		if n := testutil.CollectAndCount(c); n != 0 {
			t.Errorf("a pod that stopped still exports %d %s series", n, name)
		}
	}
	deadline = time.Now().Add(30 * time.Second)
	for testutil.ToFloat64(gms[1].PartitionsOwned) != 4 {
		if time.Now().After(deadline) {
			t.Fatalf("after a pod stopped the other owns %v partitions, want 4", testutil.ToFloat64(gms[1].PartitionsOwned))
		}
		time.Sleep(200 * time.Millisecond)
	}
	// A pod that joins takes some.
	gm := metrics.NewGroup(prometheus.NewRegistry())
	runSet(t, cfg, gm)
	deadline = time.Now().Add(30 * time.Second)
	for testutil.ToFloat64(gm.PartitionsOwned) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("a pod that joined got no partition")
		}
		time.Sleep(200 * time.Millisecond)
	}
	time.Sleep(3 * time.Second)
	awaitSources(t, brokers, truth, 60*time.Second)
	if got := testutil.ToFloat64(gms[1].Rebalances.WithLabelValues("assigned")); got < 2 {
		t.Errorf("rebalances seen by the pod that stayed = %v, want at least 2", got)
	}
}

// A state topic of another partition count than --state-partitions is
// refused with one line that names both.
func TestGroupRefusesAnotherPartitionCount(t *testing.T) {
	cluster := newCluster(t)
	brokers := cluster.ListenAddrs()
	srcs, _ := setSources(t, brokers, map[string]string{"app-a": newApp(t, "app-a", 7)})
	cfg := Config{Sources: srcs, Group: "g", StatePartitions: 4, SessionTimeout: 6 * time.Second}
	_, stop := runSet(t, cfg, nil)
	time.Sleep(2 * time.Second)
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	cfg.StatePartitions = 6
	s, err := New(cfg, Options{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err = s.Run(ctx)
	var spe *sink.StatePartitionsError
	if !errors.As(err, &spe) || spe.Have != 4 || spe.Want != 6 {
		t.Fatalf("Run = %v, want a *sink.StatePartitionsError of 4 against 6", err)
	}
	if msg := err.Error(); strings.Contains(msg, "\n") || !strings.Contains(msg, "--state-partitions is 6") {
		t.Errorf("error %q is not one line naming --state-partitions", msg)
	}
}

func TestStatePartitionIsStable(t *testing.T) {
	for _, tc := range []struct {
		name       string
		partitions int
		want       int32
	}{
		{"acme", 12, state.SourcePartition("acme", 12)},
		{"acme", 1, 0},
	} {
		got := state.SourcePartition(tc.name, tc.partitions)
		if got != tc.want || got < 0 || int(got) >= tc.partitions {
			t.Errorf("state.SourcePartition(%q, %d) = %d, want %d", tc.name, tc.partitions, got, tc.want)
		}
	}
	// FNV-1a of "acme" is 0x2e5b3a8f... fixed for ever: a change would move
	// every source away from its state.
	if got := state.SourcePartition("acme", 1<<16); got != int32(fnv32a("acme")%(1<<16)) {
		t.Errorf("StatePartition is not FNV-1a: %d", got)
	}
}

// fnv32a is FNV-1a, written out, as the test's oracle.
func fnv32a(s string) uint32 {
	h := uint32(2166136261)
	for i := range len(s) {
		h ^= uint32(s[i])
		h *= 16777619
	}
	return h
}

func TestSetConfigValidate(t *testing.T) {
	base := testConfig(t, "http://127.0.0.1:1", []string{"127.0.0.1:9092"})
	named := func(name, app string) SourceConfig {
		c := base
		c.SourceName, c.AppID = name, app
		return c
	}
	for _, tc := range []struct {
		name string
		cfg  Config
		want string
	}{
		{"ok", Config{Sources: []SourceConfig{named("a", "1"), named("b", "2")}}, ""},
		{"none", Config{}, "sources: want at least one"},
		{"bad name", Config{Sources: []SourceConfig{named("A_b", "1")}}, "sources[0].name"},
		{"twice", Config{Sources: []SourceConfig{named("a", "1"), named("a", "2")}}, "used twice"},
		{"same reads", Config{Sources: []SourceConfig{named("a", "1"), named("b", "1")}}, "same app id and type"},
		{"partitions", Config{Sources: []SourceConfig{named("a", "1")}, Group: "g", StatePartitions: 0}, "--state-partitions"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.cfg.Validate()
			if (tc.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tc.want)) {
				t.Errorf("Validate() = %v, want %q", err, tc.want)
			}
		})
	}
}

// A pod of a group that starts before the brokers waits for them, not
// ready, and joins once they answer.
func TestGroupWaitsForTheBrokers(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	brokers := []string{fmt.Sprintf("127.0.0.1:%d", port)}
	srcs, truth := setSources(t, brokers, map[string]string{"app-a": newApp(t, "app-a", 9)})
	for i := range srcs {
		srcs[i].Retry.Max = 200 * time.Millisecond
	}
	s, stop := runSet(t, Config{Sources: srcs, Group: "g", StatePartitions: 4, SessionTimeout: 6 * time.Second}, nil)
	time.Sleep(2 * time.Second)
	if ok, why := s.Ready(); ok {
		t.Fatal("ready without brokers")
	} else {
		t.Logf("without brokers: %s", why)
	}
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.Ports(port), kfake.DefaultNumPartitions(3))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	awaitSources(t, brokers, truth, 90*time.Second)
	awaitReady(t, s, 30*time.Second)
	// Stopped before its broker closes (the cleanups run the other way
	// round): a Set cut off from its brokers may take its transactions'
	// and the group's timeouts to stop.
	if err := stop(); err != nil {
		t.Fatal(err)
	}
}

// A unit whose producer the broker fences while its pod still owns the
// partition (a transaction the broker ended, as across a restart) starts
// again: no other pod would take the partition over, since the group sees
// its owner heartbeat. Its sources deliver their truth exactly once.
func TestGroupUnitFencedWhileOwned(t *testing.T) {
	_, gm := restartAfterFailedCommit(t, 11, kerr.ProducerFenced)
	if got := testutil.ToFloat64(gm.Rebalances.WithLabelValues("revoked")) + testutil.ToFloat64(gm.Rebalances.WithLabelValues("lost")); got != 0 {
		t.Errorf("revocations = %v, want none: the pod kept its partitions", got)
	}
}

// The state of a source removed from the configuration stays while it is
// younger than RemovedSourceRetention, and is deleted (a tombstone for
// each of its keys that holds a value) by the next start after that; the
// sources still configured keep theirs.
func TestRemovedSourceStateAgesOut(t *testing.T) {
	cluster := newCluster(t)
	brokers := cluster.ListenAddrs()
	apps := map[string]string{"app-a": newApp(t, "app-a", 13)}
	srcs, truth := setSources(t, brokers, apps)
	_, stop := runSet(t, Config{Sources: srcs}, nil)
	awaitSources(t, brokers, truth, 90*time.Second)
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	kept, removed := srcs[0], srcs[1].SourceName
	live := func() (keptKeys, removedKeys int) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		s, err := sink.New(ctx, sinkConfig(kept, slog.New(slog.DiscardHandler), nil))
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		values := map[string]bool{}
		if _, err := s.ReadState(ctx, func(k, v []byte, _ time.Time) error {
			values[string(k)] = v != nil
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		for k, v := range values {
			name, _, _, err := state.SplitSourceKey([]byte(k))
			switch {
			case err != nil:
				t.Fatal(err)
			case v && name == removed:
				removedKeys++
			case v && name == kept.SourceName:
				keptKeys++
			}
		}
		return keptKeys, removedKeys
	}
	keptBefore, removedBefore := live()
	if keptBefore == 0 || removedBefore == 0 {
		t.Fatalf("state keys holding values: %d of %s, %d of %s; want some of each", keptBefore, kept.SourceName, removedBefore, removed)
	}
	for _, tc := range []struct {
		retention   time.Duration
		wantRemoved int
	}{{time.Hour, removedBefore}, {time.Nanosecond, 0}} {
		s, stop := runSet(t, Config{Sources: []SourceConfig{kept}, RemovedSourceRetention: tc.retention}, nil)
		awaitReady(t, s, 60*time.Second) // the age-out comes before the first window
		if err := stop(); err != nil {
			t.Fatal(err)
		}
		keptNow, removedNow := live()
		if removedNow != tc.wantRemoved || keptNow < keptBefore {
			t.Errorf("retention %s: %d keys of the removed source hold values, want %d; %d of the kept one, want at least %d",
				tc.retention, removedNow, tc.wantRemoved, keptNow, keptBefore)
		}
	}
}

// restartAfterFailedCommit runs a group of one source (its app's calls
// drawn from seed) whose unit's first commit the broker answers with err,
// and checks that the unit started again in the same pod: the output holds
// the truth exactly once, the pod is ready, and one unit restart counted.
func restartAfterFailedCommit(t *testing.T, seed int64, err *kerr.Error) (*Connector, *metrics.Group) {
	t.Helper()
	cluster := newCluster(t)
	brokers := cluster.ListenAddrs()
	apps := map[string]string{"app-a": newApp(t, "app-a", seed)}
	srcs, truth := setSources(t, brokers, apps)
	const partitions = 2
	p := state.SourcePartition(srcs[0].SourceName, partitions)
	txnID := fmt.Sprintf("%s-p%d", srcs[0].TransactionalID, p)
	h := cluster.Fault(kfake.Fault{
		Keys: []kmsg.Key{kmsg.EndTxn}, TopLevel: true, Err: err,
		When: func(r kmsg.Request) bool {
			req, ok := r.(*kmsg.EndTxnRequest)
			return ok && req.TransactionalID == txnID && req.Commit
		},
	})
	defer h.Remove()
	gm := metrics.NewGroup(prometheus.NewRegistry())
	s, _ := runSet(t, Config{Sources: srcs, Group: "g", StatePartitions: partitions, SessionTimeout: 6 * time.Second}, gm)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := h.Wait(ctx, 1); err != nil {
		t.Fatalf("the unit of partition %d never committed: %v", p, err)
	}
	awaitSources(t, brokers, truth, 90*time.Second)
	awaitReady(t, s, 30*time.Second)
	if got := testutil.ToFloat64(gm.UnitRestarts); got != 1 {
		t.Errorf("unit restarts = %v, want 1", got)
	}
	return s, gm
}
