package main

import (
	"strings"
	"testing"
)

// contentFaults are the simulator's faults of the content: every 40th
// call's transcript too large for kfake's default message.max.bytes once
// converted, and a share of transcripts corrected after their conversion
// with the status unchanged.
const contentFaults = "large-transcript=40,corrected=0.2:3s"

// TestImperfectVendor runs the connector against a simulator whose listing
// misbehaves in every way it can and whose content holds oversized and
// corrected transcripts, all at once, and kills it with SIGKILL at random
// moments. Every call of the truth must arrive with its final status
// exactly once (an oversized one named by id in the dead-letter topic
// instead), corrected transcripts must reach calls.latest (check.Compare
// holds the current-state topic to the truth's transcripts), the backfill
// must complete, and nothing may be emitted twice.
func TestImperfectVendor(t *testing.T) {
	for _, proto := range protocols {
		t.Run(proto.name, func(t *testing.T) {
			w := newWorld(t, worldConfig{kafka: proto.opts, faults: listingFaults + "," + contentFaults})
			report := w.killAtRandom("imperfect-vendor/"+proto.name, crashCycles(t, 4))
			if report.Lost != 0 || report.Duplicated != 0 {
				t.Errorf("%d lost, %d duplicated", report.Lost, report.Duplicated)
			}
			scrapes := w.scrapes.String()
			for _, m := range []string{
				`callstream_dlq_records_total{reason="too_large"`,
				`callstream_events_total{kind="UPDATED",topic="calls"`,
				`callstream_window_inconsistent_total{reason="count_mismatch"`,
				"callstream_page_size{",
			} {
				t.Logf("last scrape: %s", lastMetricContaining(scrapes, m))
			}
			if last := lastMetric(scrapes, "callstream_backfill_progress_ratio{"); !strings.HasSuffix(last, " 1") {
				t.Errorf("last backfill progress %q, want 1", last)
			}
		})
	}
}

// lastMetricContaining returns the last line of scrapes holding each
// comma-separated part of sel, in any order of labels.
func lastMetricContaining(scrapes, sel string) string {
	name, labels, _ := strings.Cut(sel, "{")
	var last string
	for _, line := range strings.Split(scrapes, "\n") {
		if !strings.HasPrefix(line, name+"{") && line != name && !strings.HasPrefix(line, name+" ") {
			continue
		}
		ok := true
		for _, l := range strings.Split(labels, ",") {
			if l != "" && !strings.Contains(line, l) {
				ok = false
			}
		}
		if ok {
			last = line
		}
	}
	return last
}
