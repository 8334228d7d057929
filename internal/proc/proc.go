// Package proc runs callstream commands as child processes, for the bench
// command and the tests that need a real process to signal, kill or
// measure: it starts one with its output captured, stops it with a grace
// period, reads its CPU time and resident set size, and scrapes its
// /metrics page.
package proc

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"

	"github.com/callstream/callstream/internal/cputime"
	"github.com/callstream/callstream/internal/procstat"
)

// Command describes a child process to start.
type Command struct {
	// Name names the process in errors; the base name of Path by default.
	Name string
	// Path is the program to run; Args are its arguments, without the
	// program's name.
	Path string
	Args []string
	// Env is added to the environment of this process, later entries
	// overriding earlier ones.
	Env []string
	// Output receives the process's stdout and stderr; nil discards them.
	// Writes come from one goroutine at a time.
	Output io.Writer
}

// Process is a running or ended child process. Its methods are safe for
// concurrent use.
type Process struct {
	name string
	cmd  *exec.Cmd
	done chan struct{}
	err  error // the result of cmd.Wait, set before done closes
}

// Start starts the command. A goroutine waits for the process, so that it
// never lingers as a zombie; Done closes when it has ended.
func Start(c Command) (*Process, error) {
	name := c.Name
	if name == "" {
		name = filepath.Base(c.Path)
	}
	cmd := exec.Command(c.Path, c.Args...)
	cmd.Env = append(os.Environ(), c.Env...)
	out := c.Output
	if out == nil {
		out = io.Discard
	}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %w", name, err)
	}
	p := &Process{name: name, cmd: cmd, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

// Name returns the name the process goes by in errors.
func (p *Process) Name() string { return p.name }

// Pid returns the process id.
func (p *Process) Pid() int { return p.cmd.Process.Pid }

// Done returns a channel closed once the process has ended.
func (p *Process) Done() <-chan struct{} { return p.done }

// Exited reports whether the process has ended.
func (p *Process) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// Err returns how the process ended: nil for exit status 0, an
// *exec.ExitError otherwise. It is nil while the process runs.
func (p *Process) Err() error {
	if !p.Exited() {
		return nil
	}
	return p.err
}

// ExitCode returns the exit status of an ended process, -1 when a signal
// ended it or while it runs.
func (p *Process) ExitCode() int {
	if !p.Exited() {
		return -1
	}
	return p.cmd.ProcessState.ExitCode()
}

// CPU returns the user and system CPU time of an ended process, 0 while it
// runs.
func (p *Process) CPU() time.Duration {
	if !p.Exited() {
		return 0
	}
	return cputime.Process(p.cmd.ProcessState)
}

// RSS returns a size field of the running process's /proc status in bytes:
// procstat.PeakRSS or procstat.RSS.
func (p *Process) RSS(field string) (int64, error) {
	n, err := procstat.Bytes(p.Pid(), field)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", p.name, err)
	}
	return n, nil
}

// Signal sends sig to the process; a process that has ended is left
// alone.
func (p *Process) Signal(sig os.Signal) {
	if !p.Exited() {
		_ = p.cmd.Process.Signal(sig)
	}
}

// Kill ends the process with SIGKILL and waits until it has.
func (p *Process) Kill() {
	p.Signal(syscall.SIGKILL)
	<-p.done
}

// ErrStillRunning is the error of Wait and Stop for a process that did not
// end in time.
var ErrStillRunning = errors.New("still running")

// Wait waits up to d for the process to end and returns its exit code (-1
// when a signal ended it). A process still running after d is killed with
// SIGKILL and Wait returns an error wrapping ErrStillRunning.
func (p *Process) Wait(d time.Duration) (int, error) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-p.done:
		return p.ExitCode(), nil
	case <-t.C:
		p.Kill()
		return p.ExitCode(), fmt.Errorf("%s: %w after %s", p.name, ErrStillRunning, d)
	}
}

// Stop sends SIGTERM and waits up to grace for the process to exit, then
// kills it. It returns an error unless the process exited with status 0
// within grace; a process that had already ended is not signalled, and
// its status counts the same.
func (p *Process) Stop(grace time.Duration) error {
	p.Signal(syscall.SIGTERM)
	if _, err := p.Wait(grace); err != nil {
		return fmt.Errorf("%s: %w %s after SIGTERM", p.name, ErrStillRunning, grace)
	}
	if p.err != nil {
		return fmt.Errorf("%s exited: %w", p.name, p.err)
	}
	return nil
}
