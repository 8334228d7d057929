package simulator

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
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
		// Faults of the content.
		{spec: "large-transcript=50", want: "large-transcript=50:1400000"},
		{spec: "large-transcript=7:20000", want: "large-transcript=7:20000"},
		{spec: "corrected=0.1", want: "corrected=0.1:30s"},
		{spec: "corrected=0.5:2m", want: "corrected=0.5:2m0s"},
		{spec: "broken-json=0.02,large-transcript=3:9000,corrected=1:5s", want: "broken-json=0.02,large-transcript=3:9000,corrected=1:5s"},
		{spec: "large-transcript=0", err: "positive whole number of calls"},
		{spec: "large-transcript=2:x", err: "positive whole number of bytes"},
		{spec: "corrected=2", err: "not a share"},
		{spec: "corrected=0.1:0s", err: "not a positive duration"},
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

// Each fault of one answer, on every request, is answered as that fault
// looks on the wire.
func TestAnswerFaults(t *testing.T) {
	for _, tc := range []struct {
		spec   string
		status int
		code   int // the envelope's code; -1: the body is not JSON
	}{
		{"http500=1", 500, -1},
		{"http429=1,retry-after=2s", 429, 429},
		{"business=1", 200, 500},
		{"malformed=1", 200, -1},
		{"truncated=1", 200, -1},
	} {
		t.Run(tc.spec, func(t *testing.T) {
			fs, err := ParseFaults(tc.spec)
			if err != nil {
				t.Fatal(err)
			}
			// The host's clock: an HTTP-date Retry-After is read against it.
			s, _ := newSim(t, func(c *Config) { c.FaultSpec, c.Clock = fs, time.Now })
			forms := map[bool]bool{}
			for range 2 { // 429 answers Retry-After in both forms by turns
				rec := httptest.NewRecorder()
				s.Handler().ServeHTTP(rec, signedRequest(t, `{"type":"chat","pageNo":1,"pageSize":10}`, "1742536800000"))
				var env struct{ Code int }
				code := -1
				if json.Unmarshal(rec.Body.Bytes(), &env) == nil {
					code = env.Code
				}
				if rec.Code != tc.status || code != tc.code {
					t.Fatalf("answer %d %.80s, want status %d and code %d", rec.Code, rec.Body.String(), tc.status, tc.code)
				}
				if tc.status == 429 {
					ra := rec.Header().Get("Retry-After")
					secs, err := strconv.Atoi(ra)
					forms[err == nil] = true
					if err != nil {
						// An HTTP date has whole seconds: 1s..2s from now.
						at, perr := http.ParseTime(ra)
						d := time.Until(at)
						if perr != nil || d < 0 || d > 2*time.Second {
							t.Errorf("Retry-After %q is %s from now, want 2s", ra, d)
						}
					} else if secs != 2 {
						t.Errorf("Retry-After %q, want 2", ra)
					}
				}
			}
			if tc.status == 429 && len(forms) != 2 {
				t.Errorf("Retry-After in one form only: %v", forms)
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
	from, to := whole(clock)
	start := time.Now()
	ask(t, s.Handler(), pageBody(from, to, 1, 10))
	if d := time.Since(start); d < 60*time.Millisecond {
		t.Errorf("slow answer took %s, want at least 60ms", d)
	}
}

// Faults drawn at a share follow the seed: the same requests meet the same
// faults.
func TestAnswerFaultsFollowTheSeed(t *testing.T) {
	fs, _ := ParseFaults("http500=0.3,business=0.3")
	outcomes := func() string {
		s, _ := newSim(t, func(c *Config) { c.FaultSpec = fs })
		var b strings.Builder
		for range 40 {
			rec := httptest.NewRecorder()
			s.Handler().ServeHTTP(rec, signedRequest(t, `{"type":"chat","pageNo":1,"pageSize":10}`, "1742536800000"))
			var env struct{ Code int }
			json.Unmarshal(rec.Body.Bytes(), &env)
			fmt.Fprintf(&b, "%d/%d.", rec.Code, env.Code)
		}
		return b.String()
	}
	a, b := outcomes(), outcomes()
	if a != b {
		t.Errorf("two runs met different faults:\n%s\n%s", a, b)
	}
	if !strings.Contains(a, "500/0.") || !strings.Contains(a, "200/500.") || !strings.Contains(a, "200/0.") {
		t.Errorf("40 requests at 30%%+30%% met %s", a)
	}
}

// Inserted calls appear after their gmtCreateTime, in the list and in the
// truth alike.
func TestInsertWhilePaging(t *testing.T) {
	fs, _ := ParseFaults("insert-while-paging=1:10s")
	s, clock := newSim(t, func(c *Config) { c.FaultSpec = fs; c.History = 0; c.Rate = 10 })
	clock.Advance(5 * time.Second)
	arrived := s.tl.arrived(clock.Now())
	early := len(s.Records())
	from, to := whole(clock)
	list, _ := readAll(t, s.Handler(), from, to, 10)
	if len(list) != early || early >= arrived {
		t.Errorf("list holds %d, truth %d of %d arrived calls; want list = truth < arrived", len(list), early, arrived)
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
		if created, _ := parseTime(r.GmtCreateTime); clock.Now().Sub(created) < time.Hour && r.Status != 1 {
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
		cut := notJSON(r)
		if cut != want[r.ID] {
			t.Errorf("call %d status %d: inner JSON cut %v, listed broken %v", r.ID, r.Status, cut, want[r.ID])
		}
		if cut {
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

// notJSON reports whether r has inner JSON that does not parse: content,
// or message when set.
func notJSON(r Record) bool {
	return (r.Content != "" && !json.Valid([]byte(r.Content))) || (r.Message != nil && !json.Valid([]byte(*r.Message)))
}

// Config.BrokenEvery cuts the inner JSON of every n-th call, history
// included, once it is converted or failed, and /_sim/broken lists them.
func TestBrokenEvery(t *testing.T) {
	s, clock := newSim(t, func(c *Config) { c.BrokenEvery = 5; c.Rate = 1 })
	clock.Advance(20 * time.Second) // new calls, still converting
	recs := s.Records()
	var want []int64
	for i, r := range recs {
		done := r.Status != statusConverting
		if cut := notJSON(r); cut != ((i+1)%5 == 0 && done) {
			t.Errorf("call %d (index %d, status %d): inner JSON cut %v", r.ID, i, r.Status, cut)
		}
		if (i+1)%5 == 0 && done {
			want = append(want, r.ID)
		}
	}
	if got := s.Broken(); len(want) != 19 || !slices.Equal(got, want) {
		t.Errorf("Broken() = %v, want the %d calls %v", got, len(want), want)
	}
	if got := s.FaultCounts()["broken-json"]; got != int64(len(recs)/5) {
		t.Errorf("FaultCounts()[broken-json] = %d, want %d", got, len(recs)/5)
	}
}

// Under the skew fault the simulator's clock, its Date header and its
// calls run ahead, and a timestamp off its clock is refused.
func TestSkew(t *testing.T) {
	fs, _ := ParseFaults("skew=90s")
	s, clock := newSim(t, func(c *Config) { c.FaultSpec = fs })
	if d := s.tl.start.Sub(clock.Now()); d != 90*time.Second {
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
		body := `{"type":"chat","pageNo":1,"pageSize":10}`
		req := signedRequest(t, body, strconv.FormatInt(tc.at.UnixMilli(), 10))
		req.RequestURI, req.URL.Scheme, req.URL.Host = "", "http", srv.Listener.Addr().String()
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
