package simulator

import (
	"sort"
	"time"
)

// timeline says when each call arrives and what its status is, as pure
// functions of the call's index, so that nothing per call is kept. Calls
// 0..history-1 are the backfill, spread over the span before the start;
// the calls after them arrive from the start on at the configured rate.
// Arrival times never decrease with the index.
type timeline struct {
	seed         uint64
	start        time.Time // the simulator's start
	histBase     time.Time // the start's whole second minus the span
	history      int
	spanSec      int64
	calls        int     // new calls after the history; 0 means no end
	rate         float64 // new calls per second; 0 means none
	convertAfter time.Duration
	failRatio    float64
	faults       dataFaults
	content      contentFaults
}

// Salts keep the random streams of one call independent of each other.
const (
	saltArrival uint64 = iota + 1
	saltFail
	saltRecord
	saltSentences
	saltWorld
)

// arrival is when call i arrives.
func (tl *timeline) arrival(i int) time.Time {
	u := unit(tl.seed, uint64(i), saltArrival)
	if i < tl.history {
		// (i+u) grows strictly with i, so the offsets never decrease, and
		// stay below the span: the backfill lies wholly before the start.
		off := int64((float64(i) + u) * float64(tl.spanSec) / float64(tl.history))
		return tl.histBase.Add(time.Duration(off) * time.Second)
	}
	j := i - tl.history
	return tl.start.Add(time.Duration((float64(j) + u) / tl.rate * float64(time.Second)))
}

// bound is an index past every call that may have arrived by now.
func (tl *timeline) bound(now time.Time) int {
	n := tl.history
	if tl.rate <= 0 || now.Before(tl.start) {
		return n
	}
	// Call j arrives no earlier than start + j/rate, so at most
	// elapsed·rate + 1 of them have arrived.
	more := int(now.Sub(tl.start).Seconds()*tl.rate) + 2
	if tl.calls > 0 {
		more = min(more, tl.calls)
	}
	return n + more
}

// arrived is how many calls exist at now: calls 0..arrived-1.
func (tl *timeline) arrived(now time.Time) int {
	return sort.Search(tl.bound(now), func(i int) bool { return tl.arrival(i).After(now) })
}

// window returns the calls [lo, hi) that exist at now and whose arrival
// second lies in [from, to]; from and to are whole seconds, and a zero one
// is no bound.
func (tl *timeline) window(from, to, now time.Time) (lo, hi int) {
	n := tl.arrived(now)
	if !from.IsZero() {
		lo = sort.Search(n, func(i int) bool { return !tl.arrival(i).Before(from) })
	}
	hi = n
	if !to.IsZero() {
		end := to.Add(time.Second)
		hi = sort.Search(n, func(i int) bool { return !tl.arrival(i).Before(end) })
	}
	return lo, max(lo, hi)
}

// status is call i's status at now: 1 (converting) until convertFor(i) has
// passed since its arrival, then 0 (failed) for a failRatio share of calls
// chosen by the seed, 2 (converted) for the others.
func (tl *timeline) status(i int, arrival, now time.Time) int32 {
	if now.Sub(arrival) < tl.convertFor(i) {
		return statusConverting
	}
	if unit(tl.seed, uint64(i), saltFail) < tl.failRatio {
		return statusFailed
	}
	return statusConverted
}

// The vendor's statuses.
const (
	statusFailed     int32 = 0
	statusConverting int32 = 1
	statusConverted  int32 = 2
)

// rng is splitmix64: tiny, fast to seed, and its output is fixed forever,
// unlike math/rand's methods, so a seed means the same calls in every
// version.
type rng struct{ s uint64 }

func newRNG(seed, i, salt uint64) rng {
	r := rng{s: seed ^ salt*0x9e3779b97f4a7c15}
	r.s ^= r.next() + i*0xbf58476d1ce4e5b9
	return r
}

func (r *rng) next() uint64 {
	r.s += 0x9e3779b97f4a7c15
	z := r.s
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// intn returns a number in [0, n); n must be positive.
func (r *rng) intn(n int) int { return int(r.next() % uint64(n)) }

// float returns a number in [0, 1).
func (r *rng) float() float64 { return float64(r.next()>>11) / (1 << 53) }

// pick returns one element of list.
func pick[T any](r *rng, list []T) T { return list[r.intn(len(list))] }

// unit is a number in [0, 1) fixed by (seed, i, salt).
func unit(seed, i, salt uint64) float64 {
	r := newRNG(seed, i, salt)
	return r.float()
}
