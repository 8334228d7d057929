package main

import (
	"bytes"
	"context"
	"net"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/callstream/callstream/internal/syncbuf"
	"github.com/callstream/callstream/simulator"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// startArgs are run's settings against a simulator of its own and the
// given brokers, with short intervals; extra override them.
func startArgs(t *testing.T, brokers string, extra ...string) []string {
	t.Helper()
	sim, err := simulator.New(simulator.Config{AppID: "start", AppKey: "start-key", Seed: 3, History: 20, HistorySpan: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	api := httptest.NewServer(sim.Handler())
	t.Cleanup(api.Close)
	return append([]string{
		"--api-url", api.URL, "--app-id", "start", "--app-key", "start-key", "--brokers", brokers,
		"--log-format", "json", "--poll-interval", "200ms", "--settle-delay", "1s",
		"--tiers", "recent=1m@0s,deep=2h@2s", "--start-from", "1h", "--retry-max", "500ms",
	}, extra...)
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// Started before its broker, run does not exit: it serves /readyz, not
// ready, saying why, logs each attempt, and is ready once a broker listens
// on the address it was given.
func TestRunWaitsForTheBroker(t *testing.T) {
	port, listen := freePort(t), "127.0.0.1:"+strconv.Itoa(freePort(t))
	args := startArgs(t, "127.0.0.1:"+strconv.Itoa(port), "--listen", listen)
	var cluster *kfake.Cluster
	t.Cleanup(func() {
		if cluster != nil {
			cluster.Close()
		}
	})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stderr := &syncbuf.Buffer{}
	done := make(chan int, 1)
	go func() { done <- cmdRun(ctx, args, &bytes.Buffer{}, stderr) }()

	awaitReady(t, "http://"+listen, false, "kafka not ready after")
	var err error
	if cluster, err = kfake.NewCluster(kfake.NumBrokers(1), kfake.Ports(port)); err != nil {
		t.Fatal(err)
	}
	awaitReady(t, "http://"+listen, true, "ok")
	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Errorf("exit %d after SIGTERM, want 0; stderr:\n%s", code, stderr.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("run did not stop within 30s of its context")
	}
	if !strings.Contains(stderr.String(), "kafka not ready; retrying") {
		t.Errorf("no attempt logged:\n%s", stderr.String())
	}
}

// Credentials the brokers refuse end run at once, exit status 1, with the
// class auth on the exiting line and no password.
func TestRunExitsOnRefusedKafkaCredentials(t *testing.T) {
	const password = "the-wrong-password"
	cluster, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.EnableSASL(), kfake.Superuser("PLAIN", "u", "right"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cluster.Close)
	// Apache Kafka answers SASL_AUTHENTICATION_FAILED; kfake closes the
	// connection without an answer, which reads as a broker going away.
	cluster.ControlKey(int16(kmsg.SASLAuthenticate), func(req kmsg.Request) (kmsg.Response, error, bool) {
		cluster.KeepControl()
		resp := req.(*kmsg.SASLAuthenticateRequest).ResponseKind().(*kmsg.SASLAuthenticateResponse)
		resp.ErrorCode = kerr.SaslAuthenticationFailed.Code
		return resp, nil, true
	})
	args := startArgs(t, cluster.ListenAddrs()[0], "--listen", "",
		"--sasl-mechanism", "PLAIN", "--sasl-username", "u", "--sasl-password", password)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var stderr bytes.Buffer
	if code := cmdRun(ctx, args, &bytes.Buffer{}, &stderr); code != 1 || ctx.Err() != nil {
		t.Fatalf("exit %d (context %v), want 1 at once; stderr:\n%s", code, ctx.Err(), stderr.String())
	}
	var exiting string
	for _, line := range strings.Split(stderr.String(), "\n") {
		if strings.Contains(line, `"msg":"exiting"`) {
			exiting = line
		}
	}
	if !strings.Contains(exiting, `"class":"auth"`) || !strings.Contains(exiting, "SASL_AUTHENTICATION_FAILED") {
		t.Errorf("exiting line %q, want class auth and the broker's error", exiting)
	}
	if strings.Contains(stderr.String(), password) {
		t.Error("stderr holds the SASL password")
	}
}
