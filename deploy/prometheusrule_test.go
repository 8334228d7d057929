package deploy

import (
	"bytes"
	"errors"
	"flag"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"testing"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	"sigs.k8s.io/yaml"
)

var update = flag.Bool("update", false, "rewrite deploy/kubernetes/base/prometheusrule.yaml from deploy/prometheus/rules.yaml")

var (
	rulesFile          = filepath.Join(root, "deploy", "prometheus", "rules.yaml")
	prometheusRuleFile = filepath.Join(kubeDir, "base", "prometheusrule.yaml")
)

const prometheusRuleHeader = `# Generated from deploy/prometheus/rules.yaml by
#   go test ./deploy -run TestPrometheusRule -update
# Change the rules there, not here; the deploy tests fail while the two differ.
`

// readRules decodes rules.yaml strictly as a PrometheusRule's spec: the
// Prometheus rule file format is the spec's.
func readRules(t *testing.T) ([]byte, monitoringv1.PrometheusRuleSpec) {
	t.Helper()
	b, err := os.ReadFile(rulesFile)
	if errors.Is(err, fs.ErrNotExist) {
		t.Skipf("%s does not exist: no alert rules to check", rulesFile)
	}
	if err != nil {
		t.Fatalf("reading the alert rules: %v", err)
	}
	var spec monitoringv1.PrometheusRuleSpec
	if err := yaml.UnmarshalStrict(b, &spec); err != nil {
		t.Fatalf("%s is not a rule file a PrometheusRule can hold: %v", rulesFile, err)
	}
	if len(spec.Groups) == 0 {
		t.Fatalf("%s has no rule groups", rulesFile)
	}
	return b, spec
}

// generatePrometheusRule wraps the rule file in a PrometheusRule, keeping the
// rules as they are written.
func generatePrometheusRule(t *testing.T, rules []byte) []byte {
	t.Helper()
	var spec map[string]any
	if err := yaml.Unmarshal(rules, &spec); err != nil {
		t.Fatal(err)
	}
	obj := map[string]any{
		"apiVersion": "monitoring.coreos.com/v1",
		"kind":       "PrometheusRule",
		"metadata": map[string]any{
			"name": "callstream",
			"labels": map[string]any{
				"app.kubernetes.io/name":      "callstream",
				"app.kubernetes.io/component": "connector",
			},
		},
		"spec": spec,
	}
	b, err := yaml.Marshal(obj)
	if err != nil {
		t.Fatal(err)
	}
	return append([]byte(prometheusRuleHeader), b...)
}

func TestPrometheusRule(t *testing.T) {
	raw, spec := readRules(t)
	want := generatePrometheusRule(t, raw)
	if *update {
		if err := os.WriteFile(prometheusRuleFile, want, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(prometheusRuleFile)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s is out of date with %s: run `go test ./deploy -run TestPrometheusRule -update`", prometheusRuleFile, rulesFile)
	}
	pr := one(t, "PrometheusRule", render(t, overlay).rules)
	if !reflect.DeepEqual(pr.Spec, spec) {
		t.Errorf("the rendered PrometheusRule's rules differ from %s", rulesFile)
	}
}

var jobRE = regexp.MustCompile(`job="([^"]+)"`)

// TestRulesJob: the rules select the scrape job by name; compose scrapes
// under that job name, and the ServiceMonitor's job is the Service's name.
func TestRulesJob(t *testing.T) {
	raw, _ := readRules(t)
	jobs := map[string]bool{}
	for _, m := range jobRE.FindAllSubmatch(raw, -1) {
		jobs[string(m[1])] = true
	}
	if len(jobs) == 0 {
		t.Skip("the rules select no job")
	}
	svc := one(t, "Service", render(t, overlay).services)
	sm := one(t, "ServiceMonitor", render(t, overlay).monitors)
	prom := readComposePrometheus(t)
	for job := range jobs {
		if sm.Spec.JobLabel == "" && svc.Name != job {
			t.Errorf("the rules select job %q; the ServiceMonitor's job is the Service's name %q", job, svc.Name)
		}
		if !prom.hasJob(job) {
			t.Errorf("the rules select job %q; deploy/compose/prometheus.yml has no such scrape job", job)
		}
	}
}
