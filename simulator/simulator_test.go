package simulator

import (
	"bytes"
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/callstream/callstream/internal/vendortest"
)

func truthBytes(s *Simulator) []byte {
	rec := httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/_sim/records", nil))
	return rec.Body.Bytes()
}

func TestDeterministicFromSeed(t *testing.T) {
	a, ca := newSim(t, func(c *Config) { c.Rate = 3 })
	b, cb := newSim(t, func(c *Config) { c.Rate = 3 })
	other, co := newSim(t, func(c *Config) { c.Rate = 3; c.Seed = 8 })
	for _, c := range []*fakeClock{ca, cb, co} {
		c.Advance(time.Minute)
	}
	ta, tb, to := truthBytes(a), truthBytes(b), truthBytes(other)
	if !bytes.Equal(ta, tb) {
		t.Error("the same seed gave different calls")
	}
	if bytes.Equal(ta, to) {
		t.Error("another seed gave the same calls")
	}
	if n := len(a.Records()); n < 95+170 || n > 95+190 {
		t.Errorf("%d calls after a minute at 3/s, want about %d", n, 95+180)
	}
}

func TestTimeline(t *testing.T) {
	s, clock := newSim(t, func(c *Config) { c.History = 1000; c.Rate = 7.5; c.Calls = 100 })
	start := s.tl.start
	clock.Advance(time.Hour)
	recs := s.Records()
	if len(recs) != 1100 {
		t.Fatalf("%d calls, want 1100 (history and all new calls)", len(recs))
	}
	seconds := map[string]int{}
	for i, r := range recs {
		at, err := parseTime(r.GmtCreateTime)
		if err != nil {
			t.Fatal(err)
		}
		seconds[r.GmtCreateTime]++
		arr := s.tl.arrival(i)
		if i < 1000 && (arr.After(start) || arr.Before(start.Add(-time.Hour-time.Second))) {
			t.Errorf("history call %d arrives at %s, outside the hour before %s", i, arr, start)
		}
		if i >= 1000 && arr.Before(start) {
			t.Errorf("new call %d arrives at %s, before the start %s", i, arr, start)
		}
		if !at.Equal(arr.Truncate(time.Second)) {
			t.Errorf("call %d: gmtCreateTime %s, arrival %s", i, r.GmtCreateTime, arr)
		}
		if i > 0 && (r.ID <= recs[i-1].ID || r.GmtCreateTime < recs[i-1].GmtCreateTime) {
			t.Fatalf("call %d: id %d at %s after %d at %s", i, r.ID, r.GmtCreateTime, recs[i-1].ID, recs[i-1].GmtCreateTime)
		}
	}
	shared := 0
	for _, n := range seconds {
		if n > 1 {
			shared++
		}
	}
	if shared == 0 {
		t.Error("no two calls share a second at 7.5 calls a second")
	}
}

func TestStatusTransitions(t *testing.T) {
	s, clock := newSim(t, func(c *Config) { c.History = 0; c.Rate = 2; c.FailRatio = 0.5 })
	if n := len(s.Records()); n > 1 {
		t.Errorf("%d calls at the start, want at most 1", n)
	}
	clock.Advance(10 * time.Second)
	before := s.Records()
	if len(before) < 19 || len(before) > 21 {
		t.Fatalf("%d calls after 10s at 2/s", len(before))
	}
	for _, r := range before {
		if r.Status != 1 || r.StatusStr != "转换中" || r.Cost != 0 || r.Content != "" || r.Message != nil {
			t.Fatalf("new call %d: status %d %s cost %d content %q message %v", r.ID, r.Status, r.StatusStr, r.Cost, r.Content, r.Message)
		}
	}
	clock.Advance(30 * time.Second)
	after := s.Records()
	failed := 0
	for i, r := range before {
		a := after[i]
		if a.ID != r.ID || a.TaskID != r.TaskID || a.GmtCreateTime != r.GmtCreateTime || a.URL != r.URL || a.SendName != r.SendName {
			t.Fatalf("call %d changed more than its status: %+v -> %+v", i, r, a)
		}
		switch a.Status {
		case 2:
			if a.StatusStr != "转换成功" || a.Cost <= 0 || a.Message != nil || !strings.HasPrefix(a.Content, `{"Sentences":[{"EndTime":`) {
				t.Errorf("converted call: %+v", a)
			}
		case 0:
			failed++
			var task struct{ TaskId, StatusText string }
			if a.StatusStr != "转换失败" || a.Cost != 0 || a.Message == nil || *a.Message != a.Content ||
				json.Unmarshal([]byte(a.Content), &task) != nil || task.TaskId != a.TaskID || task.StatusText == "" {
				t.Errorf("failed call: %+v", a)
			}
		default:
			t.Errorf("call %d still status %d after 40s", i, a.Status)
		}
	}
	if failed == 0 || failed == len(before) {
		t.Errorf("%d of %d failed at ratio 0.5", failed, len(before))
	}
	if last := after[len(after)-1]; last.Status != 1 {
		t.Errorf("the newest call is already status %d", last.Status)
	}
}

func TestFailRatio(t *testing.T) {
	s, _ := newSim(t, func(c *Config) {
		c.History = 20000
		c.HistorySpan = 24 * time.Hour
		c.ConvertAfter = 0
		c.FailRatio = 0.1
	})
	failed := 0
	for _, r := range s.Records() {
		if r.Status == 0 {
			failed++
		}
	}
	if failed < 1800 || failed > 2200 {
		t.Errorf("%d of 20000 failed, want about 2000", failed)
	}
}

func TestRecordFormat(t *testing.T) {
	s, clock := newSim(t, func(c *Config) { c.History = 300; c.Rate = 1 })
	clock.Advance(5 * time.Second)
	var env struct {
		Records []map[string]json.RawMessage `json:"records"`
	}
	if err := json.Unmarshal(truthBytes(s), &env); err != nil {
		t.Fatal(err)
	}
	wantKeys := vendortest.SampleKeys
	types := map[string]int{}
	for _, rec := range env.Records {
		if len(rec) != len(wantKeys) {
			t.Fatalf("record has %d keys, want %d", len(rec), len(wantKeys))
		}
		for _, k := range wantKeys {
			if _, ok := rec[k]; !ok {
				t.Fatalf("record lacks %q", k)
			}
		}
		var ct, dept, url string
		json.Unmarshal(rec["callType"], &ct)
		json.Unmarshal(rec["departmentName"], &dept)
		json.Unmarshal(rec["url"], &url)
		types[ct]++
		var depts []struct {
			ID    int64  `json:"id"`
			Level string `json:"level"`
			Name  string `json:"name"`
		}
		if err := json.Unmarshal([]byte(dept), &depts); err != nil || len(depts) == 0 ||
			!strings.HasPrefix(depts[0].Level, "0.") || !strings.HasSuffix(depts[0].Level, ".") || depts[0].Name == "" {
			t.Fatalf("departmentName %s: %v", dept, err)
		}
		if !strings.HasSuffix(url, ".mp3") || string(rec["sender"]) != "null" || string(rec["createTime"]) != "null" {
			t.Fatalf("url %s, sender %s", url, rec["sender"])
		}
	}
	if types["微信语音"] == 0 || types["电销手机"] == 0 || len(types) != 2 {
		t.Errorf("call types %v", types)
	}
	// The keys come in the vendor's order.
	raw := truthBytes(s)
	first := raw[len(`{"records":[`):]
	last := 0
	for _, k := range wantKeys {
		at := bytes.Index(first, []byte(`"`+k+`":`))
		if at < last {
			t.Fatalf("key %s out of the vendor's order", k)
		}
		last = at
	}
}

func TestNewValidates(t *testing.T) {
	tests := []struct {
		name string
		mod  func(*Config)
	}{
		{"no app id", func(c *Config) { c.AppID = "" }},
		{"no app key", func(c *Config) { c.AppKey = "" }},
		{"negative history", func(c *Config) { c.History = -1 }},
		{"negative rate", func(c *Config) { c.Rate = -1 }},
		{"calls at rate 0", func(c *Config) { c.Calls = 3; c.Rate = 0 }},
		{"fail ratio", func(c *Config) { c.FailRatio = 1.5 }},
		{"sign", func(c *Config) { c.Sign = "crc" }},
		{"empty type", func(c *Config) { c.Types = []string{""} }},
		{"max page size", func(c *Config) { c.MaxPageSize = -1 }},
		{"broken every", func(c *Config) { c.BrokenEvery = -1 }},
	}
	for _, tc := range tests {
		cfg := Config{AppID: "a", AppKey: "k", Rate: 1}
		tc.mod(&cfg)
		if _, err := New(cfg); err == nil {
			t.Errorf("%s: New accepted %+v", tc.name, cfg)
		}
	}
}
