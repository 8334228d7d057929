package calllist

import (
	"fmt"
	"time"
)

// CST is China Standard Time, UTC+8 all year: the zone of every time the
// vendor sends or expects.
var CST = time.FixedZone("CST", 8*3600)

// TimeLayout is the vendor's time format (yyyy-MM-dd HH:mm:ss), in CST.
const TimeLayout = "2006-01-02 15:04:05"

// ParseTime parses a vendor time such as "2025-03-21 14:17:44" as CST.
func ParseTime(s string) (time.Time, error) {
	t, err := time.ParseInLocation(TimeLayout, s, CST)
	if err != nil {
		return time.Time{}, fmt.Errorf("parsing vendor time: %w", err)
	}
	return t, nil
}

// FormatTime formats t as the vendor does, in CST, dropping fractions of a
// second.
func FormatTime(t time.Time) string { return t.In(CST).Format(TimeLayout) }
