package proc

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/callstream/callstream/internal/procstat"
	"github.com/callstream/callstream/internal/syncbuf"
)

// childEnv makes the test binary act as a child process whose behaviour
// the variable's value names (see child).
const childEnv = "CALLSTREAM_PROC_TEST_CHILD"

func TestMain(m *testing.M) {
	if mode := os.Getenv(childEnv); mode != "" {
		os.Exit(child(mode, os.Args[1:]))
	}
	os.Exit(m.Run())
}

// child is the test binary as a child process:
//   - term: spins the CPU for 100 ms, says "up", exits 0 on SIGTERM
//   - deaf: says "up", ignores SIGTERM
//   - exit: exits with status 3 at once
//   - listen: listens on args[0] until SIGTERM
func child(mode string, args []string) int {
	term := make(chan os.Signal, 1)
	signal.Notify(term, syscall.SIGTERM)
	switch mode {
	case "term":
		for start := time.Now(); time.Since(start) < 100*time.Millisecond; {
		}
		fmt.Println("up")
		<-term
		fmt.Fprintln(os.Stderr, "bye")
		return 0
	case "deaf":
		fmt.Println("up")
		select {}
	case "listen":
		ln, err := net.Listen("tcp", args[0])
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer ln.Close()
		<-term
		return 0
	default:
		return 3
	}
}

func startChild(t *testing.T, mode string, args ...string) (*Process, *syncbuf.Buffer) {
	t.Helper()
	out := &syncbuf.Buffer{}
	p, err := Start(Command{Name: mode, Path: os.Args[0], Args: args, Env: []string{childEnv + "=" + mode}, Output: out})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Kill)
	return p, out
}

// awaitOutput waits until the child has written want, so that it has
// installed its signal handler.
func awaitOutput(t *testing.T, out *syncbuf.Buffer, want string) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); !strings.Contains(out.String(), want); {
		if time.Now().After(deadline) {
			t.Fatalf("the child never wrote %q; its output: %q", want, out.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestStopAfterSIGTERM(t *testing.T) {
	p, out := startChild(t, "term")
	awaitOutput(t, out, "up")
	if p.Exited() || p.Err() != nil || p.ExitCode() != -1 || p.CPU() != 0 {
		t.Errorf("running child: exited %v, err %v, code %d, cpu %s; want false, nil, -1, 0", p.Exited(), p.Err(), p.ExitCode(), p.CPU())
	}
	if rss, err := p.RSS(procstat.RSS); err != nil || rss <= 0 {
		t.Errorf("RSS of the running child = %d, %v; want > 0", rss, err)
	}
	if err := p.Stop(30 * time.Second); err != nil {
		t.Fatalf("Stop = %v, want nil", err)
	}
	if !p.Exited() || p.ExitCode() != 0 || p.Err() != nil {
		t.Errorf("after Stop: exited %v, code %d, err %v; want true, 0, nil", p.Exited(), p.ExitCode(), p.Err())
	}
	if p.CPU() < 50*time.Millisecond {
		t.Errorf("CPU = %s, want at least the 100 ms the child spun", p.CPU())
	}
	if got := out.String(); got != "up\nbye\n" {
		t.Errorf("output %q, want stdout and stderr: %q", got, "up\nbye\n")
	}
}

func TestStopKillsAfterGrace(t *testing.T) {
	p, out := startChild(t, "deaf")
	awaitOutput(t, out, "up")
	err := p.Stop(200 * time.Millisecond)
	if !errors.Is(err, ErrStillRunning) || !strings.Contains(err.Error(), "deaf") {
		t.Errorf("Stop of a child that ignores SIGTERM = %v, want ErrStillRunning naming it", err)
	}
	if !p.Exited() || p.ExitCode() != -1 {
		t.Errorf("after Stop: exited %v, code %d; want killed by a signal", p.Exited(), p.ExitCode())
	}
}

func TestWaitReturnsTheExitCode(t *testing.T) {
	p, _ := startChild(t, "exit")
	if code, err := p.Wait(30 * time.Second); code != 3 || err != nil {
		t.Errorf("Wait = %d, %v; want 3, nil", code, err)
	}
	var ee interface{ ExitCode() int }
	if err := p.Stop(time.Second); !errors.As(err, &ee) || ee.ExitCode() != 3 {
		t.Errorf("Stop of a child that exited 3 = %v, want its exit error", err)
	}
}

func TestWaitKillsAHang(t *testing.T) {
	p, out := startChild(t, "deaf")
	awaitOutput(t, out, "up")
	if code, err := p.Wait(100 * time.Millisecond); !errors.Is(err, ErrStillRunning) || code != -1 {
		t.Errorf("Wait of a hanging child = %d, %v; want -1, ErrStillRunning", code, err)
	}
	if !p.Exited() {
		t.Error("the child still runs after Wait gave up")
	}
}

func TestAwaitListening(t *testing.T) {
	addr, err := FreeAddr()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	p, _ := startChild(t, "listen", addr)
	if err := p.AwaitListening(ctx, addr); err != nil {
		t.Fatalf("AwaitListening(%s) = %v", addr, err)
	}
	if err := p.Stop(30 * time.Second); err != nil {
		t.Fatal(err)
	}
	q, _ := startChild(t, "exit")
	if err := q.AwaitListening(ctx, addr); err == nil || !strings.Contains(err.Error(), "exited before listening") {
		t.Errorf("AwaitListening of a child that exits = %v, want an error saying so", err)
	}
}
