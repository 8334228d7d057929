package proc

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
)

const page = `# HELP callstream_records_read_total Records read.
# TYPE callstream_records_read_total counter
callstream_records_read_total 12
# TYPE callstream_records_read_total_other counter
callstream_records_read_total_other 5
# TYPE callstream_backfill_progress_ratio gauge
callstream_backfill_progress_ratio{source="a",type="call"} 0.5
callstream_backfill_progress_ratio{source="b",type="call"} 0.25
# TYPE callstream_event_delay_seconds histogram
callstream_event_delay_seconds_bucket{le="1"} 2
callstream_event_delay_seconds_bucket{le="+Inf"} 3
callstream_event_delay_seconds_sum 4.5
callstream_event_delay_seconds_count 3
`

func TestSum(t *testing.T) {
	m, err := ParseMetrics(strings.NewReader(page))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		labels []string
		want   float64
		ok     bool
	}{
		{"callstream_records_read_total", nil, 12, true},
		{"callstream_backfill_progress_ratio", nil, 0.75, true},
		{"callstream_backfill_progress_ratio", []string{"source", "b"}, 0.25, true},
		{"callstream_backfill_progress_ratio", []string{"source", "b", "type", "call"}, 0.25, true},
		{"callstream_backfill_progress_ratio", []string{"source", "c"}, 0, false},
		{"callstream_event_delay_seconds", nil, 0, false},
		{"callstream_absent", nil, 0, false},
	} {
		if got, ok := m.Sum(tc.name, tc.labels...); got != tc.want || ok != tc.ok {
			t.Errorf("Sum(%s, %q) = %v, %v; want %v, %v", tc.name, tc.labels, got, ok, tc.want, tc.ok)
		}
	}
}

func TestSampleNames(t *testing.T) {
	m, err := ParseMetrics(strings.NewReader(page))
	if err != nil {
		t.Fatal(err)
	}
	got := slices.Sorted(maps.Keys(m.SampleNames()))
	want := []string{
		"callstream_backfill_progress_ratio",
		"callstream_event_delay_seconds", "callstream_event_delay_seconds_bucket",
		"callstream_event_delay_seconds_count", "callstream_event_delay_seconds_sum",
		"callstream_records_read_total", "callstream_records_read_total_other",
	}
	if !slices.Equal(got, want) {
		t.Errorf("SampleNames = %q, want %q", got, want)
	}
}

func TestParseMetricsRefusesBadText(t *testing.T) {
	if _, err := ParseMetrics(strings.NewReader("callstream_x{ 1\n")); err == nil {
		t.Error("ParseMetrics of a broken page succeeded")
	}
}

func TestScrapeSum(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { fmt.Fprint(w, page) }))
	defer srv.Close()
	ctx := context.Background()
	if got, err := ScrapeSum(ctx, srv.URL, "callstream_backfill_progress_ratio"); err != nil || got != 0.75 {
		t.Errorf("ScrapeSum = %v, %v; want 0.75, nil", got, err)
	}
	if _, err := ScrapeSum(ctx, srv.URL, "callstream_absent"); err == nil || !strings.Contains(err.Error(), "no callstream_absent") {
		t.Errorf("ScrapeSum of an absent metric = %v, want an error naming it", err)
	}
	down := httptest.NewServer(http.NotFoundHandler())
	defer down.Close()
	if _, err := ScrapeSum(ctx, down.URL, "callstream_records_read_total"); err == nil {
		t.Error("ScrapeSum of a 404 page succeeded")
	}
}
