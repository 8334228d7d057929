package sink

import (
	"context"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

func TestCreatedTopicsCarryTheConfigs(t *testing.T) {
	c := newCluster(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	s, err := New(ctx, Config{
		TransactionalID: "configs", Topics: testTopics, CreateTopics: true, Partitions: 2,
		TopicConfigs: map[string]string{"retention.ms": "86400000", "cleanup.policy": "delete"},
		ClientOpts:   []kgo.Opt{kgo.SeedBrokers(c.ListenAddrs()...)},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	rcs, err := s.adm.DescribeTopicConfigs(ctx, testTopics.Calls, testTopics.State)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		topic, key, want string
	}{
		{testTopics.Calls, "retention.ms", "86400000"},
		{testTopics.Calls, "cleanup.policy", "delete"},
		{testTopics.State, "retention.ms", "86400000"},
		{testTopics.State, "cleanup.policy", "compact"},
	} {
		rc, err := rcs.On(tc.topic, nil)
		if err != nil {
			t.Fatal(err)
		}
		got := "<unset>"
		for _, c := range rc.Configs {
			if c.Key == tc.key && c.Value != nil {
				got = *c.Value
			}
		}
		if got != tc.want {
			t.Errorf("%s %s = %s, want %s", tc.topic, tc.key, got, tc.want)
		}
	}
	details, err := s.adm.ListTopics(ctx, testTopics.Calls, testTopics.State)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(details[testTopics.Calls].Partitions); n != 2 {
		t.Errorf("%s has %d partitions, want 2", testTopics.Calls, n)
	}
	if n := len(details[testTopics.State].Partitions); n != 1 {
		t.Errorf("%s has %d partitions, want 1", testTopics.State, n)
	}
}
