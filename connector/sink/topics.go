package sink

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
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
	// State marks the state topic: compacted only (no deletion by time or
	// size), and created with the settings of SafeConfigs.
	State bool
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
		{t.Calls, partitions, events, false, false},
		{t.Failed, partitions, events, false, false},
		{t.DLQ, partitions, events, false, false},
		{t.State, 1, compacted, true, true},
	}
	if t.Latest != "" {
		specs = append(specs, TopicSpec{t.Latest, partitions, maps.Clone(compacted), true, false})
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
// refuses to start without them) and checks that the state topic is
// compacted only and the latest topic compacted, and learns every topic's
// limit. brokers is how many the cluster has (0: unknown), for the
// replication of created topics.
func (s *Sink) ensureTopics(ctx context.Context, brokers int) error {
	rf, fewer := Replication(s.cfg.ReplicationFactor, brokers)
	specs := Specs(s.cfg.Topics, s.cfg.Partitions, s.cfg.TopicConfigs)
	for i := range specs {
		// One partition unless the state is sharded into units of work.
		if specs[i].State && s.cfg.StatePartitions > 0 {
			specs[i].Partitions = s.cfg.StatePartitions
		}
		SafeConfigs(&specs[i], rf)
	}
	if s.cfg.CreateTopics {
		if err := s.createTopics(ctx, specs, rf, fewer, brokers); err != nil {
			return err
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
		if err := CheckPolicy(w, policy); err != nil {
			return err
		}
		if IsCompacted(policy) && policy != compact {
			s.log.Warn("topic deletes as well as compacts: the latest event of a call that does not change ages out", "topic", w.Name,
				"cleanup_policy", policy, "fix", "set cleanup.policy=compact on "+w.Name)
		}
	}
	// Described after creation, so that a topic created here reports the
	// limit the brokers gave it.
	s.limits.set(s.learnLimits(ctx, topics))
	return nil
}

// createTopics creates the topics of specs that are missing with rf
// replicas (fewer: the cluster has fewer brokers than the default
// replication, and rf is their count).
func (s *Sink) createTopics(ctx context.Context, specs []TopicSpec, rf int16, fewer bool, brokers int) error {
	warned := false
	for _, w := range specs {
		_, err := s.adm.CreateTopic(ctx, w.Partitions, rf, w.Configs, w.Name)
		if err != nil && w.Configs[uncleanElection] != nil && errors.Is(err, kerr.InvalidConfig) {
			// A broker that does not know the setting (kfake) gets the
			// topic without it: Kafka's default is false already.
			s.log.Warn("the brokers refuse unclean.leader.election.enable on a topic; created without it", "topic", w.Name, "err", err)
			delete(w.Configs, uncleanElection)
			_, err = s.adm.CreateTopic(ctx, w.Partitions, rf, w.Configs, w.Name)
		}
		switch {
		case errors.Is(err, kerr.TopicAlreadyExists):
		case err != nil:
			return fmt.Errorf("creating topic %q: %w", w.Name, err)
		case fewer && !warned:
			warned = true
			s.log.Warn("topics created with fewer replicas than the default of 3: the cluster has fewer brokers; one lost disk may lose committed data",
				"topic", w.Name, "replication_factor", rf, "brokers", brokers, "fix", "run on a cluster of 3 brokers or more, or set --replication-factor")
		}
	}
	return nil
}

// DefaultReplicationFactor is the replication of created topics unless
// --replication-factor names another, capped by the brokers the cluster
// has.
const DefaultReplicationFactor = 3

// Replication returns the replication factor of created topics: configured
// when above 0, the brokers' own default when -1, else
// DefaultReplicationFactor, or as many as the cluster has brokers when it
// has fewer (fewer true, for a warning); the brokers' default when their
// count is unknown (0).
func Replication(configured int16, brokers int) (rf int16, fewer bool) {
	switch {
	case configured > 0 || configured == -1:
		return configured, false
	case brokers <= 0:
		return -1, false
	case brokers < DefaultReplicationFactor:
		return int16(brokers), true
	}
	return DefaultReplicationFactor, false
}

// The topic configs that keep the state topic's committed records through
// the loss of a broker.
const (
	minInsync       = "min.insync.replicas"
	uncleanElection = "unclean.leader.election.enable"
)

// SafeConfigs adds to the state topic's spec, for a topic created with rf
// replicas, min.insync.replicas=2 when rf is 3 or more (a commit then
// needs two copies, and one broker may still be lost) and
// unclean.leader.election.enable=false when rf is 2 or more (a replica
// that is behind never becomes leader). Values the configs already name
// (--topic-config) stay. Other topics are left as they are.
func SafeConfigs(spec *TopicSpec, rf int16) {
	if !spec.State {
		return
	}
	set := func(k, v string) {
		if _, ok := spec.Configs[k]; !ok {
			spec.Configs[k] = &v
		}
	}
	if rf >= 3 {
		set(minInsync, "2")
	}
	if rf >= 2 {
		set(uncleanElection, "false")
	}
}

// CheckPolicy refuses a cleanup.policy that would not keep every call's
// latest entry of a compacted topic: the state topic must be compact only,
// since deletion by time would drop the dedup entries of calls that do not
// change and, after a long outage, the checkpoints; the latest topic must
// at least compact. The error wraps ErrStateNotCompacted and names the fix.
func CheckPolicy(spec TopicSpec, policy string) error {
	switch {
	case spec.State && policy != compact:
		return fmt.Errorf("%w: set cleanup.policy=compact on %q (compact only: it has %s, and deletion drops the dedup entries of calls that do not change)",
			ErrStateNotCompacted, spec.Name, policy)
	case spec.Compacted && !IsCompacted(policy):
		return fmt.Errorf("%w: set cleanup.policy=compact on %q", ErrStateNotCompacted, spec.Name)
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
	c := compact
	state[cleanupPolicy] = &c
	return events, state
}

// compact is the cleanup.policy of the state topic.
const compact = "compact"

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

// Finding is an unsafe setting of an existing topic, with its fix.
type Finding struct {
	Topic, Problem, Fix string
	// Warning marks a finding that does not stop a start (the latest
	// topic deleting as well as compacting, replicas below the default).
	Warning bool
}

// Audit reports the unsafe settings of an existing topic of spec: fewer
// replicas than the default replication on a cluster of brokers (0:
// unknown, not checked), a cleanup.policy CheckPolicy refuses or that
// deletes the latest topic's entries, and on the state topic
// min.insync.replicas below 2 with 3 replicas or more, or unclean leader
// election on. configs are the topic's described configs.
func Audit(spec TopicSpec, replicas, brokers int, configs []kadm.Config) []Finding {
	var out []Finding
	alter := func(kv string) string {
		return fmt.Sprintf("kafka-configs.sh --bootstrap-server BROKER --alter --entity-type topics --entity-name %s --add-config %s", spec.Name, kv)
	}
	if want, _ := Replication(0, brokers); brokers > 0 && replicas < int(want) {
		out = append(out, Finding{Topic: spec.Name, Warning: true,
			Problem: fmt.Sprintf("%d replica(s) on a cluster of %d brokers: one lost disk loses committed records", replicas, brokers),
			Fix:     fmt.Sprintf("raise the replication of %s to %d with kafka-reassign-partitions.sh", spec.Name, want)})
	}
	value := func(key string) (string, bool) {
		for _, c := range configs {
			if c.Key == key && c.Value != nil {
				return *c.Value, true
			}
		}
		return "", false
	}
	policy, ok := value(cleanupPolicy)
	if !ok {
		policy = "delete"
	}
	if spec.Compacted {
		if err := CheckPolicy(spec, policy); err != nil {
			out = append(out, Finding{Topic: spec.Name, Problem: "cleanup.policy=" + policy + ": " + err.Error(), Fix: alter("cleanup.policy=compact")})
		} else if policy != compact {
			out = append(out, Finding{Topic: spec.Name, Warning: true,
				Problem: "cleanup.policy=" + policy + ": the latest event of a call that does not change ages out", Fix: alter("cleanup.policy=compact")})
		}
	}
	if !spec.State {
		return out
	}
	if v, _ := value(minInsync); replicas >= 3 && (v == "" || v == "1") {
		out = append(out, Finding{Topic: spec.Name,
			Problem: fmt.Sprintf("min.insync.replicas=%s with %d replicas: a commit acknowledged by one broker is lost with its disk", cmp.Or(v, "1"), replicas),
			Fix:     alter("min.insync.replicas=2")})
	}
	if v, _ := value(uncleanElection); v == "true" {
		out = append(out, Finding{Topic: spec.Name,
			Problem: "unclean.leader.election.enable=true: a replica that is behind may become leader and drop committed state",
			Fix:     alter("unclean.leader.election.enable=false")})
	}
	return out
}
