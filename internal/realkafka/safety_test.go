package realkafka

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/callstream/callstream/connector/sink"
	"github.com/callstream/callstream/internal/netdelay"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// TestRealKafkaSafety runs, against Apache Kafka, the cases that kfake
// answers more leniently or differently (docs/reliability.md, "Where kfake
// differs"): the brokers' limits as Kafka reports them, a commit that
// outlasts its bounds, the state topic's cleanup policy and replication,
// and a restore held by another producer's open transaction.
func TestRealKafkaSafety(t *testing.T) {
	s := startServices(t)
	seed := []kgo.Opt{kgo.SeedBrokers(s.brokers)}
	topics := func(name string) sink.Topics {
		return sink.Topics{Calls: name + ".calls", Failed: name + ".failed", DLQ: name + ".dlq", State: name + ".state"}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()

	t.Run("limits", func(t *testing.T) {
		l, err := sink.DialBrokerLimits(ctx, seed)
		if err != nil {
			t.Fatal(err)
		}
		if l.Brokers != 1 || l.TransactionMaxTimeout != 15*time.Minute || l.GroupMinSession != 6*time.Second {
			t.Errorf("limits %+v, want 1 broker, Kafka's defaults 15m and 6s", l)
		}
		if err := l.CheckSessionTimeout(3 * time.Second); err == nil {
			t.Error("a 3s session timeout passed against group.min.session.timeout.ms 6s")
		}
		_, err = sink.New(ctx, sink.Config{TransactionalID: "limits", Topics: topics("limits"), CreateTopics: true,
			TransactionTimeout: 20 * time.Minute, ClientOpts: seed})
		if sink.FatalClass(err) != sink.ClassConfig {
			t.Errorf("New with a 20m transaction timeout = %v, want class config", err)
		}
	})

	t.Run("commit outlasting its bounds", func(t *testing.T) {
		slow, err := sink.New(ctx, sink.Config{TransactionalID: "slow", Topics: topics("slow"), CreateTopics: true,
			TransactionTimeout: 2 * time.Second, ClientOpts: append(seed, kgo.Dialer(netdelay.Dialer(400*time.Millisecond)))})
		if err != nil {
			t.Fatal(err)
		}
		defer slow.Close()
		err = slow.Commit(ctx, []*kgo.Record{{Topic: "slow.state", Key: []byte("a"), Value: []byte("1")}})
		if got := sink.FatalClass(err); got != sink.ClassTimeout || sink.IsFenced(err) {
			t.Fatalf("Commit over 800ms round trips with 500ms to end = %v (class %q), want class timeout, not fenced", err, got)
		}
		again, err := sink.New(ctx, sink.Config{TransactionalID: "slow", Topics: topics("slow"), ClientOpts: seed})
		if err != nil {
			t.Fatal(err)
		}
		defer again.Close()
		if err := again.Commit(ctx, []*kgo.Record{{Topic: "slow.state", Key: []byte("a"), Value: []byte("2")}}); err != nil {
			t.Fatalf("a new producer's commit after the timeout = %v", err)
		}
	})

	t.Run("state topic compact only", func(t *testing.T) {
		cl, err := kgo.NewClient(seed...)
		if err != nil {
			t.Fatal(err)
		}
		defer cl.Close()
		policy := "compact,delete"
		if _, err := kadm.NewClient(cl).CreateTopic(ctx, 1, 1, map[string]*string{"cleanup.policy": &policy}, "policy.state"); err != nil {
			t.Fatal(err)
		}
		_, err = sink.New(ctx, sink.Config{TransactionalID: "policy", Topics: topics("policy"), CreateTopics: true, ClientOpts: seed})
		if !errors.Is(err, sink.ErrStateNotCompacted) {
			t.Errorf("New with a compact,delete state topic = %v, want ErrStateNotCompacted", err)
		}
	})

	t.Run("replication on one broker", func(t *testing.T) {
		sk, err := sink.New(ctx, sink.Config{TransactionalID: "rf", Topics: topics("rf"), CreateTopics: true, ClientOpts: seed})
		if err != nil {
			t.Fatalf("New on a one-broker cluster with no --replication-factor = %v, want the topics created with one replica", err)
		}
		sk.Close()
	})

	t.Run("restore held by an open transaction", func(t *testing.T) {
		sk, err := sink.New(ctx, sink.Config{TransactionalID: "held", Topics: topics("held"), CreateTopics: true, ClientOpts: seed,
			RestoreStall: 5 * time.Second, RestoreCheckEvery: time.Second})
		if err != nil {
			t.Fatal(err)
		}
		defer sk.Close()
		holder, err := kgo.NewClient(append(seed, kgo.TransactionalID("holder"), kgo.TransactionTimeout(time.Minute))...)
		if err != nil {
			t.Fatal(err)
		}
		defer holder.Close()
		if err := holder.BeginTransaction(); err != nil {
			t.Fatal(err)
		}
		if err := holder.ProduceSync(ctx, &kgo.Record{Topic: "held.state", Key: []byte("x"), Value: []byte("open")}).FirstErr(); err != nil {
			t.Fatal(err)
		}
		_, err = sk.ReadState(ctx, func(_, _ []byte, _ time.Time) error { return nil })
		var stalled *sink.RestoreStalledError
		if !errors.As(err, &stalled) || !strings.Contains(err.Error(), `transactional id "holder"`) {
			t.Fatalf("ReadState = %v, want a *sink.RestoreStalledError naming the holder", err)
		}
	})
}
