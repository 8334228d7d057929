package sink

import (
	"bytes"

	"github.com/twmb/franz-go/pkg/kgo"
)

// defaultPartitioner is franz-go's default: keyed records go to the
// murmur2 hash of their key, as the Java client places them, so that
// readers find a call's events where any Kafka client would put them.
func defaultPartitioner() kgo.Partitioner {
	return kgo.UniformBytesPartitioner(64<<10, true, true, nil)
}

// statePartitioner partitions the other topics with other. Records of the
// state topic go to the partition they name when manual is set, and to the
// murmur2 hash of their key otherwise, as other places keyed records; a
// restore barrier always goes to the partition it names.
type statePartitioner struct {
	state   string
	manual  bool
	barrier []byte
	other   kgo.Partitioner
}

func (p statePartitioner) ForTopic(topic string) kgo.TopicPartitioner {
	if topic != p.state {
		return p.other.ForTopic(topic)
	}
	return stateTopicPartitioner{p: p, keyed: kgo.StickyKeyPartitioner(nil).ForTopic(topic)}
}

type stateTopicPartitioner struct {
	p     statePartitioner
	keyed kgo.TopicPartitioner
}

func (t stateTopicPartitioner) RequiresConsistency(*kgo.Record) bool { return true }

func (t stateTopicPartitioner) Partition(r *kgo.Record, n int) int {
	if t.p.manual || bytes.Equal(r.Key, t.p.barrier) {
		return int(r.Partition)
	}
	return t.keyed.Partition(r, n)
}
