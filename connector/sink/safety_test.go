package sink

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
)

// A fence-like answer after the transaction was open for the whole
// timeout is the coordinator's timeout, not a newer instance; one that
// comes sooner is a fence; an end bound that passed is a timeout.
func TestTimedOutTellsATimeoutFromAFence(t *testing.T) {
	s := &Sink{cfg: Config{TransactionTimeout: 2 * time.Second}}
	fenced := &FatalError{fmt.Errorf("committing transaction: %w", kerr.ProducerFenced)}
	for _, tc := range []struct {
		name       string
		open       time.Duration
		err        error
		wantClass  string
		wantFenced bool
	}{
		{"fenced within the timeout", time.Second, fenced, ClassFenced, true},
		{"fenced after the timeout", 3 * time.Second, fenced, ClassTimeout, false},
		{"end bound passed", 600 * time.Millisecond, &FatalError{fmt.Errorf("committing transaction: %w", context.DeadlineExceeded)}, ClassTimeout, false},
		{"aborted cleanly", 3 * time.Second, fmt.Errorf("%w: producing", ErrAborted), "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := s.timedOut(time.Now().Add(-tc.open), tc.err)
			if got := FatalClass(err); got != tc.wantClass {
				t.Errorf("FatalClass(%v) = %q, want %q", err, got, tc.wantClass)
			}
			if got := IsFenced(err); got != tc.wantFenced {
				t.Errorf("IsFenced(%v) = %v, want %v", err, got, tc.wantFenced)
			}
		})
	}
}

// A transaction timeout over the brokers' transaction.max.timeout.ms is
// refused in one line naming both, classed config.
func TestRefusesATransactionTimeoutOverTheBrokers(t *testing.T) {
	c := newCluster(t, kfake.BrokerConfigs(map[string]string{"transaction.max.timeout.ms": "30000"}))
	_, err := New(context.Background(), Config{
		TransactionalID: "x", Topics: testTopics, CreateTopics: true, TransactionTimeout: time.Minute,
		ClientOpts: []kgo.Opt{kgo.SeedBrokers(c.ListenAddrs()...)},
	})
	if FatalClass(err) != ClassConfig || !strings.Contains(err.Error(), "transaction.max.timeout.ms (30s)") || strings.Contains(err.Error(), "\n") {
		t.Fatalf("New with a 1m timeout against a 30s limit = %v (class %q), want one line of class config naming the limit", err, FatalClass(err))
	}
	s, err := New(context.Background(), Config{
		TransactionalID: "x", Topics: testTopics, CreateTopics: true, TransactionTimeout: 30 * time.Second,
		ClientOpts: []kgo.Opt{kgo.SeedBrokers(c.ListenAddrs()...)},
	})
	if err != nil {
		t.Fatalf("New at the limit = %v", err)
	}
	s.Close()
}

func TestReplication(t *testing.T) {
	for _, tc := range []struct {
		configured int16
		brokers    int
		want       int16
		fewer      bool
	}{
		{0, 5, 3, false},
		{0, 1, 1, true},
		{0, 2, 2, true},
		{0, 0, -1, false},
		{2, 5, 2, false},
		{-1, 5, -1, false},
	} {
		if got, fewer := Replication(tc.configured, tc.brokers); got != tc.want || fewer != tc.fewer {
			t.Errorf("Replication(%d, %d) = %d, %v; want %d, %v", tc.configured, tc.brokers, got, fewer, tc.want, tc.fewer)
		}
	}
}

// topicConfig returns a topic's config value, or "<unset>".
func topicConfig(t *testing.T, adm *kadm.Client, topic, key string) string {
	t.Helper()
	rcs, err := adm.DescribeTopicConfigs(context.Background(), topic)
	if err != nil {
		t.Fatal(err)
	}
	rc, err := rcs.On(topic, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range rc.Configs {
		if c.Key == key && c.Value != nil {
			return *c.Value
		}
	}
	return "<unset>"
}

// On a cluster of three brokers the topics are created with three
// replicas and the state topic needs two in sync; on one broker they get
// one replica, with no flag; an explicit replication factor wins.
func TestCreatedTopicsAreReplicated(t *testing.T) {
	for _, tc := range []struct {
		name         string
		brokers      int
		configured   int16
		wantReplicas int
		wantInsync   string
	}{
		{"three brokers", 3, 0, 3, "2"},
		{"one broker", 1, 0, 1, "1"},
		{"explicit factor", 3, 2, 2, "1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newCluster(t, kfake.NumBrokers(tc.brokers))
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			s, err := New(ctx, Config{
				TransactionalID: "rf", Topics: testTopics, CreateTopics: true, ReplicationFactor: tc.configured,
				ClientOpts: []kgo.Opt{kgo.SeedBrokers(c.ListenAddrs()...)},
			})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			details, err := s.adm.ListTopics(ctx, testTopics.Calls, testTopics.State)
			if err != nil {
				t.Fatal(err)
			}
			for _, topic := range []string{testTopics.Calls, testTopics.State} {
				if got := details[topic].Partitions.NumReplicas(); got != tc.wantReplicas {
					t.Errorf("%s has %d replicas, want %d", topic, got, tc.wantReplicas)
				}
			}
			insync := topicConfig(t, s.adm, testTopics.State, "min.insync.replicas")
			if insync == "<unset>" {
				insync = "1" // the brokers' default
			}
			if insync != tc.wantInsync {
				t.Errorf("state topic min.insync.replicas = %s, want %s", insync, tc.wantInsync)
			}
		})
	}
}

// A state topic that deletes as well as compacts loses the dedup entries
// of calls that do not change: refused in one line.
func TestRefusesAStateTopicThatAlsoDeletes(t *testing.T) {
	c := newCluster(t)
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	policy := "compact,delete"
	if _, err := adm.CreateTopic(context.Background(), 1, 1, map[string]*string{"cleanup.policy": &policy}, testTopics.State); err != nil {
		t.Fatal(err)
	}
	_, err = New(context.Background(), Config{
		TransactionalID: "x", Topics: testTopics, CreateTopics: true,
		ClientOpts: []kgo.Opt{kgo.SeedBrokers(c.ListenAddrs()...)},
	})
	if !errors.Is(err, ErrStateNotCompacted) || FatalClass(err) != ClassConfig ||
		!strings.Contains(err.Error(), "it has compact,delete") || strings.Contains(err.Error(), "\n") {
		t.Fatalf("New with a compact,delete state topic = %v, want one line wrapping ErrStateNotCompacted", err)
	}
}

// Audit names each unsafe setting of an existing topic with its fix.
func TestAudit(t *testing.T) {
	specs := Specs(Topics{Calls: "calls", Failed: "f", DLQ: "d", State: "s", Latest: "l"}, 3, nil)
	byName := map[string]TopicSpec{}
	for _, s := range specs {
		byName[s.Name] = s
	}
	cfg := func(kv ...string) []kadm.Config {
		var out []kadm.Config
		for i := 0; i < len(kv); i += 2 {
			out = append(out, kadm.Config{Key: kv[i], Value: &kv[i+1]})
		}
		return out
	}
	for _, tc := range []struct {
		name              string
		topic             string
		replicas, brokers int
		configs           []kadm.Config
		want              []string // parts of the fixes, in order
		warnings          int
	}{
		{"safe state topic", "s", 3, 3, cfg("cleanup.policy", "compact", "min.insync.replicas", "2"), nil, 0},
		{"state topic that deletes", "s", 3, 3, cfg("cleanup.policy", "compact,delete", "min.insync.replicas", "2"), []string{"cleanup.policy=compact"}, 0},
		{"state topic, one replica in sync", "s", 3, 3, cfg("cleanup.policy", "compact"), []string{"min.insync.replicas=2"}, 0},
		{"state topic, unclean election", "s", 3, 3, cfg("cleanup.policy", "compact", "min.insync.replicas", "2", "unclean.leader.election.enable", "true"),
			[]string{"unclean.leader.election.enable=false"}, 0},
		{"unreplicated on three brokers", "calls", 1, 3, nil, []string{"to 3 with kafka-reassign-partitions.sh"}, 1},
		{"one replica on one broker", "calls", 1, 1, nil, nil, 0},
		{"latest that deletes too", "l", 3, 3, cfg("cleanup.policy", "compact,delete"), []string{"cleanup.policy=compact"}, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := Audit(byName[tc.topic], tc.replicas, tc.brokers, tc.configs)
			warnings := 0
			for _, f := range got {
				if f.Warning {
					warnings++
				}
			}
			if len(got) != len(tc.want) || warnings != tc.warnings {
				t.Fatalf("Audit = %+v, want %d findings (%d warnings)", got, len(tc.want), tc.warnings)
			}
			for i, w := range tc.want {
				if !strings.Contains(got[i].Fix, w) {
					t.Errorf("finding %d fix %q, want it to name %q", i, got[i].Fix, w)
				}
			}
		})
	}
}

// A restore held at the last stable offset by another producer's open
// transaction says what holds it (how far the stable offset is from the
// barrier, and the producer with its transactional id) every few seconds,
// and fails with that diagnosis after RestoreStall. Before, ReadState
// waited without a word.
func TestRestoreNamesWhatHoldsIt(t *testing.T) {
	c := newCluster(t)
	s := newSink(t, c, "restorer")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := s.Commit(ctx, []*kgo.Record{stateRecord("a", "1")}); err != nil {
		t.Fatal(err)
	}
	// Another transactional id opens a transaction on the state partition
	// and leaves it open.
	holder, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...), kgo.TransactionalID("holder"), kgo.TransactionTimeout(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Close()
	if err := holder.BeginTransaction(); err != nil {
		t.Fatal(err)
	}
	if err := holder.ProduceSync(ctx, stateRecord("b", "open")).FirstErr(); err != nil {
		t.Fatal(err)
	}
	var reported [][]RestoreWait
	s.cfg.RestoreCheckEvery, s.cfg.RestoreStall = 200*time.Millisecond, 2*time.Second
	s.cfg.OnRestoreWait = func(w []RestoreWait) { reported = append(reported, w) }
	_, err = s.ReadState(ctx, func(_, _ []byte, _ time.Time) error { return nil })
	var stalled *RestoreStalledError
	if !errors.As(err, &stalled) {
		t.Fatalf("ReadState = %v, want a *RestoreStalledError", err)
	}
	t.Logf("ReadState = %v", err)
	if !strings.Contains(err.Error(), `transactional id "holder"`) || !strings.Contains(err.Error(), "offsets before the barrier") {
		t.Errorf("error %q, want it to name the holder and the distance to the barrier", err)
	}
	if len(stalled.Waits) != 1 || stalled.Waits[0].Unstable() <= 0 || len(stalled.Waits[0].Holders) != 1 {
		t.Errorf("waits %+v, want one partition held by one producer", stalled.Waits)
	}
	if len(reported) < 2 || reported[len(reported)-1] != nil {
		t.Errorf("reported %d times, the last %v; want several reports, then nil as the restore ended", len(reported), reported[len(reported)-1])
	}
}
