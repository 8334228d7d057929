// Package realkafka runs callstream against Apache Kafka (KRaft) and a
// Confluent Schema Registry in Docker containers, through testcontainers-go.
// Where no Docker daemon answers, every test skips at once and says so.
package realkafka

import (
	"context"
	"github.com/callstream/callstream/internal/syncbuf"
	"math/rand/v2"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/callstream/callstream/check"
	"github.com/callstream/callstream/connector/event"
	"github.com/callstream/callstream/connector/registry"
	"github.com/callstream/callstream/connector/source"
	"github.com/callstream/callstream/secret"
	"github.com/callstream/callstream/simulator"
	"github.com/twmb/franz-go/pkg/kgo"
)

const appKey = secret.String("real-kafka-app-key")

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// TestRealKafka runs the connector binary against the containers: an
// end-to-end run, then a crash check that kills it with SIGKILL at random
// moments, each on topics of its own, the output compared read_committed
// through the registry with the simulator's truth.
func TestRealKafka(t *testing.T) {
	s := startServices(t)
	bin := buildBinary(t)
	t.Run("end-to-end", func(t *testing.T) { s.check(t, bin, "e2e", 0) })
	t.Run("crash", func(t *testing.T) { s.check(t, bin, "crash", 5) })
}

// buildBinary builds cmd/callstream into a temporary directory.
func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "callstream")
	cmd := exec.Command("go", "build", "-o", bin, "github.com/callstream/callstream/cmd/callstream")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building callstream: %v\n%s", err, out)
	}
	return bin
}

// check runs the connector on topics prefixed by name, kills it kills
// times, lets a last instance finish and compares the output.
func (s *services) check(t *testing.T, bin, name string, kills int) {
	const history, calls = 200, 60
	sim, err := simulator.New(simulator.Config{
		AppID: "real", AppKey: appKey, Seed: 7, History: history, HistorySpan: time.Hour,
		Calls: calls, Rate: 10, ConvertAfter: 2 * time.Second, FailRatio: 0.25,
		Types: []string{source.DefaultType}, // what `run` asks without --type
	})
	if err != nil {
		t.Fatal(err)
	}
	api := httptest.NewServer(sim.Handler())
	defer api.Close()
	topics := check.Topics{Calls: name + ".calls", Failed: name + ".calls.failed", DLQ: name + ".calls.dlq"}
	args := []string{"run", "--api-url", api.URL, "--app-id", "real", "--brokers", s.brokers,
		"--schema-registry-url", s.registryURL, "--transactional-id", "callstream-" + name,
		"--topic-calls", topics.Calls, "--topic-failed", topics.Failed, "--topic-dlq", topics.DLQ,
		"--topic-state", name + ".state", "--partitions", "3", "--replication-factor", "1",
		"--listen", "127.0.0.1:0", "--poll-interval", "200ms", "--settle-delay", "1s",
		"--tiers", "recent=1m@0s,deep=2h@2s", "--start-from", "2h", "--backfill-window", "10m"}
	var logs syncbuf.Buffer
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 0))
	for i := range kills {
		c := start(t, bin, args, &logs)
		time.Sleep(time.Duration(500+rng.IntN(3000)) * time.Millisecond)
		if err := c.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatalf("kill %d: %v", i, err)
		}
		_ = c.Wait()
	}
	final := start(t, bin, args, &logs)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	rc, err := registry.New(registry.Config{URL: s.registryURL})
	if err != nil {
		t.Fatal(err)
	}
	report, err := awaitTruth(ctx, api.URL, []kgo.Opt{kgo.SeedBrokers(s.brokers)}, topics,
		event.NewDecoder(rc.Lookup(ctx)), history+calls)
	_ = final.Process.Signal(syscall.SIGTERM)
	werr := final.Wait()
	if err != nil {
		t.Fatalf("after %d kills: %v\nlogs (tail):\n%s", kills, err, lastLines(logs.String(), 40))
	}
	t.Logf("after %d kills: %s", kills, report)
	if werr != nil {
		t.Errorf("exit after SIGTERM: %v, want status 0", werr)
	}
}

func start(t *testing.T, bin string, args []string, out *syncbuf.Buffer) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), "CALLSTREAM_APP_KEY="+appKey.Reveal())
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return cmd
}

// awaitTruth polls until every call has arrived and settled and the output
// matches the truth, or ctx is done.
func awaitTruth(ctx context.Context, simURL string, opts []kgo.Opt, topics check.Topics, dec *event.Decoder, calls int) (check.Report, error) {
	r, _, err := check.Await(ctx, check.Target{SimURL: simURL, Kafka: opts, Topics: topics, Decoder: dec},
		check.Want{Calls: calls, Settled: true, Clean: true}, time.Second)
	return r, err
}

func lastLines(s string, n int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
