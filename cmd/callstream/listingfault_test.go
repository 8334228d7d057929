package main

import (
	"strings"
	"testing"
)

// listingFaults is every fault of the simulator's listing at once: a share
// of windows counting one call too many on every read, an order unstable
// across page boundaries on a share of requests and on every read of a
// share of windows, and a silent page cap below crashArgs' --page-size 25.
const listingFaults = "count-plus-one=0.3,unstable-order=0.2,unstable-windows=0.3,page-cap=10"

// TestListingFaults runs the connector against a simulator whose listing
// misbehaves in every way it can at once, and kills it with SIGKILL at
// random moments: every change must arrive exactly once, the backfill must
// complete, and the log must show the page cap learnt and windows taken as
// listed.
func TestListingFaults(t *testing.T) {
	for _, proto := range protocols {
		t.Run(proto.name, func(t *testing.T) {
			w := newWorld(t, worldConfig{kafka: proto.opts, faults: listingFaults})
			w.killAtRandom("listing-faults/"+proto.name, crashCycles(t, 4))
			logs := w.logs.String()
			capped := strings.Count(logs, `"msg":"page size changed`)
			listed := strings.Count(logs, `"msg":"window taken as listed`)
			if capped == 0 || !strings.Contains(logs, `"to":10`) {
				t.Errorf("no pod logged the page cap of 10 (%d page size changes)", capped)
			}
			if listed == 0 {
				t.Error("no pod logged a window taken as listed")
			}
			last := lastMetric(w.scrapes.String(), "callstream_backfill_progress_ratio{")
			if !strings.HasSuffix(last, " 1") {
				t.Errorf("last backfill progress %q, want 1", last)
			}
			t.Logf("page size changes logged %d, windows taken as listed %d; last scrape: %s, %s, %s", capped, listed, last,
				lastMetric(w.scrapes.String(), "callstream_page_size{"),
				lastMetric(w.scrapes.String(), `callstream_window_inconsistent_total{reason="count_mismatch"`))
		})
	}
}

// lastMetric returns the last line of scrapes that starts with prefix.
func lastMetric(scrapes, prefix string) string {
	var last string
	for _, line := range strings.Split(scrapes, "\n") {
		if strings.HasPrefix(line, prefix) {
			last = line
		}
	}
	return last
}
