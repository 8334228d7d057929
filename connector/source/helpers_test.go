package source

import (
	"github.com/callstream/callstream/connector/calllist"

	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/callstream/callstream/secret"
)

const (
	testAppID = "app-test"
	testKey   = secret.String("the-very-secret-app-key")
)

// sample loads the vendor's example response from testdata.
func sample(t testing.TB) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/getCallList.sample-response.json")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// fakeVendor serves pages of records, checking the sign, and lets a test
// change its answer per request.
type fakeVendor struct {
	t       testing.TB
	mu      sync.Mutex
	records []json.RawMessage
	calls   int
	// before, when set, runs first for every request (1-based call count);
	// returning true means it answered.
	before func(w http.ResponseWriter, call int, req calllist.Request) bool
	// count, when set, overrides the totalCount of the answer.
	count func(call int, real int) int
	// cap, when above 0, caps the records of a page silently: the answer
	// echoes the pageSize asked, and page p starts at (p-1)·pageSize.
	// Set it under mu once requests are made.
	cap int
	// page, when set, changes the records a page lists.
	page func(call int, req calllist.Request, res []json.RawMessage) []json.RawMessage
}

func newFakeVendor(t testing.TB, n int) (*fakeVendor, *httptest.Server) {
	f := &fakeVendor{t: t}
	for i := range n {
		f.records = append(f.records, json.RawMessage(fmt.Sprintf(`{"id":%d,"status":2}`, 661181201146016-int64(i))))
	}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return f, srv
}

func (f *fakeVendor) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	want := calllist.Signer{}.Sign(testAppID, testKey, r.Header.Get("timestamp"), body).Reveal()
	if r.Header.Get("sign") != want || r.Header.Get("appId") != testAppID || r.Header.Get("appKey") != testKey.Reveal() {
		fmt.Fprint(w, `{"code":401,"message":"sign invalid","data":null}`)
		return
	}
	var req calllist.Request
	if err := json.Unmarshal(body, &req); err != nil {
		f.t.Errorf("bad request body %s: %v", body, err)
	}
	f.mu.Lock()
	f.calls++
	call := f.calls
	recs := f.records
	pageCap := f.cap
	f.mu.Unlock()
	if f.before != nil && f.before(w, call, req) {
		return
	}
	total := len(recs)
	if f.count != nil {
		total = f.count(call, total)
	}
	lo := min((req.PageNo-1)*req.PageSize, len(recs))
	rows := req.PageSize
	if pageCap > 0 {
		rows = min(rows, pageCap)
	}
	hi := min(lo+rows, len(recs))
	list := recs[lo:hi]
	if f.page != nil {
		list = f.page(call, req, slices.Clone(list))
	}
	res, _ := json.Marshal(list)
	w.Header().Set("Date", time.Date(2025, 3, 21, 6, 0, 0, 0, time.UTC).Format(http.TimeFormat))
	fmt.Fprintf(w, `{"code":0,"message":"success","data":{"totalCount":%d,"totalPage":%d,"pageNo":%d,"pageSize":%d,"result":%s,"message":"0秒"}}`,
		total, (total+req.PageSize-1)/req.PageSize, req.PageNo, req.PageSize, res)
}

func (f *fakeVendor) callCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls
}

// newTestClient is a client of srv with small pages and fast retries. It
// fetches one page at a time, so that a fake vendor's call numbers are page
// numbers; TestReadWindowFetchesPagesAtOnce covers concurrent fetches.
func newTestClient(t testing.TB, url string, mod func(*Config)) *Client {
	t.Helper()
	cfg := Config{BaseURL: url, AppID: testAppID, AppKey: testKey, PageSize: 3, Timeout: 5 * time.Second, PageConcurrency: 1}
	if mod != nil {
		mod(&cfg)
	}
	c, err := NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

var fastRetry = Retry{Initial: time.Millisecond, Max: 5 * time.Millisecond}

func testWindow() calllist.Window {
	s := time.Date(2025, 3, 21, 0, 0, 0, 0, calllist.CST)
	return calllist.Window{Start: s, End: s.Add(time.Hour - time.Second)}
}
