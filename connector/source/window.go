package source

import (
	"context"
	"fmt"
	"slices"

	"github.com/callstream/callstream/connector/calllist"
	"github.com/callstream/callstream/internal/pause"
	"golang.org/x/sync/errgroup"
)

// WindowRead is a window read whole: every call the API listed in it, each
// id once.
type WindowRead struct {
	Window calllist.Window
	// Records are every record, pages in order, as received; for a
	// listing accepted as listed (see Inconsistent), the union over the
	// reads, each id once, in its latest form.
	Records []calllist.Raw
	Pages   int // pages fetched in the last read
	Rereads int // times the window was read again because it drifted
	// PageSize is the page size the last read asked for.
	PageSize int
	// Inconsistent is set when the reads of the window kept disagreeing and
	// it was accepted as listed (see ReadWindow).
	Inconsistent *Inconsistency
}

// Reasons of an Inconsistency: the bounded label values of a metric.
const (
	// InconsistentCount: a window of one page whose records never
	// matched its totalCount.
	InconsistentCount = "count_mismatch"
	// InconsistentDuplicate: a window of one page that listed an id twice
	// on every read.
	InconsistentDuplicate = "duplicate_id"
	// InconsistentOneSecond: a window of one second, which cannot be
	// narrowed, holding more than one page, whose reads kept disagreeing.
	InconsistentOneSecond = "one_second"
)

// InconsistentReasons returns every reason of an Inconsistency.
func InconsistentReasons() []string {
	return []string{InconsistentCount, InconsistentDuplicate, InconsistentOneSecond}
}

// Inconsistency says what disagreed in a window accepted as listed.
type Inconsistency struct {
	Reason string // one of InconsistentReasons
	// Drift is what the last read disagreed on: count_mismatch,
	// duplicate_id, short_page or total_count_changed.
	Drift      string
	TotalCount int // the last read's totalCount
	Listed     int // records the last read listed
	Reads      int // reads of the window made
	// Twice are ids listed twice within one read, at most maxTwice.
	Twice []int64
}

// maxTwice bounds Inconsistency.Twice.
const maxTwice = 10

// minOneSecondRereads is the fewest rereads of a window of one second
// over several pages before it is taken as listed: each at a page size one
// smaller than the read before, so that page boundaries, where an unstable
// order hides a call, fall elsewhere.
const minOneSecondRereads = 3

// maxCapRereads bounds the reads of one window made again at a page cap
// learnt in it; each asks fewer records a page than the one before.
const maxCapRereads = 8

// drift is why a read of a window is not whole; it is one of the reasons
// given to Hooks.Reread.
type drift string

// Reasons a read is not whole.
const (
	driftTotalCount drift = "total_count_changed"
	driftShortPage  drift = "short_page"
	driftCount      drift = "count_mismatch"
	driftDuplicate  drift = "duplicate_id"
	// driftCapped: page 1 showed a page cap; read again at it.
	driftCapped drift = "page_cap"
)

// ReadWindow reads pages 1..totalPage of w, retrying each failed page per
// retry (see Retry). It checks that the read is whole: totalCount equal on
// every page, every page but the last full, as many records as totalCount
// and no id twice. If not, the window is read again from page 1 (calling
// Hooks.Reread), and when the reads keep disagreeing:
//
//   - a window that fits one page (paging cannot disagree with itself) is
//     accepted as listed after one reread: the union of the ids of its
//     reads, each once, with WindowRead.Inconsistent saying what disagreed;
//   - a window of one second, which cannot be narrowed, is read again
//     at page sizes one smaller each time (so that page boundaries move),
//     until the union of its ids reaches its totalCount or after
//     max(Config.MaxRereads, 3) rereads, and accepted the same way;
//   - any other window, after Config.MaxRereads rereads, returns an error
//     wrapping ErrWindowDrift: narrow it (split it and read the halves).
//
// Page 1 holding fewer records than a full page while it is not the last
// is a page cap, said or not: the client pages by the records the server
// granted from then on (Hooks.PageSize), and reads the window again at that
// size. While a cap lower than Config.PageSize is in use, page 1 is asked at
// Config.PageSize again every Config.PageSizeProbe, to notice a raised cap.
//
// If page 1 says the window holds more than Config.MaxPages pages and w can
// be split, it returns a *TooManyPagesError (errors.Is ErrTooManyPages):
// split the window and read each half. A window of one second is read
// whatever its size.
//
// It returns when the window was read whole, ctx is done, a page's retries
// ran out (Retry.Attempts) or a window that can be narrowed kept drifting;
// it makes at most max(Config.MaxRereads, 3)+1 reads of the window, and up
// to maxCapRereads more at page caps it learnt on the way.
func (c *Client) ReadWindow(ctx context.Context, w calllist.Window, retry Retry) (*WindowRead, error) {
	retry = retry.withDefaults()
	maxRereads := max(c.cfg.MaxRereads, 0)
	var u union
	rereads, capRereads := 0, 0
	smaller := 0 // records a page fewer than the size in use
	for {
		p, err := c.readOnce(ctx, w, smaller, retry)
		if err != nil {
			return nil, err
		}
		if p.why == "" {
			return &WindowRead{Window: w, Records: p.records, Pages: p.pages, Rereads: rereads, PageSize: p.size}, nil
		}
		u.add(p)
		if p.why == driftCapped && capRereads < maxCapRereads {
			capRereads++
			continue
		}
		onePage := p.totalPage <= 1
		switch {
		case onePage && rereads >= min(1, maxRereads):
			if c.hiddenCap(ctx, w, p, &u, retry) && capRereads < maxCapRereads {
				capRereads++
				continue
			}
			return u.accept(w, p, rereads), nil
		case !w.CanSplit() && (rereads >= max(maxRereads, minOneSecondRereads) || len(u.recs) >= p.totalCount):
			return u.accept(w, p, rereads), nil
		case !w.CanSplit():
			// The same boundaries would hide the same calls again.
			smaller++
		case rereads >= maxRereads:
			return nil, fmt.Errorf("reading window %s: %w after %d rereads (%s)", w, ErrWindowDrift, rereads, p.why)
		}
		rereads++
		if h := c.cfg.Hooks.Reread; h != nil {
			h(string(p.why))
		}
		// A short pause lets whatever moved the window settle.
		if err := pause.For(ctx, retry.delay(retry.Initial, nil)); err != nil {
			return nil, fmt.Errorf("reading window %s: %w", w, err)
		}
	}
}

// pass is one read of a window from page 1.
type pass struct {
	records    []calllist.Raw // of every page fetched, in order
	pages      int            // pages fetched
	totalPage  int            // page 1's, at least 1
	totalCount int            // page 1's
	size       int            // the page size asked
	why        drift          // "" when the read is whole
	twice      []int64        // ids listed twice, at most maxTwice
}

// readOnce reads w once from page 1, asking smaller records a page fewer
// than the size in use (at least one). A read that is not whole says why
// in the pass, with no error.
func (c *Client) readOnce(ctx context.Context, w calllist.Window, smaller int, retry Retry) (*pass, error) {
	asked := max(c.size.ask(c.cfg.Clock())-smaller, 1)
	first, err := c.fetchRetry(ctx, w, 1, asked, retry)
	if err != nil {
		return nil, err
	}
	p := &pass{records: first.Records, pages: 1, totalPage: max(first.TotalPage, 1), totalCount: first.TotalCount, size: asked}
	full := asked // the records of a page that is not the last
	if first.PageSize > 0 && first.PageSize < asked {
		// A cap the server says: it pages by it, this read too.
		full = first.PageSize
		c.size.capped(c.cfg.Clock(), asked, full, PageSizeEchoed)
	}
	if rows := len(first.Records); p.totalPage > 1 && rows < full {
		if rows == 0 {
			p.why = driftShortPage
			return p, nil
		}
		// A cap the server does not say: it lists rows a page, and
		// the rows between went unlisted.
		c.size.capped(c.cfg.Clock(), asked, rows, PageSizeCapped)
		p.why = driftCapped
		return p, nil
	}
	c.size.full(asked, len(first.Records))
	if c.cfg.MaxPages > 0 && first.TotalPage > c.cfg.MaxPages && w.CanSplit() {
		return nil, fmt.Errorf("reading window %s: %w", w, &TooManyPagesError{TotalPage: first.TotalPage, MaxPages: c.cfg.MaxPages})
	}
	rest, err := c.fetchPages(ctx, w, 2, p.totalPage, asked, retry)
	if err != nil {
		return nil, err
	}
	for i, pg := range rest {
		n := i + 2
		p.pages++
		switch {
		case p.why != "":
		case pg.TotalCount != first.TotalCount:
			p.why = driftTotalCount
		case n < p.totalPage && len(pg.Records) < full:
			p.why = driftShortPage
		}
		p.records = append(p.records, pg.Records...)
	}
	p.twice = duplicateIDs(p.records)
	switch {
	case p.why != "":
	case len(p.records) != first.TotalCount:
		p.why = driftCount
	case len(p.twice) > 0:
		p.why = driftDuplicate
	}
	return p, nil
}

// hiddenCap tells a silent page cap from a count that does not add up, in
// a window of one page whose records fall short of its totalCount: page 2
// asked at as many records as page 1 held lists more of the window only if
// the server caps its pages. It learns the cap if so, adding what page 2
// listed to u.
func (c *Client) hiddenCap(ctx context.Context, w calllist.Window, p *pass, u *union, retry Retry) bool {
	rows := len(p.records)
	if p.why != driftCount || rows == 0 || rows >= p.totalCount || rows >= p.size {
		return false
	}
	next, err := c.fetchRetry(ctx, w, 2, rows, retry)
	if err != nil {
		// No answer, no cap learnt: the window is taken as listed, and
		// the re-scan tiers read it again.
		return false
	}
	if !u.adds(next.Records) {
		return false
	}
	u.addRecords(next.Records)
	c.size.capped(c.cfg.Clock(), p.size, rows, PageSizeCapped)
	return true
}

// union gathers the records of the reads of one window, each id once in
// its latest form; records without an id are those of the latest read.
type union struct {
	recs  []calllist.Raw
	at    map[int64]int // index in recs by id
	noID  []calllist.Raw
	reads int
	twice []int64
}

func (u *union) add(p *pass) {
	u.reads++
	u.noID = u.noID[:0]
	u.addRecords(p.records)
	for _, id := range p.twice {
		if len(u.twice) < maxTwice && !slices.Contains(u.twice, id) {
			u.twice = append(u.twice, id)
		}
	}
}

// addRecords adds records listed outside a read from page 1.
func (u *union) addRecords(recs []calllist.Raw) {
	if u.at == nil {
		u.at = map[int64]int{}
	}
	for _, r := range recs {
		if r.Err != nil {
			u.noID = append(u.noID, r)
			continue
		}
		if i, ok := u.at[r.ID]; ok {
			u.recs[i] = r
			continue
		}
		u.at[r.ID] = len(u.recs)
		u.recs = append(u.recs, r)
	}
}

// adds reports whether recs hold an id that u does not.
func (u *union) adds(recs []calllist.Raw) bool {
	for _, r := range recs {
		if _, ok := u.at[r.ID]; r.Err == nil && !ok {
			return true
		}
	}
	return false
}

// accept returns the union as the window read, last being its last read.
func (u *union) accept(w calllist.Window, last *pass, rereads int) *WindowRead {
	in := &Inconsistency{Reason: InconsistentCount, Drift: string(last.why), TotalCount: last.totalCount,
		Listed: len(last.records), Reads: u.reads, Twice: u.twice}
	switch {
	case last.totalPage > 1:
		in.Reason = InconsistentOneSecond
	case len(u.twice) > 0:
		in.Reason = InconsistentDuplicate
	}
	recs := append(slices.Clip(u.recs), u.noID...)
	return &WindowRead{Window: w, Records: recs, Pages: last.pages, Rereads: rereads, PageSize: last.size, Inconsistent: in}
}

// fetchPages fetches pages from..to of w (none if to < from), up to
// Config.PageConcurrency at once (in page order when that is 1), and
// returns them in order. A page whose retries run out cancels the others.
func (c *Client) fetchPages(ctx context.Context, w calllist.Window, from, to, size int, retry Retry) ([]*calllist.Page, error) {
	out := make([]*calllist.Page, max(to-from+1, 0))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(max(c.cfg.PageConcurrency, 1))
	for i := range out {
		g.Go(func() error {
			p, err := c.fetchRetry(gctx, w, from+i, size, retry)
			out[i] = p
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return out, nil
}

// duplicateIDs returns the ids that two records share, at most maxTwice.
// Records without a readable id are left to the caller.
func duplicateIDs(recs []calllist.Raw) []int64 {
	var twice []int64
	seen := make(map[int64]struct{}, len(recs))
	for _, r := range recs {
		if r.Err != nil {
			continue
		}
		if _, ok := seen[r.ID]; ok {
			if len(twice) < maxTwice {
				twice = append(twice, r.ID)
			}
			continue
		}
		seen[r.ID] = struct{}{}
	}
	return twice
}
