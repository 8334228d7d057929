package devbroker

import (
	"context"
	"encoding/binary"
	"fmt"
	"log/slog"
	"net"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// The broker's log may end in a transaction that kfake aborted as it
// loaded the log after a crash (SIGKILL) without writing the abort marker.
// Kafka always writes one: its transaction state outlives the crash, and
// the coordinator ends the transaction with markers. A read_committed
// reader needs the marker. It is told which producer's transaction from
// which offset was aborted, and skips that producer's records until the
// marker; without one it skips every later record of that producer in the
// same fetch, committed ones included, and a reader that waits for the
// last offset waits for ever. So before the broker serves anyone, a
// private instance on the same log writes the missing markers and shuts
// down cleanly: then the broker behaves as Kafka does after a crash.

// Repair opens the log of dataDir on a private port, writes the abort
// marker of every aborted transaction that has none, and closes it. It
// returns how many it wrote, logging each to log at warn.
func Repair(ctx context.Context, dataDir string, log *slog.Logger) (int, error) {
	log = orDiscard(log)
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.DataDir(dataDir),
		kfake.ListenFn(func(network, _ string) (net.Listener, error) { return net.Listen(network, "127.0.0.1:0") }))
	if err != nil {
		return 0, fmt.Errorf("opening the log: %w", err)
	}
	defer c.Close()
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...))
	if err != nil {
		return 0, err
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	topics, err := adm.ListTopics(ctx)
	if err == nil {
		err = topics.Error()
	}
	if err != nil {
		return 0, fmt.Errorf("listing topics: %w", err)
	}
	starts, err := adm.ListStartOffsets(ctx, topics.Names()...)
	if err == nil {
		err = starts.Error()
	}
	if err != nil {
		return 0, fmt.Errorf("listing start offsets: %w", err)
	}
	written := 0
	for _, t := range topics.Sorted() {
		for _, p := range t.Partitions.Numbers() {
			start, _ := starts.Lookup(t.Topic, p)
			open, err := unclosedAborts(ctx, cl, t.Topic, t.ID, p, start.Offset)
			if err != nil {
				return written, fmt.Errorf("reading %s[%d]: %w", t.Topic, p, err)
			}
			for _, a := range open {
				if err := writeAbortMarker(ctx, cl, t.Topic, p, a); err != nil {
					return written, fmt.Errorf("closing the transaction of producer %d in %s[%d]: %w", a.pid, t.Topic, p, err)
				}
				written++
				log.Warn("closed a transaction aborted at a crash without its marker", "topic", t.Topic, "partition", p,
					"producer_id", a.pid, "first_offset", a.first)
			}
		}
	}
	return written, nil
}

// abortedTxn is a transaction the broker lists as aborted.
type abortedTxn struct {
	pid   int64
	epoch int16
	first int64
}

// batchHeader is what the repair needs of a record batch.
type batchHeader struct {
	first, next int64
	pid         int64
	epoch       int16
	control     bool
	abort       bool // a control batch holding an abort marker
}

// unclosedAborts reads a partition read_committed from start to its last
// stable offset and returns the aborted transactions that no marker of
// their producer follows. One that a commit of its producer follows is
// left alone: a marker written now would hide that commit.
func unclosedAborts(ctx context.Context, cl *kgo.Client, topic string, id [16]byte, partition int32, start int64) ([]abortedTxn, error) {
	var (
		aborted = map[[2]int64]bool{}
		list    []abortedTxn
		batches []batchHeader
	)
	for offset, end := start, start+1; offset < end; {
		req := kmsg.NewPtrFetchRequest()
		req.ReplicaID, req.MaxBytes, req.IsolationLevel, req.SessionEpoch = -1, 16<<20, 1, -1
		rt := kmsg.NewFetchRequestTopic()
		rt.Topic, rt.TopicID = topic, id
		rp := kmsg.NewFetchRequestTopicPartition()
		rp.Partition, rp.FetchOffset, rp.PartitionMaxBytes, rp.CurrentLeaderEpoch, rp.LogStartOffset = partition, offset, 16<<20, -1, -1
		rt.Partitions = append(rt.Partitions, rp)
		req.Topics = append(req.Topics, rt)
		resp, err := req.RequestWith(ctx, cl)
		if err != nil {
			return nil, err
		}
		if len(resp.Topics) != 1 || len(resp.Topics[0].Partitions) != 1 {
			return nil, fmt.Errorf("fetch answered %d topics", len(resp.Topics))
		}
		fp := resp.Topics[0].Partitions[0]
		if err := kerr.ErrorForCode(fp.ErrorCode); err != nil {
			return nil, err
		}
		end = fp.LastStableOffset
		for _, a := range fp.AbortedTransactions {
			if k := [2]int64{a.ProducerID, a.FirstOffset}; !aborted[k] {
				aborted[k] = true
				list = append(list, abortedTxn{pid: a.ProducerID, first: a.FirstOffset})
			}
		}
		read, err := readBatchHeaders(fp.RecordBatches)
		if err != nil {
			return nil, err
		}
		if len(read) == 0 {
			break // the end, or a tail compaction emptied
		}
		batches = append(batches, read...)
		offset = read[len(read)-1].next
	}
	var open []abortedTxn
	for _, a := range list {
		closed, found := false, false
		for _, b := range batches {
			if b.pid != a.pid || b.next <= a.first {
				continue
			}
			if !found && !b.control {
				a.epoch, found = b.epoch, true
			}
			if b.control {
				closed = true
				if !b.abort {
					found = false // a commit follows: leave it alone
				}
				break
			}
		}
		if !closed && found {
			open = append(open, a)
		}
	}
	return open, nil
}

// readBatchHeaders reads the headers of the whole batches in b.
func readBatchHeaders(b []byte) ([]batchHeader, error) {
	var out []batchHeader
	for len(b) >= 12 {
		size := 12 + int(int32(binary.BigEndian.Uint32(b[8:12])))
		if size > len(b) {
			break // a partial batch ends the answer
		}
		var rb kmsg.RecordBatch
		if err := rb.ReadFrom(b[:size]); err != nil {
			return nil, fmt.Errorf("record batch: %w", err)
		}
		b = b[size:]
		h := batchHeader{first: rb.FirstOffset, next: rb.FirstOffset + int64(rb.LastOffsetDelta) + 1,
			pid: rb.ProducerID, epoch: rb.ProducerEpoch, control: rb.Attributes&0x20 != 0}
		if h.control {
			var r kmsg.Record
			if err := r.ReadFrom(rb.Records); err != nil {
				return nil, fmt.Errorf("control record: %w", err)
			}
			h.abort = len(r.Key) >= 4 && binary.BigEndian.Uint16(r.Key[2:4]) == 0
		}
		out = append(out, h)
	}
	return out, nil
}

// writeAbortMarker writes an abort marker of a's producer to the partition.
func writeAbortMarker(ctx context.Context, cl *kgo.Client, topic string, partition int32, a abortedTxn) error {
	req := kmsg.NewPtrWriteTxnMarkersRequest()
	m := kmsg.NewWriteTxnMarkersRequestMarker()
	m.ProducerID, m.ProducerEpoch, m.Committed = a.pid, a.epoch, false
	mt := kmsg.NewWriteTxnMarkersRequestMarkerTopic()
	mt.Topic, mt.Partitions = topic, []int32{partition}
	m.Topics = append(m.Topics, mt)
	req.Markers = append(req.Markers, m)
	resp, err := req.RequestWith(ctx, cl)
	if err != nil {
		return err
	}
	for _, rm := range resp.Markers {
		for _, rt := range rm.Topics {
			for _, rp := range rt.Partitions {
				if err := kerr.ErrorForCode(rp.ErrorCode); err != nil {
					return err
				}
			}
		}
	}
	return nil
}
