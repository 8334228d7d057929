package source

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"
)

func TestClockSkewObserve(t *testing.T) {
	sent := time.Date(2026, 3, 21, 4, 0, 0, 300e6, time.UTC)
	received := sent.Add(400 * time.Millisecond) // middle: 04:00:00.5
	for _, tc := range []struct {
		name, date string
		want       time.Duration
		ok         bool
	}{
		{"same second", "Sat, 21 Mar 2026 04:00:00 GMT", 0, true},
		{"server 90s ahead", "Sat, 21 Mar 2026 04:01:30 GMT", 90 * time.Second, true},
		{"server 2m behind", "Sat, 21 Mar 2026 03:58:00 GMT", -2 * time.Minute, true},
		{"absent", "", 0, false},
		{"malformed", "yesterday", 0, false},
		{"beyond belief", "Sat, 21 Mar 2020 04:00:00 GMT", 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var s clockSkew
			got, ok := s.observe(tc.date, sent, received)
			if got != tc.want || ok != tc.ok {
				t.Errorf("observe(%q) = %s, %v; want %s, %v", tc.date, got, ok, tc.want, tc.ok)
			}
		})
	}
}

func TestClockSkewSmooths(t *testing.T) {
	var s clockSkew
	base := time.Date(2026, 3, 21, 4, 0, 0, 0, time.UTC)
	date := func(off time.Duration) string { return base.Add(off).Format(http.TimeFormat) }
	// The first sample is taken as is; one outlier then moves the estimate
	// by an eighth of its distance only.
	s.observe(date(10*time.Second), base.Add(500*time.Millisecond), base.Add(500*time.Millisecond))
	got, _ := s.observe(date(18*time.Second), base.Add(500*time.Millisecond), base.Add(500*time.Millisecond))
	if want := 11 * time.Second; got != want {
		t.Errorf("after an outlier the offset is %s, want %s", got, want)
	}
	for range 100 {
		got, _ = s.observe(date(18*time.Second), base.Add(500*time.Millisecond), base.Add(500*time.Millisecond))
	}
	if d := got - 18*time.Second; d < -10*time.Millisecond || d > 10*time.Millisecond {
		t.Errorf("after a steady offset the estimate is %s, want 18s", got)
	}
}

// A server whose clock runs ahead: the client learns the offset from the
// Date header, reports it, and signs with the server's time.
func TestClientFollowsServerClock(t *testing.T) {
	const ahead = 90 * time.Second
	var mu sync.Mutex
	var stamps []int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ts, _ := strconv.ParseInt(r.Header.Get("timestamp"), 10, 64)
		mu.Lock()
		stamps = append(stamps, ts)
		mu.Unlock()
		w.Header().Set("Date", time.Now().Add(ahead).UTC().Format(http.TimeFormat))
		fmt.Fprint(w, `{"code":0,"message":"ok","data":{"totalCount":0,"totalPage":0,"pageNo":1,"pageSize":3,"result":[]}}`)
	}))
	t.Cleanup(srv.Close)
	var hooked time.Duration
	c := newTestClient(t, srv.URL, func(c *Config) { c.Hooks.Skew = func(d time.Duration) { hooked = d } })
	for range 3 {
		if _, err := c.FetchPage(context.Background(), testWindow(), 1); err != nil {
			t.Fatal(err)
		}
	}
	near := func(d time.Duration) bool { return d > ahead-2*time.Second && d < ahead+2*time.Second }
	if !near(c.Skew()) || hooked != c.Skew() {
		t.Errorf("Skew() = %s, hook saw %s; want about %s", c.Skew(), hooked, ahead)
	}
	if d := time.Until(c.Now()); !near(d) {
		t.Errorf("Now() is %s ahead, want about %s", d, ahead)
	}
	// The first request went out before any Date was seen; the later ones
	// carry the server's time.
	mu.Lock()
	defer mu.Unlock()
	if d := time.Duration(stamps[2]-time.Now().UnixMilli()) * time.Millisecond; !near(d) {
		t.Errorf("third request signed %s off our clock, want about %s", d, ahead)
	}
}
