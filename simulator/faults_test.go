package simulator

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/callstream/callstream/connector/event"
	"github.com/callstream/callstream/connector/source"
)

func TestParseFaults(t *testing.T) {
	const all = "http500=0.05,http429=0.05,retry-after=2s,business=0.02,malformed=0.02,truncated=0.02," +
		"slow=0.02:3s,insert-while-paging=0.1:10s,late-status=0.1:10m0s,broken-json=0.02,skew=1m30s"
	for _, tc := range []struct {
		spec, want, err string
	}{
		{spec: "", want: ""},
		{spec: all, want: all},
		{spec: "slow=0.5", want: "slow=0.5:3s"},
		{spec: "late-status=0.1", want: "late-status=0.1:10m0s"},
		{spec: "skew=-90s", want: "skew=-1m30s"},
		{spec: "http500=1.5", err: "not a share"},
		{spec: "http500=0.6,http429=0.6", err: "more than 1"},
		{spec: "http500", err: "want NAME=VALUE"},
		{spec: "cosmic-rays=0.1", err: "unknown fault"},
		{spec: "slow=0.1:-1s", err: "not a positive duration"},
		{spec: "http500=0.1,http500=0.2", err: "named twice"},
	} {
		t.Run(tc.spec, func(t *testing.T) {
			f, err := ParseFaults(tc.spec)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("ParseFaults(%q) = %v, want an error with %q", tc.spec, err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseFaults(%q): %v", tc.spec, err)
			}
			if got := f.String(); got != tc.want {
				t.Errorf("ParseFaults(%q).String() = %q, want %q", tc.spec, got, tc.want)
			}
		})
	}
}

// Each fault of one answer, on every request, reaches the client as its
// class of error.
func TestAnswerFaults(t *testing.T) {
	for _, tc := range []struct {
		spec   string
		kind   source.Kind
		status int
	}{
		{"http500=1", source.KindHTTP, 500},
		{"http429=1,retry-after=2s", source.KindHTTP, 429},
		{"business=1", source.KindBusiness, 0},
		{"malformed=1", source.KindDecode, 0},
		{"truncated=1", source.KindDecode, 0},
	} {
		t.Run(tc.spec, func(t *testing.T) {
			fs, err := ParseFaults(tc.spec)
			if err != nil {
				t.Fatal(err)
			}
			// The host's clock: an HTTP-date Retry-After is read against it.
			s, clock := newSim(t, func(c *Config) { c.FaultSpec, c.Clock = fs, time.Now })
			c := clientOf(t, s, nil)
			for range 2 { // 429 answers Retry-After in both forms by turns
				_, err := c.FetchPage(context.Background(), whole(clock), 1)
				var ae *source.APIError
				if !errors.As(err, &ae) || ae.Kind != tc.kind || ae.Status != tc.status {
					t.Fatalf("FetchPage = %v, want a %s error with status %d", err, tc.kind, tc.status)
				}
				// An HTTP date has whole seconds: 1s..2s from now.
				if tc.status == 429 && (ae.RetryAfter < time.Second || ae.RetryAfter > 2*time.Second) {
					t.Errorf("Retry-After %s, want 2s", ae.RetryAfter)
				}
			}
			name := strings.Split(tc.spec, "=")[0]
			if got := s.FaultCounts()[name]; got != 2 {
				t.Errorf("FaultCounts()[%s] = %d, want 2", name, got)
			}
		})
	}
}

func TestSlowAnswerIsLate(t *testing.T) {
	fs, _ := ParseFaults("slow=1:60ms")
	s, clock := newSim(t, func(c *Config) { c.FaultSpec = fs })
	c := clientOf(t, s, nil)
	start := time.Now()
	if _, err := c.FetchPage(context.Background(), whole(clock), 1); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < 60*time.Millisecond {
		t.Errorf("slow answer took %s, want at least 60ms", d)
	}
}

// Faults drawn at a share follow the seed: the same requests meet the same
// faults.
func TestAnswerFaultsFollowTheSeed(t *testing.T) {
	fs, _ := ParseFaults("http500=0.3,business=0.3")
	outcomes := func() string {
		s, clock := newSim(t, func(c *Config) { c.FaultSpec = fs })
		c := clientOf(t, s, nil)
		var b strings.Builder
		for range 40 {
			_, err := c.FetchPage(context.Background(), whole(clock), 1)
			b.WriteString(string(source.KindOf(err)) + ".")
		}
		return b.String()
	}
	a, b := outcomes(), outcomes()
	if a != b {
		t.Errorf("two runs met different faults:\n%s\n%s", a, b)
	}
	if !strings.Contains(a, "http") || !strings.Contains(a, "business") || !strings.Contains(a, "..") && !strings.HasPrefix(a, ".") {
		t.Errorf("40 requests at 30%%+30%% met %s", a)
	}
}

// Inserted calls appear after their gmtCreateTime, in the list and in the
// truth alike.
func TestInsertWhilePaging(t *testing.T) {
	fs, _ := ParseFaults("insert-while-paging=1:10s")
	s, clock := newSim(t, func(c *Config) { c.FaultSpec = fs; c.History = 0; c.Rate = 10 })
	c := clientOf(t, s, nil)
	clock.Advance(5 * time.Second)
	arrived := s.tl.arrived(clock.Now())
	early := len(s.Records())
	wr, err := c.ReadWindow(context.Background(), whole(clock), fastRetry)
	if err != nil {
		t.Fatal(err)
	}
	if len(wr.Records) != early || early >= arrived {
		t.Errorf("list holds %d, truth %d of %d arrived calls; want list = truth < arrived", len(wr.Records), early, arrived)
	}
	clock.Advance(10 * time.Second)
	if got, want := len(s.Records()), s.tl.arrived(clock.Now().Add(-10*time.Second)); got < want {
		t.Errorf("after the lag the truth holds %d calls, want at least the %d that arrived 10s before", got, want)
	}
	if s.FaultCounts()["insert-while-paging"] == 0 {
		t.Error("no inserted call counted")
	}
}

func TestLateStatus(t *testing.T) {
	fs, _ := ParseFaults("late-status=1:1h")
	s, clock := newSim(t, func(c *Config) { c.FaultSpec = fs })
	clock.Advance(time.Hour) // the history is older than ConvertAfter now
	for _, r := range s.Records() {
		if created, _ := source.ParseTime(r.GmtCreateTime); clock.Now().Sub(created) < time.Hour && r.Status != 1 {
			t.Fatalf("call %d, created %s, has status %d before its late conversion", r.ID, r.GmtCreateTime, r.Status)
		}
	}
	clock.Advance(time.Hour)
	for _, r := range s.Records() {
		if r.Status == 1 {
			t.Fatalf("call %d still converting two hours on", r.ID)
		}
	}
}

// Broken calls carry content that is not JSON once converted or failed,
// the same bytes every time, and /_sim/broken lists exactly them.
func TestBrokenJSON(t *testing.T) {
	fs, _ := ParseFaults("broken-json=0.3")
	s, clock := newSim(t, func(c *Config) { c.FaultSpec = fs; c.Rate = 1 })
	clock.Advance(20 * time.Second) // new calls, still converting
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	resp, err := http.Get(srv.URL + "/_sim/broken")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct{ IDs []int64 }
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatal(err)
	}
	want := map[int64]bool{}
	for _, id := range body.IDs {
		want[id] = true
	}
	var broken int
	for _, r := range s.Records() {
		_, perr := event.FromRecord(&r)
		if (perr != nil) != want[r.ID] {
			t.Errorf("call %d status %d: parse error %v, listed broken %v", r.ID, r.Status, perr, want[r.ID])
		}
		if perr != nil {
			broken++
		}
	}
	if broken == 0 || broken == len(s.Records()) {
		t.Errorf("%d of %d calls broken at a share of 0.3", broken, len(s.Records()))
	}
	again := s.Records()
	for i, r := range s.Records() {
		if r.Content != again[i].Content {
			t.Fatalf("call %d content changed between reads", r.ID)
		}
	}
}

// Under the skew fault the simulator's clock, its Date header and its
// calls run ahead, and a timestamp off its clock is refused.
func TestSkew(t *testing.T) {
	fs, _ := ParseFaults("skew=90s")
	s, clock := newSim(t, func(c *Config) { c.FaultSpec = fs })
	if d := s.Start().Sub(clock.Now()); d != 90*time.Second {
		t.Errorf("simulator starts %s ahead of its host, want 90s", d)
	}
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	for _, tc := range []struct {
		name string
		at   time.Time
		code string
	}{
		{"host time", clock.Now(), `"code":402`},
		{"server time", clock.Now().Add(90 * time.Second), `"code":0`},
	} {
		body := `{"type":"call","pageNo":1,"pageSize":10}`
		ts := source.Signer{}.Timestamp(tc.at)
		req, _ := http.NewRequest(http.MethodPost, srv.URL+source.Path, strings.NewReader(body))
		req.Header.Set("appId", testAppID)
		req.Header.Set("appKey", testKey.Reveal())
		req.Header.Set("timestamp", ts)
		req.Header.Set("sign", source.Signer{}.Sign(testAppID, testKey, ts, []byte(body)).Reveal())
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if !strings.Contains(string(raw), tc.code) {
			t.Errorf("%s: answer %.80s, want %s", tc.name, raw, tc.code)
		}
		if d, _ := http.ParseTime(resp.Header.Get("Date")); d.Sub(clock.Now()) < 89*time.Second {
			t.Errorf("%s: Date %s is not 90s ahead of the host", tc.name, d)
		}
	}
	if got := s.FaultCounts()["timestamp"]; got != 1 {
		t.Errorf("refused timestamps counted %d, want 1", got)
	}
}
