package deploy

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"
)

// kubeDir is the kustomize tree; overlays live under it.
var kubeDir = filepath.Join(root, "deploy", "kubernetes")

// rendered is a kustomize build decoded into API types.
type rendered struct {
	namespaces      []corev1.Namespace
	serviceAccounts []corev1.ServiceAccount
	configMaps      []corev1.ConfigMap
	secrets         []corev1.Secret
	services        []corev1.Service
	deployments     []appsv1.Deployment
	pdbs            []policyv1.PodDisruptionBudget
	netpols         []networkingv1.NetworkPolicy
	monitors        []monitoringv1.ServiceMonitor
	rules           []monitoringv1.PrometheusRule
}

// decodeInto decodes a resource strictly (unknown or duplicate fields are
// errors) into a new T and appends it, after checking its apiVersion.
func decodeInto[T any](y []byte, apiVersion, gotAPIVersion string, list *[]T) error {
	if gotAPIVersion != apiVersion {
		return fmt.Errorf("apiVersion %s, want %s", gotAPIVersion, apiVersion)
	}
	var v T
	if err := yaml.UnmarshalStrict(y, &v); err != nil {
		return err
	}
	*list = append(*list, v)
	return nil
}

// render builds the kustomization at dir (relative to deploy/kubernetes),
// from an in-memory copy of the tree in which every secrets/*.example file
// also stands under its name without .example, as a user's copy would.
func render(t *testing.T, dir string) *rendered {
	t.Helper()
	fsys := filesys.MakeFsInMemory()
	err := filepath.WalkDir(kubeDir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(kubeDir, path)
		if err != nil {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		name := filepath.Join("/k", rel)
		if err := fsys.WriteFile(name, b); err != nil {
			return err
		}
		if real, ok := strings.CutSuffix(name, ".example"); ok && !fsys.Exists(real) {
			return fsys.WriteFile(real, b)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	m, err := krusty.MakeKustomizer(krusty.MakeDefaultOptions()).Run(fsys, filepath.Join("/k", dir))
	if err != nil {
		t.Fatalf("kustomize build %s: %v", dir, err)
	}
	out := &rendered{}
	for _, r := range m.Resources() {
		y, err := r.AsYAML()
		if err != nil {
			t.Fatal(err)
		}
		if err := out.add(r.GetKind(), r.GetApiVersion(), y); err != nil {
			t.Errorf("%s %s %s: %v", dir, r.GetKind(), r.GetName(), err)
		}
	}
	return out
}

func (o *rendered) add(kind, apiVersion string, y []byte) error {
	switch kind {
	case "Namespace":
		return decodeInto(y, "v1", apiVersion, &o.namespaces)
	case "ServiceAccount":
		return decodeInto(y, "v1", apiVersion, &o.serviceAccounts)
	case "ConfigMap":
		return decodeInto(y, "v1", apiVersion, &o.configMaps)
	case "Secret":
		return decodeInto(y, "v1", apiVersion, &o.secrets)
	case "Service":
		return decodeInto(y, "v1", apiVersion, &o.services)
	case "Deployment":
		return decodeInto(y, "apps/v1", apiVersion, &o.deployments)
	case "PodDisruptionBudget":
		return decodeInto(y, "policy/v1", apiVersion, &o.pdbs)
	case "NetworkPolicy":
		return decodeInto(y, "networking.k8s.io/v1", apiVersion, &o.netpols)
	case "ServiceMonitor":
		return decodeInto(y, "monitoring.coreos.com/v1", apiVersion, &o.monitors)
	case "PrometheusRule":
		return decodeInto(y, "monitoring.coreos.com/v1", apiVersion, &o.rules)
	}
	return fmt.Errorf("no API type known for kind %s", kind)
}

// one returns the only element of list, failing the test otherwise.
func one[T any](t *testing.T, what string, list []T) *T {
	t.Helper()
	if len(list) != 1 {
		t.Fatalf("want one %s, got %d", what, len(list))
	}
	return &list[0]
}
