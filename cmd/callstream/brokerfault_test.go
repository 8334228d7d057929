package main

import (
	"context"
	"math/rand/v2"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/callstream/callstream/connector/sink"
	"github.com/callstream/callstream/internal/proc"
	"github.com/callstream/callstream/internal/syncbuf"
	"github.com/twmb/franz-go/pkg/kgo"
)

// brokerProc is `callstream broker --data-dir` as a child process, so
// that it can be killed and restarted on the same address and data.
type brokerProc struct {
	t          *testing.T
	addr, dir  string
	p          *proc.Process
	out        *syncbuf.Buffer
	kills      int
	stalls     int
	stalledFor time.Duration
}

func startBrokerProc(t *testing.T) *brokerProc {
	t.Helper()
	b := &brokerProc{t: t, addr: loopbackAddr(t), dir: t.TempDir(), out: &syncbuf.Buffer{}}
	b.start()
	t.Cleanup(func() {
		b.p.Signal(syscall.SIGCONT)
		_ = b.p.Stop(time.Minute)
	})
	return b
}

// start runs the broker and waits until it accepts connections.
func (b *brokerProc) start() {
	b.t.Helper()
	var err error
	b.p, err = proc.Start(proc.Command{
		Name: "broker", Path: os.Args[0], Args: []string{"broker", "--listen", b.addr, "--data-dir", b.dir, "--log-format", "json"},
		Env: []string{asMainEnv + "=1"}, Output: b.out,
	})
	if err != nil {
		b.t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := b.p.AwaitListening(ctx, b.addr); err != nil {
		b.t.Fatalf("%v; its output:\n%s", err, b.out.String())
	}
}

// restart kills the broker with SIGKILL and starts it again on the same
// address and data after down.
func (b *brokerProc) restart(down time.Duration) {
	b.t.Helper()
	b.p.Kill()
	b.kills++
	time.Sleep(down)
	b.start()
}

// stall stops the broker (SIGSTOP) for d, then lets it go on.
func (b *brokerProc) stall(d time.Duration) {
	b.p.Signal(syscall.SIGSTOP)
	time.Sleep(d)
	b.p.Signal(syscall.SIGCONT)
	b.stalls++
	b.stalledFor += d
}

// TestBrokerFaults runs the connector against `callstream broker
// --data-dir` in a child process, and kills and restarts the broker, or
// stalls it, while the connector runs. The connector rides the fault out
// or exits non-zero and is restarted, as the kubelet would; either way the
// output stays exactly once.
func TestBrokerFaults(t *testing.T) {
	faults := []struct {
		name   string
		inject func(b *brokerProc, rng *rand.Rand)
	}{
		{"restart", func(b *brokerProc, rng *rand.Rand) {
			b.restart(time.Duration(200+rng.IntN(1500)) * time.Millisecond)
		}},
		{"stall", func(b *brokerProc, rng *rand.Rand) {
			longest := 3000
			if longRun() {
				longest = 20000
			}
			b.stall(time.Duration(500+rng.IntN(longest)) * time.Millisecond)
		}},
	}
	for _, f := range faults {
		t.Run(f.name, func(t *testing.T) {
			b := startBrokerProc(t)
			w := newWorld(t, worldConfig{brokers: []string{b.addr}})
			seed := uint64(time.Now().UnixNano())
			rng := rand.New(rand.NewPCG(seed, seed))
			cycles := crashCycles(t, 3)
			sup := w.supervise(nil)
			for range cycles {
				w.awaitCommits(2, 2*time.Minute)
				time.Sleep(time.Duration(rng.IntN(500)) * time.Millisecond)
				f.inject(b, rng)
			}
			w.awaitCommits(2, 2*time.Minute)
			t.Logf("broker killed %d times, stalled %d times for %s in all; connector exits %v, seed %d",
				b.kills, b.stalls, b.stalledFor, sup.restarts(), seed)
			w.finish("broker-"+f.name, cycles, sup.release())
		})
	}
}

// TestRestoreAfterBrokerCrashInTransaction kills the broker while a
// transaction on the state topic is open, as a pod and its broker dying
// together leave it. The broker aborts that transaction as it starts
// again, without writing its abort marker, so the state topic ends in
// records that no read_committed reader sees. The next pod must still
// read its state to the end and go on, exactly once.
func TestRestoreAfterBrokerCrashInTransaction(t *testing.T) {
	b := startBrokerProc(t)
	w := newWorld(t, worldConfig{brokers: []string{b.addr}})
	first := w.start(nil)
	first.awaitCommits(3, time.Minute)
	first.stop()

	cl, err := kgo.NewClient(kgo.SeedBrokers(b.addr), kgo.TransactionalID("callstream"))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := cl.BeginTransaction(); err != nil {
		t.Fatal(err)
	}
	rec := &kgo.Record{Topic: sink.DefaultTopics().State, Key: []byte("left open"), Value: []byte("by a pod killed with its broker")}
	if err := cl.ProduceSync(ctx, rec).FirstErr(); err != nil {
		t.Fatal(err)
	}
	b.restart(200 * time.Millisecond)
	cl.Close()

	if !strings.Contains(b.out.String(), "closed a transaction aborted at a crash without its marker") {
		t.Errorf("the broker wrote no marker for the transaction it aborted; its output:\n%s", b.out.String())
	}
	next := w.start(nil)
	next.awaitCommits(2, time.Minute)
	w.finish("restore-after-broker-crash", 1, next)
}
