package deploy

import (
	"errors"
	"io/fs"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/types"
	"sigs.k8s.io/yaml"
)

// promConfig is the part of prometheus.yml that the stack relies on.
type promConfig struct {
	RuleFiles     []string `json:"rule_files"`
	ScrapeConfigs []struct {
		JobName       string `json:"job_name"`
		StaticConfigs []struct {
			Targets []string `json:"targets"`
		} `json:"static_configs"`
	} `json:"scrape_configs"`
}

func (c promConfig) hasJob(name string) bool {
	for _, sc := range c.ScrapeConfigs {
		if sc.JobName == name {
			return true
		}
	}
	return false
}

func readComposePrometheus(t *testing.T) promConfig {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, "deploy", "compose", "prometheus.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var c promConfig
	// Not strict: only the fields above are checked here; promtool checks
	// the whole file in deploy/check.
	if err := yaml.Unmarshal(b, &c); err != nil {
		t.Fatalf("deploy/compose/prometheus.yml: %v", err)
	}
	return c
}

// mounts maps a service's bind mounts from container path to host path.
func mounts(t *testing.T, s types.ServiceConfig) map[string]string {
	t.Helper()
	m := map[string]string{}
	for _, v := range s.Volumes {
		if v.Type == types.VolumeTypeBind {
			if !v.ReadOnly {
				t.Errorf("%s mounts %s writable; configuration mounts are read-only", s.Name, v.Source)
			}
			m[v.Target] = v.Source
		}
	}
	return m
}

// repoFile is the absolute path of a repository file.
func repoFile(t *testing.T, rel string) string {
	t.Helper()
	p, err := filepath.Abs(filepath.Join(root, rel))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestComposePrometheus(t *testing.T) {
	proj := loadCompose(t)
	m := mounts(t, proj.Services["prometheus"])
	cfg := readComposePrometheus(t)
	if m["/etc/prometheus/prometheus.yml"] != repoFile(t, "deploy/compose/prometheus.yml") {
		t.Errorf("prometheus mounts %v, want deploy/compose/prometheus.yml at /etc/prometheus/prometheus.yml", m)
	}
	// The alert rules are mounted where rule_files finds them.
	var rules string
	for target, src := range m {
		if src == repoFile(t, "deploy/prometheus/rules.yaml") {
			rules = target
		}
	}
	matched := slices.ContainsFunc(cfg.RuleFiles, func(glob string) bool {
		ok, _ := path.Match(glob, rules)
		return ok
	})
	if rules == "" || !matched {
		t.Errorf("deploy/prometheus/rules.yaml is mounted at %q, which rule_files %v does not load", rules, cfg.RuleFiles)
	}
	// The callstream job scrapes the connector on its --listen port.
	_, port := splitPort(composeArgs(t, "connector").vals["listen"])
	var targets []string
	for _, sc := range cfg.ScrapeConfigs {
		for _, st := range sc.StaticConfigs {
			targets = append(targets, st.Targets...)
		}
	}
	if !slices.Contains(targets, "connector:"+port) {
		t.Errorf("scrape targets %v, want connector:%s", targets, port)
	}
}

func TestComposeGrafana(t *testing.T) {
	proj := loadCompose(t)
	m := mounts(t, proj.Services["grafana"])
	prov := repoFile(t, "deploy/grafana/provisioning")
	if _, err := os.Stat(prov); errors.Is(err, fs.ErrNotExist) {
		t.Skipf("%s does not exist: no Grafana provisioning to check", prov)
	}
	if m["/etc/grafana/provisioning"] != prov {
		t.Errorf("grafana mounts %v, want deploy/grafana/provisioning at /etc/grafana/provisioning", m)
	}
	var dashboard string
	for target, src := range m {
		if src == repoFile(t, "deploy/grafana/callstream.json") {
			dashboard = target
		}
	}
	if dashboard == "" {
		t.Fatalf("grafana does not mount deploy/grafana/callstream.json: %v", m)
	}
	if _, err := os.Stat(filepath.Join(root, "deploy/grafana/callstream.json")); err != nil {
		t.Errorf("the dashboard: %v", err)
	}
	// The provisioned dashboards provider reads the directory of the mount.
	found := false
	for _, b := range readProvisioning(t, filepath.Join(prov, "dashboards")) {
		var dash struct {
			Providers []struct {
				Options struct {
					Path string `json:"path"`
				} `json:"options"`
			} `json:"providers"`
		}
		if err := yaml.Unmarshal(b, &dash); err != nil {
			t.Fatal(err)
		}
		for _, p := range dash.Providers {
			found = found || strings.HasPrefix(dashboard, strings.TrimSuffix(p.Options.Path, "/")+"/")
		}
	}
	if !found {
		t.Errorf("no dashboards provider reads %s", dashboard)
	}
	// The provisioned data source is the compose Prometheus.
	found = false
	for _, b := range readProvisioning(t, filepath.Join(prov, "datasources")) {
		var ds struct {
			Datasources []struct {
				Type string `json:"type"`
				URL  string `json:"url"`
			} `json:"datasources"`
		}
		if err := yaml.Unmarshal(b, &ds); err != nil {
			t.Fatal(err)
		}
		for _, d := range ds.Datasources {
			u, err := url.Parse(d.URL)
			found = found || (d.Type == "prometheus" && err == nil && u.Hostname() == "prometheus" && u.Port() == "9090")
		}
	}
	if !found {
		t.Error("no provisioned data source points at the compose Prometheus, http://prometheus:9090")
	}
}

// readProvisioning reads every YAML file of a provisioning directory.
func readProvisioning(t *testing.T, dir string) [][]byte {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.y*ml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no provisioning files in %s", dir)
	}
	var out [][]byte
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, b)
	}
	return out
}
