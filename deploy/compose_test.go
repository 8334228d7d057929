package deploy

import (
	"context"
	"encoding/base64"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/loader"
	"github.com/compose-spec/compose-go/v2/types"
)

// callstreamServices are the compose services that run the callstream image.
var callstreamServices = []string{"simulator", "connector"}

// loadCompose loads docker-compose.yml with the compose-spec loader, with
// schema validation and paths resolved, as `docker compose` would.
func loadCompose(t *testing.T) *types.Project {
	t.Helper()
	dir, err := filepath.Abs(root)
	if err != nil {
		t.Fatal(err)
	}
	details := types.ConfigDetails{
		WorkingDir:  dir,
		ConfigFiles: []types.ConfigFile{{Filename: filepath.Join(dir, "docker-compose.yml")}},
		Environment: types.Mapping{},
	}
	p, err := loader.LoadWithContext(context.Background(), details, func(o *loader.Options) {
		o.SetProjectName("callstream", true)
		o.ResolvePaths = true
	})
	if err != nil {
		t.Fatalf("loading docker-compose.yml: %v", err)
	}
	return p
}

func TestComposeServices(t *testing.T) {
	p := loadCompose(t)
	want := []string{"connector", "grafana", "kafka", "prometheus", "schema-registry", "simulator"}
	if got := p.ServiceNames(); !slices.Equal(sortedCopy(got), want) {
		t.Fatalf("services %v, want %v", sortedCopy(got), want)
	}
	for name, s := range p.Services {
		if s.HealthCheck == nil || s.HealthCheck.Disable || len(s.HealthCheck.Test) < 2 || s.HealthCheck.Test[0] != "CMD" {
			t.Errorf("service %s: want a healthcheck [CMD, …], got %+v", name, s.HealthCheck)
		}
		if _, tag, _ := strings.Cut(s.Image, ":"); tag == "" || tag == "latest" {
			t.Errorf("service %s: image %q, want a pinned tag", name, s.Image)
		}
	}
	var image string
	for _, name := range callstreamServices {
		s := p.Services[name]
		if s.Build == nil || s.Build.Dockerfile != "Dockerfile" || filepath.Clean(s.Build.Context) != p.WorkingDir {
			t.Errorf("service %s: want built from the top-level Dockerfile, got %+v", name, s.Build)
		}
		if image != "" && s.Image != image {
			t.Errorf("service %s: image %q, want the same image as the others, %q", name, s.Image, image)
		}
		image = s.Image
	}
}

func TestComposeKafkaSingleNode(t *testing.T) {
	env := p(t).Services["kafka"].Environment
	// A single node needs every internal topic at one replica; transactions
	// need the transaction state log.
	for _, k := range []string{
		"KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR",
		"KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR",
		"KAFKA_TRANSACTION_STATE_LOG_MIN_ISR",
		"KAFKA_DEFAULT_REPLICATION_FACTOR",
		"KAFKA_MIN_INSYNC_REPLICAS",
	} {
		if v := env[k]; v == nil || *v != "1" {
			t.Errorf("kafka: %s = %v, want 1", k, deref(v))
		}
	}
	if v := env["KAFKA_PROCESS_ROLES"]; v == nil || *v != "broker,controller" {
		t.Errorf("kafka: KAFKA_PROCESS_ROLES = %v, want broker,controller (KRaft, one node)", deref(v))
	}
	id := env["CLUSTER_ID"]
	if b, err := base64.RawURLEncoding.DecodeString(deref(id)); err != nil || len(b) != 16 {
		t.Errorf("kafka: CLUSTER_ID %q is not a base64 UUID: %v", deref(id), err)
	}
	// The connector reaches Kafka at the advertised in-network listener.
	brokers := composeArgs(t, "connector").vals["brokers"]
	if adv := deref(env["KAFKA_ADVERTISED_LISTENERS"]); !strings.Contains(adv, "://"+brokers) {
		t.Errorf("kafka advertises %q, the connector dials %q", adv, brokers)
	}
}

func TestComposeStartOrder(t *testing.T) {
	proj := p(t)
	want := map[string][]string{
		"connector":       {"kafka", "schema-registry", "simulator"},
		"schema-registry": {"kafka"},
		"grafana":         {"prometheus"},
	}
	for name, s := range proj.Services {
		var deps []string
		for dep, d := range s.DependsOn {
			deps = append(deps, dep)
			if d.Condition != types.ServiceConditionHealthy {
				t.Errorf("%s depends on %s with condition %q, want %s", name, dep, d.Condition, types.ServiceConditionHealthy)
			}
		}
		if w := want[name]; !slices.Equal(sortedCopy(deps), w) {
			t.Errorf("%s depends on %v, want %v", name, sortedCopy(deps), w)
		}
	}
	// The connector and the simulator answer their own health checks.
	for _, name := range callstreamServices {
		c := composeArgs(t, name)
		hc := proj.Services[name].HealthCheck.Test[1:]
		if hc[0] != "/callstream" {
			t.Fatalf("%s: healthcheck %q does not run /callstream (the image has no shell)", name, hc)
		}
		h, err := parseArgs(t, hc[1:])
		if err != nil || h.sub != "healthcheck" {
			t.Fatalf("%s: healthcheck %q: %v", name, hc, err)
		}
		u, err := url.Parse(h.vals["url"])
		if err != nil {
			t.Fatal(err)
		}
		if _, port := splitPort(c.vals["listen"]); u.Port() != port {
			t.Errorf("%s: healthcheck %s, but --listen %s", name, u, c.vals["listen"])
		}
	}
}

func TestComposeSecrets(t *testing.T) {
	proj := p(t)
	text, err := os.ReadFile(filepath.Join(root, "docker-compose.yml"))
	if err != nil {
		t.Fatal(err)
	}
	for name, sec := range proj.Secrets {
		b, err := os.ReadFile(sec.File)
		if err != nil {
			t.Errorf("secret %s: %v", name, err)
			continue
		}
		if v := strings.TrimSpace(string(b)); v == "" || strings.Contains(string(text), v) {
			t.Errorf("secret %s: its value is empty or written in docker-compose.yml", name)
		}
	}
	for name, s := range proj.Services {
		attached := map[string]bool{}
		for _, sc := range s.Secrets {
			attached[sc.Source] = true
		}
		refs := slices.Clone([]string(s.Command))
		for k, v := range s.Environment {
			if looksSecret(k) && !strings.HasSuffix(k, "_FILE") {
				t.Errorf("%s: environment %s holds a secret literally; use a *_FILE variable and a secret", name, k)
			}
			refs = append(refs, deref(v))
		}
		for _, r := range refs {
			if _, after, ok := strings.Cut(r, "/run/secrets/"); ok && !attached[after] {
				t.Errorf("%s: %q names secret %q, which is not attached to the service", name, r, after)
			}
		}
		if slices.Contains(callstreamServices, name) {
			if _, lit := composeArgs(t, name).vals["app-key"]; lit {
				t.Errorf("%s: --app-key on the command line; use --app-key-file and a secret", name)
			}
		}
	}
}

// looksSecret reports whether an environment variable's name says it holds
// a secret.
func looksSecret(name string) bool {
	n := strings.ToUpper(name)
	for _, w := range []string{"PASSWORD", "SECRET", "TOKEN", "APP_KEY", "CREDENTIAL"} {
		if strings.Contains(n, w) {
			return true
		}
	}
	return false
}

func TestComposeFlags(t *testing.T) {
	proj := p(t)
	for _, name := range callstreamServices {
		c := composeArgs(t, name)
		for k := range proj.Services[name].Environment {
			f, ok := envFlag(k)
			if !ok {
				continue
			}
			if _, known := flagsOf(t, "run")[f]; c.sub != "run" || !known {
				t.Errorf("%s: environment %s is not a setting of callstream %s", name, k, c.sub)
			}
		}
	}
}

// p is loadCompose, short for the tests.
func p(t *testing.T) *types.Project { t.Helper(); return loadCompose(t) }

// composeArgs parses a callstream service's command against the binary's
// flags.
func composeArgs(t *testing.T, service string) parsedArgs {
	t.Helper()
	s, ok := loadCompose(t).Services[service]
	if !ok {
		t.Fatalf("no service %s", service)
	}
	a, err := parseArgs(t, s.Command)
	if err != nil {
		t.Fatalf("service %s: command %q: %v", service, s.Command, err)
	}
	return a
}

func deref(s *string) string {
	if s == nil {
		return "<unset>"
	}
	return *s
}

func sortedCopy(s []string) []string {
	c := slices.Clone(s)
	slices.Sort(c)
	return c
}

// splitPort splits HOST:PORT, where HOST may be empty.
func splitPort(addr string) (string, string) {
	i := strings.LastIndex(addr, ":")
	if i < 0 {
		return addr, ""
	}
	return addr[:i], addr[i+1:]
}
