package observe

import (
	"log/slog"
	"strconv"

	"github.com/callstream/callstream/metrics"
)

// maxNotes bounds the keys and statuses vendorNotes remembers, and so the
// log lines and the status label values it makes.
const maxNotes = 16

// VendorNotes tells what the vendor sends that callstream was not written
// for: keys it does not know (kept in extra, named in the log the first
// time each is seen, never with a value) and statuses other than 0, 1 and
// 2 (passed on, counted by value). It is used by the poller's goroutine only.
type VendorNotes struct {
	log      *slog.Logger
	m        *metrics.Metrics
	keys     map[string]bool
	statuses map[int32]bool
}

func NewVendorNotes(log *slog.Logger, m *metrics.Metrics) *VendorNotes {
	return &VendorNotes{log: log, m: m, keys: map[string]bool{}, statuses: map[int32]bool{}}
}

// UnknownKeys counts keys the decoder did not know and logs the new ones.
func (n *VendorNotes) UnknownKeys(keys []string) {
	n.m.UnknownFields.Add(float64(len(keys)))
	for _, k := range keys {
		if n.keys[k] || len(n.keys) >= maxNotes {
			continue
		}
		n.keys[k] = true
		n.log.Warn("the vendor sent a key callstream does not know; its value travels as raw JSON in extra",
			"key", k, "metric", "callstream_unknown_fields_total")
	}
}

// Status counts a call's Status if it is not one of the documented ones.
func (n *VendorNotes) Status(s int32) {
	if s >= 0 && s <= 2 {
		return
	}
	label := "other"
	if n.statuses[s] || len(n.statuses) < maxNotes {
		if !n.statuses[s] {
			n.statuses[s] = true
			n.log.Warn("a call has a status callstream was not told of; it is passed on as it is", "status", s)
		}
		label = strconv.Itoa(int(s))
	}
	n.m.OtherStatuses.WithLabelValues(label).Inc()
}
