package source

import (
	"sync"
	"time"
)

// DefaultPageSizeProbe is how often, while a lower cap is in use, page 1 of
// a window is asked at the configured page size again to find out whether
// the vendor raised its cap.
const DefaultPageSizeProbe = 10 * time.Minute

// Reasons a page size changes, given to Hooks.PageSize.
const (
	// PageSizeCapped: page 1 of a window held fewer records than asked and
	// was not the last, or was one page whose rows fell short of its
	// totalCount while page 2 at that many rows listed more: a cap the
	// server did not say. The size in use becomes the rows it granted.
	PageSizeCapped = "capped"
	// PageSizeEchoed: the server said in its pageSize that it grants
	// fewer records than asked.
	PageSizeEchoed = "echoed"
	// PageSizeRaised: page 1 asked at the configured size held more
	// records than the cap in use: the vendor raised its cap.
	PageSizeRaised = "raised"
)

// pageSizer is the page size a client asks: the configured one until the
// server shows a lower cap, that cap from then on, and now and then the
// configured one again to notice a raised cap. It is safe for concurrent
// use.
type pageSizer struct {
	mu         sync.Mutex
	configured int
	inUse      int
	probeEvery time.Duration
	nextProbe  time.Time
	changed    func(from, to int, reason string)
}

// ask returns the size page 1 of a read asks for at now: the size in use,
// or the configured one when a probe for a raised cap is due.
func (p *pageSizer) ask(now time.Time) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.inUse < p.configured && !now.Before(p.nextProbe) {
		p.nextProbe = now.Add(p.probeEvery)
		return p.configured
	}
	return p.inUse
}

// current returns the size in use.
func (p *pageSizer) current() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.inUse
}

// capped notes at now that a page asked at asked held only rows
// (0 < rows < asked) records, for reason: the cap in use from now on, the
// configured size tried again after probeEvery.
func (p *pageSizer) capped(now time.Time, asked, rows int, reason string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if rows <= 0 || rows >= asked {
		return
	}
	if rows < p.inUse {
		p.nextProbe = now.Add(p.probeEvery)
	} else if rows > p.inUse {
		reason = PageSizeRaised // a probe met a cap higher than the one in use
	}
	p.setLocked(rows, reason)
}

// full notes that page 1 asked at asked held rows records and was full
// (or the whole window): the cap is at least rows. A probe at the configured
// size that saw more than the cap in use raises it back to the configured
// size; a lower cap, if any, shows on the next window of more rows.
func (p *pageSizer) full(asked, rows int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if asked > p.inUse && rows > p.inUse {
		p.setLocked(asked, PageSizeRaised)
	}
}

func (p *pageSizer) setLocked(size int, reason string) {
	if size == p.inUse {
		return
	}
	from := p.inUse
	p.inUse = size
	if p.changed != nil {
		p.changed(from, size, reason)
	}
}
