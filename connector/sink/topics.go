package sink

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
)

// ErrStateNotCompacted refuses a state or latest topic that would not keep
// every call's latest entry.
var ErrStateNotCompacted = errors.New("topic is not compacted")

// TopicSpec is one topic as a sink creates and checks it.
type TopicSpec struct {
	Name       string
	Partitions int32 // -1: the broker's default
	Configs    map[string]*string
	// Compacted says the topic must be compacted: the state topic, and
	// the latest topic when it is on.
	Compacted bool
}

// Specs returns the topics of t as a sink creates them: the event and
// dead-letter topics with partitions (0 or less: the broker's default) and
// configs; the state topic with one partition, since the state is read
// whole at start and in order; and the state and latest topics compacted.
func Specs(t Topics, partitions int32, configs map[string]string) []TopicSpec {
	if partitions <= 0 {
		partitions = -1
	}
	events, compacted := topicConfigs(configs)
	specs := []TopicSpec{
		{t.Calls, partitions, events, false},
		{t.Failed, partitions, events, false},
		{t.DLQ, partitions, events, false},
		{t.State, 1, compacted, true},
	}
	if t.Latest != "" {
		specs = append(specs, TopicSpec{t.Latest, partitions, compacted, true})
	}
	return specs
}

// StatePartitionsError refuses a state topic whose partition count is not
// the configured one: sources are placed on partitions by that count, so
// another count would separate them from their state.
type StatePartitionsError struct {
	Topic      string
	Have, Want int32
}

func (e *StatePartitionsError) Error() string {
	return fmt.Sprintf("state topic %q has %d partitions but --state-partitions is %d: sources are placed on state partitions by their count, "+
		"so a change would separate them from their state; set --state-partitions %d, or start afresh with a new state topic and transactional id",
		e.Topic, e.Have, e.Want, e.Have)
}

// ensureTopics creates the missing topics (or, with CreateTopics false,
// refuses to start without them), checks that the state topic and the
// latest topic are compacted, and learns every topic's limit.
func (s *Sink) ensureTopics(ctx context.Context) error {
	rf := s.cfg.ReplicationFactor
	if rf <= 0 {
		rf = -1
	}
	specs := Specs(s.cfg.Topics, s.cfg.Partitions, s.cfg.TopicConfigs)
	for i := range specs {
		// One partition unless the state is sharded into units of work.
		if specs[i].Name == s.cfg.Topics.State && s.cfg.StatePartitions > 0 {
			specs[i].Partitions = s.cfg.StatePartitions
		}
	}
	for _, w := range specs {
		if !s.cfg.CreateTopics {
			continue
		}
		_, err := s.adm.CreateTopic(ctx, w.Partitions, rf, w.Configs, w.Name)
		if err != nil && !errors.Is(err, kerr.TopicAlreadyExists) {
			return fmt.Errorf("creating topic %q: %w", w.Name, err)
		}
	}
	topics := make([]string, len(specs))
	for i, w := range specs {
		topics[i] = w.Name
	}
	details, err := s.adm.ListTopics(ctx, topics...)
	if err != nil {
		return fmt.Errorf("listing topics: %w", err)
	}
	for _, name := range topics {
		d, ok := details[name]
		if !ok || d.Err != nil {
			return fmt.Errorf("%w: %q (create it, or run with --create-topics): %v", ErrTopicMissing, name, d.Err)
		}
	}
	if want := s.cfg.StatePartitions; want > 0 {
		if got := int32(len(details[s.cfg.Topics.State].Partitions)); got != want {
			return &StatePartitionsError{Topic: s.cfg.Topics.State, Have: got, Want: want}
		}
	}
	for _, w := range specs {
		if !w.Compacted {
			continue
		}
		policy, err := CleanupPolicy(ctx, s.adm, w.Name)
		if err != nil {
			return err
		}
		if !IsCompacted(policy) {
			return fmt.Errorf("%w: set cleanup.policy=compact on %q", ErrStateNotCompacted, w.Name)
		}
	}
	// Described after creation, so that a topic created here reports the
	// limit the brokers gave it.
	s.limits.set(s.learnLimits(ctx, topics))
	return nil
}

// topicConfigs returns the configs of created event topics and of the
// compacted topics (state and latest): the same, except that those are
// always compacted, since only compaction keeps every call's latest entry
// for ever.
func topicConfigs(configs map[string]string) (events, state map[string]*string) {
	events = make(map[string]*string, len(configs))
	state = make(map[string]*string, len(configs)+1)
	for k, v := range configs {
		events[k], state[k] = &v, &v
	}
	compact := "compact"
	state[cleanupPolicy] = &compact
	return events, state
}

// cleanupPolicy is the topic config that decides between deletion and
// compaction.
const cleanupPolicy = "cleanup.policy"

// CleanupPolicy returns a topic's cleanup.policy: "delete", Kafka's
// default, when it is not set.
func CleanupPolicy(ctx context.Context, adm *kadm.Client, topic string) (string, error) {
	rcs, err := adm.DescribeTopicConfigs(ctx, topic)
	if err != nil {
		return "", fmt.Errorf("describing topic %q: %w", topic, err)
	}
	rc, err := rcs.On(topic, nil)
	if err != nil {
		return "", fmt.Errorf("describing topic %q: %w", topic, err)
	}
	if rc.Err != nil {
		return "", fmt.Errorf("describing topic %q: %w", topic, rc.Err)
	}
	for _, c := range rc.Configs {
		if c.Key == cleanupPolicy && c.Value != nil {
			return *c.Value, nil
		}
	}
	return "delete", nil
}

// IsCompacted reports whether a cleanup.policy compacts.
func IsCompacted(policy string) bool {
	return slices.Contains(strings.Split(policy, ","), "compact")
}
