package main

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"net/http/httptest"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/callstream/callstream/check"
	"github.com/callstream/callstream/connector/source"
	"github.com/callstream/callstream/secret"
	"github.com/callstream/callstream/simulator"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
)

const (
	crashAppID  = "crash-app"
	crashAppKey = secret.String("crash-app-key-never-logged")
)

// syncBuffer collects a child's output; the child writes while the test
// reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// child is `callstream run` as a separate process: this test binary
// re-executed as main.
type child struct {
	cmd *exec.Cmd
	out *syncBuffer
}

func startChild(t *testing.T, args []string, out *syncBuffer) *child {
	t.Helper()
	cmd := exec.Command(os.Args[0], append([]string{"run"}, args...)...)
	cmd.Env = append(os.Environ(), asMainEnv+"=1", "CALLSTREAM_APP_KEY="+crashAppKey.Reveal())
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return &child{cmd: cmd, out: out}
}

func crashArgs(apiURL string, brokers []string) []string {
	return []string{
		"--api-url", apiURL, "--app-id", crashAppID, "--brokers", strings.Join(brokers, ","),
		"--listen", "127.0.0.1:0", "--log-level", "debug", "--log-format", "json",
		"--poll-interval", "200ms", "--settle-delay", "1s", "--tiers", "recent=1m@0s,deep=3h@2s",
		"--start-from", "3h", "--backfill-window", "10m", "--page-size", "20", "--max-pages", "5",
	}
}

// crashCycles is how many times the crash test kills the connector:
// CALLSTREAM_CRASH_CYCLES, default a handful.
func crashCycles(t *testing.T) int {
	n := 6
	if v := os.Getenv("CALLSTREAM_CRASH_CYCLES"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil {
			t.Fatalf("CALLSTREAM_CRASH_CYCLES=%q: %v", v, err)
		}
	}
	return n
}

// TestCrashKill9 runs the connector as a child process, kills it with
// SIGKILL at random moments, restarts it, and checks that the output read
// read_committed holds every change of the simulator's truth exactly once.
func TestCrashKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test runs child processes for tens of seconds")
	}
	cluster, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.DefaultNumPartitions(3))
	if err != nil {
		t.Fatal(err)
	}
	defer cluster.Close()
	sim, err := simulator.New(simulator.Config{
		AppID: crashAppID, AppKey: crashAppKey, Seed: 42,
		History: 400, HistorySpan: 2 * time.Hour, Calls: 150, Rate: 15,
		ConvertAfter: 2 * time.Second, FailRatio: 0.25,
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(sim.Handler())
	defer srv.Close()
	brokers := cluster.ListenAddrs()
	args := crashArgs(srv.URL, brokers)
	var logs syncBuffer

	cycles := crashCycles(t)
	seed := uint64(time.Now().UnixNano())
	rng := rand.New(rand.NewPCG(seed, seed))
	t.Logf("%d kill cycles, seed %d", cycles, seed)
	for i := range cycles {
		c := startChild(t, args, &logs)
		time.Sleep(time.Duration(50+rng.IntN(1500)) * time.Millisecond)
		if err := c.cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatalf("cycle %d: kill: %v", i, err)
		}
		_ = c.cmd.Wait()
	}

	final := startChild(t, args, &logs)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	report, err := awaitTruth(ctx, srv.URL, brokers, 400+150)
	_ = final.cmd.Process.Signal(syscall.SIGTERM)
	werr := final.cmd.Wait()
	if err != nil {
		t.Fatalf("after %d kills: %v\nlogs (tail):\n%s", cycles, err, lastLines(logs.String(), 40))
	}
	t.Logf("after %d kills: %s", cycles, report)
	if werr != nil {
		t.Errorf("connector exit after SIGTERM = %v, want status 0", werr)
	}
	if strings.Contains(logs.String(), crashAppKey.Reveal()) {
		t.Error("the app key appears in the connector's logs")
	}
}

// awaitTruth polls until all calls of the simulator's truth have arrived
// and settled and the output matches it, or ctx is done.
func awaitTruth(ctx context.Context, simURL string, brokers []string, calls int) (check.Report, error) {
	var last check.Report
	var lastErr error
	for {
		truth, err := check.FetchTruth(ctx, simURL)
		if err == nil {
			var out *check.Output
			if out, err = check.ReadOutput(ctx, []kgo.Opt{kgo.SeedBrokers(brokers...)}, check.DefaultTopics()); err == nil {
				if last = check.Compare(truth, out, nil); last.OK() && len(truth) == calls && settled(truth) {
					return last, nil
				}
			}
		}
		lastErr = err
		select {
		case <-ctx.Done():
			return last, fmt.Errorf("output never matched the truth (last error %v): %s", lastErr, last)
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// settled reports whether no call of the truth is still in progress.
func settled(truth []source.Record) bool {
	for _, r := range truth {
		if r.Status != 0 && r.Status != 2 {
			return false
		}
	}
	return true
}

func lastLines(s string, lines int) string {
	parts := strings.Split(s, "\n")
	if len(parts) > lines {
		parts = parts[len(parts)-lines:]
	}
	return strings.Join(parts, "\n")
}
