// Package cputime measures CPU time (user + system) rather than wall time:
// on a shared machine wall time mostly measures the neighbours, CPU time
// what the code itself spent. Benchmarks report CPU per record with a
// Meter; the bench command reads a child process's CPU from its rusage.
package cputime

import (
	"os"
	"runtime"
	"syscall"
	"time"
)

// Self returns the CPU time this process has used so far, over all its
// threads (getrusage RUSAGE_SELF, user + system).
func Self() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return Of(&ru)
}

// Of returns the user + system CPU time of ru.
func Of(ru *syscall.Rusage) time.Duration {
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// Process returns the CPU time of a process that has exited and been
// waited for, from its rusage.
func Process(ps *os.ProcessState) time.Duration {
	if ps == nil {
		return 0
	}
	return ps.UserTime() + ps.SystemTime()
}

// Reporter is the part of *testing.B a Meter reports to.
type Reporter interface {
	ReportMetric(n float64, unit string)
}

// Meter measures the CPU time and heap allocations of a stretch of work.
type Meter struct {
	cpu     time.Duration
	wall    time.Time
	mallocs uint64
}

// Start starts a Meter. It reads the runtime's memory statistics, which
// stops the world briefly: start meters outside the measured work.
func Start() Meter { return Meter{cpu: Self(), wall: time.Now(), mallocs: mallocs()} }

func mallocs() uint64 {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.Mallocs
}

// CPU returns the CPU time used since Start.
func (m Meter) CPU() time.Duration { return Self() - m.cpu }

// Wall returns the wall time since Start.
func (m Meter) Wall() time.Duration { return time.Since(m.wall) }

// Report reports, for n records handled since Start, the CPU µs per
// record ("cpu-µs/record"), records per second of CPU ("records/cpu-s"),
// per second of wall time ("records/s") and heap allocations per record
// ("allocs/record"). It reports nothing for n ≤ 0.
func (m Meter) Report(r Reporter, n int) {
	if n <= 0 {
		return
	}
	cpu, wall, allocs := m.CPU(), m.Wall(), mallocs()-m.mallocs
	r.ReportMetric(float64(cpu.Nanoseconds())/1e3/float64(n), "cpu-µs/record")
	if cpu > 0 {
		r.ReportMetric(float64(n)/cpu.Seconds(), "records/cpu-s")
	}
	r.ReportMetric(float64(n)/wall.Seconds(), "records/s")
	r.ReportMetric(float64(allocs)/float64(n), "allocs/record")
}
