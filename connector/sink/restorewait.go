package sink

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
)

// DefaultRestoreCheckEvery is how often a restore that reads nothing says
// what it waits for, unless Config.RestoreCheckEvery says otherwise.
const DefaultRestoreCheckEvery = 5 * time.Second

// RestoreWait is what a restore waits for on one partition of the state
// topic: it read up to Read, the barrier it reads to ends at Barrier, and a
// read_committed reader sees nothing past the last stable offset, Stable,
// which the open transactions of Holders keep back.
type RestoreWait struct {
	Partition int32
	Read      int64 // the next offset the restore would read
	Stable    int64 // the last stable offset; -1 when unknown
	Barrier   int64 // the offset after the restore's barrier
	Holders   []Holder
	Waited    time.Duration // since the restore last read a record
}

// Holder is a producer with a transaction open on a state partition.
type Holder struct {
	ProducerID int64
	Epoch      int16
	// TransactionalID is the producer's transactional id, when the
	// brokers name it (ListTransactions); empty otherwise.
	TransactionalID string
	// TxnStart is the first offset of its open transaction.
	TxnStart int64
}

// Unstable is how many offsets lie between the last stable offset and the
// barrier: 0 when the stable offset is unknown or past the barrier.
func (w RestoreWait) Unstable() int64 {
	if w.Stable < 0 || w.Stable >= w.Barrier {
		return 0
	}
	return w.Barrier - w.Stable
}

func (w RestoreWait) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "state partition %d: read to offset %d of %d for %s", w.Partition, w.Read, w.Barrier, w.Waited.Round(time.Second))
	switch {
	case w.Stable < 0:
		b.WriteString(", last stable offset unknown")
	case w.Stable < w.Barrier:
		fmt.Fprintf(&b, ", last stable offset %d is %d offsets before the barrier", w.Stable, w.Unstable())
	}
	for _, h := range w.Holders {
		fmt.Fprintf(&b, "; held by producer id %d epoch %d", h.ProducerID, h.Epoch)
		if h.TransactionalID != "" {
			fmt.Fprintf(&b, " (transactional id %q)", h.TransactionalID)
		}
		fmt.Fprintf(&b, " with a transaction open since offset %d", h.TxnStart)
	}
	return b.String()
}

// RestoreStalledError ends a restore that read nothing for
// Config.RestoreStall: it names what it waited for.
type RestoreStalledError struct {
	Topic string
	After time.Duration
	Waits []RestoreWait
}

func (e *RestoreStalledError) Error() string {
	parts := make([]string, len(e.Waits))
	for i, w := range e.Waits {
		parts[i] = w.String()
	}
	return fmt.Sprintf("restore read nothing for %s (--restore-stall-timeout): %s; end or abort that transaction "+
		"(kafka-transactions.sh --bootstrap-server BROKER abort --topic %s --partition P --start-offset OFFSET), or wait for its transaction timeout",
		e.After, strings.Join(parts, "; "), e.Topic)
}

// diagnose tells, for the partitions a restore still reads (next offset to
// read → barrier end), where their last stable offset stands and which
// producers hold it back. What the brokers do not answer (a principal
// without DESCRIBE on the topic or the transactional ids) is left unknown.
func (s *Sink) diagnose(ctx context.Context, topic string, next, ends map[int32]int64, waited time.Duration) []RestoreWait {
	stable := map[int32]int64{}
	if listed, err := s.adm.ListCommittedOffsets(ctx, topic); err == nil {
		listed.Each(func(o kadm.ListedOffset) {
			if o.Err == nil {
				stable[o.Partition] = o.Offset
			}
		})
	}
	var set kadm.TopicsSet
	for p := range ends {
		set.Add(topic, p)
	}
	holders := map[int32][]Holder{}
	var pids []int64
	if described, err := s.adm.DescribeProducers(ctx, set); err == nil {
		described.EachPartition(func(d kadm.DescribedProducersPartition) {
			for _, p := range d.ActiveProducers.Sorted() {
				if p.CurrentTxnStartOffset < 0 {
					continue
				}
				holders[d.Partition] = append(holders[d.Partition], Holder{ProducerID: p.ProducerID, Epoch: p.ProducerEpoch, TxnStart: p.CurrentTxnStartOffset})
				pids = append(pids, p.ProducerID)
			}
		})
	}
	names := map[int64]string{}
	if len(pids) > 0 {
		if listed, err := s.adm.ListTransactions(ctx, pids, nil); err == nil {
			for _, t := range listed {
				names[t.ProducerID] = t.TxnID
			}
		}
	}
	waits := make([]RestoreWait, 0, len(ends))
	for p, end := range ends {
		w := RestoreWait{Partition: p, Read: next[p], Stable: -1, Barrier: end, Holders: holders[p], Waited: waited}
		if o, ok := stable[p]; ok {
			w.Stable = o
		}
		for i := range w.Holders {
			w.Holders[i].TransactionalID = names[w.Holders[i].ProducerID]
		}
		waits = append(waits, w)
	}
	sort.Slice(waits, func(i, j int) bool { return waits[i].Partition < waits[j].Partition })
	return waits
}
