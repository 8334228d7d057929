package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/callstream/callstream/internal/bench"
	"github.com/callstream/callstream/internal/settings"
	"github.com/callstream/callstream/simulator"
)

// benchFlags are the flags of callstream bench.
type benchFlags struct {
	calls, pageSize, maxPages int
	stateCalls, concurrency   int
	span, window, timeout     time.Duration
	seed                      int64
	tiers, logs, faults       string
	cpuProfile                string
	log                       settings.Log
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
	f.log.Register(fs)
}

func cmdBench(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	var f benchFlags
	f.register(fs)
	if err := settings.Parse(fs, args, settings.NoEnv); err != nil {
		return flagExit(fs, stdout, stderr, "bench", err)
	}
	if f.calls < 1 {
		return exitStatus(stderr, "bench", settings.Usagef("--calls: want at least 1, got %d", f.calls))
	}
	if f.concurrency < 1 {
		return exitStatus(stderr, "bench", settings.Usagef("--page-concurrency: want at least 1, got %d", f.concurrency))
	}
	if _, err := simulator.ParseFaults(f.faults); err != nil {
		return exitStatus(stderr, "bench", settings.Usagef("--faults: %v", err))
	}
	if f.stateCalls < 0 {
		return exitStatus(stderr, "bench", settings.Usagef("--state-calls: want 0 or more, got %d", f.stateCalls))
	}
	if f.span < time.Minute {
		return exitStatus(stderr, "bench", settings.Usagef("--history-span: want at least 1m, got %s", f.span))
	}
	logs := io.Discard
	if f.logs != "" {
		lf, err := os.Create(f.logs)
		if err != nil {
			return exitStatus(stderr, "bench", settings.Usagef("--logs: %v", err))
		}
		defer lf.Close()
		logs = lf
	}
	exe, err := os.Executable()
	if err != nil {
		return exitStatus(stderr, "bench", fmt.Errorf("finding the callstream binary: %w", err))
	}
	ctx, cancel := context.WithTimeout(ctx, f.timeout)
	defer cancel()
	r, err := bench.Run(ctx, bench.Options{
		Exe: exe, Logs: logs, Calls: f.calls, StateCalls: f.stateCalls, Span: f.span, Seed: f.seed, Faults: f.faults,
		PageSize: f.pageSize, MaxPages: f.maxPages, Concurrency: f.concurrency, Window: f.window, Tiers: f.tiers,
		CPUProfile: f.cpuProfile,
	})
	if err != nil {
		return exitStatus(stderr, "bench", err)
	}
	printBench(stdout, f, r)
	return 0
}

func printBench(w io.Writer, f benchFlags, r bench.Result) {
	perCall := func(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1e3 / float64(r.Calls) }
	fmt.Fprintf(w, "calls                      %d (history span %s, page size %d, max pages %d, %d pages at once, backfill window %s)\n",
		r.Calls, f.span, f.pageSize, f.maxPages, f.concurrency, f.window)
	if f.faults != "" {
		fmt.Fprintf(w, "simulator faults           %s\n", f.faults)
	}
	fmt.Fprintf(w, "output                     %s\n", r.Report)
	if f.stateCalls > 0 {
		fmt.Fprintf(w, "state at the start         %d calls (besides the simulator's)\n", f.stateCalls)
	}
	fmt.Fprintf(w, "state at the end           %d calls held\n", r.State)
	fmt.Fprintf(w, "connector ready            %.2f s after its start (fence, topics, restore)\n", r.Ready.Seconds())
	fmt.Fprintf(w, "records read               %d (%.2f per call; re-scans included)\n", r.Read, float64(r.Read)/float64(r.Calls))
	fmt.Fprintf(w, "backfill                   %.2f s, %.0f calls/s\n", r.Backfill.Seconds(), float64(r.Calls)/r.Backfill.Seconds())
	fmt.Fprintf(w, "connector CPU              %.2f s: %.2f µs/record read, %.2f µs/call\n",
		r.CPU.Seconds(), float64(r.CPU.Nanoseconds())/1e3/float64(max(r.Read, 1)), perCall(r.CPU))
	fmt.Fprintf(w, "connector RSS              %.1f MiB peak, %.1f MiB at the end\n", float64(r.PeakRSS)/(1<<20), float64(r.EndRSS)/(1<<20))
	fmt.Fprintf(w, "simulator CPU              %.2f s, %.2f µs/call\n", r.SimCPU.Seconds(), perCall(r.SimCPU))
	fmt.Fprintf(w, "broker CPU                 %.2f s, %.2f µs/call\n", r.BrokerCPU.Seconds(), perCall(r.BrokerCPU))
}
