package deploy

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

var (
	dashboardFile = filepath.Join(root, "deploy", "grafana", "callstream.json")
	runbookFile   = filepath.Join(root, "docs", "runbook.md")
)

// The dashboard imports as is: every panel uses the data source variable,
// every query the instance variable, panels do not overlap the grid's 24
// columns and ids are unique.
func TestDashboardImportable(t *testing.T) {
	d := readDashboard(t)
	if d.UID == "" {
		t.Error("dashboard has no uid")
	}
	vars := map[string]string{}
	for _, v := range d.Templating.List {
		vars[v.Name] = v.Type
	}
	if vars["datasource"] != "datasource" || vars["instance"] != "query" {
		t.Errorf("variables %v, want a datasource variable and an instance query variable", vars)
	}
	ids := map[int]string{}
	rows := 0
	var walk func([]panel)
	walk = func(ps []panel) {
		for _, p := range ps {
			if prev, dup := ids[p.ID]; dup {
				t.Errorf("panels %q and %q share id %d", prev, p.Title, p.ID)
			}
			ids[p.ID] = p.Title
			if p.GridPos.X < 0 || p.GridPos.W <= 0 || p.GridPos.X+p.GridPos.W > 24 || p.GridPos.H <= 0 {
				t.Errorf("panel %q: gridPos %+v outside the 24 columns", p.Title, p.GridPos)
			}
			if p.Type == "row" {
				rows++
				walk(p.Panels)
				continue
			}
			if p.Datasource == nil || p.Datasource.UID != "${datasource}" {
				t.Errorf("panel %q does not use the datasource variable", p.Title)
			}
			if len(p.Targets) == 0 {
				t.Errorf("panel %q has no query", p.Title)
			}
			for _, tg := range p.Targets {
				if !strings.Contains(tg.Expr, `instance=~"$instance"`) {
					t.Errorf("panel %q: query %q ignores the instance variable", p.Title, tg.Expr)
				}
			}
		}
	}
	walk(d.Panels)
	if rows != 6 {
		t.Errorf("%d rows, want 6 (freshness, throughput, errors, API, Kafka, process)", rows)
	}
}

// Every alert has a severity, a summary, a description and a runbook link to
// a section of docs/runbook.md that exists.
func TestRulesLinkTheRunbook(t *testing.T) {
	b, err := os.ReadFile(runbookFile)
	if err != nil {
		t.Fatal(err)
	}
	anchors := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^## (\S+)$`).FindAllStringSubmatch(string(b), -1) {
		anchors[strings.ToLower(m[1])] = true
	}
	var alerts int
	_, spec := readRules(t)
	for _, g := range spec.Groups {
		for _, r := range g.Rules {
			alerts++
			if r.Labels["severity"] == "" || r.Annotations["summary"] == "" || r.Annotations["description"] == "" {
				t.Errorf("alert %s lacks a severity, summary or description", r.Alert)
			}
			url, anchor, ok := strings.Cut(r.Annotations["runbook_url"], "#")
			if !ok || !strings.HasSuffix(url, "/docs/runbook.md") || !anchors[anchor] || anchor != strings.ToLower(r.Alert) {
				t.Errorf("alert %s: runbook_url %q is not docs/runbook.md#%s, a section of the runbook",
					r.Alert, r.Annotations["runbook_url"], strings.ToLower(r.Alert))
			}
		}
	}
	if alerts != len(anchors) {
		t.Errorf("%d alerts but %d runbook sections", alerts, len(anchors))
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
