package simulator

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/callstream/callstream/connector/source"
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

// clientOf serves s and returns a client of it.
func clientOf(t testing.TB, s *Simulator, mod func(*source.Config)) *source.Client {
	t.Helper()
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	cfg := source.Config{BaseURL: srv.URL, AppID: testAppID, AppKey: testKey, PageSize: 10}
	if mod != nil {
		mod(&cfg)
	}
	c, err := source.NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// post sends a signed body straight to the handler and returns the decoded
// envelope.
func post(t testing.TB, h http.Handler, body string) (code int, raw []byte) {
	t.Helper()
	ts := "1742536800000"
	req := httptest.NewRequestWithContext(context.Background(), http.MethodPost, source.Path, bytes.NewBufferString(body))
	req.Header.Set("appId", testAppID)
	req.Header.Set("appKey", testKey.Reveal())
	req.Header.Set("timestamp", ts)
	req.Header.Set("sign", source.Signer{}.Sign(testAppID, testKey, ts, []byte(body)).Reveal())
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	var env struct {
		Code int `json:"code"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &env); err != nil {
		t.Fatalf("answer %q: %v", rec.Body.String(), err)
	}
	return env.Code, rec.Body.Bytes()
}

// whole is the window from a day before the clock to a day after.
func whole(c *fakeClock) source.Window {
	return source.Window{Start: c.Now().Add(-24 * time.Hour), End: c.Now().Add(24 * time.Hour)}
}

var fastRetry = source.Retry{Initial: time.Millisecond, Max: 5 * time.Millisecond, Attempts: 3}
