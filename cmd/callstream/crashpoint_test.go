package main

import (
	"fmt"
	"github.com/callstream/callstream/connector"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/callstream/callstream/connector/sink"
)

// TestCrashAtPoints kills the connector at each named step of a commit and
// of a start: after producing and before the commit, with the commit
// (EndTxn) sent and its answer not read, after the commit and before
// memory changes, and while the state is read at start. Each step is hit
// at a random occurrence, a few times, before a clean run must bring the
// output to the truth, exactly once, under both transaction protocols.
func TestCrashAtPoints(t *testing.T) {
	points := []sink.Point{sink.PointProduced, sink.PointEndTxnSent, connector.PointCommitted, connector.PointRestoring}
	for _, proto := range protocols {
		t.Run(proto.name, func(t *testing.T) {
			perPoint := crashCycles(t, 2*len(points)) / len(points)
			w := newWorld(t, worldConfig{kafka: proto.opts, args: oftenCommitted})
			seed := uint64(time.Now().UnixNano())
			rng := rand.New(rand.NewPCG(seed, seed))
			t.Logf("%d crashes per step, seed %d", perPoint, seed)
			// The state must hold records for a crash while reading it.
			first := w.start(nil)
			first.awaitCommits(5, time.Minute)
			first.stop()
			cycles := 0
			for range perPoint {
				for _, point := range points {
					spec := fmt.Sprintf("%s:%d", point, 1+rng.IntN(6))
					if point == connector.PointRestoring {
						spec = fmt.Sprintf("%s:%d", point, 1+rng.IntN(30))
					}
					p := w.start([]string{crashAtEnv + "=" + spec})
					code := p.wait(time.Minute)
					if code != -1 || !strings.Contains(p.out.String(), crashMark+string(point)) {
						t.Fatalf("%s=%s: exit status %d, want a crash at the step; log ends:\n%s",
							crashAtEnv, spec, code, lastLines(p.out.String(), 20))
					}
					cycles++
				}
			}
			w.finish("crash-points/"+proto.name, cycles, w.start(nil))
		})
	}
}
