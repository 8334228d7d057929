package cputime

import (
	"testing"
	"time"
)

type metrics map[string]float64

func (m metrics) ReportMetric(n float64, unit string) { m[unit] = n }

func TestMeterCountsBusyWork(t *testing.T) {
	m := Start()
	deadline := time.Now().Add(30 * time.Millisecond)
	x := 0
	for time.Now().Before(deadline) {
		x++
	}
	got := metrics{}
	m.Report(got, 1000)
	if m.CPU() <= 0 || got["cpu-µs/record"] <= 0 || got["records/cpu-s"] <= 0 || got["records/s"] <= 0 {
		t.Errorf("after %d spins: CPU %s, metrics %v; want positive", x, m.CPU(), got)
	}
	empty := metrics{}
	m.Report(empty, 0)
	if len(empty) != 0 {
		t.Errorf("Report(0) = %v, want nothing", empty)
	}
}
