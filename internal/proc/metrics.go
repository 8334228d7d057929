package proc

import (
	"context"
	"fmt"
	"io"
	"net/http"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// Metrics is a /metrics page in the Prometheus text format, by family
// name.
type Metrics map[string]*dto.MetricFamily

// ParseMetrics reads a page in the Prometheus text format.
func ParseMetrics(r io.Reader) (Metrics, error) {
	p := expfmt.NewTextParser(model.UTF8Validation)
	mfs, err := p.TextToMetricFamilies(r)
	if err != nil {
		return nil, fmt.Errorf("parsing metrics: %w", err)
	}
	return mfs, nil
}

// Scrape reads the metrics page at url.
func Scrape(ctx context.Context, url string) (Metrics, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("scraping %s: %w", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("scraping %s: %s", url, resp.Status)
	}
	m, err := ParseMetrics(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("scraping %s: %w", url, err)
	}
	return m, nil
}

// ScrapeSum scrapes url and returns the sum of the samples of the counter,
// gauge or untyped family name, whatever their labels.
func ScrapeSum(ctx context.Context, url, name string) (float64, error) {
	m, err := Scrape(ctx, url)
	if err != nil {
		return 0, err
	}
	v, ok := m.Sum(name)
	if !ok {
		return 0, fmt.Errorf("scraping %s: no %s", url, name)
	}
	return v, nil
}

// Sum returns the sum of the samples of the counter, gauge or untyped
// family name that carry every label of labels, given as name, value
// pairs; false when no sample matches.
func (m Metrics) Sum(name string, labels ...string) (float64, bool) {
	mf := m[name]
	if mf == nil {
		return 0, false
	}
	var sum float64
	found := false
	for _, s := range mf.GetMetric() {
		if !hasLabels(s, labels) {
			continue
		}
		switch {
		case s.Counter != nil:
			sum += s.Counter.GetValue()
		case s.Gauge != nil:
			sum += s.Gauge.GetValue()
		case s.Untyped != nil:
			sum += s.Untyped.GetValue()
		default:
			continue
		}
		found = true
	}
	return sum, found
}

func hasLabels(s *dto.Metric, labels []string) bool {
	for i := 0; i+1 < len(labels); i += 2 {
		found := false
		for _, lp := range s.GetLabel() {
			if lp.GetName() == labels[i] && lp.GetValue() == labels[i+1] {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// SampleNames returns the names a query can select on the page: each
// family's name and, for histograms and summaries, its _sum and _count,
// and _bucket for histograms.
func (m Metrics) SampleNames() map[string]bool {
	names := map[string]bool{}
	for name, mf := range m {
		names[name] = true
		switch mf.GetType() {
		case dto.MetricType_HISTOGRAM, dto.MetricType_GAUGE_HISTOGRAM:
			names[name+"_bucket"] = true
			fallthrough
		case dto.MetricType_SUMMARY:
			names[name+"_sum"] = true
			names[name+"_count"] = true
		}
	}
	return names
}
