package main

import (
	"context"
	"fmt"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// errClass is one Kafka error injected once into one request the producer
// sends, and what the connector must do about it.
type errClass struct {
	key kmsg.Key
	err *kerr.Error
	// fatal: the process must end non-zero (and, restarted, go on);
	// otherwise the same process must retry and commit again.
	fatal bool
	// classic: only the classic protocol sends this request
	// (KIP-890 adds partitions to a transaction implicitly).
	classic bool
	// kip890: only a broker with transaction version 2 answers this; the
	// client treats it as unrecoverable under the classic protocol.
	kip890 bool
	// ci: in the short run; the long run injects every class.
	ci bool
}

// errClasses are the error codes that Produce, AddPartitionsToTxn, EndTxn,
// InitProducerID and FindCoordinator (of the transaction coordinator) can
// answer a transactional producer with.
var errClasses = []errClass{
	// Produce: retriable codes are retried inside the client; a record
	// that fails for good aborts the transaction, which is retried.
	{key: kmsg.Produce, err: kerr.NotLeaderForPartition, ci: true},
	{key: kmsg.Produce, err: kerr.RequestTimedOut},
	{key: kmsg.Produce, err: kerr.NotEnoughReplicas},
	{key: kmsg.Produce, err: kerr.NotEnoughReplicasAfterAppend},
	{key: kmsg.Produce, err: kerr.UnknownTopicOrPartition},
	{key: kmsg.Produce, err: kerr.CorruptMessage},
	{key: kmsg.Produce, err: kerr.KafkaStorageError},
	{key: kmsg.Produce, err: kerr.MessageTooLarge, ci: true},
	{key: kmsg.Produce, err: kerr.InvalidRecord},
	{key: kmsg.Produce, err: kerr.UnknownServerError},
	{key: kmsg.Produce, err: kerr.TopicAuthorizationFailed, fatal: true},
	{key: kmsg.Produce, err: kerr.TransactionalIDAuthorizationFailed, fatal: true},
	{key: kmsg.Produce, err: kerr.InvalidProducerEpoch, fatal: true},
	{key: kmsg.Produce, err: kerr.ProducerFenced, fatal: true, ci: true},
	{key: kmsg.Produce, err: kerr.InvalidTxnState, fatal: true},
	{key: kmsg.Produce, err: kerr.TransactionAbortable, kip890: true},
	// AddPartitionsToTxn (classic protocol only).
	{key: kmsg.AddPartitionsToTxn, err: kerr.ConcurrentTransactions, classic: true, ci: true},
	{key: kmsg.AddPartitionsToTxn, err: kerr.CoordinatorNotAvailable, classic: true},
	{key: kmsg.AddPartitionsToTxn, err: kerr.NotCoordinator, classic: true},
	{key: kmsg.AddPartitionsToTxn, err: kerr.CoordinatorLoadInProgress, classic: true},
	{key: kmsg.AddPartitionsToTxn, err: kerr.UnknownTopicOrPartition, classic: true},
	{key: kmsg.AddPartitionsToTxn, err: kerr.OperationNotAttempted, classic: true},
	{key: kmsg.AddPartitionsToTxn, err: kerr.ProducerFenced, fatal: true, classic: true},
	{key: kmsg.AddPartitionsToTxn, err: kerr.InvalidProducerEpoch, fatal: true, classic: true, ci: true},
	{key: kmsg.AddPartitionsToTxn, err: kerr.InvalidProducerIDMapping, fatal: true, classic: true},
	{key: kmsg.AddPartitionsToTxn, err: kerr.InvalidTxnState, fatal: true, classic: true},
	{key: kmsg.AddPartitionsToTxn, err: kerr.TopicAuthorizationFailed, fatal: true, classic: true},
	{key: kmsg.AddPartitionsToTxn, err: kerr.TransactionalIDAuthorizationFailed, fatal: true, classic: true},
	// EndTxn: a commit whose outcome is unknown is fatal; the restart
	// fences and the state topic tells what committed.
	{key: kmsg.EndTxn, err: kerr.ConcurrentTransactions, ci: true},
	{key: kmsg.EndTxn, err: kerr.CoordinatorNotAvailable},
	{key: kmsg.EndTxn, err: kerr.NotCoordinator},
	{key: kmsg.EndTxn, err: kerr.CoordinatorLoadInProgress},
	{key: kmsg.EndTxn, err: kerr.TransactionAbortable, kip890: true, ci: true},
	{key: kmsg.EndTxn, err: kerr.UnknownServerError, fatal: true, ci: true},
	{key: kmsg.EndTxn, err: kerr.ProducerFenced, fatal: true},
	{key: kmsg.EndTxn, err: kerr.InvalidProducerEpoch, fatal: true},
	{key: kmsg.EndTxn, err: kerr.InvalidProducerIDMapping, fatal: true},
	{key: kmsg.EndTxn, err: kerr.InvalidTxnState, fatal: true},
	{key: kmsg.EndTxn, err: kerr.TransactionalIDAuthorizationFailed, fatal: true},
	// InitProducerID, at start.
	{key: kmsg.InitProducerID, err: kerr.CoordinatorNotAvailable},
	{key: kmsg.InitProducerID, err: kerr.NotCoordinator},
	{key: kmsg.InitProducerID, err: kerr.CoordinatorLoadInProgress, ci: true},
	{key: kmsg.InitProducerID, err: kerr.ConcurrentTransactions},
	{key: kmsg.InitProducerID, err: kerr.TransactionalIDAuthorizationFailed, fatal: true, ci: true},
	{key: kmsg.InitProducerID, err: kerr.ClusterAuthorizationFailed, fatal: true},
	// FindCoordinator of the transactional id, at start.
	{key: kmsg.FindCoordinator, err: kerr.CoordinatorNotAvailable, ci: true},
	{key: kmsg.FindCoordinator, err: kerr.TransactionalIDAuthorizationFailed, fatal: true},
}

func (c errClass) String() string { return fmt.Sprintf("%s→%s", c.key.Name(), c.err.Message) }

// atStart reports whether the request is sent only when a producer starts.
func (c errClass) atStart() bool {
	return c.key == kmsg.InitProducerID || c.key == kmsg.FindCoordinator
}

// TestKafkaErrorClasses injects every error class once into the running
// connector's requests (kfake faults): retriable ones must be retried by
// the same process, which commits again; fatal ones must end it non-zero
// within a bound (no hang), and its restart goes on. The output stays
// exactly once under both transaction protocols. The short run injects a
// retriable and a fatal class of each request; CALLSTREAM_RELIABILITY_LONG=1
// every class.
func TestKafkaErrorClasses(t *testing.T) {
	for _, proto := range protocols {
		t.Run(proto.name, func(t *testing.T) {
			w := newWorld(t, worldConfig{kafka: proto.opts, args: oftenCommitted})
			sup := w.supervise(nil)
			sup.current().awaitCommits(3, time.Minute)
			n := 0
			for _, c := range errClasses {
				if c.classic && proto.name != "classic" || c.kip890 && proto.name != "kip890" || !c.ci && !longRun() {
					continue
				}
				injectErr(t, w, sup, c)
				n++
			}
			w.finish("kafka-errors/"+proto.name, n, sup.release())
		})
	}
}

// injectErr injects c once and checks what the connector made of it.
func injectErr(t *testing.T, w *world, sup *supervisor, c errClass) {
	t.Helper()
	// InitProducerID and EndTxn carry one error code, at the top;
	// the others one per partition or per coordinator key.
	f := kfake.Fault{Keys: []kmsg.Key{c.key}, Err: c.err, TopLevel: c.key == kmsg.InitProducerID || c.key == kmsg.EndTxn}
	if c.key == kmsg.FindCoordinator {
		f.TxnID = "callstream"
	}
	if c.fatal {
		// A fatal condition lasts (an ACL stays denied) until the
		// process gave up; a retriable one passes.
		f.Count = -1
	}
	h := w.cluster.Fault(f)
	defer h.Remove()
	exits := len(sup.restarts())
	if c.atStart() {
		// Restart the pod, as a rollout would, so that it starts into the
		// fault.
		sup.current().Signal(syscall.SIGTERM)
		if code, ok := sup.awaitExit(exits, time.Minute); !ok || code != 0 {
			t.Fatalf("%s: restarting the pod: exit status %d (ended %v), want 0", c, code, ok)
		}
		exits++
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := h.Wait(ctx, 1); err != nil {
		t.Fatalf("%s: the connector never sent the request: %v", c, err)
	}
	p := sup.current()
	committed := p.commits()
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		if code, ended := sup.awaitExit(exits, 50*time.Millisecond); ended {
			if !c.fatal || code <= 0 {
				t.Errorf("%s: the process ended with status %d, want %s", c, code, c.want())
			}
			h.Remove()
			sup.next(p).awaitCommits(2, time.Minute)
			return
		}
		if !c.fatal && p.commits() >= committed+2 && !p.Exited() {
			return
		}
	}
	t.Errorf("%s: after a minute neither an exit nor two commits of %s (wanted %s; exits %v, %d before): a hang",
		c, p.Name(), c.want(), sup.restarts(), exits)
}

func (c errClass) want() string {
	if c.fatal {
		return "the process to end non-zero"
	}
	return "a retry by the same process"
}
