package main

import (
	"log/slog"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
)

// cgroupMemoryFiles hold the container's memory limit: cgroup v2, then v1.
var cgroupMemoryFiles = []string{"/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"}

// memoryLimitShare is the part of the container's limit given to the Go
// runtime as its soft memory limit; the rest is for memory it does not
// manage (the state table's mapped segments count against both).
const memoryLimitShare = 0.9

// gcPercent is the collector's target (GOGC) that run sets unless GOGC is
// set: the heap may grow 125% over what is live before a collection,
// instead of Go's 100%, spending part of the peak RSS that bounded
// produce requests freed on the collector's CPU (docs/performance.md:
// 150 was faster still but rose above the peak RSS of before); the memory
// limit below still holds the heap in a container.
const gcPercent = 125

// setGCPercent sets the collector's target to gcPercent, unless GOGC sets
// one.
func setGCPercent() {
	if _, ok := os.LookupEnv("GOGC"); !ok {
		debug.SetGCPercent(gcPercent)
	}
}

// setMemoryLimit gives the Go runtime a soft memory limit of
// memoryLimitShare of the container's, unless GOMEMLIMIT sets one: the
// collector then works harder near the limit instead of letting the heap
// grow past it into an OOM kill. Without a limit (or outside a container)
// it does nothing.
func setMemoryLimit(logger *slog.Logger) {
	if _, ok := os.LookupEnv("GOMEMLIMIT"); ok {
		return
	}
	for _, name := range cgroupMemoryFiles {
		b, err := os.ReadFile(name)
		if err != nil {
			continue
		}
		limit, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
		// "max" (v2) or a huge number (v1) means no limit.
		if err != nil || limit <= 0 || limit >= 1<<50 {
			return
		}
		soft := int64(float64(limit) * memoryLimitShare)
		debug.SetMemoryLimit(soft)
		logger.Info("memory limit set", "container_limit_bytes", limit, "go_limit_bytes", soft)
		return
	}
}
