package simulator

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/callstream/callstream/internal/vendortest"
	"github.com/callstream/callstream/secret"
)

// The sign check accepts exactly the signs of the shared vectors: a
// simulator of each recipe takes the request that carries that recipe's
// sign and timestamp, and refuses every other vector's unless it is the
// same sign.
func TestSignVectors(t *testing.T) {
	vs := vendortest.SignVectors
	for _, recipe := range vs {
		s, _ := newSim(t, func(c *Config) {
			c.AppID, c.AppKey, c.Sign = vendortest.SignAppID, secret.String(vendortest.SignAppKey), recipe.Spec
			c.History = 1
		})
		for _, v := range vs {
			want := v.Sign == recipe.Sign && v.Timestamp == recipe.Timestamp
			if got := signAccepted(t, s, v.Timestamp, v.Sign); got != want {
				t.Errorf("simulator %q, request signed as %q: accepted %v, want %v", recipe.Spec, v.Spec, got, want)
			}
		}
		if signAccepted(t, s, recipe.Timestamp, flipCase(recipe.Sign)) {
			t.Errorf("simulator %q accepts its sign in the other case", recipe.Spec)
		}
	}
}

func TestBadSignSpecsRefused(t *testing.T) {
	for _, spec := range vendortest.BadSignSpecs {
		if _, err := New(Config{AppID: "a", AppKey: "k", Sign: spec}); err == nil {
			t.Errorf("New accepted sign %q", spec)
		} else if strings.Contains(err.Error(), "k\"") {
			t.Errorf("error %q may show the key", err)
		}
	}
}

func signAccepted(t *testing.T, s *Simulator, ts, sign string) bool {
	t.Helper()
	req := httptest.NewRequest("POST", callListPath, strings.NewReader(vendortest.SignBody))
	req.Header.Set("appId", vendortest.SignAppID)
	req.Header.Set("appKey", vendortest.SignAppKey)
	req.Header.Set("timestamp", ts)
	req.Header.Set("sign", sign)
	rec := httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, req)
	var env struct{ Code int }
	if err := json.Unmarshal(rec.Body.Bytes(), &env); err != nil {
		t.Fatal(err)
	}
	return env.Code == 0
}

func flipCase(s string) string {
	if u := strings.ToUpper(s); u != s {
		return u
	}
	return strings.ToLower(s)
}

func TestSignChecked(t *testing.T) {
	s, _ := newSim(t, nil)
	body := `{"type":"chat","pageNo":1,"pageSize":10}`
	for _, tc := range []struct {
		name string
		mod  func(r *http.Request)
	}{
		{"wrong key", func(r *http.Request) { r.Header.Set("appKey", "not-the-key") }},
		{"wrong app", func(r *http.Request) { r.Header.Set("appId", "other-app") }},
		{"no timestamp", func(r *http.Request) { r.Header.Del("timestamp") }},
		{"other timestamp", func(r *http.Request) { r.Header.Set("timestamp", "1742536800001") }},
		{"timestamp in seconds", func(r *http.Request) { r.Header.Set("timestamp", "1742536800") }},
		{"no sign", func(r *http.Request) { r.Header.Del("sign") }},
	} {
		req := signedRequest(t, body, "1742536800000")
		tc.mod(req)
		rec := httptest.NewRecorder()
		s.Handler().ServeHTTP(rec, req)
		if got := rec.Body.String(); rec.Code != 200 || got != `{"code":401,"message":"sign invalid","data":null}` {
			t.Errorf("%s: %d %s", tc.name, rec.Code, got)
		}
	}
	if code, raw := post(t, s.Handler(), body); code != 0 {
		t.Errorf("signed request: %s", raw)
	}
}

func TestBodyValidated(t *testing.T) {
	s, _ := newSim(t, nil)
	tests := []struct {
		body string
		code int
	}{
		{`{"type":"chat","pageNo":1,"pageSize":30}`, 0},
		{`{"startTime":"2025-03-21 00:00:00","endTime":"2025-03-27 23:59:59","type":"chat","pageNo":1,"pageSize":30}`, 0},
		{`{"type":"call","pageNo":1,"pageSize":30}`, 0},
		{`{"type":"chat","pageNo":1,"pageSize":1000}`, 0},
		{`{"type":"chat","pageNo":1,"pageSize":1001}`, 0},
		{`{"pageNo":1,"pageSize":30}`, 400},
		{`{"type":"chat","pageNo":0,"pageSize":30}`, 400},
		{`{"type":"chat","pageNo":1,"pageSize":0}`, 400},
		{`{"type":"chat","pageNo":1,"pageSize":30,"startTime":"2025-03-21T00:00:00Z"}`, 400},
		{`{"type":"chat","pageNo":1,"pageSize":30,"startTime":"2025-03-21 00:00:00.5"}`, 400},
		{`{"type":"chat","pageNo":1,"pageSize":30,"endTime":"yesterday"}`, 400},
		{`{"type":"chat","pageNo":"1","pageSize":30}`, 400},
		{`{"type":"chat",`, 400},
	}
	for _, tc := range tests {
		if code, raw := post(t, s.Handler(), tc.body); code != tc.code {
			t.Errorf("body %s: code %d, want %d (%s)", tc.body, code, tc.code, raw)
		}
	}
}

func TestPaging(t *testing.T) {
	s, clock := newSim(t, nil)
	from, to := whole(clock)
	rec := httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, signedRequest(t, pageBody(from, to, 10, 10), "1742536800000"))
	var last answer
	if err := json.Unmarshal(rec.Body.Bytes(), &last); err != nil || last.Data == nil {
		t.Fatalf("page 10: %s (%v)", rec.Body.String(), err)
	}
	if d := last.Data; d.TotalCount != 95 || d.TotalPage != 10 || d.PageNo != 10 || d.PageSize != 10 || len(d.Result) != 5 {
		t.Errorf("last page: total %d, pages %d, page %d, size %d, records %d", d.TotalCount, d.TotalPage, d.PageNo, d.PageSize, len(d.Result))
	}
	if date, err := http.ParseTime(rec.Header().Get("Date")); err != nil || !date.Equal(clock.Now().Truncate(time.Second)) {
		t.Errorf("Date %s, want %s", rec.Header().Get("Date"), clock.Now())
	}
	recs, pages := readAll(t, s.Handler(), from, to, 10)
	sorted := sort.SliceIsSorted(recs, func(i, j int) bool {
		if recs[i].GmtCreateTime != recs[j].GmtCreateTime {
			return recs[i].GmtCreateTime > recs[j].GmtCreateTime
		}
		return recs[i].ID > recs[j].ID
	})
	if len(recs) != 95 || !sorted || pages != 10 {
		t.Errorf("read %d records in %d pages, newest first: %v", len(recs), pages, sorted)
	}
	truth := s.Records()
	for i, r := range recs {
		if want := truth[len(truth)-1-i]; r.ID != want.ID || r.Status != want.Status {
			t.Fatalf("record %d: id %d status %d, truth %d %d", i, r.ID, r.Status, want.ID, want.Status)
		}
	}
	if code, raw := post(t, s.Handler(), `{"type":"chat","pageNo":11,"pageSize":10}`); code != 0 || !strings.Contains(string(raw), `"result":[]`) {
		t.Errorf("page past the end: %s", raw)
	}
}

// The request types of Config.Types list every call, whose records say
// "type":"call"; any other type is code 0 with an empty page.
func TestTypes(t *testing.T) {
	for _, tc := range []struct {
		types  []string
		listed map[string]bool
	}{
		{nil, map[string]bool{"chat": true, "call": false, "message": false}},
		{[]string{"call"}, map[string]bool{"chat": false, "call": true}},
		{[]string{"chat", "call"}, map[string]bool{"chat": true, "call": true, "Chat": false}},
	} {
		s, clock := newSim(t, func(c *Config) { c.Types = tc.types })
		from, to := whole(clock)
		for typ, listed := range tc.listed {
			code, raw := post(t, s.Handler(), pageBodyOf(typ, from, to, 1, 30))
			var a answer
			if err := json.Unmarshal(raw, &a); err != nil || code != 0 || a.Data == nil {
				t.Fatalf("types %v, type %s: %s", tc.types, typ, raw)
			}
			d := a.Data
			switch {
			case listed && (d.TotalCount != 95 || d.TotalPage != 4 || len(d.Result) != 30 || d.Result[0].Type != "call"):
				t.Errorf("types %v, type %s: %d of %d records in %d pages, want 30 of 95 in 4", tc.types, typ, len(d.Result), d.TotalCount, d.TotalPage)
			case !listed && !strings.Contains(string(raw), `"totalCount":0,"totalPage":0,"pageNo":1,"pageSize":30,"result":[]`):
				t.Errorf("types %v, type %s: %s, want an empty page", tc.types, typ, raw)
			}
		}
	}
	if _, err := New(Config{AppID: "a", AppKey: "k", Types: []string{"chat", ""}}); err == nil {
		t.Error("New accepted an empty type")
	}
}

// A pageSize above the cap is answered with the cap: records, pageSize and
// totalPage all say it, and paging by the answer reads every call once.
func TestMaxPageSize(t *testing.T) {
	s, clock := newSim(t, func(c *Config) { c.MaxPageSize = 30 })
	from, to := whole(clock)
	a := ask(t, s.Handler(), pageBody(from, to, 1, 50))
	if d := a.Data; d.PageSize != 30 || len(d.Result) != 30 || d.TotalPage != 4 || d.TotalCount != 95 {
		t.Errorf("pageSize 50 under a cap of 30: size %d, %d records, %d pages", d.PageSize, len(d.Result), d.TotalPage)
	}
	a = ask(t, s.Handler(), pageBody(from, to, 4, 50))
	if d := a.Data; d.PageSize != 30 || len(d.Result) != 5 {
		t.Errorf("page 4: size %d, %d records, want 30 and 5", d.PageSize, len(d.Result))
	}
	recs, pages := readAll(t, s.Handler(), from, to, 50)
	seen := map[int64]bool{}
	for _, r := range recs {
		seen[r.ID] = true
	}
	if len(recs) != 95 || len(seen) != 95 || pages != 4 {
		t.Errorf("paged by the answer: %d records, %d distinct, %d pages", len(recs), len(seen), pages)
	}
	def, _ := newSim(t, func(c *Config) { c.History = 1500 })
	if d := ask(t, def.Handler(), pageBody(from, to, 1, 5000)).Data; d.PageSize != DefaultMaxPageSize || len(d.Result) != DefaultMaxPageSize || d.TotalPage != 2 {
		t.Errorf("default cap: size %d, %d records, %d pages", d.PageSize, len(d.Result), d.TotalPage)
	}
}

func TestWindowBoundsInclusive(t *testing.T) {
	s, _ := newSim(t, func(c *Config) { c.History = 500; c.HistorySpan = 5 * time.Minute })
	truth := s.Records()
	for _, k := range []int{0, 17, 250, 499} {
		at, err := parseTime(truth[k].GmtCreateTime)
		if err != nil {
			t.Fatal(err)
		}
		for _, w := range [][2]time.Time{
			{at, at},
			{at, at.Add(7 * time.Second)},
			{at.Add(-3 * time.Second), at},
			{at.Add(time.Second), at.Add(9 * time.Second)},
		} {
			recs, _ := readAll(t, s.Handler(), w[0], w[1], 1000)
			want := 0
			for _, r := range truth {
				rt, _ := parseTime(r.GmtCreateTime)
				if !rt.Before(w[0]) && !rt.After(w[1]) {
					want++
				}
			}
			if len(recs) != want {
				t.Errorf("window %s..%s: %d records, want %d", formatTime(w[0]), formatTime(w[1]), len(recs), want)
			}
		}
	}
}

func TestTruthEndpoint(t *testing.T) {
	s, _ := newSim(t, nil)
	rec := httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/_sim/records", nil))
	var out struct {
		Records []Record `json:"records"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
		t.Fatalf("truth: %v", err)
	}
	truth := s.Records()
	got := out.Records
	if len(got) != len(truth) || len(got) != 95 {
		t.Fatalf("truth endpoint has %d records, Records %d", len(got), len(truth))
	}
	for i := range got {
		if got[i].ID != truth[i].ID || got[i].Content != truth[i].Content || (i > 0 && got[i].ID <= got[i-1].ID) {
			t.Fatalf("record %d: %d, want %d ascending", i, got[i].ID, truth[i].ID)
		}
	}
}
