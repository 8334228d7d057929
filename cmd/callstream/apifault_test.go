package main

import (
	"testing"
)

// apiFaults is every fault the simulator can inject, each often enough to
// be hit many times in a short run: failed answers (HTTP 500, 429 with
// Retry-After, a business error, malformed and truncated bodies), slow
// answers, calls inserted into windows already read, late statuses,
// broken inner JSON (dead letters) and a skewed API clock.
const apiFaults = "http500=0.05,http429=0.05,retry-after=1s,business=0.05,malformed=0.05,truncated=0.05," +
	"slow=0.03:1s,insert-while-paging=0.1:3s,late-status=0.1:5s,broken-json=0.05,skew=7s"

// TestAPIFaults runs the connector against a simulator that injects every
// API fault, and kills it with SIGKILL now and then as well: every change
// must arrive exactly once, the broken records exactly once in the
// dead-letter topic, under both transaction protocols.
func TestAPIFaults(t *testing.T) {
	for _, proto := range protocols {
		t.Run(proto.name, func(t *testing.T) {
			w := newWorld(t, worldConfig{kafka: proto.opts, faults: apiFaults})
			w.killAtRandom("api-faults/"+proto.name, crashCycles(t, 3))
		})
	}
}
