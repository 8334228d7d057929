package simulator

import "time"

// dataFaults are the faults of a FaultSpec that change the calls rather
// than one answer; each picks its calls by the seed, so the truth follows.
type dataFaults struct {
	insert     float64       // share of calls listed only some time after they arrive
	insertLag  time.Duration // at most this long after
	lateStatus float64       // share of calls converting lateAfter instead of convertAfter
	lateAfter  time.Duration
	broken     float64 // share of calls whose inner JSON is cut once converted or failed
	// brokenEvery cuts the inner JSON of every brokenEvery-th call too.
	brokenEvery int
}

// lag is how long after its arrival call i is listed.
func (tl *timeline) lag(i int) time.Duration {
	if tl.faults.insert <= 0 || unit(tl.seed, uint64(i), saltInsert) >= tl.faults.insert {
		return 0
	}
	return time.Duration(unit(tl.seed, uint64(i), saltInsertLag) * float64(tl.faults.insertLag))
}

// convertFor is how long call i stays converting.
func (tl *timeline) convertFor(i int) time.Duration {
	if tl.faults.lateStatus > 0 && unit(tl.seed, uint64(i), saltLate) < tl.faults.lateStatus {
		return tl.faults.lateAfter
	}
	return tl.convertAfter
}

// isBroken reports whether call i's inner JSON is cut once it has any.
func (tl *timeline) isBroken(i int) bool {
	if n := tl.faults.brokenEvery; n > 0 && (i+1)%n == 0 {
		return true
	}
	return tl.faults.broken > 0 && unit(tl.seed, uint64(i), saltBroken) < tl.faults.broken
}

// listed is the calls [lo, hi) that are listed at now, newest first: every
// call of [lo, mid), which arrived long enough ago to be listed whatever
// its lag, and those of tail, ascending, from [mid, hi). Without the insert
// fault mid is hi and nothing is filtered.
type listed struct {
	lo, mid int
	tail    []int
}

// visible returns the calls of [lo, hi) listed at now.
func (tl *timeline) visible(lo, hi int, now time.Time) listed {
	if tl.faults.insert <= 0 {
		return listed{lo: lo, mid: hi}
	}
	mid := max(lo, min(hi, tl.arrived(now.Add(-tl.faults.insertLag))))
	v := listed{lo: lo, mid: mid}
	for i := mid; i < hi; i++ {
		if !tl.arrival(i).Add(tl.lag(i)).After(now) {
			v.tail = append(v.tail, i)
		}
	}
	return v
}

func (v listed) len() int { return v.mid - v.lo + len(v.tail) }

// newest returns the index of the k-th newest listed call, k from 0.
func (v listed) newest(k int) int {
	if n := len(v.tail); k < n {
		return v.tail[n-1-k]
	}
	return v.mid - 1 - (k - len(v.tail))
}

// each calls f with every listed call, ascending, until f returns false.
func (v listed) each(f func(i int) bool) {
	for i := v.lo; i < v.mid; i++ {
		if !f(i) {
			return
		}
	}
	for _, i := range v.tail {
		if !f(i) {
			return
		}
	}
}
