// Package pause waits for a duration or until a context is done.
package pause

import (
	"context"
	"time"
)

// For waits d or until ctx is done, whichever is first, and returns
// ctx.Err() in the second case (and at once for d ≤ 0 with ctx done).
func For(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
