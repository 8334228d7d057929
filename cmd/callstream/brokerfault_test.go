package main

import (
	"github.com/callstream/callstream/internal/syncbuf"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"
)

// brokerProc is `callstream broker --data-dir` as a child process, so
// that it can be killed and restarted on the same address and data.
type brokerProc struct {
	t          *testing.T
	addr, dir  string
	cmd        *exec.Cmd
	done       chan struct{}
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
		b.cmd.Process.Signal(syscall.SIGCONT)
		b.cmd.Process.Signal(syscall.SIGTERM)
		<-b.done
	})
	return b
}

// start runs the broker and waits until it accepts connections.
func (b *brokerProc) start() {
	b.t.Helper()
	b.cmd = exec.Command(os.Args[0], "broker", "--listen", b.addr, "--data-dir", b.dir, "--log-format", "json")
	b.cmd.Env = append(os.Environ(), asMainEnv+"=1")
	b.cmd.Stdout, b.cmd.Stderr = io.Writer(b.out), io.Writer(b.out)
	if err := b.cmd.Start(); err != nil {
		b.t.Fatal(err)
	}
	b.done = make(chan struct{})
	go func(cmd *exec.Cmd, done chan struct{}) {
		_ = cmd.Wait()
		close(done)
	}(b.cmd, b.done)
	for range 300 {
		if c, err := net.DialTimeout("tcp", b.addr, time.Second); err == nil {
			c.Close()
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	b.t.Fatalf("broker never listened on %s; its output:\n%s", b.addr, b.out.String())
}

// restart kills the broker with SIGKILL and starts it again on the same
// address and data after down.
func (b *brokerProc) restart(down time.Duration) {
	b.t.Helper()
	b.cmd.Process.Signal(syscall.SIGKILL)
	<-b.done
	b.kills++
	time.Sleep(down)
	b.start()
}

// stall stops the broker (SIGSTOP) for d, then lets it go on.
func (b *brokerProc) stall(d time.Duration) {
	b.cmd.Process.Signal(syscall.SIGSTOP)
	time.Sleep(d)
	b.cmd.Process.Signal(syscall.SIGCONT)
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
