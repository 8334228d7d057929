package deploy

import (
	"net"
	"net/url"
	"path"
	"slices"
	"strconv"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/yaml"
)

// secretFlags are the run flags that hold a secret's value; only their
// *-file forms may be used in the manifests and the compose file.
var secretFlags = []string{"app-key", "sasl-password", "schema-registry-password"}

// podConfig is what the pod of the example overlay runs: its command line,
// its config file and the files of its Secret, by mount path.
type podConfig struct {
	args       parsedArgs
	config     map[string]any
	configPath string
	secretDir  string
	secret     *corev1.Secret
}

func loadPodConfig(t *testing.T, r *rendered) podConfig {
	t.Helper()
	d := one(t, "Deployment", r.deployments)
	pod := d.Spec.Template.Spec
	c := &pod.Containers[0]
	var pc podConfig
	var err error
	if pc.args, err = parseArgs(t, append(slices.Clone(c.Command), c.Args...)); err != nil {
		t.Fatalf("container command %q %q: %v", c.Command, c.Args, err)
	}
	pc.configPath = pc.args.vals["config"]
	volumes := map[string]corev1.Volume{}
	for _, v := range pod.Volumes {
		volumes[v.Name] = v
	}
	for _, m := range c.VolumeMounts {
		v := volumes[m.Name]
		switch {
		case v.ConfigMap != nil && (m.MountPath == pc.configPath || path.Join(m.MountPath, "config.yaml") == pc.configPath):
			cm := findConfigMap(t, r, v.ConfigMap.Name)
			if err := yaml.UnmarshalStrict([]byte(cm.Data["config.yaml"]), &pc.config); err != nil {
				t.Fatalf("ConfigMap %s config.yaml: %v", cm.Name, err)
			}
		case v.Secret != nil:
			pc.secretDir = m.MountPath
			for i := range r.secrets {
				if r.secrets[i].Name == v.Secret.SecretName {
					pc.secret = &r.secrets[i]
				}
			}
			if pc.secret == nil {
				t.Fatalf("volume %s mounts Secret %s, which the overlay does not make", v.Name, v.Secret.SecretName)
			}
		}
	}
	if pc.config == nil || pc.secret == nil {
		t.Fatalf("want --config %s mounted from a ConfigMap and a Secret mounted as files", pc.configPath)
	}
	return pc
}

func findConfigMap(t *testing.T, r *rendered, name string) *corev1.ConfigMap {
	t.Helper()
	for i := range r.configMaps {
		if r.configMaps[i].Name == name {
			return &r.configMaps[i]
		}
	}
	t.Fatalf("no ConfigMap %s", name)
	return nil
}

func TestKustomizeConfig(t *testing.T) {
	r := render(t, overlay)
	pc := loadPodConfig(t, r)
	if pc.args.sub != "run" {
		t.Fatalf("the container runs callstream %s, want run", pc.args.sub)
	}
	run := flagsOf(t, "run")
	for k := range pc.config {
		if _, ok := run[k]; !ok || k == "config" {
			t.Errorf("config.yaml key %q is not a flag of callstream run", k)
		}
	}
	for _, f := range secretFlags {
		_, inArgs := pc.args.vals[f]
		_, inConfig := pc.config[f]
		if inArgs || inConfig {
			t.Errorf("--%s holds a secret's value; use --%s-file and the Secret", f, f)
		}
	}
	c := &one(t, "Deployment", r.deployments).Spec.Template.Spec.Containers[0]
	checkEnv(t, c)
	if _, port := splitPort(str(pc.config["listen"])); port != strconv.Itoa(int(containerPort(c, intstr.FromString("metrics")))) {
		t.Errorf("listen %v is not the container's metrics port", pc.config["listen"])
	}

	// Every file named under the Secret's mount is a key of the Secret; the
	// test gives the binary those files where it can read them.
	acceptsConfig(t, pc, "the ConfigMap's config.yaml")
}

// checkEnv: every CALLSTREAM_ variable is a setting of run, and no
// variable carries a secret, literally or from a Secret.
func checkEnv(t *testing.T, c *corev1.Container) {
	t.Helper()
	for _, e := range c.Env {
		if f, ok := envFlag(e.Name); ok {
			if _, known := flagsOf(t, "run")[f]; !known {
				t.Errorf("env %s is not a setting of callstream run", e.Name)
			}
		}
		if looksSecret(e.Name) || (e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil) {
			t.Errorf("env %s carries a secret; mount it as a file", e.Name)
		}
	}
	for _, ef := range c.EnvFrom {
		if ef.SecretRef != nil {
			t.Errorf("envFrom Secret %s; mount secrets as files", ef.SecretRef.Name)
		}
	}
}

// checkNetworkPolicy: both directions are policed; in, only the metrics
// port; out, DNS and the ports of the configured API and brokers.
func checkNetworkPolicy(t *testing.T, c *corev1.Container, pc podConfig, np *networkingv1.NetworkPolicy) {
	t.Helper()
	types, in, out := np.Spec.PolicyTypes, np.Spec.Ingress, np.Spec.Egress
	if !slices.Contains(types, networkingv1.PolicyTypeIngress) || !slices.Contains(types, networkingv1.PolicyTypeEgress) {
		t.Errorf("policyTypes %v, want Ingress and Egress", types)
	}
	for _, rule := range in {
		for _, p := range rule.Ports {
			if p.Port == nil || containerPort(c, *p.Port) != 9090 {
				t.Errorf("ingress allows port %v, want only the metrics port", p.Port)
			}
		}
	}
	allowed := map[string]bool{}
	for _, rule := range out {
		for _, p := range rule.Ports {
			proto := corev1.ProtocolTCP
			if p.Protocol != nil {
				proto = *p.Protocol
			}
			if p.Port != nil {
				allowed[string(proto)+"/"+p.Port.String()] = true
			}
		}
	}
	want := []string{"UDP/53", "TCP/53"}
	if u, err := url.Parse(str(pc.config["api-url"])); err == nil {
		port := u.Port()
		if port == "" {
			port = map[string]string{"https": "443", "http": "80"}[u.Scheme]
		}
		want = append(want, "TCP/"+port)
	}
	for _, b := range strings.Split(str(pc.config["brokers"]), ",") {
		if _, port, err := net.SplitHostPort(strings.TrimSpace(b)); err == nil {
			want = append(want, "TCP/"+port)
		}
	}
	for _, w := range want {
		if !allowed[w] {
			t.Errorf("egress does not allow %s, which the config needs", w)
		}
	}
}

// str renders a config value as the binary reads it: lists joined by
// commas.
func str(v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case []any:
		parts := make([]string, len(v))
		for i, e := range v {
			parts[i] = str(e)
		}
		return strings.Join(parts, ",")
	case string:
		return v
	}
	b, _ := yaml.Marshal(v)
	return strings.TrimSpace(string(b))
}
