package pause

import (
	"context"
	"time"
)

// Backoff is a wait that doubles after each failure, from Initial up to
// Max: the backoff of every retry loop, each with its own defaults. The
// zero value waits nothing; Initial above Max waits Max.
type Backoff struct {
	Initial, Max time.Duration
	// next is the wait Next returns next; 0: Initial.
	next time.Duration
}

// Next returns the wait before the next attempt and doubles the one after
// it, up to Max.
func (b *Backoff) Next() time.Duration {
	if b.next == 0 {
		b.next = min(b.Initial, b.Max)
	}
	d := b.next
	b.next = min(2*b.next, b.Max)
	return d
}

// Peek returns what Next will return, without moving on.
func (b *Backoff) Peek() time.Duration {
	if b.next == 0 {
		return min(b.Initial, b.Max)
	}
	return b.next
}

// Reset starts the backoff again from Initial, after a success.
func (b *Backoff) Reset() { b.next = 0 }

// Wait waits Next() or until ctx is done, as For does.
func (b *Backoff) Wait(ctx context.Context) error { return For(ctx, b.Next()) }
