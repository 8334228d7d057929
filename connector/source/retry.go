package source

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/callstream/callstream/connector/calllist"
	"github.com/callstream/callstream/internal/pause"
)

// Defaults of Retry.
const (
	DefaultRetryInitial = 500 * time.Millisecond
	DefaultRetryMax     = 30 * time.Second
)

// Retry is how ReadWindow retries a failed page: exponential backoff with
// full jitter (a random wait in [0, min(Max, Initial·2^n)) before retry
// n+1), at least the Retry-After the vendor asked for (capped by Max), and
// Max itself after an auth failure, which no quick retry will cure. Every
// kind of failure is retried.
type Retry struct {
	Initial  time.Duration // first backoff ceiling; default 500ms
	Max      time.Duration // backoff ceiling; default 30s
	Attempts int           // attempts per page, first included; 0 = until ctx is done
}

func (r Retry) withDefaults() Retry {
	if r.Initial <= 0 {
		r.Initial = DefaultRetryInitial
	}
	if r.Max <= 0 {
		r.Max = DefaultRetryMax
	}
	r.Max = max(r.Max, r.Initial)
	return r
}

// backoff is the ceiling of the waits after failed attempts: Initial,
// doubling up to Max.
func (r Retry) backoff() pause.Backoff { return pause.Backoff{Initial: r.Initial, Max: r.Max} }

// delay is the wait under ceiling (the backoff's) after a failed attempt
// that ended with err.
func (r Retry) delay(ceiling time.Duration, err error) time.Duration {
	d := rand.N(ceiling) // full jitter
	var e *APIError
	if errors.As(err, &e) {
		if e.Kind == KindAuth {
			return r.Max
		}
		d = max(d, min(e.RetryAfter, r.Max))
	}
	return d
}

// fetchRetry fetches one page at size until it succeeds, ctx is done or the
// attempts run out.
func (c *Client) fetchRetry(ctx context.Context, w calllist.Window, pageNo, size int, r Retry) (*calllist.Page, error) {
	b := r.backoff()
	for n := 0; ; n++ {
		p, err := c.attempt(ctx, w, pageNo, size)
		if err == nil {
			return p, nil
		}
		if ctx.Err() != nil {
			return nil, err
		}
		if r.Attempts > 0 && n+1 >= r.Attempts {
			return nil, fmt.Errorf("giving up after %d attempts: %w", n+1, err)
		}
		if err := pause.For(ctx, r.delay(b.Next(), err)); err != nil {
			return nil, fmt.Errorf("fetching page %d of %s: %w", pageNo, w, err)
		}
	}
}
