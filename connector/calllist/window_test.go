package calllist

import (
	"testing"
	"time"
)

func TestWindowSplit(t *testing.T) {
	s := time.Date(2025, 3, 21, 0, 0, 0, 0, CST)
	w := Window{Start: s, End: s.Add(time.Hour - time.Second)}
	a, b := w.Split()
	if a.String() != "2025-03-21 00:00:00..2025-03-21 00:29:59" || b.String() != "2025-03-21 00:30:00..2025-03-21 00:59:59" {
		t.Errorf("Split(%s) = %s, %s", w, a, b)
	}
	two := Window{Start: w.Start, End: w.Start.Add(time.Second)}
	a, b = two.Split()
	if !a.Start.Equal(a.End) || !b.Start.Equal(b.End) || !b.Start.Equal(a.End.Add(time.Second)) {
		t.Errorf("Split(%s) = %s, %s", two, a, b)
	}
	one := Window{Start: w.Start, End: w.Start}
	if one.CanSplit() {
		t.Errorf("%s can split", one)
	}
	if a, b := one.Split(); a != one || b != (Window{}) {
		t.Errorf("Split(%s) = %s, %s", one, a, b)
	}
}
