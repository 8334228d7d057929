package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/callstream/callstream/check"
	"github.com/callstream/callstream/connector/source"
	"github.com/callstream/callstream/internal/proc"
	"github.com/callstream/callstream/internal/procstat"
	"github.com/callstream/callstream/simulator"
	"github.com/twmb/franz-go/pkg/kgo"
)

// benchFlags are the flags of callstream bench.
type benchFlags struct {
	calls, pageSize, maxPages int
	stateCalls, concurrency   int
	span, window, timeout     time.Duration
	seed                      int64
	tiers, logs, faults       string
	cpuProfile                string
	log                       logFlags
}

func (f *benchFlags) register(fs *flag.FlagSet) {
	fs.IntVar(&f.calls, "calls", 200_000, "backdated calls the simulator holds at the start")
	fs.IntVar(&f.stateCalls, "state-calls", 0, "calls already in the state topic at the start, as a connector that has seen them leaves it (other ids than the simulator's)")
	fs.DurationVar(&f.span, "history-span", 24*time.Hour, "the calls are spread over this span before the start")
	fs.IntVar(&f.pageSize, "page-size", 1000, "the connector's --page-size")
	fs.IntVar(&f.maxPages, "max-pages", 50, "the connector's --max-pages: with the page size, the records of one transaction")
	fs.IntVar(&f.concurrency, "page-concurrency", 4, "the connector's --page-concurrency")
	fs.StringVar(&f.faults, "faults", "", "the simulator's --faults, e.g. slow=1:50ms for an API that answers in 50 ms")
	fs.DurationVar(&f.window, "backfill-window", time.Hour, "the connector's --backfill-window")
	fs.StringVar(&f.tiers, "tiers", "recent=15m@0s,day=24h@5m,week=168h@1h", "the connector's --tiers")
	fs.Int64Var(&f.seed, "seed", 1, "the simulator's --seed")
	fs.DurationVar(&f.timeout, "timeout", 15*time.Minute, "give up when the output does not hold the truth by then")
	fs.StringVar(&f.logs, "logs", "", "file for the children's logs (default: discarded)")
	fs.StringVar(&f.cpuProfile, "cpuprofile", "", "file for a pprof CPU profile of the connector process (its run --cpuprofile)")
	f.log.register(fs)
}

// benchResult is what one bench run measured.
type benchResult struct {
	calls, read, state     int
	ready                  time.Duration // connector start to /readyz 2xx
	backfill               time.Duration // connector start to backfill done
	cpu, simCPU, brokerCPU time.Duration
	peakRSS, endRSS        int64
	report                 check.Report
}

func cmdBench(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	var f benchFlags
	f.register(fs)
	if err := parseLayered(fs, args, noEnv); err != nil {
		return flagExit(fs, stdout, stderr, "bench", err)
	}
	if f.calls < 1 {
		return exitStatus(stderr, "bench", usagef("--calls: want at least 1, got %d", f.calls))
	}
	if f.concurrency < 1 {
		return exitStatus(stderr, "bench", usagef("--page-concurrency: want at least 1, got %d", f.concurrency))
	}
	if _, err := simulator.ParseFaults(f.faults); err != nil {
		return exitStatus(stderr, "bench", usagef("--faults: %v", err))
	}
	if f.stateCalls < 0 {
		return exitStatus(stderr, "bench", usagef("--state-calls: want 0 or more, got %d", f.stateCalls))
	}
	if f.span < time.Minute {
		return exitStatus(stderr, "bench", usagef("--history-span: want at least 1m, got %s", f.span))
	}
	logs := io.Discard
	if f.logs != "" {
		lf, err := os.Create(f.logs)
		if err != nil {
			return exitStatus(stderr, "bench", usagef("--logs: %v", err))
		}
		defer lf.Close()
		logs = lf
	}
	ctx, cancel := context.WithTimeout(ctx, f.timeout)
	defer cancel()
	r, err := bench(ctx, f, logs)
	if err != nil {
		return exitStatus(stderr, "bench", err)
	}
	printBench(stdout, f, r)
	return 0
}

// bench runs the broker, the simulator and the connector as three
// processes, waits until the connector's output holds the simulator's
// truth, stops the connector with SIGTERM and reads its rusage.
func bench(ctx context.Context, f benchFlags, logs io.Writer) (benchResult, error) {
	var r benchResult
	dir, err := os.MkdirTemp("", "callstream-bench")
	if err != nil {
		return r, fmt.Errorf("creating a temporary directory: %w", err)
	}
	defer os.RemoveAll(dir)
	keyFile := filepath.Join(dir, "app-key")
	if err := os.WriteFile(keyFile, []byte("bench-app-key"), 0o600); err != nil {
		return r, fmt.Errorf("writing the app key: %w", err)
	}
	brokerAddr, simAddr, metricsAddr, err := threeAddrs()
	if err != nil {
		return r, err
	}
	exe, err := os.Executable()
	if err != nil {
		return r, fmt.Errorf("finding the callstream binary: %w", err)
	}
	start := func(name string, args ...string) (*proc.Process, error) {
		return proc.Start(proc.Command{Name: name, Path: exe, Args: args, Output: logs})
	}
	broker, err := start("broker", "broker", "--listen", brokerAddr, "--log-level", "warn")
	if err != nil {
		return r, err
	}
	defer broker.Stop(30 * time.Second)
	sim, err := start("simulator", "simulate", "--listen", simAddr, "--app-id", "bench", "--app-key-file", keyFile,
		"--seed", strconv.FormatInt(f.seed, 10), "--history", strconv.Itoa(f.calls), "--history-span", f.span.String(),
		"--rate", "0", "--convert-after", "30s", "--faults", f.faults, "--log-level", "warn",
		"--types", source.DefaultType) // what the connector below asks without --type
	if err != nil {
		return r, err
	}
	defer sim.Stop(30 * time.Second)
	for _, w := range []struct {
		p    *proc.Process
		addr string
	}{{broker, brokerAddr}, {sim, simAddr}} {
		if err := w.p.AwaitListening(ctx, w.addr); err != nil {
			return r, err
		}
	}
	if f.stateCalls > 0 {
		if err := seedState(ctx, brokerAddr, f.stateCalls, time.Now()); err != nil {
			return r, err
		}
	}
	conn, err := start("connector", "run", "--api-url", "http://"+simAddr, "--app-id", "bench",
		"--app-key-file", keyFile, "--brokers", brokerAddr, "--listen", metricsAddr,
		"--start-from", (f.span + time.Hour).String(), "--page-size", strconv.Itoa(f.pageSize),
		"--max-pages", strconv.Itoa(f.maxPages), "--page-concurrency", strconv.Itoa(f.concurrency),
		"--backfill-window", f.window.String(), "--tiers", f.tiers, "--log-level", "warn",
		"--cpuprofile", f.cpuProfile)
	if err != nil {
		return r, err
	}
	r.calls = f.calls
	if err := measure(ctx, &r, conn, "http://"+simAddr, brokerAddr, "http://"+metricsAddr); err != nil {
		_ = conn.Stop(30 * time.Second)
		return r, err
	}
	err = conn.Stop(time.Minute)
	r.cpu = conn.CPU()
	if err != nil {
		return r, err
	}
	_ = sim.Stop(30 * time.Second)
	_ = broker.Stop(30 * time.Second)
	r.simCPU, r.brokerCPU = sim.CPU(), broker.CPU()
	return r, nil
}

// measure waits until the connector conn, just started, is ready, has
// done its backfill and its output holds the simulator's truth, and fills
// in r what it measured on the way and then: the times from the start, the
// records read, the state held and the RSS.
func measure(ctx context.Context, r *benchResult, conn *proc.Process, simURL, broker, connURL string) error {
	start := time.Now()
	if err := awaitConnectorReady(ctx, conn, connURL+"/readyz"); err != nil {
		return err
	}
	r.ready = time.Since(start)
	if err := awaitBackfill(ctx, conn, connURL+"/metrics"); err != nil {
		return err
	}
	r.backfill = time.Since(start)
	var err error
	if r.report, err = awaitOutput(ctx, simURL, broker, r.calls); err != nil {
		return err
	}
	read, err := proc.ScrapeSum(ctx, connURL+"/metrics", "callstream_records_read_total")
	if err != nil {
		return err
	}
	state, err := proc.ScrapeSum(ctx, connURL+"/metrics", "callstream_state_entries")
	if err != nil {
		return err
	}
	r.read, r.state = int(read), int(state)
	if r.endRSS, err = conn.RSS(procstat.RSS); err != nil {
		return err
	}
	r.peakRSS, err = conn.RSS(procstat.PeakRSS)
	return err
}

func threeAddrs() (a, b, c string, err error) {
	if a, err = proc.FreeAddr(); err == nil {
		if b, err = proc.FreeAddr(); err == nil {
			c, err = proc.FreeAddr()
		}
	}
	return a, b, c, err
}

// awaitBackfill waits until the connector reports its backfill done.
func awaitBackfill(ctx context.Context, conn *proc.Process, url string) error {
	for {
		if conn.Exited() {
			return fmt.Errorf("connector exited during the backfill: %v", conn.Err())
		}
		if v, err := proc.ScrapeSum(ctx, url, "callstream_backfill_progress_ratio"); err == nil && v >= 1 {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for the backfill: %w", ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// awaitOutput reads the output read_committed until it holds the truth.
func awaitOutput(ctx context.Context, simURL, broker string, calls int) (check.Report, error) {
	r, _, err := check.Await(ctx, check.Target{SimURL: simURL, Kafka: []kgo.Opt{kgo.SeedBrokers(broker)}},
		check.Want{Calls: calls}, time.Second)
	return r, err
}

func printBench(w io.Writer, f benchFlags, r benchResult) {
	perCall := func(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1e3 / float64(r.calls) }
	fmt.Fprintf(w, "calls                      %d (history span %s, page size %d, max pages %d, %d pages at once, backfill window %s)\n",
		r.calls, f.span, f.pageSize, f.maxPages, f.concurrency, f.window)
	if f.faults != "" {
		fmt.Fprintf(w, "simulator faults           %s\n", f.faults)
	}
	fmt.Fprintf(w, "output                     %s\n", r.report)
	if f.stateCalls > 0 {
		fmt.Fprintf(w, "state at the start         %d calls (besides the simulator's)\n", f.stateCalls)
	}
	fmt.Fprintf(w, "state at the end           %d calls held\n", r.state)
	fmt.Fprintf(w, "connector ready            %.2f s after its start (fence, topics, restore)\n", r.ready.Seconds())
	fmt.Fprintf(w, "records read               %d (%.2f per call; re-scans included)\n", r.read, float64(r.read)/float64(r.calls))
	fmt.Fprintf(w, "backfill                   %.2f s, %.0f calls/s\n", r.backfill.Seconds(), float64(r.calls)/r.backfill.Seconds())
	fmt.Fprintf(w, "connector CPU              %.2f s: %.2f µs/record read, %.2f µs/call\n",
		r.cpu.Seconds(), float64(r.cpu.Nanoseconds())/1e3/float64(max(r.read, 1)), perCall(r.cpu))
	fmt.Fprintf(w, "connector RSS              %.1f MiB peak, %.1f MiB at the end\n", float64(r.peakRSS)/(1<<20), float64(r.endRSS)/(1<<20))
	fmt.Fprintf(w, "simulator CPU              %.2f s, %.2f µs/call\n", r.simCPU.Seconds(), perCall(r.simCPU))
	fmt.Fprintf(w, "broker CPU                 %.2f s, %.2f µs/call\n", r.brokerCPU.Seconds(), perCall(r.brokerCPU))
}
