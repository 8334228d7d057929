package source

import (
	"context"
	"testing"
	"time"
)

// Requests beyond the burst wait for the limit: n requests at r a second
// with burst b take at least (n-b)/r.
func TestRateLimitSpacesRequests(t *testing.T) {
	_, srv := newFakeVendor(t, 2)
	const limit, burst, n = 50.0, 2, 8
	c := newTestClient(t, srv.URL, func(c *Config) { c.RateLimit, c.RateBurst = limit, burst })
	start := time.Now()
	for range n {
		if _, err := c.FetchPage(context.Background(), testWindow(), 1); err != nil {
			t.Fatal(err)
		}
	}
	if got, least := time.Since(start), time.Duration(float64(n-burst)/limit*float64(time.Second)); got < least {
		t.Errorf("%d requests at %v/s, burst %d, took %s; want at least %s", n, limit, burst, got, least)
	}
}

// A wait for the limit gives up with the context and is not an API error.
func TestRateLimitWaitHonoursContext(t *testing.T) {
	_, srv := newFakeVendor(t, 2)
	c := newTestClient(t, srv.URL, func(c *Config) { c.RateLimit = 0.001 })
	if _, err := c.FetchPage(context.Background(), testWindow(), 1); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err := c.FetchPage(ctx, testWindow(), 1)
	if err == nil || KindOf(err) != "" {
		t.Fatalf("FetchPage past the limit = %v, want a rate limit error of no Kind", err)
	}
	if _, err := NewClient(Config{BaseURL: srv.URL, AppID: "a", AppKey: testKey, RateLimit: -1}); err == nil {
		t.Error("NewClient accepted a negative rate limit")
	}
}
