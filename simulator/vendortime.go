package simulator

import (
	"errors"
	"time"
)

// callListPath is the vendor's endpoint.
const callListPath = "/api/v3/app/getCallList"

// cst is China Standard Time, UTC+8 all year, with no daylight saving: the
// zone of every time the vendor writes or reads, which carry no zone.
var cst = time.FixedZone("CST", 8*3600)

// vendorLayout is the vendor's yyyy-MM-dd HH:mm:ss.
const vendorLayout = "2006-01-02 15:04:05"

var errVendorTime = errors.New("not a time of the form yyyy-MM-dd HH:mm:ss")

// formatTime writes t as the vendor does: in CST, whole seconds.
func formatTime(t time.Time) string { return t.In(cst).Format(vendorLayout) }

// parseTime reads a vendor time as CST. It is strict where time.Parse is
// lenient: exactly 19 characters, so no fraction of a second, no zone and
// no padding pass.
func parseTime(s string) (time.Time, error) {
	if len(s) != len(vendorLayout) {
		return time.Time{}, errVendorTime
	}
	t, err := time.ParseInLocation(vendorLayout, s, cst)
	if err != nil {
		return time.Time{}, errVendorTime
	}
	return t, nil
}
