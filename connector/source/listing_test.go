package source

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/callstream/callstream/connector/calllist"
)

// idsOf returns the ids of recs in order.
func idsOf(recs []calllist.Raw) []int64 {
	out := make([]int64, len(recs))
	for i, r := range recs {
		out[i] = r.ID
	}
	return out
}

// vendorIDs returns the ids the fake vendor holds, in order.
func vendorIDs(t *testing.T, f *fakeVendor) []int64 {
	t.Helper()
	var out []int64
	for _, r := range f.records {
		var v struct{ ID int64 }
		if err := json.Unmarshal(r, &v); err != nil {
			t.Fatal(err)
		}
		out = append(out, v.ID)
	}
	return out
}

// oneSecond is a window that cannot be narrowed.
func oneSecond() calllist.Window {
	return calllist.Window{Start: testWindow().Start, End: testWindow().Start}
}

// Re-reads that keep disagreeing end in a decision that depends on the
// window: narrow one of several pages that can split, take as listed one
// that fits a page or lasts one second.
func TestReadWindowNarrowingDecisions(t *testing.T) {
	for _, tc := range []struct {
		name    string
		records int
		window  calllist.Window
		reason  string // "" wants ErrWindowDrift
		reads   int    // reads of page 1 made
	}{
		{"several pages, can split: narrow", 10, testWindow(), "", 3},
		{"one page: taken as listed after one reread", 2, testWindow(), InconsistentCount, 2},
		{"one second over several pages: taken as listed", 10, oneSecond(), InconsistentOneSecond, 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, srv := newFakeVendor(t, tc.records)
			f.count = func(_, real int) int { return real + 1 } // on every read
			firsts := 0
			var mu sync.Mutex
			f.page = func(_ int, req calllist.Request, res []json.RawMessage) []json.RawMessage {
				if req.PageNo == 1 {
					mu.Lock()
					firsts++
					mu.Unlock()
				}
				return res
			}
			c := newTestClient(t, srv.URL, nil)
			wr, err := c.ReadWindow(context.Background(), tc.window, fastRetry)
			if tc.reason == "" {
				if !errors.Is(err, ErrWindowDrift) {
					t.Fatalf("err = %v, want ErrWindowDrift", err)
				}
			} else {
				if err != nil {
					t.Fatal(err)
				}
				in := wr.Inconsistent
				if in == nil || in.Reason != tc.reason || in.TotalCount != tc.records+1 || in.Reads != tc.reads {
					t.Fatalf("Inconsistent = %+v, want reason %s, count %d, %d reads", in, tc.reason, tc.records+1, tc.reads)
				}
				if got := idsOf(wr.Records); !slices.Equal(got, vendorIDs(t, f)) {
					t.Errorf("records %v, want every call once: %v", got, vendorIDs(t, f))
				}
			}
			if firsts != tc.reads {
				t.Errorf("page 1 read %d times, want %d", firsts, tc.reads)
			}
		})
	}
}

// A page that lists an id twice on every read of a one-page window: taken
// as listed, the call once.
func TestReadWindowOnePageDuplicate(t *testing.T) {
	f, srv := newFakeVendor(t, 3)
	f.count = func(_, real int) int { return real + 1 }
	f.page = func(_ int, _ calllist.Request, res []json.RawMessage) []json.RawMessage {
		return append(res, res[0])
	}
	c := newTestClient(t, srv.URL, func(c *Config) { c.PageSize = 10 })
	wr, err := c.ReadWindow(context.Background(), testWindow(), fastRetry)
	if err != nil {
		t.Fatal(err)
	}
	if in := wr.Inconsistent; in == nil || in.Reason != InconsistentDuplicate || !slices.Equal(in.Twice, vendorIDs(t, f)[:1]) {
		t.Fatalf("Inconsistent = %+v, want duplicate_id naming %d", in, vendorIDs(t, f)[0])
	}
	if got := idsOf(wr.Records); !slices.Equal(got, vendorIDs(t, f)) {
		t.Errorf("records %v, want %v", got, vendorIDs(t, f))
	}
}

// The ids of every read of a one-second window make its listing, each
// once in its latest form: a call hidden at one page boundary is found at
// another page size.
func TestReadWindowOneSecondUnion(t *testing.T) {
	f, srv := newFakeVendor(t, 10)
	// Every page but the last lists the next page's first call in place
	// of its own last one: one call twice, one not at all.
	f.page = func(_ int, req calllist.Request, res []json.RawMessage) []json.RawMessage {
		next := req.PageNo * req.PageSize
		if len(res) > 0 && next < len(f.records) {
			res[len(res)-1] = f.records[next]
		}
		return res
	}
	c := newTestClient(t, srv.URL, nil)
	wr, err := c.ReadWindow(context.Background(), oneSecond(), fastRetry)
	if err != nil {
		t.Fatal(err)
	}
	got := idsOf(wr.Records)
	slices.Sort(got)
	want := vendorIDs(t, f)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("records %v, want every call once: %v", got, want)
	}
	if in := wr.Inconsistent; in == nil || in.Reason != InconsistentOneSecond || len(in.Twice) == 0 {
		t.Errorf("Inconsistent = %+v, want one_second with the ids listed twice", in)
	}
}

// A window that keeps drifting is never read for ever: the client stops
// after its rereads, and a one-second window is taken as listed.
func TestReadWindowRereadsAreBounded(t *testing.T) {
	f, srv := newFakeVendor(t, 10)
	f.count = func(call, real int) int { return real + call } // a new count every request
	var mu sync.Mutex
	firsts := 0
	f.page = func(_ int, req calllist.Request, res []json.RawMessage) []json.RawMessage {
		if req.PageNo == 1 {
			mu.Lock()
			firsts++
			mu.Unlock()
		}
		return res
	}
	c := newTestClient(t, srv.URL, nil)
	if _, err := c.ReadWindow(context.Background(), testWindow(), fastRetry); !errors.Is(err, ErrWindowDrift) {
		t.Errorf("err = %v, want ErrWindowDrift", err)
	}
	if firsts != DefaultMaxRereads+1 {
		t.Errorf("window read %d times, want %d", firsts, DefaultMaxRereads+1)
	}
	wr, err := c.ReadWindow(context.Background(), oneSecond(), fastRetry)
	if err != nil || wr.Inconsistent == nil {
		t.Fatalf("one second: %v, %+v; want it taken as listed", err, wr)
	}
	if want := DefaultMaxRereads + 1 + minOneSecondRereads + 1; firsts != want {
		t.Errorf("windows read %d times, want %d", firsts, want)
	}
}

// sizeLog records the page size changes a client reports.
type sizeLog struct {
	mu      sync.Mutex
	changes []string
}

func (l *sizeLog) hook(from, to int, reason string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.changes = append(l.changes, reason+":"+strconv.Itoa(from)+"->"+strconv.Itoa(to))
}

func (l *sizeLog) got() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.changes)
}

// fakeTime is a clock moved by the test.
type fakeTime struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeTime) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeTime) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// A server that lists fewer records a page than asked while echoing the
// size asked: the client learns the cap from page 1, pages by it, follows
// a lower cap later, and finds a raised one by asking the configured size
// again after PageSizeProbe.
func TestReadWindowLearnsASilentPageCap(t *testing.T) {
	f, srv := newFakeVendor(t, 30)
	f.cap = 4
	var log sizeLog
	clock := &fakeTime{t: time.Date(2025, 3, 21, 6, 0, 0, 0, time.UTC)}
	c := newTestClient(t, srv.URL, func(c *Config) {
		c.PageSize = 10
		c.PageSizeProbe = time.Minute
		c.Clock = clock.now
		c.Hooks.PageSize = log.hook
	})
	read := func(want int) {
		t.Helper()
		wr, err := c.ReadWindow(context.Background(), testWindow(), fastRetry)
		if err != nil {
			t.Fatal(err)
		}
		if got := idsOf(wr.Records); !slices.Equal(got, vendorIDs(t, f)) || wr.PageSize != want || wr.Inconsistent != nil {
			t.Fatalf("read %d records at page size %d (%+v), want all %d at %d", len(got), wr.PageSize, wr.Inconsistent, len(f.records), want)
		}
		if c.PageSize() != want {
			t.Fatalf("PageSize() = %d, want %d", c.PageSize(), want)
		}
	}
	read(4)
	f.mu.Lock()
	f.cap = 3 // lowered mid-flight
	f.mu.Unlock()
	read(3)
	f.mu.Lock()
	f.cap = 0 // raised: only a probe finds out
	f.mu.Unlock()
	read(3)
	clock.add(time.Minute)
	read(10)
	want := []string{"capped:10->4", "capped:4->3", "raised:3->10"}
	if got := log.got(); !slices.Equal(got, want) {
		t.Errorf("page size changes %v, want %v", got, want)
	}
}

// A window of one page at the size asked whose records fall short of its
// count: page 2 at as many records tells a silent cap (more calls) from a
// count one too many (none).
func TestReadWindowHiddenCapInOnePage(t *testing.T) {
	for _, capped := range []bool{true, false} {
		f, srv := newFakeVendor(t, 8)
		if capped {
			f.cap = 5
		} else {
			f.records = f.records[:5]
			f.count = func(_, real int) int { return real + 3 }
		}
		c := newTestClient(t, srv.URL, func(c *Config) { c.PageSize = 10 })
		wr, err := c.ReadWindow(context.Background(), testWindow(), fastRetry)
		if err != nil {
			t.Fatal(err)
		}
		if got := idsOf(wr.Records); !slices.Equal(got, vendorIDs(t, f)) {
			t.Errorf("capped %v: records %v, want %v", capped, got, vendorIDs(t, f))
		}
		if capped && (wr.Inconsistent != nil || c.PageSize() != 5) {
			t.Errorf("capped: Inconsistent %+v, page size %d; want whole at 5", wr.Inconsistent, c.PageSize())
		}
		if !capped && (wr.Inconsistent == nil || wr.Inconsistent.Reason != InconsistentCount || c.PageSize() != 10) {
			t.Errorf("count off: Inconsistent %+v, page size %d; want count_mismatch at 10", wr.Inconsistent, c.PageSize())
		}
	}
}
