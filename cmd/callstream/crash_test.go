package main

import (
	"context"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/callstream/callstream/check"
	"github.com/callstream/callstream/secret"
	"github.com/twmb/franz-go/pkg/kgo"
)

const (
	crashAppID  = "crash-app"
	crashAppKey = secret.String("crash-app-key-never-logged")
)

// crashArgs are the settings of every pod: fast polls, small pages and
// windows, so that a few seconds hold many transactions.
func crashArgs(apiURL string, brokers []string) []string {
	return []string{
		"--api-url", apiURL, "--app-id", crashAppID, "--brokers", strings.Join(brokers, ","),
		"--listen", "127.0.0.1:0", "--log-level", "debug", "--log-format", "json",
		"--poll-interval", "200ms", "--settle-delay", "1s", "--tiers", "recent=1m@1s,deep=3h@5s",
		"--start-from", "3h", "--backfill-window", "10m", "--page-size", "25", "--max-pages", "5",
		// A fenced pod exits at once, as the supervisor's restarts expect;
		// TestFencedHold runs with the default.
		"--fenced-hold", "0",
	}
}

// crashCycles is how many cycles (kills, crashes, rounds) a reliability
// scenario runs: CALLSTREAM_CRASH_CYCLES, default def.
func crashCycles(t *testing.T, def int) int {
	t.Helper()
	v := os.Getenv("CALLSTREAM_CRASH_CYCLES")
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		t.Fatalf("CALLSTREAM_CRASH_CYCLES=%q: want a number of cycles", v)
	}
	return n
}

// TestCrashKill9 runs the connector as a child process, kills it with
// SIGKILL at random moments, restarts it, and checks that the output read
// read_committed holds every change of the simulator's truth exactly once.
// New calls arrive throughout, so kills land while changes are produced;
// both transaction protocols are run.
func TestCrashKill9(t *testing.T) {
	for _, proto := range protocols {
		t.Run(proto.name, func(t *testing.T) {
			cycles := crashCycles(t, 8)
			// New calls arrive over about as long as the kills go on.
			calls := max(100, 4*cycles)
			rate := float64(calls) / (0.8 * float64(max(cycles, 1)))
			w := newWorld(t, worldConfig{history: 300, calls: calls, rate: rate, kafka: proto.opts})
			seed := uint64(time.Now().UnixNano())
			rng := rand.New(rand.NewPCG(seed, seed))
			t.Logf("%d kill cycles, seed %d", cycles, seed)
			for range cycles {
				p := w.start(nil)
				time.Sleep(time.Duration(50+rng.IntN(1500)) * time.Millisecond)
				if rng.IntN(4) == 0 {
					p.scrape()
				}
				p.Kill()
			}
			w.finish("kill-9/"+proto.name, cycles, w.start(nil))
		})
	}
}

// awaitTruth polls until all calls of the simulator's truth have arrived
// and settled and the output matches it, broken calls dead-lettered, or ctx
// is done.
func awaitTruth(ctx context.Context, simURL string, brokers []string, want check.Want) (check.Report, error) {
	want.Settled, want.Broken = true, true
	r, _, err := check.Await(ctx, check.Target{SimURL: simURL, Kafka: []kgo.Opt{kgo.SeedBrokers(brokers...)}},
		want, 500*time.Millisecond)
	return r, err
}

func lastLines(s string, lines int) string {
	parts := strings.Split(s, "\n")
	if len(parts) > lines {
		parts = parts[len(parts)-lines:]
	}
	return strings.Join(parts, "\n")
}
