package connector

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/callstream/callstream/connector/schedule"
	"github.com/callstream/callstream/connector/sink"
	"github.com/callstream/callstream/connector/source"
	"github.com/callstream/callstream/internal/cputime"
	"github.com/callstream/callstream/internal/procstat"
	"github.com/callstream/callstream/metrics"
	"github.com/callstream/callstream/secret"
	"github.com/callstream/callstream/simulator"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"
)

// simEnv makes the test binary serve an idle simulator instead of running
// tests: an app without calls that lists its (empty) call list under the
// given number of request types, one per source. In a child process, so
// that the CPU measured is the connector's alone.
const simEnv = "CALLSTREAM_BENCH_IDLE_SIM"

const idleAppID, idleAppKey = "idle-app", secret.String("idle-app-key")

func idleType(i int) string { return "t" + strconv.Itoa(i) }

// serveIdleSim prints the simulator's URL and serves until stdin closes.
func serveIdleSim(n string) int {
	types, err := strconv.Atoi(n)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	cfg := simulator.Config{AppID: idleAppID, AppKey: idleAppKey, Seed: 1}
	for i := range types {
		cfg.Types = append(cfg.Types, idleType(i))
	}
	sim, err := simulator.New(cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		_, _ = bufio.NewReader(os.Stdin).ReadString(0)
		cancel()
	}()
	fmt.Println("http://" + ln.Addr().String())
	if err := sim.Serve(ctx, ln); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// sumCounter sums every series of a counter vector.
func sumCounter(c *prometheus.CounterVec) float64 {
	ch := make(chan prometheus.Metric, 64)
	go func() { c.Collect(ch); close(ch) }()
	sum := 0.0
	for m := range ch {
		var d dto.Metric
		if m.Write(&d) == nil && d.Counter != nil {
			sum += d.Counter.GetValue()
		}
	}
	return sum
}

// childIdleSim starts an idle simulator of n request types in a child
// process and returns its URL.
func childIdleSim(tb testing.TB, n int) string {
	tb.Helper()
	return childProcess(tb, simEnv+"="+strconv.Itoa(n), "the simulator")
}

// idleSources are n sources of the idle app, one per request type, with
// the settings `run` defaults to.
func idleSources(n int, apiURL string, brokers []string) []SourceConfig {
	tiers, err := schedule.ParseTiers(schedule.DefaultTiers)
	if err != nil {
		panic(err) // the default tiers parse
	}
	srcs := make([]SourceConfig, n)
	for i := range srcs {
		srcs[i] = SourceConfig{
			APIURL: apiURL, AppID: idleAppID, AppKey: idleAppKey, Type: idleType(i),
			PageSize: source.DefaultPageSize, MaxPages: 50, PageConcurrency: source.DefaultPageConcurrency,
			RequestTimeout: source.DefaultTimeout,
			Retry:          source.Retry{Initial: source.DefaultRetryInitial, Max: source.DefaultRetryMax},
			Brokers:        brokers, TransactionalID: "idle", CreateTopics: true, Partitions: 3,
			Topics: sink.Topics{Calls: "calls", Failed: "calls.failed", DLQ: "calls.dlq", State: "callstream.state"},
			Schedule: schedule.Config{
				Tiers: tiers, Settle: 10 * time.Second, PollInterval: 5 * time.Second,
				// The backfill is not what idling costs: an hour of it.
				StartFrom: time.Now().Add(-time.Hour), BackfillWindow: time.Hour, SweepWindow: time.Hour,
				BackfillMaxWindow: 24 * time.Hour,
			},
			SourceName: fmt.Sprintf("idle-%d", i), ReadyMaxAge: 5 * time.Minute, Version: "bench",
		}
	}
	return srcs
}

// BenchmarkIdleSources runs 1, 100 and 1,000 sources of an app without calls
// in one process, at run's defaults (poll every 5 s, re-scan tiers
// recent=15m@0s,day=24h@5m,week=168h@1h), and reports what each idle
// source costs: resident memory, and CPU seconds an hour, measured over
// each iteration's minute once every source has polled. The broker and the
// simulator are child processes; run with -benchtime=1x.
func BenchmarkIdleSources(b *testing.B) {
	for _, n := range []int{1, 100, 1000} {
		b.Run(fmt.Sprintf("sources=%d", n), func(b *testing.B) {
			brokers := childBroker(b)
			apiURL := childIdleSim(b, n)
			runtime.GC()
			rssBefore, err := procstat.Bytes(0, "VmRSS")
			if err != nil {
				b.Skip(err)
			}
			m := metrics.New(prometheus.NewRegistry())
			set, err := New(Config{Sources: idleSources(n, apiURL, brokers)}, Options{Metrics: m}, nil)
			if err != nil {
				b.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() { done <- set.Run(ctx) }()
			defer func() {
				cancel()
				if err := <-done; err != nil {
					b.Error(err)
				}
			}()
			start := time.Now()
			for ok, why := set.Ready(); !ok; ok, why = set.Ready() {
				if time.Since(start) > 10*time.Minute {
					b.Fatalf("not ready after 10 minutes: %s", why)
				}
				time.Sleep(100 * time.Millisecond)
			}
			toReady := time.Since(start)
			// Past the first checkpoint delay, so that the figures are of
			// the steady state: every source defers from its first window.
			time.Sleep(DefaultCheckpointDelay + 5*time.Second)
			var cpu, wall time.Duration
			var windows, txns float64
			for b.Loop() {
				c0, t0 := cputime.Self(), time.Now()
				w0, x0 := sumCounter(m.WindowsRead), testutil.ToFloat64(m.Transactions.WithLabelValues("commit"))
				time.Sleep(time.Minute)
				cpu += cputime.Self() - c0
				wall += time.Since(t0)
				windows += sumCounter(m.WindowsRead) - w0
				txns += testutil.ToFloat64(m.Transactions.WithLabelValues("commit")) - x0
			}
			perHour := float64(time.Hour) / float64(wall)
			b.ReportMetric(toReady.Seconds(), "s-to-ready")
			b.ReportMetric(windows/float64(n)*perHour, "windows/source/hour")
			b.ReportMetric(txns*perHour, "txns/hour")
			b.ReportMetric(txns/float64(n)*perHour, "txns/source/hour")
			runtime.GC()
			rss, err := procstat.Bytes(0, "VmRSS")
			if err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(rss-rssBefore)/float64(n)/(1<<10), "KiB-RSS/source")
			b.ReportMetric(float64(rss)/(1<<20), "MiB-RSS")
			b.ReportMetric(cpu.Seconds()/float64(n)*perHour, "cpu-s/source/hour")
		})
	}
}
