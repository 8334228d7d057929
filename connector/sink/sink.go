// Package sink writes callstream's output to Kafka in transactions: the
// events, failed conversions, dead letters, state records and checkpoints of
// one batch commit together or not at all. It knows nothing of HTTP.
package sink

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// newClientMu serialises the creation of producers. The units of a group
// start their producers at once from one ProducerOpts, and kgo's
// validation rewrites the codec list held by a ProducerBatchCompression
// option in place (kgo.DefaultCompressor): two clients built at once from
// one option race on it.
var newClientMu sync.Mutex

// Topics names the output topics.
type Topics struct {
	Calls, Failed, DLQ, State string
	// Latest is the compacted current-state topic: every call's latest
	// event under its id. Empty turns it off.
	Latest string
}

// DefaultTopics returns the topics' default names.
func DefaultTopics() Topics {
	return Topics{Calls: "calls", Failed: "calls.failed", DLQ: "calls.dlq", State: "callstream.state", Latest: "calls.latest"}
}

// Config configures a Sink.
type Config struct {
	// TransactionalID identifies this connector to Kafka; a second instance
	// with the same id fences the first.
	TransactionalID string
	Topics          Topics
	// Partitions and ReplicationFactor apply to the event topics that are
	// created; the state topic gets StatePartitions, compacted.
	Partitions        int32
	ReplicationFactor int16
	// StatePartitions, when above 0, is the partition count of the state
	// topic: it is created with as many, and an existing one with another
	// count is refused (*StatePartitionsError). 0 creates one partition
	// and accepts any count.
	StatePartitions int32
	// ManualStatePartition makes state records go to the partition their
	// Record.Partition names; records of the other topics are partitioned
	// as by default (murmur2 of the key). Without it every topic is
	// partitioned by default.
	ManualStatePartition bool
	// BarrierKey is the key of the restore's barrier: a tombstone that
	// ReadState and ReadPartition commit to each partition they read, and
	// read up to. Choose a key that every reader of the state topic takes
	// for nothing held; default DefaultBarrierKey.
	BarrierKey []byte
	// CreateTopics creates missing topics; false only verifies them.
	CreateTopics bool
	// TopicConfigs are set on every topic created (retention.ms,
	// min.insync.replicas, ...); the state topic stays compacted whatever
	// cleanup.policy they name.
	TopicConfigs map[string]string
	// TransactionTimeout bounds how long the broker lets a transaction stay
	// open before aborting it; default DefaultTransactionTimeout. A commit
	// produces for at most half of it and ends the transaction in at most
	// a quarter (Bounds). New refuses one over the brokers'
	// transaction.max.timeout.ms where it can read it.
	TransactionTimeout time.Duration
	// RestoreStall fails a restore (ReadState, ReadPartition) that read
	// nothing for this long with a *RestoreStalledError naming what holds
	// it: the last stable offset of a partition kept short of the barrier
	// by another producer's open transaction, and that producer. 0 waits
	// for good.
	RestoreStall time.Duration
	// RestoreCheckEvery is how often a restore that reads nothing logs
	// and reports what it waits for; default DefaultRestoreCheckEvery.
	RestoreCheckEvery time.Duration
	// OnRestoreWait, if set, is told what a restore waits for every
	// RestoreCheckEvery while it reads nothing, and nil once it reads
	// again or ends. It is called from the restoring goroutine.
	OnRestoreWait func([]RestoreWait)
	// ClientOpts are added to every Kafka client of the sink: seed brokers,
	// security, dialing.
	ClientOpts []kgo.Opt
	// ProducerOpts are added to the transactional producer only: hooks such
	// as kprom, compression, linger. The batch size is the sink's own: each
	// topic's limit (see Limits), lowered by BatchMaxBytes.
	ProducerOpts []kgo.Opt
	// BatchMaxBytes, when above 0, lowers every topic's limit, and so the
	// largest record and record batch produced; 0 leaves the limits learnt
	// from the brokers.
	BatchMaxBytes int
	Logger        *slog.Logger
	// At, if set, is called at the named steps of a commit (see Point),
	// from the committing goroutine or, for PointEndTxnSent, from the
	// client's. Tests crash the process there; leave it nil otherwise.
	At func(Point)
}

// Sink is a transactional producer. Its methods are not safe for concurrent
// use: one loop produces, one transaction at a time.
type Sink struct {
	cfg    Config
	cl     *kgo.Client
	adm    *kadm.Client
	log    *slog.Logger
	limits *limitsHolder
}

// New connects, creates or verifies the topics and initialises the
// transactional producer, which fences any older instance with the same
// transactional id and resolves its open transaction. Only after New returns
// may the state topic be read. A failure that waiting cannot mend (refused
// credentials, a denied ACL, a setting the brokers refuse: see FatalClass)
// is a *FatalError; any other, such as no broker listening yet, may pass,
// and New may be called again.
func New(ctx context.Context, cfg Config) (*Sink, error) {
	if cfg.TransactionalID == "" {
		return nil, errors.New("sink: transactional id is empty")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.TransactionTimeout <= 0 {
		cfg.TransactionTimeout = DefaultTransactionTimeout
	}
	if len(cfg.BarrierKey) == 0 {
		cfg.BarrierKey = DefaultBarrierKey
	}
	opts := append([]kgo.Opt{
		kgo.TransactionalID(cfg.TransactionalID),
		kgo.TransactionTimeout(cfg.TransactionTimeout),
		kgo.RequiredAcks(kgo.AllISRAcks()),
		kgo.ProducerBatchCompression(kgo.ZstdCompression(), kgo.Lz4Compression(), kgo.NoCompression()),
		kgo.RecordRetries(10),
		kgo.UnknownTopicRetries(10),
	}, cfg.ClientOpts...)
	opts = append(opts, cfg.ProducerOpts...)
	// After ProducerOpts, so that the batch size is always the topics'.
	limits := &limitsHolder{}
	opts = append(opts, kgo.ProducerBatchMaxBytesFn(limits.batchMaxBytes))
	opts = append(opts, kgo.RecordPartitioner(statePartitioner{
		state: cfg.Topics.State, manual: cfg.ManualStatePartition, barrier: cfg.BarrierKey, other: defaultPartitioner(),
	}))
	if cfg.At != nil {
		opts = append(opts, kgo.WithHooks(endTxnWritten(cfg.At)))
	}
	cl, err := newClient(append(opts, kgo.BrokerMaxWriteBytes(minWriteBytes)))
	if err != nil {
		return nil, err
	}
	s := &Sink{cfg: cfg, cl: cl, adm: kadm.NewClient(cl), log: cfg.Logger, limits: limits}
	brokers := s.brokerLimits(ctx)
	if err := brokers.CheckTransactionTimeout(cfg.TransactionTimeout); err != nil {
		cl.Close()
		return nil, &FatalError{err}
	}
	if err := s.ensureTopics(ctx, brokers.Brokers); err != nil {
		cl.Close()
		return nil, startError(err)
	}
	// A topic whose limit a request of minWriteBytes cannot carry: the
	// client is made again, before it has a producer id, with a bound that
	// carries it.
	if bound := limits.get().writeBytes(); bound > minWriteBytes {
		cl.Close()
		if cl, err = newClient(append(opts, kgo.BrokerMaxWriteBytes(bound))); err != nil {
			return nil, err
		}
		s.cl, s.adm = cl, kadm.NewClient(cl)
	}
	if _, _, err := cl.ProducerID(ctx); err != nil {
		cl.Close()
		return nil, startError(fmt.Errorf("initialising transactional producer: %w", err))
	}
	return s, nil
}

// newClient makes the producer's client.
func newClient(opts []kgo.Opt) (*kgo.Client, error) {
	newClientMu.Lock()
	defer newClientMu.Unlock()
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return nil, fmt.Errorf("creating kafka client: %w", err)
	}
	return cl, nil
}

// AsFatal returns err as a *FatalError when waiting cannot mend it (refused
// credentials, a denied ACL, a setting the brokers refuse: see FatalClass),
// as it is otherwise: for errors met outside the sink, such as the group
// client's.
func AsFatal(err error) error { return startError(err) }

// startError is a failure to start: a *FatalError when waiting cannot mend
// it (see unmendable), as it is otherwise.
func startError(err error) error {
	if unmendable(err) {
		return &FatalError{err}
	}
	return err
}

// EnsureTopics creates or verifies the topics of cfg, as New does, without
// initialising a producer: for a process that starts producers later, one
// per unit of work. Its errors are classified as New's are.
func EnsureTopics(ctx context.Context, cfg Config) error {
	cl, err := kgo.NewClient(cfg.ClientOpts...)
	if err != nil {
		return fmt.Errorf("creating kafka client: %w", err)
	}
	defer cl.Close()
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Sink{cfg: cfg, cl: cl, adm: kadm.NewClient(cl), log: cfg.Logger, limits: &limitsHolder{}}
	if err := s.ensureTopics(ctx, s.brokerLimits(ctx).Brokers); err != nil {
		return startError(err)
	}
	return nil
}

// Limits returns the limits of the output topics, learnt when the sink
// started.
func (s *Sink) Limits() Limits { return s.limits.get() }

// brokerLimits reads the cluster's limits; what cannot be read is logged
// once and left unchecked.
func (s *Sink) brokerLimits(ctx context.Context) BrokerLimits {
	l, err := ReadBrokerLimits(ctx, s.adm)
	if err != nil {
		s.log.Info("brokers' limits not readable; transaction timeout and replication not checked against them", "err", err)
	}
	return l
}

// Close closes the client. Call it after the last transaction ended.
func (s *Sink) Close() { s.cl.Close() }
