package deploy

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// proc is a long-running callstream command started by a test.
type proc struct {
	cmd  *exec.Cmd
	mu   sync.Mutex
	logs strings.Builder
	done chan struct{}
	err  error
}

// startProc starts callstream with args (which should ask for JSON logs)
// and waits until it logs a line whose msg is ready; it returns that line.
// The process is stopped with SIGTERM at cleanup, and must then exit 0.
func startProc(t *testing.T, ready string, args ...string) (*proc, map[string]any) {
	t.Helper()
	p := &proc{cmd: exec.Command(callstream(t), args...), done: make(chan struct{})}
	stderr, err := p.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("starting callstream %q: %v", args, err)
	}
	lines := make(chan map[string]any, 16)
	go p.read(stderr, lines)
	t.Cleanup(func() { p.stop(t) })
	timeout := time.After(30 * time.Second)
	for {
		select {
		case rec, ok := <-lines:
			if !ok {
				<-p.done
				t.Fatalf("callstream %q exited (%v) before logging %q:\n%s", args, p.err, ready, p.output())
			}
			if rec["msg"] == ready {
				go drain(lines)
				return p, rec
			}
		case <-timeout:
			t.Fatalf("callstream %q did not log %q within 30 s:\n%s", args, ready, p.output())
		}
	}
}

func (p *proc) read(r io.Reader, lines chan<- map[string]any) {
	defer close(lines)
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		p.mu.Lock()
		p.logs.WriteString(sc.Text() + "\n")
		p.mu.Unlock()
		var rec map[string]any
		if json.Unmarshal(sc.Bytes(), &rec) == nil {
			lines <- rec
		}
	}
	_, _ = io.Copy(io.Discard, r)
	p.err = p.cmd.Wait()
	close(p.done)
}

func drain(lines <-chan map[string]any) {
	for range lines {
	}
}

func (p *proc) output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.logs.String()
}

// stop sends SIGTERM and checks the contract: exit 0 within the grace time.
func (p *proc) stop(t *testing.T) {
	t.Helper()
	select {
	case <-p.done:
	default:
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(30 * time.Second):
			_ = p.cmd.Process.Kill()
			<-p.done
			t.Errorf("callstream %q did not stop within 30 s of SIGTERM", p.cmd.Args[1:])
			return
		}
	}
	var ee *exec.ExitError
	if errors.As(p.err, &ee) && ee.ExitCode() != 0 {
		t.Errorf("callstream %q exited %d, want 0 after SIGTERM:\n%s", p.cmd.Args[1:], ee.ExitCode(), p.output())
	}
}

// healthy runs `callstream healthcheck` against url until it exits 0 or
// the wait is over.
func healthy(ctx context.Context, t *testing.T, url string, wait time.Duration) error {
	t.Helper()
	deadline := time.Now().Add(wait)
	for {
		code, _, stderr := runCallstream(ctx, t, "healthcheck", "--url", url)
		if code == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return errors.New(strings.TrimSpace(stderr))
		}
		time.Sleep(200 * time.Millisecond)
	}
}
