package simulator

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// BenchmarkPage answers one page of 1000 out of 100,000 and out of
// 1,000,000 history calls: the cost is the page's, not the history's.
func BenchmarkPage(b *testing.B) {
	for _, n := range []int{100_000, 1_000_000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) { benchmarkPage(b, n) })
	}
}

func benchmarkPage(b *testing.B, history int) {
	s, _ := newSim(b, func(c *Config) { c.History = history; c.HistorySpan = 7 * 24 * time.Hour })
	h := s.Handler()
	body := `{"type":"chat","pageNo":50,"pageSize":1000}`
	signed := signedRequest(b, body, "1742536800000")
	b.ReportAllocs()
	for b.Loop() {
		req := httptest.NewRequest(http.MethodPost, callListPath, strings.NewReader(body))
		req.Header = signed.Header
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != 200 {
			b.Fatal(rec.Code)
		}
	}
	b.ReportMetric(float64(b.N)*1000/b.Elapsed().Seconds(), "records/s")
}

// BenchmarkReadWindow pages through 100,000 history calls, 1000 a page.
func BenchmarkReadWindow(b *testing.B) {
	s, clock := newSim(b, func(c *Config) { c.History = 100_000; c.HistorySpan = 24 * time.Hour })
	from, to := whole(clock)
	h := s.Handler()
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		recs, _ := readAll(b, h, from, to, 1000)
		n += len(recs)
	}
	if n != b.N*100_000 {
		b.Fatalf("read %d records", n)
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "records/s")
}
