package connector

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/callstream/callstream/metrics"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// podEnv makes the test binary run a pod of a group (a Set, settings in
// the variable as JSON) instead of running tests, printing "ready" once it
// is: a process that a benchmark can kill -9.
const podEnv = "CALLSTREAM_BENCH_POD"

// podSpec is what a benchmark pod runs.
type podSpec struct {
	Brokers        []string
	APIURL         string
	Sources        int
	Partitions     int
	SessionTimeout time.Duration
}

func (p podSpec) setConfig() SetConfig {
	return SetConfig{
		Sources: idleSources(p.Sources, p.APIURL, p.Brokers), Group: "bench",
		StatePartitions: p.Partitions, SessionTimeout: p.SessionTimeout,
	}
}

// servePod runs the pod of spec until killed.
func servePod(spec string) int {
	var p podSpec
	if err := json.Unmarshal([]byte(spec), &p); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	set, err := NewSet(p.setConfig(), Options{}, nil)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	go func() {
		for ok, _ := set.Ready(); !ok; ok, _ = set.Ready() {
			time.Sleep(50 * time.Millisecond)
		}
		fmt.Println("ready")
	}()
	if err := set.Run(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// childPod starts a pod in a child process and waits until it is ready.
func childPod(tb testing.TB, spec podSpec) *exec.Cmd {
	tb.Helper()
	js, err := json.Marshal(spec)
	if err != nil {
		tb.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), podEnv+"="+string(js))
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	if line, err := bufio.NewReader(stdout).ReadString('\n'); err != nil || line != "ready\n" {
		tb.Fatalf("pod: %q, %v", line, err)
	}
	return cmd
}

// BenchmarkFailover measures the time from a pod's death (kill -9) to its
// sources polling again on the pod that stays: the group's session timeout
// (6 s, the least kfake allows), the rebalance, then for each moved
// partition the fence, the restore and a first window read whole. Twelve
// idle sources on twelve state partitions, half of them moved; run with
// -benchtime=1x.
func BenchmarkFailover(b *testing.B) {
	spec := podSpec{Sources: 12, Partitions: 12, SessionTimeout: 6 * time.Second}
	spec.Brokers = childBroker(b)
	spec.APIURL = childIdleSim(b, spec.Sources)
	var total, longest time.Duration
	for b.Loop() {
		dead := childPod(b, spec)
		gm := metrics.NewGroup(prometheus.NewRegistry())
		set, err := NewSet(spec.setConfig(), Options{}, gm)
		if err != nil {
			b.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- set.Run(ctx) }()
		owned := func() int { return int(testutil.ToFloat64(gm.PartitionsOwned)) }
		awaitCond(b, time.Minute, func() bool { ok, _ := set.Ready(); return ok && owned() > 0 && owned() < spec.Partitions })
		moved := spec.Partitions - owned()

		killed := time.Now()
		if err := dead.Process.Kill(); err != nil {
			b.Fatal(err)
		}
		awaitCond(b, 2*time.Minute, func() bool { ok, _ := set.Ready(); return ok && owned() == spec.Partitions })
		d := time.Since(killed)
		total += d
		longest = max(longest, d)
		b.Logf("%d partitions moved; polling again %s after the kill", moved, d.Round(time.Millisecond))
		cancel()
		if err := <-done; err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(total.Seconds()/float64(b.N), "s-to-polling")
	// The session expires a session timeout after the last heartbeat, which
	// came up to a heartbeat interval (3 s) before the kill.
	b.ReportMetric(longest.Seconds(), "s-to-polling-max")
}

func awaitCond(tb testing.TB, d time.Duration, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("condition not met within %s", d)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
