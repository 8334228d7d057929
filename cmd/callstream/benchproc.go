package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/callstream/callstream/internal/cputime"
	"github.com/callstream/callstream/internal/procstat"
)

// proc is a callstream subcommand run as a child process by bench.
type proc struct {
	name string
	cmd  *exec.Cmd
	done chan struct{}
	err  error
}

// startProc re-executes this binary as `callstream args…`, its output
// going to out.
func startProc(name string, out io.Writer, args ...string) (*proc, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("finding the callstream binary: %w", err)
	}
	cmd := exec.Command(exe, args...)
	cmd.Env = os.Environ()
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %w", name, err)
	}
	p := &proc{name: name, cmd: cmd, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

// stop sends SIGTERM and waits for a clean exit, killing the process if it
// takes longer than grace. It returns the process's CPU time.
func (p *proc) stop(grace time.Duration) (time.Duration, error) {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(grace):
		_ = p.cmd.Process.Kill()
		<-p.done
		return cputime.Process(p.cmd.ProcessState), fmt.Errorf("%s did not stop within %s of SIGTERM", p.name, grace)
	}
	if p.err != nil {
		return cputime.Process(p.cmd.ProcessState), fmt.Errorf("%s exited: %w", p.name, p.err)
	}
	return cputime.Process(p.cmd.ProcessState), nil
}

// exited reports whether the process ended early.
func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// rss returns a size field of the process's /proc status in bytes:
// procstat.PeakRSS or procstat.RSS.
func (p *proc) rss(field string) (int64, error) {
	n, err := procstat.Bytes(p.cmd.Process.Pid, field)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", p.name, err)
	}
	return n, nil
}

// freeAddr returns a loopback address with a port free at the time.
func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("finding a free port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// awaitListening waits until addr accepts connections.
func awaitListening(ctx context.Context, p *proc, addr string) error {
	for {
		if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			c.Close()
			return nil
		}
		if p.exited() {
			return fmt.Errorf("%s exited before listening on %s: %v", p.name, addr, p.err)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for %s on %s: %w", p.name, addr, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// scrapeMetric returns the sum of a metric's samples on a /metrics page
// (every sample whose name is exactly name, whatever its labels).
func scrapeMetric(ctx context.Context, url, name string) (float64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, fmt.Errorf("scraping %s: %w", url, err)
	}
	defer resp.Body.Close()
	var sum float64
	found := false
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		rest, ok := strings.CutPrefix(line, name)
		if !ok || (rest != "" && rest[0] != ' ' && rest[0] != '{') {
			continue
		}
		if i := strings.LastIndexByte(rest, '}'); i >= 0 {
			rest = rest[i+1:]
		}
		fields := strings.Fields(rest)
		if len(fields) == 0 {
			continue
		}
		v, err := strconv.ParseFloat(fields[0], 64)
		if err != nil {
			return 0, fmt.Errorf("scraping %s: %s: %w", url, name, err)
		}
		sum += v
		found = true
	}
	if !found {
		return 0, fmt.Errorf("scraping %s: no %s", url, name)
	}
	return sum, sc.Err()
}
