package sink

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kbin"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Limits of record batches, in bytes.
const (
	// DefaultMaxMessageBytes is what Kafka accepts when neither the topic
	// (max.message.bytes) nor the broker (message.max.bytes) says
	// otherwise.
	DefaultMaxMessageBytes = 1048588
	// MaxBatchBytes caps a learnt limit: franz-go refuses batches larger
	// than its largest request (100 MiB by default), and a transaction
	// holds the whole window in memory.
	MaxBatchBytes = 64 << 20
	// minBatchBytes is the smallest cap franz-go takes.
	minBatchBytes = 512
)

// The bound of one produce request (kgo.BrokerMaxWriteBytes). franz-go
// builds a request in a buffer of its pool that grows to the request's
// size, and the collector empties that pool: with its default of 100 MiB
// a window's transaction went out in one request, its buffer grown anew
// to the whole transaction each time; in requests of a few MiB the buffer
// is reused (docs/performance.md: peak RSS 87–93 → 76–79 MiB at the
// defaults). The bound caps franz-go's batches too, so it is raised to
// the largest learnt limit where a topic takes more (writeBytes).
const (
	minWriteBytes = 2 << 20
	// writeOverhead is what a produce request holds beside one batch:
	// its header, transactional id, topic name and lengths, with room.
	writeOverhead = 64 << 10
)

// writeBytes is the produce request bound that takes a batch of every
// topic's limit.
func (l Limits) writeBytes() int32 {
	n := minWriteBytes
	for topic := range l.topics {
		n = max(n, min(l.Of(topic), MaxBatchBytes)+writeOverhead)
	}
	return int32(n)
}

// Topic and broker configs that bound a record batch.
const (
	topicMaxMessageBytes  = "max.message.bytes"
	brokerMaxMessageBytes = "message.max.bytes"
)

// Limits are the largest record batch that each output topic accepts, as
// learnt from the brokers at start. The producer is sized to them
// (kgo.ProducerBatchMaxBytesFn), so a record that fits its topic's limit by
// RecordSize is produced, and a record that does not must not be: franz-go
// fails it with MESSAGE_TOO_LARGE, and with it the transaction. The zero
// Limits knows no topic: every topic gets DefaultMaxMessageBytes.
type Limits struct {
	topics map[string]int
	// cap, when above 0, lowers every limit (Config.BatchMaxBytes).
	cap int
}

// Of returns the limit of topic.
func (l Limits) Of(topic string) int {
	n, ok := l.topics[topic]
	if !ok {
		n = DefaultMaxMessageBytes
	}
	if l.cap > 0 && l.cap < n {
		n = l.cap
	}
	return n
}

// Fits reports whether r, alone in a batch, is within its topic's limit.
func (l Limits) Fits(r *kgo.Record) bool { return RecordSize(r) <= l.Of(r.Topic) }

// NewLimits returns the Limits of the given topics, for tests and for
// callers that know them; a cap above 0 lowers each.
func NewLimits(topics map[string]int, cap int) Limits { return Limits{topics: topics, cap: cap} }

// recordBatchOverhead is a record batch without records as franz-go counts
// it against ProducerBatchMaxBytes: the v2 batch header (61 bytes, what a
// broker measures against max.message.bytes) and the 4-byte length of the
// records array in the produce request. So a record within the limit by
// RecordSize is 4 bytes within it at the broker too, compressed or not:
// franz-go sends a batch uncompressed when compressing would grow it.
const recordBatchOverhead = 4 + 8 + 4 + 4 + 1 + 4 + 2 + 4 + 8 + 8 + 8 + 2 + 4 + 4

// RecordSize returns the bytes of r alone in a record batch, uncompressed,
// as franz-go counts them when it buffers r (kgo's recordNumbersAt,
// tryBuffer and wireLengthForProduceVersion): the batch overhead, then the record's
// length varint, attributes, timestamp and offset deltas (0 for a batch's
// first record), key, value and headers, each with its length varint. It
// never counts less than franz-go or the broker do, and at most 4 bytes
// more (TestRecordSizeIsFranzGosAccounting): the broker counts the batch
// without the array length, franz-go, once it knows a flexible produce
// version, with a shorter one.
func RecordSize(r *kgo.Record) int {
	l := 1 + kbin.VarlongLen(0) + kbin.VarintLen(0) +
		kbin.VarintLen(int32(len(r.Key))) + len(r.Key) +
		kbin.VarintLen(int32(len(r.Value))) + len(r.Value) +
		kbin.VarintLen(int32(len(r.Headers)))
	for _, h := range r.Headers {
		l += kbin.VarintLen(int32(len(h.Key))) + len(h.Key) + kbin.VarintLen(int32(len(h.Value))) + len(h.Value)
	}
	return recordBatchOverhead + kbin.VarintLen(int32(l)) + l
}

// limitsHolder hands the learnt limits to the producer's batch sizing,
// which franz-go calls from its own goroutines whenever it meets a
// partition.
type limitsHolder struct{ p atomic.Pointer[Limits] }

func (h *limitsHolder) set(l Limits) { h.p.Store(&l) }

func (h *limitsHolder) get() Limits {
	if l := h.p.Load(); l != nil {
		return *l
	}
	return Limits{}
}

// batchMaxBytes is the producer's batch cap of topic: its limit, within
// what franz-go takes. Before the limits are learnt (franz-go validates its
// configuration with the empty topic) it is the default.
func (h *limitsHolder) batchMaxBytes(topic string) int32 {
	return int32(min(max(h.get().Of(topic), minBatchBytes), MaxBatchBytes))
}

// learnLimits describes the topics' configs and returns their limits: a
// topic's own max.message.bytes where it has one, else the broker's
// message.max.bytes, else the max.message.bytes the topic reports (what
// Kafka applies to it), else DefaultMaxMessageBytes. A limit that cannot
// be learnt is logged and left at the default; it never stops the start.
func (s *Sink) learnLimits(ctx context.Context, topics []string) Limits {
	l := Limits{topics: make(map[string]int, len(topics)), cap: s.cfg.BatchMaxBytes}
	broker, brokerErr := s.brokerMaxMessageBytes(ctx)
	var learnt []string
	rcs, err := s.adm.DescribeTopicConfigs(ctx, topics...)
	for _, t := range topics {
		n, source := DefaultMaxMessageBytes, "default"
		var rc kadm.ResourceConfig
		if err == nil {
			rc, err = rcs.On(t, nil)
		}
		if err == nil && rc.Err != nil {
			err = rc.Err
		}
		own, ownOK, reported, reportedOK := topicLimit(rc.Configs)
		switch {
		case ownOK:
			n, source = own, "topic"
		case broker > 0:
			n, source = broker, "broker"
		case reportedOK:
			n, source = reported, "topic default"
		}
		if n > MaxBatchBytes {
			n = MaxBatchBytes
		}
		l.topics[t] = n
		learnt = append(learnt, fmt.Sprintf("%s=%d (%s)", t, l.Of(t), source))
	}
	s.log.Info("topic limits learnt", "max_message_bytes", strings.Join(learnt, ", "))
	if err != nil || brokerErr != nil {
		s.log.Warn("topic limits not all learnt; the others are taken as the default", "default_bytes", DefaultMaxMessageBytes,
			"topics_err", err, "broker_err", brokerErr)
	}
	return l
}

// topicLimit reads a topic's described configs: max.message.bytes set on
// the topic itself (own), and the value reported whatever its source.
func topicLimit(cs []kadm.Config) (own int, ownOK bool, reported int, reportedOK bool) {
	for _, c := range cs {
		if c.Key != topicMaxMessageBytes || c.Value == nil {
			continue
		}
		n, err := strconv.Atoi(*c.Value)
		if err != nil || n <= 0 {
			continue
		}
		reported, reportedOK = n, true
		if c.Source == kmsg.ConfigSourceDynamicTopicConfig {
			own, ownOK = n, true
		}
	}
	return own, ownOK, reported, reportedOK
}

// brokerMaxMessageBytes returns the message.max.bytes of one broker of the
// cluster (they share it in any sane cluster), 0 if it says none.
func (s *Sink) brokerMaxMessageBytes(ctx context.Context) (int, error) {
	brokers, err := s.adm.ListBrokers(ctx)
	if err != nil {
		return 0, fmt.Errorf("listing brokers: %w", err)
	}
	if len(brokers) == 0 {
		return 0, nil
	}
	rcs, err := s.adm.DescribeBrokerConfigs(ctx, brokers[0].NodeID)
	if err != nil {
		return 0, fmt.Errorf("describing broker %d: %w", brokers[0].NodeID, err)
	}
	for _, rc := range rcs {
		if rc.Err != nil {
			return 0, fmt.Errorf("describing broker %d: %w", brokers[0].NodeID, rc.Err)
		}
		for _, c := range rc.Configs {
			if c.Key == brokerMaxMessageBytes && c.Value != nil {
				if n, err := strconv.Atoi(*c.Value); err == nil && n > 0 {
					return n, nil
				}
			}
		}
	}
	return 0, nil
}
