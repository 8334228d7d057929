package source

import (
	"context"
	"fmt"

	"github.com/callstream/callstream/connector/calllist"
	"github.com/callstream/callstream/internal/pause"
	"golang.org/x/sync/errgroup"
)

// WindowRead is a window read whole.
type WindowRead struct {
	Window  calllist.Window
	Records []calllist.Raw // every record, pages in order, as received
	Pages   int            // pages fetched in the read that succeeded
	Rereads int            // times the window was read again because it drifted
}

// drift is why a read of a window is not whole; it is one of the reasons
// given to Hooks.Reread.
type drift string

// ReadWindow reads pages 1..totalPage of w, retrying each failed page per
// retry (see Retry). It checks that the read is whole: totalCount equal on
// every page, every page but the last full, as many records as totalCount
// and no id twice. If not, the window is read again from page 1 (calling
// Hooks.Reread), at most Config.MaxRereads times, then it returns an error
// wrapping ErrWindowDrift.
//
// If page 1 says the window holds more than Config.MaxPages pages and w can
// be split, it returns a *TooManyPagesError (errors.Is ErrTooManyPages):
// split the window and read each half. A window of one second is read
// whatever its size.
//
// It returns only when the window was read whole, ctx is done, a page's
// retries ran out (Retry.Attempts) or the rereads ran out.
func (c *Client) ReadWindow(ctx context.Context, w calllist.Window, retry Retry) (*WindowRead, error) {
	retry = retry.withDefaults()
	rereads := 0
	for {
		wr, why, err := c.readOnce(ctx, w, retry)
		if err != nil {
			return nil, err
		}
		if why == "" {
			wr.Rereads = rereads
			return wr, nil
		}
		if rereads >= max(c.cfg.MaxRereads, 0) {
			return nil, fmt.Errorf("reading window %s: %w after %d rereads (%s)", w, ErrWindowDrift, rereads, why)
		}
		rereads++
		if h := c.cfg.Hooks.Reread; h != nil {
			h(string(why))
		}
		// A short pause lets whatever moved the window settle.
		if err := pause.For(ctx, retry.delay(0, nil)); err != nil {
			return nil, fmt.Errorf("reading window %s: %w", w, err)
		}
	}
}

// readOnce reads w once from page 1. A read that is not whole returns the
// reason and no error.
func (c *Client) readOnce(ctx context.Context, w calllist.Window, retry Retry) (*WindowRead, drift, error) {
	first, err := c.fetchRetry(ctx, w, 1, retry)
	if err != nil {
		return nil, "", err
	}
	if c.cfg.MaxPages > 0 && first.TotalPage > c.cfg.MaxPages && w.CanSplit() {
		return nil, "", fmt.Errorf("reading window %s: %w", w, &TooManyPagesError{TotalPage: first.TotalPage, MaxPages: c.cfg.MaxPages})
	}
	size := first.PageSize
	if size <= 0 {
		size = c.cfg.PageSize
	}
	wr := &WindowRead{Window: w, Pages: 1}
	wr.Records = append(wr.Records, first.Records...)
	pages := max(first.TotalPage, 1)
	if pages > 1 && len(first.Records) < size {
		return nil, "short_page", nil
	}
	rest, err := c.fetchPages(ctx, w, 2, pages, retry)
	if err != nil {
		return nil, "", err
	}
	for i, p := range rest {
		n := i + 2
		wr.Pages++
		if p.TotalCount != first.TotalCount {
			return nil, "total_count_changed", nil
		}
		if n < pages && len(p.Records) < size {
			return nil, "short_page", nil
		}
		wr.Records = append(wr.Records, p.Records...)
	}
	if len(wr.Records) != first.TotalCount {
		return nil, "count_mismatch", nil
	}
	if duplicateID(wr.Records) {
		return nil, "duplicate_id", nil
	}
	return wr, "", nil
}

// fetchPages fetches pages from..to of w (none if to < from), up to
// Config.PageConcurrency at once (in page order when that is 1), and
// returns them in order. A page whose retries run out cancels the others.
func (c *Client) fetchPages(ctx context.Context, w calllist.Window, from, to int, retry Retry) ([]*calllist.Page, error) {
	out := make([]*calllist.Page, max(to-from+1, 0))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(max(c.cfg.PageConcurrency, 1))
	for i := range out {
		g.Go(func() error {
			p, err := c.fetchRetry(gctx, w, from+i, retry)
			out[i] = p
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return out, nil
}

// duplicateID reports whether two records share an id. Records without a
// readable id are left to the caller.
func duplicateID(recs []calllist.Raw) bool {
	seen := make(map[int64]struct{}, len(recs))
	for _, r := range recs {
		if r.Err != nil {
			continue
		}
		if _, ok := seen[r.ID]; ok {
			return true
		}
		seen[r.ID] = struct{}{}
	}
	return false
}
