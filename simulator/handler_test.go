package simulator

import (
	"context"
	"encoding/json"
	"errors"
	"net/http/httptest"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/callstream/callstream/connector/source"
)

func TestSignChecked(t *testing.T) {
	tests := []struct {
		name    string
		simSign string
		mod     func(*source.Config)
		ok      bool
	}{
		{"default", "", nil, true},
		{"hmac both", "hmac-sha256:appId+timestamp+body:upper:s", func(c *source.Config) {
			c.Signer, _ = source.ParseSigner("hmac-sha256:appId+timestamp+body:upper:s")
		}, true},
		{"wrong key", "", func(c *source.Config) { c.AppKey = "not-the-key" }, false},
		{"wrong app", "", func(c *source.Config) { c.AppID = "other-app" }, false},
		{"other recipe", "sha256", nil, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, clock := newSim(t, func(c *Config) { c.Signer, _ = source.ParseSigner(tc.simSign) })
			c := clientOf(t, s, tc.mod)
			_, err := c.FetchPage(context.Background(), whole(clock), 1)
			if tc.ok && err != nil {
				t.Fatalf("FetchPage: %v", err)
			}
			if !tc.ok {
				var ae *source.APIError
				if !errors.As(err, &ae) || ae.Kind != source.KindAuth || ae.Code != 401 {
					t.Fatalf("FetchPage = %v, want an auth error with code 401", err)
				}
			}
		})
	}
	s, _ := newSim(t, nil)
	req := httptest.NewRequest("POST", source.Path, strings.NewReader(`{"type":"call","pageNo":1,"pageSize":10}`))
	rec := httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, req)
	if got := rec.Body.String(); rec.Code != 200 || got != `{"code":401,"message":"sign invalid","data":null}` {
		t.Errorf("unsigned request: %d %s", rec.Code, got)
	}
}

func TestBodyValidated(t *testing.T) {
	s, _ := newSim(t, nil)
	tests := []struct {
		body string
		code int
	}{
		{`{"type":"call","pageNo":1,"pageSize":30}`, 0},
		{`{"startTime":"2025-03-21 00:00:00","endTime":"2025-03-27 23:59:59","type":"chat","pageNo":1,"pageSize":30}`, 0},
		{`{"type":"call","pageNo":1,"pageSize":1000}`, 0},
		{`{"pageNo":1,"pageSize":30}`, 400},
		{`{"type":"call","pageNo":0,"pageSize":30}`, 400},
		{`{"type":"call","pageNo":1,"pageSize":0}`, 400},
		{`{"type":"call","pageNo":1,"pageSize":1001}`, 400},
		{`{"type":"call","pageNo":1,"pageSize":30,"startTime":"2025-03-21T00:00:00Z"}`, 400},
		{`{"type":"call","pageNo":1,"pageSize":30,"endTime":"yesterday"}`, 400},
		{`{"type":"call","pageNo":"1","pageSize":30}`, 400},
		{`{"type":"call",`, 400},
	}
	for _, tc := range tests {
		if code, raw := post(t, s.Handler(), tc.body); code != tc.code {
			t.Errorf("body %s: code %d, want %d (%s)", tc.body, code, tc.code, raw)
		}
	}
}

func TestPaging(t *testing.T) {
	s, clock := newSim(t, nil)
	c := clientOf(t, s, nil)
	p, err := c.FetchPage(context.Background(), whole(clock), 10)
	if err != nil {
		t.Fatal(err)
	}
	if p.TotalCount != 95 || p.TotalPage != 10 || p.PageNo != 10 || p.PageSize != 10 || len(p.Records) != 5 {
		t.Errorf("last page: total %d, pages %d, page %d, size %d, records %d", p.TotalCount, p.TotalPage, p.PageNo, p.PageSize, len(p.Records))
	}
	if !p.ServerDate.Equal(clock.Now().Truncate(time.Second)) {
		t.Errorf("Date %s, want %s", p.ServerDate, clock.Now())
	}
	wr, err := c.ReadWindow(context.Background(), whole(clock), fastRetry)
	if err != nil {
		t.Fatal(err)
	}
	recs := decodeAll(t, wr.Records)
	sorted := sort.SliceIsSorted(recs, func(i, j int) bool {
		if recs[i].GmtCreateTime != recs[j].GmtCreateTime {
			return recs[i].GmtCreateTime > recs[j].GmtCreateTime
		}
		return recs[i].ID > recs[j].ID
	})
	if len(recs) != 95 || !sorted || wr.Pages != 10 {
		t.Errorf("read %d records in %d pages, newest first: %v", len(recs), wr.Pages, sorted)
	}
	truth := s.Records()
	for i, r := range recs {
		if want := truth[len(truth)-1-i]; r.ID != want.ID || r.Status != want.Status {
			t.Fatalf("record %d: id %d status %d, truth %d %d", i, r.ID, r.Status, want.ID, want.Status)
		}
	}
	if code, raw := post(t, s.Handler(), `{"type":"call","pageNo":11,"pageSize":10}`); code != 0 || !strings.Contains(string(raw), `"result":[]`) {
		t.Errorf("page past the end: %s", raw)
	}
	if code, raw := post(t, s.Handler(), `{"type":"message","pageNo":1,"pageSize":10}`); code != 0 || !strings.Contains(string(raw), `"totalCount":0`) {
		t.Errorf("other type: %s", raw)
	}
}

func TestWindowBoundsInclusive(t *testing.T) {
	s, _ := newSim(t, func(c *Config) { c.History = 500; c.HistorySpan = 5 * time.Minute })
	c := clientOf(t, s, func(c *source.Config) { c.PageSize = 1000 })
	truth := s.Records()
	for _, k := range []int{0, 17, 250, 499} {
		at, _ := source.ParseTime(truth[k].GmtCreateTime)
		for _, w := range []source.Window{
			{Start: at, End: at},
			{Start: at, End: at.Add(7 * time.Second)},
			{Start: at.Add(-3 * time.Second), End: at},
			{Start: at.Add(time.Second), End: at.Add(9 * time.Second)},
		} {
			wr, err := c.ReadWindow(context.Background(), w, fastRetry)
			if err != nil {
				t.Fatal(err)
			}
			want := 0
			for _, r := range truth {
				rt, _ := source.ParseTime(r.GmtCreateTime)
				if !rt.Before(w.Start) && !rt.After(w.End) {
					want++
				}
			}
			if len(wr.Records) != want {
				t.Errorf("window %s: %d records, want %d", w, len(wr.Records), want)
			}
		}
	}
}

func TestTruthEndpoint(t *testing.T) {
	s, _ := newSim(t, nil)
	rec := httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/_sim/records", nil))
	var out struct {
		Records []json.RawMessage `json:"records"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
		t.Fatalf("truth: %v", err)
	}
	truth := s.Records()
	got := decodeAll(t, out.Records)
	if len(got) != len(truth) || len(got) != 95 {
		t.Fatalf("truth endpoint has %d records, Records %d", len(got), len(truth))
	}
	for i := range got {
		if got[i].ID != truth[i].ID || got[i].Content != truth[i].Content || (i > 0 && got[i].ID <= got[i-1].ID) {
			t.Fatalf("record %d: %d, want %d ascending", i, got[i].ID, truth[i].ID)
		}
	}
}

func decodeAll(t testing.TB, raws []json.RawMessage) []source.Record {
	t.Helper()
	out := make([]source.Record, len(raws))
	for i, raw := range raws {
		r, err := source.DecodeRecord(raw)
		if err != nil {
			t.Fatalf("record %d %s: %v", i, raw, err)
		}
		out[i] = r
	}
	return out
}
