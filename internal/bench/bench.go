// Package bench is the harness of `callstream bench`: it runs the broker,
// the simulator and the connector as three processes of the callstream
// binary, optionally with calls already in the state topic, waits until
// the connector's output holds the simulator's truth, and measures what
// the connector spent on the way (CPU, RSS, the times to ready and to the
// end of its backfill).
package bench

import (
	"context"
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
	"github.com/twmb/franz-go/pkg/kgo"
)

// Options are the settings of one run; the command checks them.
type Options struct {
	// Exe is the callstream binary the three processes run.
	Exe string
	// Logs receives the children's logs (nil: discarded).
	Logs io.Writer

	Calls      int           // backdated calls the simulator holds at the start
	StateCalls int           // calls already in the state topic, other ids than the simulator's
	Span       time.Duration // the calls are spread over this span before the start
	Seed       int64         // the simulator's --seed
	Faults     string        // the simulator's --faults

	PageSize, MaxPages, Concurrency int           // the connector's --page-size, --max-pages, --page-concurrency
	Window                          time.Duration // the connector's --backfill-window
	Tiers                           string        // the connector's --tiers
	CPUProfile                      string        // the connector's --cpuprofile: a pprof CPU profile of its process
}

// Result is what one run measured.
type Result struct {
	Calls, Read, State     int           // calls, records read, state entries held at the end
	Ready                  time.Duration // connector start to /readyz 2xx
	Backfill               time.Duration // connector start to backfill done
	CPU, SimCPU, BrokerCPU time.Duration
	PeakRSS, EndRSS        int64
	Report                 check.Report
}

// Run runs the broker, the simulator and the connector as three
// processes, waits until the connector's output holds the simulator's
// truth, stops the connector with SIGTERM and reads its rusage. ctx bounds
// the whole run.
func Run(ctx context.Context, o Options) (Result, error) {
	var r Result
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
	logs := o.Logs
	if logs == nil {
		logs = io.Discard
	}
	start := func(name string, args ...string) (*proc.Process, error) {
		return proc.Start(proc.Command{Name: name, Path: o.Exe, Args: args, Output: logs})
	}
	broker, err := start("broker", "broker", "--listen", brokerAddr, "--log-level", "warn")
	if err != nil {
		return r, err
	}
	defer broker.Stop(30 * time.Second)
	sim, err := start("simulator", "simulate", "--listen", simAddr, "--app-id", "bench", "--app-key-file", keyFile,
		"--seed", strconv.FormatInt(o.Seed, 10), "--history", strconv.Itoa(o.Calls), "--history-span", o.Span.String(),
		"--rate", "0", "--convert-after", "30s", "--faults", o.Faults, "--log-level", "warn",
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
	if o.StateCalls > 0 {
		if err := seedState(ctx, brokerAddr, o.StateCalls, time.Now()); err != nil {
			return r, err
		}
	}
	conn, err := start("connector", "run", "--api-url", "http://"+simAddr, "--app-id", "bench",
		"--app-key-file", keyFile, "--brokers", brokerAddr, "--listen", metricsAddr,
		"--start-from", (o.Span + time.Hour).String(), "--page-size", strconv.Itoa(o.PageSize),
		"--max-pages", strconv.Itoa(o.MaxPages), "--page-concurrency", strconv.Itoa(o.Concurrency),
		"--backfill-window", o.Window.String(), "--tiers", o.Tiers, "--log-level", "warn",
		"--cpuprofile", o.CPUProfile)
	if err != nil {
		return r, err
	}
	r.Calls = o.Calls
	if err := measure(ctx, &r, conn, "http://"+simAddr, brokerAddr, "http://"+metricsAddr); err != nil {
		_ = conn.Stop(30 * time.Second)
		return r, err
	}
	err = conn.Stop(time.Minute)
	r.CPU = conn.CPU()
	if err != nil {
		return r, err
	}
	_ = sim.Stop(30 * time.Second)
	_ = broker.Stop(30 * time.Second)
	r.SimCPU, r.BrokerCPU = sim.CPU(), broker.CPU()
	return r, nil
}

// measure waits until the connector conn, just started, is ready, has
// done its backfill and its output holds the simulator's truth, and fills
// in r what it measured on the way and then: the times from the start, the
// records read, the state held and the RSS.
func measure(ctx context.Context, r *Result, conn *proc.Process, simURL, broker, connURL string) error {
	start := time.Now()
	if err := conn.AwaitReady(ctx, connURL+"/readyz"); err != nil {
		return err
	}
	r.Ready = time.Since(start)
	if err := awaitBackfill(ctx, conn, connURL+"/metrics"); err != nil {
		return err
	}
	r.Backfill = time.Since(start)
	var err error
	if r.Report, _, err = check.Await(ctx, check.Target{SimURL: simURL, Kafka: []kgo.Opt{kgo.SeedBrokers(broker)}},
		check.Want{Calls: r.Calls}, time.Second); err != nil {
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
	r.Read, r.State = int(read), int(state)
	if r.EndRSS, err = conn.RSS(procstat.RSS); err != nil {
		return err
	}
	r.PeakRSS, err = conn.RSS(procstat.PeakRSS)
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
