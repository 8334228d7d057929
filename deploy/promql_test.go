package deploy

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/callstream/callstream/internal/proc"
)

var (
	promqlStrings  = regexp.MustCompile("\"(?:[^\"\\\\]|\\\\.)*\"|'(?:[^'\\\\]|\\\\.)*'|`[^`]*`")
	promqlMatchers = regexp.MustCompile(`\{[^{}]*\}|\[[^\[\]]*\]`)
	promqlGrouping = regexp.MustCompile(`\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^()]*\)`)
	promqlVars     = regexp.MustCompile(`\$\{?\w+\}?`)
	promqlTokens   = regexp.MustCompile(`[0-9][0-9.]*(?:[eE][-+]?[0-9]+)?[a-zA-Z]*|[A-Za-z_:][A-Za-z0-9_:]*\s*\(?`)
	promqlKeywords = map[string]bool{"and": true, "or": true, "unless": true, "bool": true, "offset": true, "inf": true, "nan": true,
		"group_left": true, "group_right": true} // a grouping modifier may have no label list
)

// metricNames returns the metric names a PromQL expression selects: every
// identifier that is not a function or aggregation (those are followed by a
// parenthesis), a keyword, a label name, a string, a range or a Grafana
// variable.
func metricNames(expr string) []string {
	expr = promqlStrings.ReplaceAllString(expr, " ")
	expr = promqlMatchers.ReplaceAllString(expr, " ")
	expr = promqlGrouping.ReplaceAllString(expr, " ")
	expr = promqlVars.ReplaceAllString(expr, " ")
	var names []string
	for _, tok := range promqlTokens.FindAllString(expr, -1) {
		if tok[0] >= '0' && tok[0] <= '9' || strings.HasSuffix(tok, "(") {
			continue
		}
		if tok = strings.TrimSpace(tok); promqlKeywords[strings.ToLower(tok)] {
			continue
		}
		if !slices.Contains(names, tok) {
			names = append(names, tok)
		}
	}
	return names
}

func TestMetricNames(t *testing.T) {
	tests := []struct {
		expr string
		want []string
	}{
		{`up{job="callstream"} == 0 or absent(up{job="callstream"})`, []string{"up"}},
		{`histogram_quantile(0.99, sum by (le) (rate(callstream_event_delay_seconds_bucket{instance=~"$instance"}[$__rate_interval])))`,
			[]string{"callstream_event_delay_seconds_bucket"}},
		{`time() - max by (instance, source, type) (callstream_last_success_timestamp_seconds) > 900`,
			[]string{"callstream_last_success_timestamp_seconds"}},
		{"sum by (instance) (rate(a_total[10m]))\n / sum by (instance) (rate(b_total[10m])) > 0.2",
			[]string{"a_total", "b_total"}},
		{`sum(x{l="a{b}"}) without (c) offset 5m unless on (d) group_left (e) y > bool 1e-9`, []string{"x", "y"}},
		{`x > on (i) group_left max by (i) (y)`, []string{"x", "y"}},
	}
	for _, tc := range tests {
		if got := metricNames(tc.expr); !slices.Equal(got, tc.want) {
			t.Errorf("metricNames(%q) = %q, want %q", tc.expr, got, tc.want)
		}
	}
}

// queries returns every PromQL expression of the dashboard and the rules,
// keyed by where it is used.
func queries(t *testing.T) map[string]string {
	t.Helper()
	out := map[string]string{}
	var walk func([]panel)
	walk = func(ps []panel) {
		for _, p := range ps {
			for i, tg := range p.Targets {
				out["dashboard panel "+p.Title+" #"+string(rune('A'+i))] = tg.Expr
			}
			walk(p.Panels)
		}
	}
	d := readDashboard(t)
	walk(d.Panels)
	for _, v := range d.Templating.List {
		if v.Definition != "" {
			// label_values(metric, label): the metric is its first argument.
			out["dashboard variable "+v.Name] = strings.TrimPrefix(strings.SplitN(v.Definition, ",", 2)[0], "label_values(")
		}
	}
	_, spec := readRules(t)
	for _, g := range spec.Groups {
		for _, r := range g.Rules {
			out["alert "+r.Alert] = r.Expr.String()
		}
	}
	if len(out) < 30 {
		t.Fatalf("found only %d queries in the dashboard and the rules", len(out))
	}
	return out
}

// checkQueriedMetricsExported scrapes the running connector at metricsURL
// until it exports every metric name of every dashboard and rule query, and
// fails for each one still missing after a minute. Most labelled series
// exist from the start; the rest (windows read by tier) from the first
// window committed.
func checkQueriedMetricsExported(ctx context.Context, t *testing.T, metricsURL string) {
	t.Helper()
	qs := queries(t)
	deadline := time.Now().Add(time.Minute)
	for {
		m, err := proc.Scrape(ctx, metricsURL)
		var missing []string
		if err == nil {
			have := m.SampleNames()
			have["up"] = true // added by Prometheus to every target
			for where, expr := range qs {
				for _, name := range metricNames(expr) {
					if !have[name] {
						missing = append(missing, fmt.Sprintf("%s queries %s, which callstream does not export: %s", where, name, expr))
					}
				}
			}
			if len(missing) == 0 {
				return
			}
		}
		if time.Now().After(deadline) {
			if err != nil {
				t.Fatal(err)
			}
			slices.Sort(missing)
			for _, msg := range missing {
				t.Error(msg)
			}
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
}
