package main

import (
	"math/rand/v2"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestZombieFenced pauses a running connector (SIGSTOP), starts a second
// one with the same transactional id, lets it commit, then resumes the
// first: the first is fenced and exits non-zero, and nothing is
// duplicated.
func TestZombieFenced(t *testing.T) {
	for _, proto := range protocols {
		t.Run(proto.name, func(t *testing.T) {
			w := newWorld(t, worldConfig{kafka: proto.opts})
			rounds := crashCycles(t, 1)
			successor := w.start(nil)
			for range rounds {
				zombie := successor
				zombie.awaitCommits(3, time.Minute)
				zombie.Signal(syscall.SIGSTOP)
				successor = w.start(nil)
				successor.awaitCommits(3, time.Minute)
				zombie.Signal(syscall.SIGCONT)
				if code := zombie.wait(time.Minute); code <= 0 {
					t.Fatalf("resumed zombie: exit status %d, want a failure; its log ends:\n%s", code, lastLines(zombie.out.String(), 20))
				}
				// Fenced shows as PRODUCER_FENCED or INVALID_PRODUCER_EPOCH;
				// under the classic protocol a zombie whose transaction the
				// coordinator already aborted for the successor may instead
				// be told INVALID_TXN_STATE, depending on where it resumes.
				if log := zombie.out.String(); !strings.Contains(log, "PRODUCER_FENCED") &&
					!strings.Contains(log, "INVALID_PRODUCER_EPOCH") && !strings.Contains(log, "INVALID_TXN_STATE") {
					t.Errorf("the zombie exited without saying it was fenced; its log ends:\n%s", lastLines(log, 20))
				}
			}
			w.finish("zombie/"+proto.name, rounds, successor)
		})
	}
}

// TestRollingUpdate overlaps two pods as a rolling update does: the old
// one gets SIGTERM and, while it finishes or aborts its transaction, the
// new one starts and fences it. The old one must exit 0, and the output
// stays exactly once over several such hand-overs.
func TestRollingUpdate(t *testing.T) {
	for _, proto := range protocols {
		t.Run(proto.name, func(t *testing.T) {
			rounds := crashCycles(t, 3)
			w := newWorld(t, worldConfig{kafka: proto.opts})
			seed := uint64(time.Now().UnixNano())
			rng := rand.New(rand.NewPCG(seed, seed))
			old := w.start(nil)
			for range rounds {
				old.awaitCommits(2, time.Minute)
				old.scrape()
				old.Signal(syscall.SIGTERM)
				time.Sleep(time.Duration(rng.IntN(50)) * time.Millisecond)
				next := w.start(nil)
				if code := old.wait(time.Minute); code != 0 {
					t.Errorf("%s: exit status %d after SIGTERM, want 0; its log ends:\n%s", old.Name(), code, lastLines(old.out.String(), 20))
				}
				old = next
			}
			w.finish("rolling-update/"+proto.name, rounds, old)
		})
	}
}

// TestFencedHold overlaps two pods as a rolling update's surge does, with
// --fenced-hold on: the new pod fences the old one, which stays up and not
// ready, saying why, rather than exiting (were it to exit, its container
// would restart and fence the new pod in turn). SIGTERM then stops it with
// status 0, and the output stays exactly once.
//
// A hold that runs out ends the pod with a non-zero status, so that two
// instances left running with one id show as restarts.
func TestFencedHold(t *testing.T) {
	for _, proto := range protocols {
		t.Run(proto.name, func(t *testing.T) {
			w := newWorld(t, worldConfig{kafka: proto.opts})
			old := w.start(nil, "--fenced-hold", "5m")
			old.awaitCommits(2, time.Minute)
			next := w.start(nil, "--fenced-hold", "6s")
			next.awaitCommits(2, time.Minute)
			t.Logf("fenced pod's /readyz: %s", awaitReady(t, "http://"+old.listen, false, "fenced"))
			if !strings.Contains(old.out.String(), "fenced by a newer instance") {
				t.Errorf("the fenced pod did not log why it waits; its log ends:\n%s", lastLines(old.out.String(), 20))
			}
			time.Sleep(2 * time.Second)
			if old.Exited() {
				t.Fatalf("the fenced pod exited during its hold; its log ends:\n%s", lastLines(old.out.String(), 20))
			}
			old.Signal(syscall.SIGTERM)
			if code := old.wait(30 * time.Second); code != 0 {
				t.Errorf("fenced pod: exit status %d after SIGTERM, want 0; its log ends:\n%s", code, lastLines(old.out.String(), 20))
			}

			// The other way round, left alone: the 6 s hold runs out, and
			// the pod exits non-zero, having said that it held.
			last := w.start(nil, "--fenced-hold", "5m")
			last.awaitCommits(2, time.Minute)
			if code := next.wait(time.Minute); code <= 0 || !strings.Contains(next.out.String(), "fenced by a newer instance") {
				t.Errorf("fenced pod left alone: exit status %d, want a failure after a hold; its log ends:\n%s", code, lastLines(next.out.String(), 20))
			}
			w.finish("fenced-hold/"+proto.name, 2, last)
		})
	}
}
