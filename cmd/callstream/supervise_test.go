package main

import (
	"strings"
	"sync"
	"time"
)

// supervisor keeps one pod running and starts a new one whenever it ends,
// as the kubelet restarts a Deployment's container; it records how each
// pod ended.
type supervisor struct {
	w     *world
	env   []string
	extra []string
	mu    sync.Mutex
	cur   *pod
	exits []int // exit statuses of the pods that ended by themselves
	quit  chan struct{}
	done  chan struct{}
}

// supervise starts a pod and keeps one running until stop.
func (w *world) supervise(env []string, extra ...string) *supervisor {
	s := &supervisor{w: w, env: env, extra: extra, quit: make(chan struct{}), done: make(chan struct{})}
	s.cur = w.start(env, extra...)
	go s.loop()
	return s
}

func (s *supervisor) loop() {
	defer close(s.done)
	for {
		p := s.current()
		select {
		case <-s.quit:
			return
		case <-p.Done():
		}
		s.mu.Lock()
		s.exits = append(s.exits, p.ExitCode())
		s.mu.Unlock()
		select {
		case <-s.quit:
			return
		case <-time.After(200 * time.Millisecond):
		}
		// Starting a pod from this goroutine: world.start fails the
		// test only when the binary cannot be executed at all.
		next := s.w.start(s.env, s.extra...)
		s.mu.Lock()
		s.cur = next
		s.mu.Unlock()
	}
}

// current returns the running pod (or the one that just ended).
func (s *supervisor) current() *pod {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cur
}

// restarts returns the exit statuses of the pods that ended so far.
func (s *supervisor) restarts() []int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]int(nil), s.exits...)
}

// awaitExit waits until more than n pods have ended, for at most d, and
// returns the last one's exit status; ok is false on timeout.
func (s *supervisor) awaitExit(n int, d time.Duration) (code int, ok bool) {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if ex := s.restarts(); len(ex) > n {
			return ex[len(ex)-1], true
		}
		time.Sleep(50 * time.Millisecond)
	}
	return 0, false
}

// next waits until a pod other than p runs, and returns it.
func (s *supervisor) next(p *pod) *pod {
	s.w.t.Helper()
	for range 500 {
		if cur := s.current(); cur != p {
			return cur
		}
		time.Sleep(20 * time.Millisecond)
	}
	s.w.t.Fatalf("no pod started after %s ended", p.Name())
	return nil
}

// release stops restarting pods and returns the running one, which the
// caller then finishes.
func (s *supervisor) release() *pod {
	close(s.quit)
	<-s.done
	p := s.current()
	if p.Exited() {
		p = s.w.start(s.env, s.extra...)
	}
	return p
}

// awaitCommits waits until the world's pods, whichever runs, committed n
// windows more than at the call; it fails the test after d.
func (w *world) awaitCommits(n int, d time.Duration) {
	w.t.Helper()
	count := func() int { return strings.Count(w.logs.String(), `"msg":"window committed"`) }
	want := count() + n
	deadline := time.Now().Add(d)
	for count() < want {
		if time.Now().After(deadline) {
			w.t.Fatalf("no %d windows committed in %s; logs end:\n%s", n, d, lastLines(w.logs.String(), 30))
		}
		time.Sleep(100 * time.Millisecond)
	}
}
