package sink

import "github.com/twmb/franz-go/pkg/kgo"

// defaultPartitioner is franz-go's default: keyed records go to the
// murmur2 hash of their key, as the Java client places them, so that
// readers find a call's events where any Kafka client would put them.
func defaultPartitioner() kgo.Partitioner {
	return kgo.UniformBytesPartitioner(64<<10, true, true, nil)
}

// statePartitioner sends records of the state topic to the partition they
// name and partitions the other topics with other.
type statePartitioner struct {
	state string
	other kgo.Partitioner
}

func (p statePartitioner) ForTopic(topic string) kgo.TopicPartitioner {
	if topic == p.state {
		return kgo.ManualPartitioner().ForTopic(topic)
	}
	return p.other.ForTopic(topic)
}
