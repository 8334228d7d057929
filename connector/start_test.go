package connector

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/callstream/callstream/connector/sink"
	"github.com/callstream/callstream/internal/syncbuf"
	"github.com/callstream/callstream/simulator"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/sasl/plain"
)

// freePort returns a port on 127.0.0.1 where nothing listens now.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	if err := ln.Close(); err != nil {
		t.Fatal(err)
	}
	return port
}

// A connector started before its broker waits for it, saying why it is
// not ready and logging each attempt, and becomes ready once the broker
// listens on the address it was given.
func TestStartWaitsForTheBroker(t *testing.T) {
	sim := newSimulator(t, simulator.Config{Seed: 1, History: 10, HistorySpan: time.Hour})
	port := freePort(t)
	cfg := testConfig(t, sim.URL, []string{"127.0.0.1:" + strconv.Itoa(port)})
	var logs syncbuf.Buffer
	c, err := oneSource(cfg, Options{Logger: slog.New(slog.NewJSONHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	// The broker closes after the connector stopped (cleanups run last
	// first), so that the connector's last transaction can end.
	var cluster *kfake.Cluster
	t.Cleanup(func() {
		if cluster != nil {
			cluster.Close()
		}
	})
	startRunning(t, c)

	waitFor(t, 30*time.Second, "two attempts logged", func() bool {
		return strings.Count(logs.String(), "kafka not ready; retrying") >= 2
	})
	if ready, why := c.Ready(); ready || !strings.Contains(why, "kafka not ready after") {
		t.Errorf("Ready() = %v, %q while no broker listens; want false saying kafka is not ready", ready, why)
	}
	cluster, err = kfake.NewCluster(kfake.NumBrokers(1), kfake.DefaultNumPartitions(3), kfake.Ports(port))
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, 30*time.Second, "ready", func() bool { ok, _ := c.Ready(); return ok })
	if !strings.Contains(logs.String(), `"msg":"kafka ready"`) {
		t.Error("no log line says kafka became ready")
	}
}

// What waiting cannot mend ends the start at once with its class:
// credentials the brokers refuse, an ACL that denies the connector.
func TestStartStopsOnWhatWaitingCannotMend(t *testing.T) {
	sim := newSimulator(t, simulator.Config{Seed: 1, History: 10, HistorySpan: time.Hour})
	const user, password = "callstream", "right-password"
	cluster, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.EnableSASL(), kfake.EnableACLs(),
		kfake.Superuser("PLAIN", "admin", "admin-password"),
		kfake.User("PLAIN", user, password))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cluster.Close)
	refuseAsKafkaDoes(cluster, password)
	for _, tc := range []struct {
		name, password, class string
	}{
		{"refused credentials", "wrong-password", sink.ClassAuth},
		{"denied by an ACL", password, sink.ClassACL},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := testConfig(t, sim.URL, cluster.ListenAddrs())
			cfg.KafkaOpts = []kgo.Opt{kgo.SASL(plain.Auth{User: user, Pass: tc.password}.AsMechanism())}
			c, err := oneSource(cfg, Options{})
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			err = c.Run(ctx)
			if ctx.Err() != nil {
				t.Fatalf("Run still waiting after 30s; last error %v", err)
			}
			if got := sink.FatalClass(err); got != tc.class {
				t.Errorf("Run() = %v, class %q; want class %q", err, got, tc.class)
			}
			if strings.Contains(err.Error(), tc.password) {
				t.Error("the error holds the password")
			}
			if ready, why := c.Ready(); ready || !strings.Contains(why, tc.class) {
				t.Errorf("Ready() = %v, %q; want false naming %s", ready, why, tc.class)
			}
			if errors.Is(err, context.DeadlineExceeded) {
				t.Error("Run waited for its context")
			}
		})
	}
}

// refuseAsKafkaDoes makes the cluster answer a PLAIN authentication with
// a password other than want as Apache Kafka does, with the error
// SASL_AUTHENTICATION_FAILED; kfake itself closes the connection without
// an answer, which a client cannot tell from a broker going away.
func refuseAsKafkaDoes(c *kfake.Cluster, want string) {
	c.ControlKey(int16(kmsg.SASLAuthenticate), func(req kmsg.Request) (kmsg.Response, error, bool) {
		c.KeepControl()
		r := req.(*kmsg.SASLAuthenticateRequest)
		// PLAIN sends authzid NUL user NUL password.
		if parts := bytes.Split(r.SASLAuthBytes, []byte{0}); len(parts) == 3 && string(parts[2]) == want {
			return nil, nil, false
		}
		resp := r.ResponseKind().(*kmsg.SASLAuthenticateResponse)
		resp.ErrorCode = kerr.SaslAuthenticationFailed.Code
		msg := "Authentication failed: Invalid username or password"
		resp.ErrorMessage = &msg
		return resp, nil, true
	})
}

func waitFor(t *testing.T, d time.Duration, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("not %s within %s", what, d)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Stopped while it waits for the brokers, the connector returns nil at
// once: nothing was started, so nothing is left to finish.
func TestStopWhileWaitingForTheBroker(t *testing.T) {
	cfg := testConfig(t, "http://127.0.0.1:1", []string{"127.0.0.1:" + strconv.Itoa(freePort(t))})
	var logs syncbuf.Buffer
	c, err := oneSource(cfg, Options{Logger: slog.New(slog.NewJSONHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	waitFor(t, 30*time.Second, "an attempt logged", func() bool {
		return strings.Contains(logs.String(), "kafka not ready; retrying")
	})
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run after cancel = %v, want nil", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return within 10s of cancel")
	}
}
