package simulator

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/callstream/callstream/secret"
)

const (
	testAppID = "sim-app"
	testKey   = secret.String("sim-secret-key")
)

// fakeClock is a clock that moves only when told.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{t: time.Date(2025, 3, 21, 6, 0, 0, 250e6, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// newSim starts a simulator on a fake clock, with cfg changed by mod.
func newSim(t testing.TB, mod func(*Config)) (*Simulator, *fakeClock) {
	t.Helper()
	clock := newFakeClock()
	cfg := Config{
		AppID: testAppID, AppKey: testKey, Seed: 7,
		History: 95, HistorySpan: time.Hour, Rate: 0,
		ConvertAfter: 30 * time.Second, FailRatio: 0.1, Clock: clock.Now,
	}
	if mod != nil {
		mod(&cfg)
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s, clock
}

// signedRequest is a getCallList request with body, signed with the
// default recipe at timestamp ts.
func signedRequest(t testing.TB, body, ts string) *http.Request {
	t.Helper()
	recipe, err := parseSign("")
	if err != nil {
		t.Fatal(err)
	}
	req := httptest.NewRequest(http.MethodPost, callListPath, bytes.NewBufferString(body))
	req.Header.Set("appId", testAppID)
	req.Header.Set("appKey", testKey.Reveal())
	req.Header.Set("timestamp", ts)
	req.Header.Set("sign", recipe.sum(testAppID, testKey.Reveal(), ts, []byte(body)))
	return req
}

// post sends a signed body straight to the handler and returns the
// envelope's code and the whole answer.
func post(t testing.TB, h http.Handler, body string) (code int, raw []byte) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, signedRequest(t, body, "1742536800000"))
	var env struct {
		Code int `json:"code"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &env); err != nil {
		t.Fatalf("answer %q: %v", rec.Body.String(), err)
	}
	return env.Code, rec.Body.Bytes()
}

// answer is a getCallList answer, read with encoding/json.
type answer struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
	Data    *struct {
		TotalCount int      `json:"totalCount"`
		TotalPage  int      `json:"totalPage"`
		PageNo     int      `json:"pageNo"`
		PageSize   int      `json:"pageSize"`
		Result     []Record `json:"result"`
		Message    string   `json:"message"`
	} `json:"data"`
}

// ask posts body and decodes the answer, which must be code 0.
func ask(t testing.TB, h http.Handler, body string) answer {
	t.Helper()
	code, raw := post(t, h, body)
	var a answer
	if err := json.Unmarshal(raw, &a); err != nil || code != 0 || a.Data == nil {
		t.Fatalf("request %s: answer %.200s (%v)", body, raw, err)
	}
	return a
}

// pageBody is a request for page pageNo of [from, to] at size, of the type
// "chat"; a zero time is left out.
func pageBody(from, to time.Time, pageNo, size int) string {
	return pageBodyOf("chat", from, to, pageNo, size)
}

func pageBodyOf(typ string, from, to time.Time, pageNo, size int) string {
	b := fmt.Sprintf(`{"type":%q,"pageNo":%d,"pageSize":%d`, typ, pageNo, size)
	if !from.IsZero() {
		b += fmt.Sprintf(`,"startTime":%q`, formatTime(from))
	}
	if !to.IsZero() {
		b += fmt.Sprintf(`,"endTime":%q`, formatTime(to))
	}
	return b + "}"
}

// readAll reads pages 1..totalPage of [from, to] at size and returns the
// records in the order sent, and the pages read.
func readAll(t testing.TB, h http.Handler, from, to time.Time, size int) ([]Record, int) {
	t.Helper()
	var out []Record
	pages := 1
	for p := 1; p <= pages; p++ {
		a := ask(t, h, pageBody(from, to, p, size))
		pages = a.Data.TotalPage
		out = append(out, a.Data.Result...)
	}
	return out, max(pages, 1)
}

// whole is the window from a day before the clock to a day after.
func whole(c *fakeClock) (from, to time.Time) {
	return c.Now().Add(-24 * time.Hour), c.Now().Add(24 * time.Hour)
}
