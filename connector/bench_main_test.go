package connector

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kfake"
)

// brokerEnv makes the test binary serve a kfake broker instead of running
// tests: benchmarks start the broker as a child process, so that the CPU
// they measure with getrusage is the connector's alone.
const brokerEnv = "CALLSTREAM_BENCH_BROKER"

func TestMain(m *testing.M) {
	if os.Getenv(brokerEnv) == "1" {
		os.Exit(serveBroker())
	}
	if n := os.Getenv(simEnv); n != "" {
		os.Exit(serveIdleSim(n))
	}
	if cfg := os.Getenv(podEnv); cfg != "" {
		os.Exit(servePod(cfg))
	}
	os.Exit(m.Run())
}

// serveBroker prints the broker's address and serves until stdin closes.
func serveBroker() int {
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.DefaultNumPartitions(3))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer c.Close()
	fmt.Println(strings.Join(c.ListenAddrs(), ","))
	_, _ = io.Copy(io.Discard, os.Stdin)
	return 0
}

// childBroker starts a kfake broker in a child process and returns its
// address; it stops with the benchmark.
func childBroker(tb testing.TB) []string {
	tb.Helper()
	return strings.Split(childProcess(tb, brokerEnv+"=1", "the broker"), ",")
}

// childProcess starts this test binary again with env set, so that its
// TestMain serves what env asks for, and returns the first line the child
// prints (its address); the child stops, its stdin closed, with the
// benchmark.
func childProcess(tb testing.TB, env, what string) string {
	tb.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), env)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		tb.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		stdin.Close()
		_ = cmd.Wait()
	})
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		tb.Fatalf("starting %s: %v", what, err)
	}
	return strings.TrimSpace(line)
}
