package simulator

import (
	"hash/fnv"
	"sync/atomic"
)

// Names of the faults of the listing, the keys of FaultCounts.
const (
	faultCountPlusOne    = "count-plus-one"
	faultUnstableOrder   = "unstable-order"
	faultUnstableWindows = "unstable-windows"
	faultPageCap         = "page-cap"
)

// Salts of the listing's draws, apart from those of the calls and answers.
const (
	saltCountPlusOne uint64 = iota + 201
	saltUnstableOrder
	saltUnstableWindow
)

// listing spoils how the calls are listed, never the calls themselves: the
// truth (GET /_sim/records) is as it would be without it. A window is the
// request's (type, startTime, endTime) as sent, so every read of one window
// meets the same per-window faults, and each half of a split window draws
// again. It is safe for concurrent use.
type listing struct {
	spec FaultSpec
	seed uint64
	n    atomic.Uint64 // requests seen, for the per-request draws
	// counts of the answers each fault spoiled, by name.
	countPlusOne, unstable, unstableWindows, capped atomic.Int64
}

// listingFaults reports whether any fault of the listing is on.
func (f FaultSpec) listingFaults() bool {
	return f.CountPlusOne > 0 || f.UnstableOrder > 0 || f.UnstableWindows > 0 || f.PageCap > 0
}

// windowKey names the window of req for the per-window draws.
func windowKey(req Request) uint64 {
	h := fnv.New64a()
	h.Write([]byte(req.Type))
	h.Write([]byte{0})
	h.Write([]byte(req.StartTime))
	h.Write([]byte{0})
	h.Write([]byte(req.EndTime))
	return h.Sum64()
}

// page returns what the answer to req says of a window listing total calls
// (0 is the newest) whose page starts at index first: its totalCount and
// the indexes of the calls it lists. Without faults that is total and the
// calls first up to first+pageSize-1.
func (l *listing) page(req Request, total, first int) (count int, idx []int) {
	count = total
	win := windowKey(req)
	if unit(l.seed, win, saltCountPlusOne) < l.spec.CountPlusOne {
		count++
		l.countPlusOne.Add(1)
	}
	rows := req.PageSize
	if l.spec.PageCap > 0 && l.spec.PageCap < rows {
		// A silent cap: fewer rows, the offset still by the size asked.
		rows = l.spec.PageCap
		if first < total {
			l.capped.Add(1)
		}
	}
	idx = indexes(first, min(first+rows, total))
	// The next page's first call, listed in place of this page's last.
	next := first + req.PageSize
	if len(idx) == 0 || next >= total {
		return count, idx
	}
	n := l.n.Add(1)
	switch {
	case unit(l.seed, win, saltUnstableWindow) < l.spec.UnstableWindows:
		l.unstableWindows.Add(1)
	case unit(l.seed, n, saltUnstableOrder) < l.spec.UnstableOrder:
		l.unstable.Add(1)
	default:
		return count, idx
	}
	idx[len(idx)-1] = next
	return count, idx
}

// counted returns the answers each fault of the listing spoiled so far.
func (l *listing) counted(out map[string]int64) {
	out[faultCountPlusOne] = l.countPlusOne.Load()
	out[faultUnstableOrder] = l.unstable.Load()
	out[faultUnstableWindows] = l.unstableWindows.Load()
	out[faultPageCap] = l.capped.Load()
}

// indexes returns first up to last-1.
func indexes(first, last int) []int {
	idx := make([]int, 0, max(last-first, 0))
	for k := first; k < last; k++ {
		idx = append(idx, k)
	}
	return idx
}
