package deploy

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/yaml"
)

// groupOverlay runs several pods of one group.
const groupOverlay = "overlays/group"

func TestKustomizeGroupOverlay(t *testing.T) {
	r := render(t, groupOverlay)
	d := one(t, "Deployment", r.deployments)
	spec := d.Spec
	if spec.Replicas == nil || *spec.Replicas < 2 {
		t.Errorf("replicas %v, want several pods sharing the sources", spec.Replicas)
	}
	ru := spec.Strategy.RollingUpdate
	if spec.Strategy.Type != appsv1.RollingUpdateDeploymentStrategyType || ru == nil ||
		ru.MaxUnavailable == nil || *ru.MaxUnavailable != intstr.FromInt32(0) {
		t.Errorf("strategy %+v, want RollingUpdate with maxUnavailable 0", spec.Strategy)
	}
	pdb := one(t, "PodDisruptionBudget", r.pdbs)
	if pdb.Spec.MaxUnavailable == nil || *pdb.Spec.MaxUnavailable != intstr.FromInt32(1) || pdb.Spec.MinAvailable != nil {
		t.Errorf("PodDisruptionBudget %+v, want maxUnavailable 1: one rebalance at a time", pdb.Spec)
	}
	c := one(t, "container", spec.Template.Spec.Containers)
	checkContainerSecurity(t, c)
	checkProbes(t, c)

	pc := loadPodConfig(t, r)
	if pc.config["group"] == nil || pc.config["state-partitions"] == nil {
		t.Errorf("config.yaml sets no group and state-partitions: %v", pc.config)
	}
	sources, ok := pc.config["sources"].([]any)
	if !ok || len(sources) < 2 {
		t.Fatalf("config.yaml sources %v, want a list of several", pc.config["sources"])
	}
	for _, f := range secretFlags {
		for i, s := range sources {
			if _, ok := s.(map[string]any)[f]; ok {
				t.Errorf("sources[%d] holds --%s; use --%s-file and the Secret", i, f, f)
			}
		}
	}

	// The binary accepts the file, with every secret file of the Secret
	// written where it can read it.
	acceptsConfig(t, pc, "the group overlay's config.yaml")
}

// acceptsConfig checks that `callstream run --check-config` accepts pc's
// config.yaml and arguments, with every file named under the Secret's
// mount written where the binary can read it; what names the file in
// errors.
func acceptsConfig(t *testing.T, pc podConfig, what string) {
	t.Helper()
	files := t.TempDir()
	b, err := yaml.Marshal(rewriteSecretPaths(t, pc, files, pc.config))
	if err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(files, "config.yaml")
	if err := os.WriteFile(cfg, b, 0o600); err != nil {
		t.Fatal(err)
	}
	args := pc.args.args(map[string]string{"config": cfg, "check-config": "true"})
	code, stdout, stderr := runCallstream(context.Background(), t, args...)
	if code != 0 {
		t.Errorf("callstream %q with %s: exit %d: %s%s", args, what, code, stdout, stderr)
	}
}

// rewriteSecretPaths returns v with every path under the Secret's mount,
// at any depth, replaced by a file in dir holding that key of the Secret.
func rewriteSecretPaths(t *testing.T, pc podConfig, dir string, v any) any {
	t.Helper()
	switch v := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, e := range v {
			out[k] = rewriteSecretPaths(t, pc, dir, e)
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = rewriteSecretPaths(t, pc, dir, e)
		}
		return out
	case string:
		rel, ok := strings.CutPrefix(v, pc.secretDir+"/")
		if !ok {
			return v
		}
		data, ok := pc.secret.Data[rel]
		if !ok {
			t.Errorf("%s is not a key of Secret %s", rel, pc.secret.Name)
			return v
		}
		local := filepath.Join(dir, rel)
		if err := os.WriteFile(local, data, 0o600); err != nil {
			t.Fatal(err)
		}
		return local
	}
	return v
}
