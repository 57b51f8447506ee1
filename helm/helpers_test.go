package helm_test

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"

	"github.com/cretoai/monitor/e2e/tools"
	"github.com/cretoai/monitor/helm"
	"github.com/cretoai/monitor/helm/render"
)

func root(t testing.TB) string {
	t.Helper()
	r, err := tools.Root()
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func chartDir(t testing.TB) string {
	return filepath.Join(root(t), filepath.FromSlash(helm.ChartDir))
}

// scenario is one way of installing the chart: a ci/*-values.yaml file (or
// none, for the defaults) and the API versions the cluster serves.
type scenario struct {
	name string
	// file is relative to the chart directory; empty for the defaults.
	file        string
	apiVersions []string
}

func (s scenario) options(t testing.TB, set ...string) render.Options {
	o := render.Options{APIVersions: s.apiVersions, Set: set}
	if s.file != "" {
		o.ValueFiles = []string{filepath.Join(chartDir(t), filepath.FromSlash(s.file))}
	}
	return o
}

// scenarios are the defaults, each ci/*-values.yaml file, and the defaults
// and the operator file in a cluster with the Prometheus Operator.
func scenarios(t testing.TB) []scenario {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(chartDir(t), "ci", "*-values.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 5 {
		t.Fatalf("want at least 5 ci/*-values.yaml scenarios, found %d", len(files))
	}
	out := []scenario{
		{name: "defaults"},
		{name: "defaults+operator-api", apiVersions: []string{render.MonitoringAPI}},
	}
	for _, f := range files {
		rel := "ci/" + filepath.Base(f)
		name := strings.TrimSuffix(filepath.Base(f), "-values.yaml")
		out = append(out, scenario{name: name, file: rel})
		if name == "operator" {
			out = append(out, scenario{name: name + "+operator-api", file: rel, apiVersions: []string{render.MonitoringAPI}})
		}
	}
	return out
}

func scenarioNamed(t testing.TB, name string) scenario {
	t.Helper()
	for _, s := range scenarios(t) {
		if s.name == name {
			return s
		}
	}
	t.Fatalf("no scenario %q", name)
	return scenario{}
}

// renderChart renders the chart from disk; the test fails on an error.
func renderChart(t testing.TB, o render.Options) *render.Result {
	t.Helper()
	ch, err := render.Load(chartDir(t))
	if err != nil {
		t.Fatal(err)
	}
	res, err := render.Render(ch, o)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// renderErr renders the chart and returns the error.
func renderErr(t testing.TB, o render.Options) error {
	t.Helper()
	ch, err := render.Load(chartDir(t))
	if err != nil {
		t.Fatal(err)
	}
	_, err = render.Render(ch, o)
	return err
}

// decodeStrict decodes a manifest into T, rejecting unknown and duplicate
// fields, the way the API server's strict field validation does.
func decodeStrict[T any](t testing.TB, o render.Object) *T {
	t.Helper()
	v := new(T)
	if err := yaml.UnmarshalStrict(o.YAML, v); err != nil {
		t.Fatalf("%s (%s) does not decode strictly: %v", o.ID(), o.Source, err)
	}
	return v
}

func mustGet(t testing.TB, r *render.Result, kind, name string) render.Object {
	t.Helper()
	o, ok := r.Get(kind, name)
	if !ok {
		var have []string
		for _, o := range r.Objects {
			have = append(have, o.ID())
		}
		t.Fatalf("no %s/%s rendered; have %v", kind, name, have)
	}
	return o
}

func configMaps(t testing.TB, r *render.Result) map[string]*corev1.ConfigMap {
	out := map[string]*corev1.ConfigMap{}
	for _, o := range r.Find("ConfigMap") {
		out[o.Name] = decodeStrict[corev1.ConfigMap](t, o)
	}
	return out
}

func services(t testing.TB, r *render.Result) []*corev1.Service {
	var out []*corev1.Service
	for _, o := range r.Find("Service") {
		out = append(out, decodeStrict[corev1.Service](t, o))
	}
	return out
}

func statefulSet(t testing.TB, r *render.Result, name string) *appsv1.StatefulSet {
	return decodeStrict[appsv1.StatefulSet](t, mustGet(t, r, "StatefulSet", name))
}

func deployment(t testing.TB, r *render.Result, name string) *appsv1.Deployment {
	return decodeStrict[appsv1.Deployment](t, mustGet(t, r, "Deployment", name))
}

func serviceMonitor(t testing.TB, r *render.Result, name string) *monitoringv1.ServiceMonitor {
	return decodeStrict[monitoringv1.ServiceMonitor](t, mustGet(t, r, "ServiceMonitor", name))
}

func prometheusRule(t testing.TB, r *render.Result, name string) *monitoringv1.PrometheusRule {
	return decodeStrict[monitoringv1.PrometheusRule](t, mustGet(t, r, "PrometheusRule", name))
}

func container(t testing.TB, spec corev1.PodSpec, name string) corev1.Container {
	t.Helper()
	i := slices.IndexFunc(spec.Containers, func(c corev1.Container) bool { return c.Name == name })
	if i < 0 {
		t.Fatalf("no container %q", name)
	}
	return spec.Containers[i]
}

// Names of the objects of a release called render.DefaultRelease (the
// chart name is in the release name, so the full name is the release name).
const (
	fullname     = render.DefaultRelease
	namespace    = render.DefaultNamespace
	promName     = fullname + "-prometheus"
	amName       = fullname + "-alertmanager"
	grafanaName  = fullname + "-grafana"
	alertSink    = fullname + "-alert-sink"
	simulatorApp = fullname + "-simulator"
)
