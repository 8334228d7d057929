package sink

import (
	"context"
	"errors"
	"fmt"

	"github.com/twmb/franz-go/pkg/kerr"
)

// ErrStateNotCompacted refuses a state or latest topic that would not keep
// every call's latest entry.
var ErrStateNotCompacted = errors.New("topic is not compacted")

// ensureTopics creates the missing topics (or, with CreateTopics false,
// refuses to start without them) and checks that the state topic and the
// latest topic are compacted.
func (s *Sink) ensureTopics(ctx context.Context) error {
	t := s.cfg.Topics
	partitions, rf := s.cfg.Partitions, s.cfg.ReplicationFactor
	if partitions <= 0 {
		partitions = -1 // the broker's default
	}
	if rf <= 0 {
		rf = -1
	}
	events, stateConfigs := topicConfigs(s.cfg.TopicConfigs)
	want := []struct {
		name       string
		partitions int32
		configs    map[string]*string
	}{
		{t.Calls, partitions, events},
		{t.Failed, partitions, events},
		{t.DLQ, partitions, events},
		// One partition: the state is read whole at start, in order.
		{t.State, 1, stateConfigs},
	}
	if t.Latest != "" {
		want = append(want, struct {
			name       string
			partitions int32
			configs    map[string]*string
		}{t.Latest, partitions, stateConfigs})
	}
	for _, w := range want {
		if !s.cfg.CreateTopics {
			continue
		}
		_, err := s.adm.CreateTopic(ctx, w.partitions, rf, w.configs, w.name)
		if err != nil && !errors.Is(err, kerr.TopicAlreadyExists) {
			return fmt.Errorf("creating topic %q: %w", w.name, err)
		}
	}
	topics := make([]string, len(want))
	for i, w := range want {
		topics[i] = w.name
	}
	details, err := s.adm.ListTopics(ctx, topics...)
	if err != nil {
		return fmt.Errorf("listing topics: %w", err)
	}
	for _, name := range topics {
		d, ok := details[name]
		if !ok || d.Err != nil {
			return fmt.Errorf("topic %q is missing (create it, or run with --create-topics): %v", name, d.Err)
		}
	}
	if err := s.checkCompacted(ctx, t.State); err != nil {
		return err
	}
	if t.Latest != "" {
		return s.checkCompacted(ctx, t.Latest)
	}
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

func (s *Sink) checkCompacted(ctx context.Context, topic string) error {
	rcs, err := s.adm.DescribeTopicConfigs(ctx, topic)
	if err != nil {
		return fmt.Errorf("describing topic %q: %w", topic, err)
	}
	rc, err := rcs.On(topic, nil)
	if err != nil {
		return fmt.Errorf("describing topic %q: %w", topic, err)
	}
	if rc.Err != nil {
		return fmt.Errorf("describing topic %q: %w", topic, rc.Err)
	}
	for _, c := range rc.Configs {
		if c.Key == cleanupPolicy && c.Value != nil && hasCompact(*c.Value) {
			return nil
		}
	}
	return fmt.Errorf("%w: set cleanup.policy=compact on %q", ErrStateNotCompacted, topic)
}

func hasCompact(policy string) bool {
	for _, p := range splitComma(policy) {
		if p == "compact" {
			return true
		}
	}
	return false
}

func splitComma(s string) []string {
	var out []string
	start := 0
	for i := 0; i <= len(s); i++ {
		if i == len(s) || s[i] == ',' {
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return out
}
