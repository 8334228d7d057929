package source

import (
	"github.com/callstream/callstream/connector/calllist"

	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sync/atomic"
	"testing"
	"time"
)

func TestReadWindowWhole(t *testing.T) {
	for _, n := range []int{0, 1, 3, 10} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			f, srv := newFakeVendor(t, n)
			c := newTestClient(t, srv.URL, nil)
			wr, err := c.ReadWindow(context.Background(), testWindow(), fastRetry)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.EqualFunc(wr.Records, f.records, func(a calllist.Raw, b json.RawMessage) bool { return string(a.JSON) == string(b) }) {
				t.Errorf("records = %v, want %s", wr.Records, f.records)
			}
			if want := max((n+2)/3, 1); wr.Pages != want || wr.Rereads != 0 || f.callCount() != want {
				t.Errorf("pages %d, rereads %d, calls %d; want %d pages, no reread", wr.Pages, wr.Rereads, f.callCount(), want)
			}
			if wr.Window != testWindow() {
				t.Errorf("Window %s", wr.Window)
			}
		})
	}
}

func TestReadWindowRereads(t *testing.T) {
	tests := []struct {
		name   string
		setup  func(f *fakeVendor)
		reason string
	}{
		{"insert while paging", func(f *fakeVendor) {
			f.before = func(_ http.ResponseWriter, call int, _ calllist.Request) bool {
				if call == 2 {
					f.mu.Lock()
					f.records = append([]json.RawMessage{json.RawMessage(`{"id":661181201146017}`)}, f.records...)
					f.mu.Unlock()
				}
				return false
			}
		}, "total_count_changed"},
		{"count off once", func(f *fakeVendor) {
			f.count = func(call, real int) int {
				if call <= 4 {
					return real + 1 // four pages either way
				}
				return real
			}
		}, "count_mismatch"},
		{"short page", func(f *fakeVendor) {
			f.before = func(w http.ResponseWriter, call int, req calllist.Request) bool {
				if call != 2 {
					return false
				}
				fmt.Fprintf(w, `{"code":0,"data":{"totalCount":10,"totalPage":4,"pageNo":2,"pageSize":3,"result":[{"id":1}]}}`)
				return true
			}
		}, "short_page"},
		{"duplicate id", func(f *fakeVendor) {
			f.before = func(w http.ResponseWriter, call int, req calllist.Request) bool {
				if call != 2 {
					return false
				}
				fmt.Fprintf(w, `{"code":0,"data":{"totalCount":10,"totalPage":4,"pageNo":2,"pageSize":3,"result":[%s,%s,%s]}}`,
					f.records[0], f.records[1], f.records[2])
				return true
			}
		}, "duplicate_id"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, srv := newFakeVendor(t, 10)
			tc.setup(f)
			var reasons []string
			c := newTestClient(t, srv.URL, func(c *Config) { c.Hooks.Reread = func(r string) { reasons = append(reasons, r) } })
			wr, err := c.ReadWindow(context.Background(), testWindow(), fastRetry)
			if err != nil {
				t.Fatal(err)
			}
			if wr.Rereads != 1 || !slices.Equal(reasons, []string{tc.reason}) {
				t.Errorf("rereads %d, reasons %v; want one %s", wr.Rereads, reasons, tc.reason)
			}
			if len(wr.Records) != len(f.records) {
				t.Errorf("read %d records, want %d", len(wr.Records), len(f.records))
			}
		})
	}
}

func TestReadWindowDriftExhausted(t *testing.T) {
	f, srv := newFakeVendor(t, 10)
	f.count = func(_, real int) int { return real + 1 }
	rereads := 0
	c := newTestClient(t, srv.URL, func(c *Config) {
		c.MaxRereads = 2
		c.Hooks.Reread = func(string) { rereads++ }
	})
	_, err := c.ReadWindow(context.Background(), testWindow(), fastRetry)
	if !errors.Is(err, ErrWindowDrift) || rereads != 2 {
		t.Errorf("err = %v after %d rereads; want ErrWindowDrift after 2", err, rereads)
	}
}

func TestReadWindowRetriesPages(t *testing.T) {
	f, srv := newFakeVendor(t, 10)
	f.before = func(w http.ResponseWriter, call int, _ calllist.Request) bool {
		switch call {
		case 2:
			w.Header().Set("Retry-After", "0")
			w.WriteHeader(503)
			return true
		case 3:
			fmt.Fprint(w, `{"code":0,"data":{"totalCount"`)
			return true
		case 5:
			fmt.Fprint(w, `{"code":401,"message":"sign invalid"}`)
			return true
		}
		return false
	}
	var kinds []Kind
	c := newTestClient(t, srv.URL, func(c *Config) { c.Hooks.Error = func(k Kind, _ error) { kinds = append(kinds, k) } })
	wr, err := c.ReadWindow(context.Background(), testWindow(), fastRetry)
	if err != nil {
		t.Fatal(err)
	}
	if len(wr.Records) != 10 || wr.Rereads != 0 || f.callCount() != 7 {
		t.Errorf("records %d, rereads %d, calls %d; want 10, 0, 7", len(wr.Records), wr.Rereads, f.callCount())
	}
	if want := []Kind{KindHTTP, KindDecode, KindAuth}; !slices.Equal(kinds, want) {
		t.Errorf("error kinds %v, want %v", kinds, want)
	}
}

func TestReadWindowAttempts(t *testing.T) {
	f, srv := newFakeVendor(t, 10)
	f.before = func(w http.ResponseWriter, _ int, _ calllist.Request) bool { w.WriteHeader(500); return true }
	c := newTestClient(t, srv.URL, nil)
	r := fastRetry
	r.Attempts = 3
	_, err := c.ReadWindow(context.Background(), testWindow(), r)
	if KindOf(err) != KindHTTP || f.callCount() != 3 {
		t.Errorf("err = %v after %d calls; want an http error after 3", err, f.callCount())
	}
}

func TestReadWindowStopsWithContext(t *testing.T) {
	f, srv := newFakeVendor(t, 10)
	f.before = func(w http.ResponseWriter, _ int, _ calllist.Request) bool { w.WriteHeader(500); return true }
	c := newTestClient(t, srv.URL, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err := c.ReadWindow(ctx, testWindow(), Retry{Initial: time.Millisecond, Max: time.Hour})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err = %v, want the context's deadline", err)
	}
}

func TestReadWindowTooManyPages(t *testing.T) {
	f, srv := newFakeVendor(t, 10)
	c := newTestClient(t, srv.URL, func(c *Config) { c.MaxPages = 2 })
	_, err := c.ReadWindow(context.Background(), testWindow(), fastRetry)
	var tm *TooManyPagesError
	if !errors.As(err, &tm) || !errors.Is(err, ErrTooManyPages) || tm.TotalPage != 4 || f.callCount() != 1 {
		t.Fatalf("err = %v after %d calls; want TooManyPagesError{4} after page 1", err, f.callCount())
	}
	one := calllist.Window{Start: testWindow().Start, End: testWindow().Start}
	wr, err := c.ReadWindow(context.Background(), one, fastRetry)
	if err != nil || len(wr.Records) != 10 {
		t.Errorf("one-second window: %v, %d records; want it read whole", err, len(wr.Records))
	}
}

func TestRetryDelay(t *testing.T) {
	r := Retry{Initial: 10 * time.Millisecond, Max: time.Second}.withDefaults()
	b := r.backoff()
	for n := range 20 {
		ceiling := min(10*time.Millisecond<<n, time.Second)
		if d := r.delay(b.Next(), errors.New("x")); d < 0 || d >= ceiling {
			t.Errorf("delay(%d) = %s, want in [0, %s)", n, d, ceiling)
		}
	}
	auth := fmt.Errorf("fetching: %w", &APIError{Kind: KindAuth})
	if d := r.delay(r.Initial, auth); d != time.Second {
		t.Errorf("auth delay = %s, want Max", d)
	}
	if d := r.delay(r.Initial, &APIError{Kind: KindHTTP, RetryAfter: 300 * time.Millisecond}); d < 300*time.Millisecond {
		t.Errorf("delay with Retry-After 300ms = %s", d)
	}
	if d := r.delay(r.Initial, &APIError{Kind: KindHTTP, RetryAfter: time.Hour}); d != time.Second {
		t.Errorf("delay with Retry-After 1h = %s, want Max", d)
	}
}

// TestReadWindowFetchesPagesAtOnce reads a window of ten pages with pages
// 2..10 fetched up to four at once, each answer slow: the records come out
// in page order, no more than four requests are in flight, and a page that
// drifts (a call inserted as page 3 is read) still makes the window be read
// again.
func TestReadWindowFetchesPagesAtOnce(t *testing.T) {
	for _, drift := range []bool{false, true} {
		t.Run(fmt.Sprintf("drift=%v", drift), func(t *testing.T) {
			f, srv := newFakeVendor(t, 30)
			want := slices.Clone(f.records)
			var inFlight, most atomic.Int32
			var inserted atomic.Bool
			f.before = func(_ http.ResponseWriter, _ int, req calllist.Request) bool {
				n := inFlight.Add(1)
				defer inFlight.Add(-1)
				for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
				}
				if drift && req.PageNo == 3 && inserted.CompareAndSwap(false, true) {
					f.mu.Lock()
					f.records = append(f.records, json.RawMessage(`{"id":661181201140000,"status":2}`))
					f.mu.Unlock()
				}
				time.Sleep(20 * time.Millisecond)
				return false
			}
			var rereads atomic.Int32
			c := newTestClient(t, srv.URL, func(c *Config) {
				c.PageConcurrency = 4
				c.Hooks.Reread = func(string) { rereads.Add(1) }
			})
			wr, err := c.ReadWindow(context.Background(), testWindow(), fastRetry)
			if err != nil {
				t.Fatal(err)
			}
			if drift {
				want = append(want, json.RawMessage(`{"id":661181201140000,"status":2}`))
			}
			if !slices.EqualFunc(wr.Records, want, func(a calllist.Raw, b json.RawMessage) bool { return string(a.JSON) == string(b) }) {
				t.Errorf("records = %v\nwant %s", wr.Records, want)
			}
			if got := most.Load(); got < 2 || got > 4 {
				t.Errorf("at most %d requests in flight, want 2..4", got)
			}
			if wantRereads := map[bool]int32{false: 0, true: 1}[drift]; rereads.Load() != wantRereads || wr.Rereads != int(wantRereads) {
				t.Errorf("rereads %d (hook %d), want %d", wr.Rereads, rereads.Load(), wantRereads)
			}
		})
	}
}
