package simulator

import (
	"bufio"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"time"
)

// Business error codes the simulator answers with, HTTP status 200.
const (
	codeBadRequest  = 400
	codeSignInvalid = 401
	maxRequestBody  = 1 << 20
)

// serveCallList answers one getCallList request.
func (s *Simulator) serveCallList(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxRequestBody))
	if err != nil {
		s.fail(w, codeBadRequest, "request body unreadable or too large")
		return
	}
	if !s.signValid(r.Header, body) {
		s.fail(w, codeSignInvalid, "sign invalid")
		return
	}
	if !s.timestampOK(r.Header.Get("timestamp")) {
		s.fail(w, codeTimestamp, "timestamp expired")
		return
	}
	req, from, to, msg := parseRequest(body, s.cfg.MaxPageSize)
	if msg != "" {
		s.fail(w, codeBadRequest, msg)
		return
	}
	var page http.Handler = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { s.writePage(w, req, from, to) })
	if f := s.cfg.Faults; f != nil {
		next := page
		page = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { f.Serve(w, r, req, next) })
	}
	if s.inject != nil {
		s.inject.Serve(w, r, req, page)
		return
	}
	page.ServeHTTP(w, r)
}

// parseRequest validates a body; msg is the business error, if any. A
// pageSize above maxSize is lowered to it: req is the request as answered.
func parseRequest(body []byte, maxSize int) (req Request, from, to time.Time, msg string) {
	var in struct {
		StartTime string `json:"startTime"`
		EndTime   string `json:"endTime"`
		Type      string `json:"type"`
		PageNo    int    `json:"pageNo"`
		PageSize  int    `json:"pageSize"`
	}
	if err := json.Unmarshal(body, &in); err != nil {
		return req, from, to, "request body is not valid JSON"
	}
	req = Request{StartTime: in.StartTime, EndTime: in.EndTime, Type: in.Type, PageNo: in.PageNo, PageSize: in.PageSize}
	switch {
	case in.Type == "":
		return req, from, to, "type is required"
	case in.PageNo < 1:
		return req, from, to, "pageNo must be at least 1"
	case in.PageSize < 1:
		return req, from, to, "pageSize must be at least 1"
	}
	req.PageSize = min(req.PageSize, maxSize)
	var err error
	if in.StartTime != "" {
		if from, err = parseTime(in.StartTime); err != nil {
			return req, from, to, "startTime must be yyyy-MM-dd HH:mm:ss"
		}
	}
	if in.EndTime != "" {
		if to, err = parseTime(in.EndTime); err != nil {
			return req, from, to, "endTime must be yyyy-MM-dd HH:mm:ss"
		}
	}
	return req, from, to, ""
}

// writePage answers a valid request: the window's calls that exist now,
// newest first (gmtCreateTime, then id, both descending, which is
// descending index). A type outside Config.Types lists nothing.
func (s *Simulator) writePage(w http.ResponseWriter, req Request, from, to time.Time) {
	now := s.cfg.Clock()
	lo, hi := 0, 0
	if s.types[req.Type] {
		lo, hi = s.tl.window(from, to, now)
	}
	calls := s.tl.visible(lo, hi, now)
	total := calls.len()
	// Page p holds the (p-1)·size-th to the p·size-1-th newest calls; page
	// numbers are bounded first so that the product cannot overflow.
	first := min(req.PageNo-1, total) * req.PageSize
	last := min(first+req.PageSize, total)
	first = min(first, last)
	count, idx := total, indexes(first, last)
	if s.listing != nil {
		count, idx = s.listing.page(req, total, first)
	}

	b := make([]byte, 0, 256+1400*len(idx))
	b = append(b, `{"code":0,"message":"success","data":{"totalCount":`...)
	b = strconv.AppendInt(b, int64(count), 10)
	b = append(b, `,"totalPage":`...)
	b = strconv.AppendInt(b, int64((count+req.PageSize-1)/req.PageSize), 10)
	b = append(b, `,"pageNo":`...)
	b = strconv.AppendInt(b, int64(req.PageNo), 10)
	b = append(b, `,"pageSize":`...)
	b = strconv.AppendInt(b, int64(req.PageSize), 10)
	b = append(b, `,"result":[`...)
	var costMillis int64
	for j, k := range idx {
		rec := s.record(calls.newest(k), now)
		costMillis += rec.Cost
		if j != 0 {
			b = append(b, ',')
		}
		b = appendRecord(b, &rec)
	}
	// The vendor bills whole seconds: its example shows 37354 ms as "38秒".
	b = append(b, `],"message":"`...)
	b = strconv.AppendInt(b, (costMillis+999)/1000, 10)
	b = append(b, `秒"}}`...)
	s.writeJSON(w, now, b)
}

// fail answers a business error, HTTP 200 as the vendor does.
func (s *Simulator) fail(w http.ResponseWriter, code int, msg string) {
	b := []byte(`{"code":`)
	b = strconv.AppendInt(b, int64(code), 10)
	b = append(b, `,"message":`...)
	b = appendString(b, msg)
	b = append(b, `,"data":null}`...)
	s.writeJSON(w, s.cfg.Clock(), b)
}

func (s *Simulator) writeJSON(w http.ResponseWriter, now time.Time, b []byte) {
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	w.Header().Set("Date", now.UTC().Format(http.TimeFormat))
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.Write(b)
}

// serveRecords streams the truth: every call created so far, ascending id.
func (s *Simulator) serveRecords(w http.ResponseWriter, _ *http.Request) {
	now := s.cfg.Clock()
	calls := s.tl.visible(0, s.tl.arrived(now), now)
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	w.Header().Set("Date", now.UTC().Format(http.TimeFormat))
	bw := bufio.NewWriterSize(w, 64<<10)
	bw.WriteString(`{"records":[`)
	var b []byte
	sep := false
	calls.each(func(i int) bool {
		rec := s.record(i, now)
		b = b[:0]
		if sep {
			b = append(b, ',')
		}
		sep = true
		b = appendRecord(b, &rec)
		_, err := bw.Write(b)
		return err == nil // else the client went away
	})
	bw.WriteString("]}\n")
	bw.Flush()
}
