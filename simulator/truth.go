package simulator

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"
)

// codeTimestamp is the business code of a timestamp too far off the
// simulator's clock, under the skew fault.
const codeTimestamp = 402

// Broken returns the ids of the calls created so far whose current record
// has inner JSON cut by the broken-json fault or Config.BrokenEvery, ascending: the calls whose
// records a connector must dead-letter.
func (s *Simulator) Broken() []int64 {
	now := s.cfg.Clock()
	ids := []int64{}
	if s.tl.faults.broken <= 0 && s.tl.faults.brokenEvery <= 0 {
		return ids
	}
	s.tl.visible(0, s.tl.arrived(now), now).each(func(i int) bool {
		if s.tl.isBroken(i) && s.tl.status(i, s.tl.arrival(i), now) != statusConverting {
			ids = append(ids, s.record(i, now).ID)
		}
		return true
	})
	return ids
}

// FaultCounts returns how often each fault of one answer was served so far
// (http500, http429, business, malformed, truncated, slow, and timestamp
// for a refused timestamp under the skew fault), how many calls so far
// each fault of the data touched (insert-while-paging, late-status,
// broken-json), how many converted calls so far each fault of the content
// touched (large-transcript, corrected), and how many answers each fault of
// the listing spoiled (count-plus-one, unstable-order, unstable-windows,
// page-cap).
func (s *Simulator) FaultCounts() map[string]int64 {
	out := map[string]int64{}
	if s.inject != nil {
		out = s.inject.counted()
	}
	if s.cfg.FaultSpec.Skew != 0 {
		out[faultTimestamp] = s.refusedStamps.Load()
	}
	if s.listing != nil {
		s.listing.counted(out)
	}
	if large, corrected := s.contentCounts(s.cfg.Clock()); s.tl.content.largeEvery > 0 || s.tl.content.corrected > 0 {
		out["large-transcript"], out["corrected"] = large, corrected
	}
	f := s.tl.faults
	if f.insert <= 0 && f.lateStatus <= 0 && f.broken <= 0 && f.brokenEvery <= 0 {
		return out
	}
	var inserted, late, broken int64
	for i := range s.tl.arrived(s.cfg.Clock()) {
		if s.tl.lag(i) > 0 {
			inserted++
		}
		if f.lateStatus > 0 && s.tl.convertFor(i) != s.tl.convertAfter {
			late++
		}
		if s.tl.isBroken(i) {
			broken++
		}
	}
	out["insert-while-paging"], out["late-status"], out["broken-json"] = inserted, late, broken
	return out
}

// timestampOK reports whether a request's timestamp header lies within
// TimestampTolerance of the simulator's clock; it is checked only under
// the skew fault, whose point is that a client signs with the server's
// time.
func (s *Simulator) timestampOK(ts string) bool {
	if s.cfg.FaultSpec.Skew == 0 {
		return true
	}
	n, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return false
	}
	t := time.UnixMilli(n)
	if s.sign.seconds {
		t = time.Unix(n, 0)
	}
	d := s.cfg.Clock().Sub(t)
	if d < -TimestampTolerance || d > TimestampTolerance {
		s.refusedStamps.Add(1)
		return false
	}
	return true
}

// serveBroken answers {"ids":[…]}, see Broken.
func (s *Simulator) serveBroken(w http.ResponseWriter, _ *http.Request) {
	s.serveJSON(w, map[string]any{"ids": s.Broken()})
}

// serveLarge answers {"ids":[…]}, see Large.
func (s *Simulator) serveLarge(w http.ResponseWriter, _ *http.Request) {
	s.serveJSON(w, map[string]any{"ids": s.Large()})
}

// serveFaults answers the FaultCounts as a JSON object.
func (s *Simulator) serveFaults(w http.ResponseWriter, _ *http.Request) {
	s.serveJSON(w, s.FaultCounts())
}

func (s *Simulator) serveJSON(w http.ResponseWriter, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	s.writeJSON(w, s.cfg.Clock(), append(b, '\n'))
}
