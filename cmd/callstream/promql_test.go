package main

import (
	"encoding/json"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// The files that name metrics: the dashboard and the alert rules.
const (
	dashboardFile = "../../deploy/grafana/callstream.json"
	rulesFile     = "../../deploy/prometheus/rules.yaml"
	runbookFile   = "../../docs/runbook.md"
)

var (
	promqlStrings  = regexp.MustCompile("\"(?:[^\"\\\\]|\\\\.)*\"|'(?:[^'\\\\]|\\\\.)*'|`[^`]*`")
	promqlMatchers = regexp.MustCompile(`\{[^{}]*\}|\[[^\[\]]*\]`)
	promqlGrouping = regexp.MustCompile(`\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^()]*\)`)
	promqlVars     = regexp.MustCompile(`\$\{?\w+\}?`)
	promqlTokens   = regexp.MustCompile(`[0-9][0-9.]*(?:[eE][-+]?[0-9]+)?[a-zA-Z]*|[A-Za-z_:][A-Za-z0-9_:]*\s*\(?`)
	promqlKeywords = map[string]bool{"and": true, "or": true, "unless": true, "bool": true, "offset": true, "inf": true, "nan": true}
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
	}
	for _, tc := range tests {
		if got := metricNames(tc.expr); !slices.Equal(got, tc.want) {
			t.Errorf("metricNames(%q) = %q, want %q", tc.expr, got, tc.want)
		}
	}
}

// dashboard is the part of a Grafana dashboard the tests read.
type dashboard struct {
	UID        string  `json:"uid"`
	Panels     []panel `json:"panels"`
	Templating struct {
		List []struct {
			Name       string `json:"name"`
			Type       string `json:"type"`
			Definition string `json:"definition"`
		} `json:"list"`
	} `json:"templating"`
}

type panel struct {
	ID         int    `json:"id"`
	Type       string `json:"type"`
	Title      string `json:"title"`
	Datasource *struct {
		UID string `json:"uid"`
	} `json:"datasource"`
	GridPos struct{ X, Y, W, H int } `json:"gridPos"`
	Targets []struct {
		Expr string `json:"expr"`
	} `json:"targets"`
	Panels []panel `json:"panels"`
}

func readDashboard(t *testing.T) dashboard {
	t.Helper()
	b, err := os.ReadFile(dashboardFile)
	if err != nil {
		t.Fatal(err)
	}
	var d dashboard
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatalf("parsing %s: %v", dashboardFile, err)
	}
	return d
}

// rules is the part of a Prometheus rule file the tests read.
type rules struct {
	Groups []struct {
		Name  string `yaml:"name"`
		Rules []struct {
			Alert       string            `yaml:"alert"`
			Expr        string            `yaml:"expr"`
			Labels      map[string]string `yaml:"labels"`
			Annotations map[string]string `yaml:"annotations"`
		} `yaml:"rules"`
	} `yaml:"groups"`
}

func readRules(t *testing.T) rules {
	t.Helper()
	b, err := os.ReadFile(rulesFile)
	if err != nil {
		t.Fatal(err)
	}
	var r rules
	if err := yaml.Unmarshal(b, &r); err != nil {
		t.Fatalf("parsing %s: %v", rulesFile, err)
	}
	return r
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
	for _, g := range readRules(t).Groups {
		for _, r := range g.Rules {
			out["alert "+r.Alert] = r.Expr
		}
	}
	if len(out) < 30 {
		t.Fatalf("found only %d queries in the dashboard and the rules", len(out))
	}
	return out
}
