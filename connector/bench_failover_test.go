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

	"github.com/callstream/callstream/connector/sink"
	"github.com/callstream/callstream/connector/state"
	"github.com/callstream/callstream/metrics"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/twmb/franz-go/pkg/kgo"
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

func (p podSpec) setConfig() Config {
	return Config{
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
	set, err := New(p.setConfig(), Options{}, nil)
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
// idle sources on twelve state partitions, half of them moved, holding no
// calls of state and then a million in all (their store entries spread
// over the sources, created within the last hour, so none is pruned).
//
//	go test -run '^$' -bench Failover -benchtime 3x ./connector/
func BenchmarkFailover(b *testing.B) {
	for _, calls := range []int{0, 1_000_000} {
		b.Run(fmt.Sprintf("calls=%d", calls), func(b *testing.B) { benchFailover(b, calls) })
	}
}

func benchFailover(b *testing.B, calls int) {
	spec := podSpec{Sources: 12, Partitions: 12, SessionTimeout: 6 * time.Second}
	spec.Brokers = childBroker(b)
	spec.APIURL = childIdleSim(b, spec.Sources)
	if calls > 0 {
		fillSourcesState(b, spec, calls)
	}
	var total, longest time.Duration
	for b.Loop() {
		dead := childPod(b, spec)
		gm := metrics.NewGroup(prometheus.NewRegistry())
		m := metrics.New(prometheus.NewRegistry())
		set, err := New(spec.setConfig(), Options{Metrics: m}, gm)
		if err != nil {
			b.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- set.Run(ctx) }()
		owned := func() int { return int(testutil.ToFloat64(gm.PartitionsOwned)) }
		awaitCond(b, time.Minute, func() bool { ok, _ := set.Ready(); return ok && owned() > 0 && owned() < spec.Partitions })
		moved := spec.Partitions - owned()
		before := testutil.ToFloat64(m.StateEntries)

		killed := time.Now()
		if err := dead.Process.Kill(); err != nil {
			b.Fatal(err)
		}
		awaitCond(b, 2*time.Minute, func() bool { ok, _ := set.Ready(); return ok && owned() == spec.Partitions })
		d := time.Since(killed)
		total += d
		longest = max(longest, d)
		if got := testutil.ToFloat64(m.StateEntries); got != float64(calls) {
			b.Fatalf("the pod that stayed holds %v calls of state after the failover, want %d", got, calls)
		}
		b.Logf("%d partitions moved with %.0f calls of state; polling again %s after the kill",
			moved, float64(calls)-before, d.Round(time.Millisecond))
		cancel()
		if err := <-done; err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(total.Seconds()/float64(b.N), "s-to-polling")
	// The session expires a session timeout after the last heartbeat, which
	// came up to a heartbeat interval (2 s at this session timeout) before
	// the kill.
	b.ReportMetric(longest.Seconds(), "s-to-polling-max")
}

// fillSourcesState commits calls store entries spread over the sources of
// spec, each under its source's keys in its state partition, in
// transactions of 100,000 records, as the sources would have written them.
func fillSourcesState(b *testing.B, spec podSpec, calls int) {
	b.Helper()
	cfg := spec.setConfig()
	topic := cfg.Sources[0].Topics.State
	sk, err := sink.New(context.Background(), sink.Config{
		TransactionalID: "bench-fill", Topics: cfg.Sources[0].Topics, CreateTopics: true, Partitions: 3,
		StatePartitions: int32(spec.Partitions), ManualStatePartition: true,
		ClientOpts: []kgo.Opt{kgo.SeedBrokers(spec.Brokers...)},
	})
	if err != nil {
		b.Fatal(err)
	}
	defer sk.Close()
	const perTxn = 100_000
	created := time.Now().Add(-time.Hour).Unix()
	var recs []*kgo.Record
	for i, src := range cfg.Sources {
		keys := state.NewSourceKeys(src.SourceName, false, state.SourcePartition(src.SourceName, spec.Partitions), spec.Partitions)
		st := state.New().NewBatch()
		for j := i; j < calls; j += len(cfg.Sources) {
			st.Put(661181201146016+int64(7*j), state.Entry{RawHash: uint64(j) * 0x9E3779B97F4A7C15, Created: created + int64(j%3600), Status: 2, Flags: state.Emitted})
		}
		recs = appendStateRecords(recs, topic, keys, st)
		for len(recs) >= perTxn || i == len(cfg.Sources)-1 && len(recs) > 0 {
			n := min(perTxn, len(recs))
			if err := sk.Commit(context.Background(), recs[:n]); err != nil {
				b.Fatalf("filling the state topic: %v", err)
			}
			recs = recs[n:]
		}
	}
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
