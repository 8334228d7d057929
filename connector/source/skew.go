package source

import (
	"net/http"
	"sync"
	"time"
)

// maxSkew bounds a believable clock offset: a Date header further off than
// this is taken for a broken proxy, not a clock, and ignored.
const maxSkew = 24 * time.Hour

// skewWeight is the weight of a new sample in the smoothed offset. A Date
// header has whole seconds, so one sample is only good to ±0.5s plus half
// the round trip; averaging over about eight responses smooths that out
// while following a clock that drifts within a minute of polling.
const skewWeight = 0.125

// clockSkew estimates the API server's clock minus ours from the Date
// headers of its responses, smoothed. It is safe for concurrent use.
type clockSkew struct {
	mu      sync.Mutex
	offset  time.Duration
	samples int
}

// observe takes the Date header of a response to a request sent at sent
// and answered at received (both on our clock) and returns the new smoothed
// offset and whether the header gave a sample.
func (s *clockSkew) observe(date string, sent, received time.Time) (time.Duration, bool) {
	d, err := http.ParseTime(date)
	if err != nil {
		return 0, false
	}
	// The server wrote Date somewhere between sending and receiving, in
	// the second it names: compare the middles of both intervals.
	mid := sent.Add(received.Sub(sent) / 2)
	sample := d.Add(500 * time.Millisecond).Sub(mid)
	if sample > maxSkew || sample < -maxSkew {
		return 0, false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.samples == 0 {
		s.offset = sample
	} else {
		s.offset += time.Duration(skewWeight * float64(sample-s.offset))
	}
	s.samples++
	return s.offset, true
}

// get returns the smoothed offset, 0 before the first sample.
func (s *clockSkew) get() time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.offset
}

// Skew returns the API server's clock minus ours, smoothed over the Date
// headers of recent responses (including failed ones); 0 before the first
// response.
func (c *Client) Skew() time.Duration { return c.skew.get() }

// Now returns the current time on the API server's clock: Config.Clock
// corrected by Skew. The client signs requests with it, and callers should
// place windows by it, since the server decides by its own clock which
// calls exist.
func (c *Client) Now() time.Time { return c.cfg.Clock().Add(c.skew.get()) }
