package calllist

import "time"

// Window is a range of gmtCreateTime, both ends inclusive, in whole seconds
// (fractions are dropped when it is sent).
type Window struct {
	Start, End time.Time
}

// String formats w in CST, e.g. "2025-03-21 00:00:00..2025-03-21 00:59:59".
func (w Window) String() string {
	return FormatTime(w.Start) + ".." + FormatTime(w.End)
}

// CanSplit reports whether w spans at least two whole seconds.
func (w Window) CanSplit() bool {
	return w.End.Truncate(time.Second).After(w.Start.Truncate(time.Second))
}

// Split cuts w in two halves at a whole second: [Start, mid] and
// [mid+1s, End], which together cover w exactly. A window that cannot be
// split (see CanSplit) is returned as the first half with a zero second.
func (w Window) Split() (Window, Window) {
	s, e := w.Start.Truncate(time.Second), w.End.Truncate(time.Second)
	if !e.After(s) {
		return w, Window{}
	}
	mid := s.Add((e.Sub(s) / 2).Truncate(time.Second))
	return Window{Start: w.Start, End: mid}, Window{Start: mid.Add(time.Second), End: w.End}
}
