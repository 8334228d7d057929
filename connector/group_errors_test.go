package connector

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/callstream/callstream/connector/sink"
	"github.com/callstream/callstream/metrics"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/sasl/plain"
)

// runSetUntil runs a Set of cfg until it ends on its own or the test's
// bound passes, and returns its error and metrics.
func runSetUntil(t *testing.T, cfg SetConfig, d time.Duration) (*Set, *metrics.Metrics, error) {
	t.Helper()
	m := metrics.New(prometheus.NewRegistry())
	s, err := NewSet(cfg, Options{Metrics: m}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	err = s.Run(ctx)
	if ctx.Err() != nil {
		t.Fatalf("Set still running after %s (err %v); ready: %v", d, err, s.readyWhy())
	}
	return s, m, err
}

func (s *Set) readyWhy() string { _, why := s.Ready(); return why }

// A group whose principal may not use the group (GROUP_AUTHORIZATION_FAILED)
// ends the pod with class acl, counted, and /readyz says so. Before the
// group client's errors were fed into the fatal path, the pod stayed "not
// yet a member of group" for good.
func TestGroupDeniedIsFatal(t *testing.T) {
	allow := func(res kmsg.ACLResourceType, name string) kfake.ACL {
		return kfake.ACL{Resource: res, Name: name, Pattern: kmsg.ACLResourcePatternTypeLiteral, Operation: kmsg.ACLOperationAll, Allow: true}
	}
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.DefaultNumPartitions(3), kfake.EnableSASL(), kfake.EnableACLs(),
		kfake.Superuser("PLAIN", "admin", "admin"),
		kfake.User("PLAIN", "conn", "secret",
			allow(kmsg.ACLResourceTypeTopic, "*"), allow(kmsg.ACLResourceTypeCluster, "kafka-cluster"),
			allow(kmsg.ACLResourceTypeTransactionalId, "*")))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	brokers := c.ListenAddrs()
	srcs, _ := setSources(t, brokers, map[string]string{"app-a": newApp(t, "app-a", 9)})
	for i := range srcs {
		srcs[i].KafkaOpts = []kgo.Opt{kgo.SASL(plain.Auth{User: "conn", Pass: "secret"}.AsMechanism())}
	}
	s, m, err := runSetUntil(t, SetConfig{Sources: srcs, Group: "g", StatePartitions: 4, SessionTimeout: 6 * time.Second}, 30*time.Second)
	t.Logf("Run = %v", err)
	if sink.FatalClass(err) != sink.ClassACL {
		t.Fatalf("Run = %v (class %q), want a fatal error of class acl", err, sink.FatalClass(err))
	}
	if got := testutil.ToFloat64(m.FatalErrors.WithLabelValues(sink.ClassACL)); got != 1 {
		t.Errorf("callstream_fatal_errors_total{reason=\"acl\"} = %v, want 1", got)
	}
	if why := s.readyWhy(); !strings.Contains(why, "acl") {
		t.Errorf("readiness = %q, want it to name the acl failure", why)
	}
}

// A session timeout below the brokers' group.min.session.timeout.ms (6s
// on kfake, as on Kafka) is refused at start in one line, class config,
// rather than retried by the group client for ever.
func TestGroupSessionTimeoutOutOfBounds(t *testing.T) {
	cluster := newCluster(t)
	srcs, _ := setSources(t, cluster.ListenAddrs(), map[string]string{"app-a": newApp(t, "app-a", 9)})
	_, m, err := runSetUntil(t, SetConfig{Sources: srcs, Group: "g", StatePartitions: 4, SessionTimeout: 3 * time.Second}, 30*time.Second)
	if sink.FatalClass(err) != sink.ClassConfig || !strings.Contains(err.Error(), "group.min.session.timeout.ms") || strings.Contains(err.Error(), "\n") {
		t.Fatalf("Run = %v (class %q), want one line of class config naming the brokers' bound", err, sink.FatalClass(err))
	}
	if got := testutil.ToFloat64(m.FatalErrors.WithLabelValues(sink.ClassConfig)); got != 1 {
		t.Errorf("callstream_fatal_errors_total{reason=\"config\"} = %v, want 1", got)
	}
}

// When the brokers' bounds cannot be read, the coordinator's own refusal
// (INVALID_SESSION_TIMEOUT) reaches the fatal path through the group
// client's errors.
func TestGroupSessionTimeoutRefusedByTheCoordinator(t *testing.T) {
	cluster := newCluster(t)
	// Broker configs unreadable: the check at start is skipped.
	cluster.ControlKey(int16(kmsg.DescribeConfigs), func(req kmsg.Request) (kmsg.Response, error, bool) {
		cluster.KeepControl()
		resp := req.ResponseKind().(*kmsg.DescribeConfigsResponse)
		for _, r := range req.(*kmsg.DescribeConfigsRequest).Resources {
			if r.ResourceType != kmsg.ConfigResourceTypeBroker {
				return nil, nil, false
			}
			rr := kmsg.NewDescribeConfigsResponseResource()
			rr.ResourceType, rr.ResourceName = r.ResourceType, r.ResourceName
			rr.ErrorCode = 31 // CLUSTER_AUTHORIZATION_FAILED
			resp.Resources = append(resp.Resources, rr)
		}
		return resp, nil, true
	})
	srcs, _ := setSources(t, cluster.ListenAddrs(), map[string]string{"app-a": newApp(t, "app-a", 9)})
	_, _, err := runSetUntil(t, SetConfig{Sources: srcs, Group: "g", StatePartitions: 4, SessionTimeout: 3 * time.Second}, 30*time.Second)
	t.Logf("Run = %v", err)
	if sink.FatalClass(err) != sink.ClassConfig {
		t.Fatalf("Run = %v (class %q), want a fatal error of class config", err, sink.FatalClass(err))
	}
}
