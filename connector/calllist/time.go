package calllist

import (
	"errors"
	"time"
)

// CST is China Standard Time, UTC+8 all year: the zone of every time the
// vendor sends or expects.
var CST = time.FixedZone("CST", 8*3600)

// TimeLayout is the vendor's time format (yyyy-MM-dd HH:mm:ss), in CST.
const TimeLayout = "2006-01-02 15:04:05"

// errTimeLayout is a time not in TimeLayout. It quotes no value.
var errTimeLayout = errors.New("not a vendor time (yyyy-MM-dd HH:mm:ss)")

// ParseTime parses a vendor time such as "2025-03-21 14:17:44" as CST.
func ParseTime(s string) (time.Time, error) { return parseTimeOf(s) }

// parseTimeOf parses v as time.ParseInLocation(TimeLayout, v, CST) does,
// without allocating: every field of two digits but the year's four and
// the hour's one or two, a run of spaces before the hour, each in its range (the day in its month), and an
// optional fraction of a second after '.' or ',', which time.Parse
// accepts after the seconds.
func parseTimeOf[T ~string | ~[]byte](v T) (time.Time, error) {
	i, ok := 0, true
	num := func(digits int) int {
		n := 0
		for end := i + digits; i < end; i++ {
			if i >= len(v) || v[i] < '0' || v[i] > '9' {
				ok = false
				return 0
			}
			n = n*10 + int(v[i]-'0')
		}
		return n
	}
	sep := func(c byte) {
		if i >= len(v) || v[i] != c {
			ok = false
		}
		i++
	}
	year := num(4)
	sep('-')
	month := num(2)
	sep('-')
	day := num(2)
	sep(' ')
	for i < len(v) && v[i] == ' ' { // time.Parse takes a run of spaces for one
		i++
	}
	hourDigits := 2
	if i+1 < len(v) && (v[i+1] < '0' || v[i+1] > '9') {
		hourDigits = 1
	}
	hour := num(hourDigits)
	sep(':')
	minute := num(2)
	sep(':')
	sec := num(2)
	nsec := 0
	if ok && i+1 < len(v) && (v[i] == '.' || v[i] == ',') && v[i+1] >= '0' && v[i+1] <= '9' {
		i++
		for scale := 100_000_000; i < len(v) && v[i] >= '0' && v[i] <= '9'; i++ {
			nsec += int(v[i]-'0') * scale
			scale /= 10
		}
	}
	if !ok || i != len(v) || month < 1 || month > 12 || day < 1 || day > daysIn(month, year) ||
		hour > 23 || minute > 59 || sec > 59 {
		return time.Time{}, errTimeLayout
	}
	return time.Date(year, time.Month(month), day, hour, minute, sec, nsec, CST), nil
}

func daysIn(month, year int) int {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// FormatTime formats t as the vendor does, in CST, dropping fractions of a
// second.
func FormatTime(t time.Time) string { return t.In(CST).Format(TimeLayout) }
