package deploy

import (
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// overlay is the example overlay, the one the README applies.
const overlay = "overlays/example"

// minGraceSeconds covers a transaction's end at shutdown: the commit's
// context allows 2 min for the produce (connector/loop.go), ending the
// transaction 30 s more (connector/sink/txn.go), the HTTP server 5 s.
const minGraceSeconds = 155

// nonrootUID is the distroless nonroot user that the Dockerfile runs as.
const nonrootUID = 65532

func TestKustomizeBuilds(t *testing.T) {
	for _, dir := range []string{"base", overlay} {
		t.Run(dir, func(t *testing.T) {
			r := render(t, dir)
			one(t, "Deployment", r.deployments)
			one(t, "Service", r.services)
			one(t, "ServiceMonitor", r.monitors)
			one(t, "PrometheusRule", r.rules)
			one(t, "PodDisruptionBudget", r.pdbs)
			one(t, "NetworkPolicy", r.netpols)
			one(t, "ConfigMap", r.configMaps)
			if dir == "base" && len(r.secrets) != 0 {
				t.Errorf("the base holds %d Secrets; secrets belong to an overlay", len(r.secrets))
			}
		})
	}
}

func TestKustomizeDeployment(t *testing.T) {
	r := render(t, overlay)
	d := one(t, "Deployment", r.deployments)
	spec := d.Spec
	if spec.Replicas == nil || *spec.Replicas != 1 {
		t.Errorf("replicas %v, want 1 (one connector per transactional id)", spec.Replicas)
	}
	ru := spec.Strategy.RollingUpdate
	if spec.Strategy.Type != appsv1.RollingUpdateDeploymentStrategyType || ru == nil ||
		ru.MaxSurge == nil || *ru.MaxSurge != intstr.FromInt32(1) ||
		ru.MaxUnavailable == nil || *ru.MaxUnavailable != intstr.FromInt32(0) {
		t.Errorf("strategy %+v, want RollingUpdate maxSurge 1 maxUnavailable 0", spec.Strategy)
	}
	if !labels.SelectorFromSet(spec.Selector.MatchLabels).Matches(labels.Set(spec.Template.Labels)) {
		t.Errorf("selector %v does not select the pod's labels %v", spec.Selector.MatchLabels, spec.Template.Labels)
	}
	pod := spec.Template.Spec
	if g := pod.TerminationGracePeriodSeconds; g == nil || *g < minGraceSeconds {
		t.Errorf("terminationGracePeriodSeconds %v, want at least %d", g, minGraceSeconds)
	}
	if a := pod.AutomountServiceAccountToken; a == nil || *a {
		t.Error("the service account token is mounted; callstream needs no Kubernetes API")
	}
	psc := pod.SecurityContext
	if psc == nil || psc.RunAsNonRoot == nil || !*psc.RunAsNonRoot || psc.RunAsUser == nil || *psc.RunAsUser != nonrootUID ||
		psc.SeccompProfile == nil || psc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
		t.Errorf("pod securityContext %+v, want runAsNonRoot, runAsUser %d, seccomp RuntimeDefault", psc, nonrootUID)
	}
	c := one(t, "container", pod.Containers)
	checkContainerSecurity(t, c)
	checkProbes(t, c)
	if c.Resources.Requests.Cpu().IsZero() || c.Resources.Requests.Memory().IsZero() || c.Resources.Limits.Memory().IsZero() {
		t.Errorf("resources %+v, want cpu and memory requests and a memory limit", c.Resources)
	}
	if name, tag, _ := strings.Cut(c.Image, ":"); name == "callstream" || tag == "" || tag == "latest" {
		t.Errorf("image %q: want the overlay's registry image with a pinned tag", c.Image)
	}
}

func checkContainerSecurity(t *testing.T, c *corev1.Container) {
	t.Helper()
	sc := c.SecurityContext
	if sc == nil {
		t.Fatal("the container has no securityContext")
	}
	isTrue := func(b *bool) bool { return b != nil && *b }
	isFalse := func(b *bool) bool { return b != nil && !*b }
	if !isTrue(sc.RunAsNonRoot) || !isTrue(sc.ReadOnlyRootFilesystem) || !isFalse(sc.AllowPrivilegeEscalation) ||
		(sc.Privileged != nil && *sc.Privileged) {
		t.Errorf("container securityContext %+v, want runAsNonRoot, readOnlyRootFilesystem, no privilege escalation", sc)
	}
	if sc.Capabilities == nil || !slices.Equal(sc.Capabilities.Drop, []corev1.Capability{"ALL"}) || len(sc.Capabilities.Add) > 0 {
		t.Errorf("capabilities %+v, want drop [ALL] and nothing added", sc.Capabilities)
	}
	if sc.SeccompProfile == nil || sc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
		t.Errorf("container seccompProfile %+v, want RuntimeDefault", sc.SeccompProfile)
	}
}

// checkProbes: liveness on /healthz, readiness on /readyz, both on the
// port that --listen serves.
func checkProbes(t *testing.T, c *corev1.Container) {
	t.Helper()
	for _, p := range []struct {
		name  string
		probe *corev1.Probe
		path  string
	}{{"liveness", c.LivenessProbe, "/healthz"}, {"readiness", c.ReadinessProbe, "/readyz"}} {
		if p.probe == nil || p.probe.HTTPGet == nil || p.probe.HTTPGet.Path != p.path {
			t.Errorf("%s probe %+v, want GET %s", p.name, p.probe, p.path)
			continue
		}
		if port := containerPort(c, p.probe.HTTPGet.Port); port != 9090 {
			t.Errorf("%s probe port %s is container port %d, want 9090 (--listen)", p.name, p.probe.HTTPGet.Port.String(), port)
		}
	}
}

// containerPort resolves a named or numbered port of c; 0 if none.
func containerPort(c *corev1.Container, p intstr.IntOrString) int32 {
	if p.Type == intstr.Int {
		return p.IntVal
	}
	for _, cp := range c.Ports {
		if cp.Name == p.StrVal {
			return cp.ContainerPort
		}
	}
	return 0
}

func TestKustomizeSelectors(t *testing.T) {
	r := render(t, overlay)
	d := one(t, "Deployment", r.deployments)
	pod := labels.Set(d.Spec.Template.Labels)
	svc := one(t, "Service", r.services)
	if !labels.SelectorFromSet(svc.Spec.Selector).Matches(pod) {
		t.Errorf("Service selector %v does not select the pod %v", svc.Spec.Selector, pod)
	}
	c := &d.Spec.Template.Spec.Containers[0]
	svcPorts := map[string]bool{}
	for _, p := range svc.Spec.Ports {
		svcPorts[p.Name] = true
		if containerPort(c, p.TargetPort) != 9090 {
			t.Errorf("Service port %s targets %s, not the metrics port", p.Name, p.TargetPort.String())
		}
	}
	sm := one(t, "ServiceMonitor", r.monitors)
	if !labels.SelectorFromSet(sm.Spec.Selector.MatchLabels).Matches(labels.Set(svc.Labels)) {
		t.Errorf("ServiceMonitor selector %v does not select the Service %v", sm.Spec.Selector.MatchLabels, svc.Labels)
	}
	for _, ep := range sm.Spec.Endpoints {
		if !svcPorts[ep.Port] || ep.Path != "/metrics" {
			t.Errorf("ServiceMonitor endpoint port %q path %q, want a Service port and /metrics", ep.Port, ep.Path)
		}
	}
	pdb := one(t, "PodDisruptionBudget", r.pdbs)
	if !labels.SelectorFromSet(pdb.Spec.Selector.MatchLabels).Matches(pod) {
		t.Errorf("PodDisruptionBudget selector %v does not select the pod", pdb.Spec.Selector.MatchLabels)
	}
	if pdb.Spec.MaxUnavailable == nil || *pdb.Spec.MaxUnavailable != intstr.FromInt32(1) || pdb.Spec.MinAvailable != nil {
		t.Errorf("PodDisruptionBudget %+v, want maxUnavailable 1 (a single replica must stay drainable)", pdb.Spec)
	}
	np := one(t, "NetworkPolicy", r.netpols)
	if !labels.SelectorFromSet(np.Spec.PodSelector.MatchLabels).Matches(pod) {
		t.Errorf("NetworkPolicy podSelector %v does not select the pod", np.Spec.PodSelector.MatchLabels)
	}
	checkNetworkPolicy(t, c, loadPodConfig(t, r), np)
}
