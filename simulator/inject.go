package simulator

import (
	"net/http"
	"strconv"
	"sync/atomic"
	"time"
)

// Names of the faults of one answer, the keys of FaultCounts.
const (
	faultHTTP500   = "http500"
	faultHTTP429   = "http429"
	faultBusiness  = "business"
	faultMalformed = "malformed"
	faultTruncated = "truncated"
	faultSlow      = "slow"
	faultTimestamp = "timestamp"
)

// Salts of the fault draws, apart from those of the calls.
const (
	saltFault uint64 = iota + 101
	saltSlow
	saltInsert
	saltInsertLag
	saltLate
	saltBroken
)

// injector serves the faults of one answer of a FaultSpec. Request n (in
// the order they arrive) draws from the seed, so one sequence of requests
// meets the same faults every run. It is safe for concurrent use.
type injector struct {
	spec  FaultSpec
	seed  uint64
	clock func() time.Time
	n     atomic.Uint64
	// counts of the faults served, by name.
	counts map[string]*atomic.Int64
}

func newInjector(spec FaultSpec, seed uint64, clock func() time.Time) *injector {
	j := &injector{spec: spec, seed: seed, clock: clock, counts: map[string]*atomic.Int64{}}
	for _, name := range []string{faultHTTP500, faultHTTP429, faultBusiness, faultMalformed, faultTruncated, faultSlow, faultTimestamp} {
		j.counts[name] = new(atomic.Int64)
	}
	return j
}

// Serve implements Faults.
func (j *injector) Serve(w http.ResponseWriter, r *http.Request, _ Request, next http.Handler) {
	n := j.n.Add(1)
	if unit(j.seed, n, saltSlow) < j.spec.Slow {
		j.counts[faultSlow].Add(1)
		t := time.NewTimer(j.spec.SlowDelay)
		select {
		case <-r.Context().Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
	u := unit(j.seed, n, saltFault)
	for _, f := range []struct {
		name  string
		share float64
	}{
		{faultHTTP500, j.spec.HTTP500}, {faultHTTP429, j.spec.HTTP429}, {faultBusiness, j.spec.Business},
		{faultMalformed, j.spec.Malformed}, {faultTruncated, j.spec.Truncated},
	} {
		if u >= f.share {
			u -= f.share
			continue
		}
		j.counts[f.name].Add(1)
		j.answer(w, r, f.name, n, next)
		return
	}
	next.ServeHTTP(w, r)
}

// answer serves fault name in place of the true answer.
func (j *injector) answer(w http.ResponseWriter, r *http.Request, name string, n uint64, next http.Handler) {
	now := j.clock()
	h := w.Header()
	h.Set("Date", now.UTC().Format(http.TimeFormat))
	switch name {
	case faultHTTP500:
		h.Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusInternalServerError)
		w.Write([]byte("<html><body><h1>500 Internal Server Error</h1></body></html>\n"))
	case faultHTTP429:
		// Both forms of Retry-After by turns: delay seconds, HTTP date.
		secs := int64((j.spec.RetryAfter + time.Second - 1) / time.Second)
		if n%2 == 0 {
			h.Set("Retry-After", strconv.FormatInt(secs, 10))
		} else {
			h.Set("Retry-After", now.Add(time.Duration(secs)*time.Second).UTC().Format(http.TimeFormat))
		}
		h.Set("Content-Type", "application/json;charset=UTF-8")
		w.WriteHeader(http.StatusTooManyRequests)
		w.Write([]byte(`{"code":429,"message":"too many requests","data":null}`))
	case faultBusiness:
		h.Set("Content-Type", "application/json;charset=UTF-8")
		w.Write([]byte(`{"code":500,"message":"system busy, try again later","data":null}`))
	case faultMalformed:
		h.Set("Content-Type", "application/json;charset=UTF-8")
		w.Write([]byte("<html><body>upstream gateway error</body></html>"))
	case faultTruncated:
		rec := &recorder{header: http.Header{}}
		next.ServeHTTP(rec, r)
		body := rec.body[:len(rec.body)/2]
		for k, v := range rec.header {
			h[k] = v
		}
		h.Set("Content-Length", strconv.Itoa(len(body)))
		w.Write(body)
	}
}

// counted returns the faults of one answer served so far, by name.
func (j *injector) counted() map[string]int64 {
	out := make(map[string]int64, len(j.counts))
	for name, c := range j.counts {
		out[name] = c.Load()
	}
	return out
}

// recorder keeps an answer to spoil it.
type recorder struct {
	header http.Header
	body   []byte
}

func (r *recorder) Header() http.Header         { return r.header }
func (r *recorder) WriteHeader(int)             {}
func (r *recorder) Write(b []byte) (int, error) { r.body = append(r.body, b...); return len(b), nil }
