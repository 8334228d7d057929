package simulator

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/callstream/callstream/connector/source"
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
	body := `{"type":"call","pageNo":50,"pageSize":1000}`
	ts := "1742536800000"
	sign := source.Signer{}.Sign(testAppID, testKey, ts, []byte(body)).Reveal()
	b.ReportAllocs()
	for b.Loop() {
		req := httptest.NewRequest(http.MethodPost, source.Path, strings.NewReader(body))
		req.Header.Set("appId", testAppID)
		req.Header.Set("appKey", testKey.Reveal())
		req.Header.Set("timestamp", ts)
		req.Header.Set("sign", sign)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != 200 {
			b.Fatal(rec.Code)
		}
	}
	b.ReportMetric(float64(b.N)*1000/b.Elapsed().Seconds(), "records/s")
}

// BenchmarkReadWindow pages through 100,000 history calls with the client.
func BenchmarkReadWindow(b *testing.B) {
	s, clock := newSim(b, func(c *Config) { c.History = 100_000; c.HistorySpan = 24 * time.Hour })
	c := clientOf(b, s, func(c *source.Config) { c.PageSize = 1000 })
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		wr, err := c.ReadWindow(context.Background(), whole(clock), fastRetry)
		if err != nil {
			b.Fatal(err)
		}
		n += len(wr.Records)
	}
	if n != b.N*100_000 {
		b.Fatalf("read %d records", n)
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "records/s")
}
