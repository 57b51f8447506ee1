package helm_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation"
	"sigs.k8s.io/yaml"

	"github.com/cretoai/monitor/helm/render"
)

// kinds maps apiVersion/kind to the Go type the manifest must decode into.
// A kind the chart renders that is missing here fails the test.
var kinds = map[string]func() any{
	"v1/ConfigMap":        func() any { return &corev1.ConfigMap{} },
	"v1/Secret":           func() any { return &corev1.Secret{} },
	"v1/Service":          func() any { return &corev1.Service{} },
	"v1/ServiceAccount":   func() any { return &corev1.ServiceAccount{} },
	"v1/Pod":              func() any { return &corev1.Pod{} },
	"apps/v1/StatefulSet": func() any { return &appsv1.StatefulSet{} },
	"apps/v1/Deployment":  func() any { return &appsv1.Deployment{} },
	"monitoring.coreos.com/v1/ServiceMonitor": func() any { return &monitoringv1.ServiceMonitor{} },
	"monitoring.coreos.com/v1/PrometheusRule": func() any { return &monitoringv1.PrometheusRule{} },
}

// decodeAny decodes o strictly into the type of its kind.
func decodeAny(o render.Object) (any, error) {
	mk, ok := kinds[o.APIVersion+"/"+o.Kind]
	if !ok {
		return nil, fmt.Errorf("no Go type for %s %s", o.APIVersion, o.Kind)
	}
	v := mk()
	if err := yaml.UnmarshalStrict(o.YAML, v); err != nil {
		return nil, err
	}
	return v, nil
}

// TestManifestsDecodeStrictly: in every scenario, every manifest (hooks
// included) decodes into the Kubernetes or Prometheus Operator type of its
// kind with unknown and duplicate fields rejected, names and labels are
// valid, and the objects refer to each other correctly.
func TestManifestsDecodeStrictly(t *testing.T) {
	for _, s := range scenarios(t) {
		t.Run(s.name, func(t *testing.T) {
			res := renderChart(t, s.options(t))
			checkRelease(t, res)
		})
	}
}

// TestLongReleaseName: names stay valid (63 characters, DNS labels for
// Services) with the longest release name Helm allows.
func TestLongReleaseName(t *testing.T) {
	o := scenarioNamed(t, "standalone").options(t)
	o.Release = strings.Repeat("r", 53)
	checkRelease(t, renderChart(t, o))
}

// TestStrictDecodingRejectsMisplacedFields makes sure the strict decoding
// above can fail: the annotation nested one level too high (FAILURES.md
// R44's misplaced checksum) and an unknown field are errors.
func TestStrictDecodingRejectsMisplacedFields(t *testing.T) {
	docs := map[string]string{
		"annotations under spec.template": `apiVersion: apps/v1
kind: Deployment
metadata: {name: x}
spec:
  selector: {matchLabels: {a: b}}
  template:
    annotations: {checksum/config: abc}
    metadata: {labels: {a: b}}
    spec: {containers: [{name: c, image: i}]}
`,
		"unknown field": `apiVersion: v1
kind: Service
metadata: {name: x}
spec: {ports: [{name: http, port: 80}], selectr: {a: b}}
`,
		"duplicate key": `apiVersion: v1
kind: ConfigMap
metadata: {name: x, name: y}
`,
	}
	for name, doc := range docs {
		head := struct{ APIVersion, Kind string }{}
		if err := yaml.Unmarshal([]byte(doc), &head); err != nil {
			t.Fatal(err)
		}
		if _, err := decodeAny(render.Object{APIVersion: head.APIVersion, Kind: head.Kind, YAML: []byte(doc)}); err == nil {
			t.Errorf("%s: decoded without error", name)
		}
	}
}

// checkRelease decodes every object of res and checks it and its
// references.
func checkRelease(t *testing.T, res *render.Result) {
	t.Helper()
	if len(res.Hooks) == 0 {
		t.Error("no hooks rendered: the connection test is missing")
	}
	objs := map[string]any{}
	all := append(append([]render.Object{}, res.Objects...), res.Hooks...)
	for _, o := range all {
		v, err := decodeAny(o)
		if err != nil {
			t.Errorf("%s (%s): %v", o.ID(), o.Source, err)
			continue
		}
		if _, dup := objs[o.ID()]; dup {
			t.Errorf("%s is rendered twice", o.ID())
		}
		objs[o.ID()] = v
		checkMeta(t, o, v)
	}
	for id, v := range objs {
		switch v := v.(type) {
		case *appsv1.StatefulSet:
			checkWorkload(t, id, v.Spec.Selector, v.Spec.Template, v.Spec.VolumeClaimTemplates, objs)
			svc, ok := objs["Service/"+v.Spec.ServiceName].(*corev1.Service)
			if !ok || svc.Spec.ClusterIP != corev1.ClusterIPNone {
				t.Errorf("%s: serviceName %q is not a rendered headless Service", id, v.Spec.ServiceName)
			}
		case *appsv1.Deployment:
			checkWorkload(t, id, v.Spec.Selector, v.Spec.Template, nil, objs)
		case *corev1.Pod:
			checkPodSpec(t, id, v.Spec, nil, objs)
		case *corev1.Service:
			checkService(t, id, v, objs)
		}
	}
}

func checkMeta(t *testing.T, o render.Object, v any) {
	t.Helper()
	m, ok := v.(metav1.Object)
	if !ok {
		t.Errorf("%s has no object metadata", o.ID())
		return
	}
	if m.GetNamespace() != namespace {
		t.Errorf("%s: metadata.namespace %q, want the release namespace %q", o.ID(), m.GetNamespace(), namespace)
	}
	nameErrs := validation.IsDNS1123Subdomain(m.GetName())
	if o.Kind == "Service" {
		nameErrs = validation.IsDNS1035Label(m.GetName())
	}
	if o.Kind == "StatefulSet" && len(m.GetName()) > 52 {
		// Its pods' controller-revision-hash label, <name>-<10 characters>,
		// would pass the 63 characters of a label value.
		nameErrs = append(nameErrs, "a StatefulSet name must be no more than 52 characters")
	}
	for _, e := range nameErrs {
		t.Errorf("%s: name: %s", o.ID(), e)
	}
	checkLabels(t, o.ID(), m.GetLabels())
	for k := range m.GetAnnotations() {
		for _, e := range validation.IsQualifiedName(k) {
			t.Errorf("%s: annotation %s: %s", o.ID(), k, e)
		}
	}
	if m.GetLabels()["app.kubernetes.io/instance"] == "" || m.GetLabels()["helm.sh/chart"] == "" {
		t.Errorf("%s lacks the chart's common labels: %v", o.ID(), m.GetLabels())
	}
}

func checkLabels(t *testing.T, id string, l map[string]string) {
	t.Helper()
	for k, v := range l {
		for _, e := range validation.IsQualifiedName(k) {
			t.Errorf("%s: label key %s: %s", id, k, e)
		}
		for _, e := range validation.IsValidLabelValue(v) {
			t.Errorf("%s: label %s=%q: %s", id, k, v, e)
		}
	}
}

func checkWorkload(t *testing.T, id string, sel *metav1.LabelSelector, tpl corev1.PodTemplateSpec, claims []corev1.PersistentVolumeClaim, objs map[string]any) {
	t.Helper()
	if sel == nil || len(sel.MatchLabels) == 0 {
		t.Errorf("%s: no selector", id)
		return
	}
	s, err := metav1.LabelSelectorAsSelector(sel)
	if err != nil {
		t.Errorf("%s: selector: %v", id, err)
		return
	}
	if !s.Matches(labels.Set(tpl.Labels)) {
		t.Errorf("%s: selector %v does not match the pod template labels %v", id, sel.MatchLabels, tpl.Labels)
	}
	checkLabels(t, id+" pod template", tpl.Labels)
	// No other workload's pods match this selector.
	for other, v := range objs {
		var l map[string]string
		switch v := v.(type) {
		case *appsv1.StatefulSet:
			l = v.Spec.Template.Labels
		case *appsv1.Deployment:
			l = v.Spec.Template.Labels
		default:
			continue
		}
		if other != id && s.Matches(labels.Set(l)) {
			t.Errorf("%s: selector also matches the pods of %s", id, other)
		}
	}
	var claimNames []string
	for _, c := range claims {
		claimNames = append(claimNames, c.Name)
	}
	checkPodSpec(t, id, tpl.Spec, claimNames, objs)
	// A pod that reads a ConfigMap of the release is rolled when it
	// changes (FAILURES.md R44).
	if usesConfigMap(tpl.Spec) && tpl.Annotations["checksum/config"] == "" {
		t.Errorf("%s reads a ConfigMap but its pod template has no checksum/config annotation", id)
	}
}

func usesConfigMap(spec corev1.PodSpec) bool {
	for _, v := range spec.Volumes {
		if v.ConfigMap != nil {
			return true
		}
		if v.Projected != nil {
			for _, s := range v.Projected.Sources {
				if s.ConfigMap != nil {
					return true
				}
			}
		}
	}
	for _, c := range spec.Containers {
		for _, e := range c.EnvFrom {
			if e.ConfigMapRef != nil {
				return true
			}
		}
	}
	return false
}

// externalSecrets are Secrets the scenarios name in values, made outside
// the chart.
var externalSecrets = []string{"cretoai-api-token", "alertmanager-receivers", "remote-write-credentials"}

func checkPodSpec(t *testing.T, id string, spec corev1.PodSpec, claims []string, objs map[string]any) {
	t.Helper()
	if sc := spec.SecurityContext; sc == nil || sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot || sc.RunAsUser == nil || *sc.RunAsUser == 0 {
		t.Errorf("%s: the pod does not run as a non-root user", id)
	}
	if spec.AutomountServiceAccountToken == nil || *spec.AutomountServiceAccountToken {
		if sa, ok := objs["ServiceAccount/"+spec.ServiceAccountName].(*corev1.ServiceAccount); !ok || sa.AutomountServiceAccountToken == nil || *sa.AutomountServiceAccountToken {
			t.Errorf("%s: mounts a service account token although nothing calls the Kubernetes API", id)
		}
	}
	if spec.ServiceAccountName != "" {
		if _, ok := objs["ServiceAccount/"+spec.ServiceAccountName]; !ok {
			t.Errorf("%s: service account %s is not rendered", id, spec.ServiceAccountName)
		}
	}
	volumes := map[string]bool{}
	for _, c := range claims {
		volumes[c] = true
	}
	secretOK := func(name string) bool {
		_, ok := objs["Secret/"+name]
		return ok || slices.Contains(externalSecrets, name)
	}
	configMapKeys := func(where, name string, items []corev1.KeyToPath) {
		cm, ok := objs["ConfigMap/"+name].(*corev1.ConfigMap)
		if !ok {
			t.Errorf("%s: %s: ConfigMap %s is not rendered", id, where, name)
			return
		}
		for _, it := range items {
			if _, ok := cm.Data[it.Key]; !ok {
				t.Errorf("%s: %s: ConfigMap %s has no key %s", id, where, name, it.Key)
			}
		}
	}
	for _, v := range spec.Volumes {
		volumes[v.Name] = true
		switch {
		case v.ConfigMap != nil:
			configMapKeys("volume "+v.Name, v.ConfigMap.Name, v.ConfigMap.Items)
		case v.Secret != nil:
			if !secretOK(v.Secret.SecretName) {
				t.Errorf("%s: volume %s: Secret %s is neither rendered nor external", id, v.Name, v.Secret.SecretName)
			}
		case v.Projected != nil:
			paths := map[string]bool{}
			for _, s := range v.Projected.Sources {
				if s.ConfigMap != nil {
					configMapKeys("volume "+v.Name, s.ConfigMap.Name, s.ConfigMap.Items)
					for _, it := range s.ConfigMap.Items {
						if paths[it.Path] {
							t.Errorf("%s: volume %s: two sources write %s", id, v.Name, it.Path)
						}
						paths[it.Path] = true
					}
				}
			}
		}
	}
	for _, c := range spec.Containers {
		cid := id + " container " + c.Name
		sc := c.SecurityContext
		if sc == nil || sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation ||
			sc.Capabilities == nil || !slices.Contains(sc.Capabilities.Drop, "ALL") {
			t.Errorf("%s: must not escalate privileges and must drop ALL capabilities", cid)
		}
		if c.Name != "grafana" && (sc == nil || sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem) {
			t.Errorf("%s: the root filesystem is writable", cid)
		}
		if c.Resources.Requests.Memory().IsZero() || c.Resources.Limits.Memory().IsZero() {
			t.Errorf("%s: no memory request or limit", cid)
		}
		if c.Image == "" || !strings.Contains(c.Image, ":") {
			t.Errorf("%s: image %q has no tag", cid, c.Image)
		}
		ports := map[string]bool{}
		for _, p := range c.Ports {
			for _, e := range validation.IsValidPortName(p.Name) {
				t.Errorf("%s: port name %q: %s", cid, p.Name, e)
			}
			ports[p.Name] = true
		}
		for _, m := range c.VolumeMounts {
			if !volumes[m.Name] {
				t.Errorf("%s: mounts volume %s, which the pod does not have", cid, m.Name)
			}
		}
		for _, e := range c.EnvFrom {
			if e.ConfigMapRef != nil {
				configMapKeys("envFrom", e.ConfigMapRef.Name, nil)
			}
		}
		for _, e := range c.Env {
			if e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil && !secretOK(e.ValueFrom.SecretKeyRef.Name) {
				t.Errorf("%s: env %s: Secret %s is neither rendered nor external", cid, e.Name, e.ValueFrom.SecretKeyRef.Name)
			}
		}
		for name, p := range map[string]*corev1.Probe{"startup": c.StartupProbe, "liveness": c.LivenessProbe, "readiness": c.ReadinessProbe} {
			if p == nil || p.HTTPGet == nil {
				continue
			}
			if p.HTTPGet.Port.Type != intstr.String || !ports[p.HTTPGet.Port.StrVal] {
				t.Errorf("%s: %s probe port %s is not a named port of the container", cid, name, p.HTTPGet.Port.String())
			}
		}
	}
}

// checkService: the Service selects pods of the release, and every
// targetPort is a named port of those pods.
func checkService(t *testing.T, id string, svc *corev1.Service, objs map[string]any) {
	t.Helper()
	if len(svc.Spec.Selector) == 0 {
		t.Errorf("%s: no selector", id)
		return
	}
	sel := labels.SelectorFromSet(svc.Spec.Selector)
	var pods []corev1.PodTemplateSpec
	for _, v := range objs {
		switch v := v.(type) {
		case *appsv1.StatefulSet:
			if sel.Matches(labels.Set(v.Spec.Template.Labels)) {
				pods = append(pods, v.Spec.Template)
			}
		case *appsv1.Deployment:
			if sel.Matches(labels.Set(v.Spec.Template.Labels)) {
				pods = append(pods, v.Spec.Template)
			}
		}
	}
	if len(pods) != 1 {
		t.Errorf("%s selects the pods of %d workloads, want 1", id, len(pods))
		return
	}
	named := map[string]corev1.Protocol{}
	for _, c := range pods[0].Spec.Containers {
		for _, p := range c.Ports {
			named[p.Name] = p.Protocol
		}
	}
	for _, p := range svc.Spec.Ports {
		if p.Name == "" {
			t.Errorf("%s: port %d has no name", id, p.Port)
		}
		if p.TargetPort.Type != intstr.String {
			t.Errorf("%s: port %s targets a number, not a named port", id, p.Name)
			continue
		}
		proto, ok := named[p.TargetPort.StrVal]
		if !ok || proto != p.Protocol {
			t.Errorf("%s: port %s targets %s/%s, which the pods do not have", id, p.Name, p.TargetPort.StrVal, p.Protocol)
		}
	}
}
