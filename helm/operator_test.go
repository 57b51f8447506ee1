package helm_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/yaml"

	"github.com/cretoai/monitor/dashboards"
	"github.com/cretoai/monitor/helm/render"
	"github.com/cretoai/monitor/prometheus"
)

var withOperator = []string{render.MonitoringAPI}

// TestServiceMonitorIsPickedUp (FAILURES.md R40): the labels kube-prometheus-
// stack selects on are applied; the selector matches the Service's labels,
// and only that Service (not its headless twin, which would scrape every
// pod twice); the endpoint port is a named port of the Service; the
// release namespace is selected.
func TestServiceMonitorIsPickedUp(t *testing.T) {
	res := renderChart(t, render.Options{APIVersions: withOperator, Set: []string{"serviceMonitor.labels.release=kps"}})
	sm := serviceMonitor(t, res, fullname)
	if got := sm.Labels["release"]; got != "kps" {
		t.Errorf("ServiceMonitor label release = %q, want kps", got)
	}
	svc := decodeStrict[corev1.Service](t, mustGet(t, res, "Service", fullname))
	for k, v := range sm.Spec.Selector.MatchLabels {
		if svc.Labels[k] != v {
			t.Errorf("selector %s=%s is not a label of Service %s (%v)", k, v, svc.Name, svc.Labels)
		}
	}
	sel, err := metav1.LabelSelectorAsSelector(&sm.Spec.Selector)
	if err != nil {
		t.Fatal(err)
	}
	var selected []string
	for _, s := range services(t, res) {
		if sel.Matches(labels.Set(s.Labels)) {
			selected = append(selected, s.Name)
		}
	}
	if len(selected) != 1 || selected[0] != fullname {
		t.Errorf("the ServiceMonitor selects Services %v, want only %s", selected, fullname)
	}
	ports := map[string]bool{}
	for _, p := range svc.Spec.Ports {
		ports[p.Name] = true
	}
	if len(sm.Spec.Endpoints) == 0 {
		t.Fatal("no endpoints")
	}
	for _, ep := range sm.Spec.Endpoints {
		if ep.Port == "" || !ports[ep.Port] {
			t.Errorf("endpoint port %q is not a named port of Service %s (%v)", ep.Port, svc.Name, svc.Spec.Ports)
		}
		if ep.TargetPort != nil {
			t.Errorf("endpoint uses targetPort %v instead of the Service's named port", ep.TargetPort)
		}
		if ep.Path != "/metrics" {
			t.Errorf("endpoint path = %q", ep.Path)
		}
		// The rules and dashboards select the job of prometheus.yml.
		job := ""
		for _, r := range ep.RelabelConfigs {
			if r.TargetLabel == "job" && r.Replacement != nil {
				job = *r.Replacement
			}
		}
		if job != prometheus.ServiceJob {
			t.Errorf("endpoint does not set job=%q (got %q): the alert rules select up{job=%q}", prometheus.ServiceJob, job, prometheus.ServiceJob)
		}
		// $__rate_interval spans four scrapes only at the scrape interval
		// the dashboards assume (R32).
		if d, err := time.ParseDuration(string(ep.Interval)); err != nil || d != dashboards.ScrapeInterval {
			t.Errorf("endpoint interval = %q, want %s", ep.Interval, dashboards.ScrapeInterval)
		}
	}
	if !slices.Contains(sm.Spec.NamespaceSelector.MatchNames, namespace) || sm.Spec.NamespaceSelector.Any {
		t.Errorf("namespaceSelector = %+v, want matchNames with %s", sm.Spec.NamespaceSelector, namespace)
	}
}

// TestMonitoringLabelsDefault: by default both objects carry
// release: <release name>, the label kube-prometheus-stack selects on when
// installed under the same name, and the NOTES tell how to change it.
func TestMonitoringLabelsDefault(t *testing.T) {
	res := renderChart(t, render.Options{Release: "kps", APIVersions: withOperator})
	for _, kind := range []string{"ServiceMonitor", "PrometheusRule"} {
		objs := res.Find(kind)
		if len(objs) != 1 {
			t.Fatalf("%d %s objects", len(objs), kind)
		}
		var m struct {
			Metadata metav1.ObjectMeta `json:"metadata"`
		}
		if err := yaml.Unmarshal(objs[0].YAML, &m); err != nil {
			t.Fatal(err)
		}
		if m.Metadata.Labels["release"] != "kps" {
			t.Errorf("%s labels %v lack release: kps", kind, m.Metadata.Labels)
		}
	}
	for _, want := range []string{"serviceMonitorSelector must match its labels", "release: kps", "ruleSelector must match",
		"--set serviceMonitor.labels.release=<name>", "grafana_dashboard"} {
		if !strings.Contains(res.Notes, want) {
			t.Errorf("NOTES.txt lacks %q:\n%s", want, res.Notes)
		}
	}
}

// TestPrometheusRuleMatchesRepository (R41): the rule selector labels are
// applied, and spec.groups is the repository's rule files after YAML
// normalisation, in the order prometheus.yml's rule_files loads them.
func TestPrometheusRuleMatchesRepository(t *testing.T) {
	res := renderChart(t, render.Options{APIVersions: withOperator,
		Set: []string{"prometheusRule.labels.release=kps", "prometheusRule.labels.role=alert-rules"}})
	pr := prometheusRule(t, res, fullname)
	if pr.Labels["release"] != "kps" || pr.Labels["role"] != "alert-rules" {
		t.Errorf("PrometheusRule labels %v lack release=kps and role=alert-rules", pr.Labels)
	}
	var rendered struct {
		Spec struct {
			Groups []any `json:"groups"`
		} `json:"spec"`
	}
	if err := yaml.Unmarshal(mustGet(t, res, "PrometheusRule", fullname).YAML, &rendered); err != nil {
		t.Fatal(err)
	}
	want := repoRuleGroups(t)
	got, err := json.Marshal(rendered.Spec.Groups)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("spec.groups differs from the repository's rule files:\n got %.400s…\nwant %.400s…", got, want)
	}
	names := map[string]bool{}
	for _, g := range pr.Spec.Groups {
		if names[g.Name] {
			t.Errorf("group %s appears twice; the operator rejects that", g.Name)
		}
		names[g.Name] = true
	}
}

// repoRuleGroups reads the rule files prometheus.yml loads, through the
// mount table, and returns their groups as normalised JSON.
func repoRuleGroups(t *testing.T) []byte {
	t.Helper()
	rel, ok := prometheus.RepoPath(prometheus.ConfigPath)
	if !ok {
		t.Fatal("no mount provides prometheus.yml")
	}
	b, err := os.ReadFile(filepath.Join(root(t), filepath.FromSlash(rel)))
	if err != nil {
		t.Fatal(err)
	}
	var cfg struct {
		RuleFiles []string `json:"rule_files"`
	}
	if err := yaml.Unmarshal(b, &cfg); err != nil {
		t.Fatal(err)
	}
	groups := []any{}
	for _, glob := range cfg.RuleFiles {
		rel, ok := prometheus.RepoPath(glob)
		if !ok {
			t.Fatalf("rule_files %s: no mount provides it", glob)
		}
		files, err := filepath.Glob(filepath.Join(root(t), filepath.FromSlash(rel)))
		if err != nil || len(files) == 0 {
			t.Fatalf("rule_files %s matches no file (%v)", glob, err)
		}
		sort.Strings(files)
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			var doc struct {
				Groups []any `json:"groups"`
			}
			if err := yaml.Unmarshal(b, &doc); err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			groups = append(groups, doc.Groups...)
		}
	}
	out, err := json.Marshal(groups)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestMonitoringObjectsNeedTheAPI (R42): without monitoring.coreos.com/v1
// the defaults render no ServiceMonitor or PrometheusRule; with it, both;
// forced on without it, rendering fails and says why; switched off, none.
func TestMonitoringObjectsNeedTheAPI(t *testing.T) {
	count := func(res *render.Result) (int, int) {
		return len(res.Find("ServiceMonitor")), len(res.Find("PrometheusRule"))
	}
	if sm, pr := count(renderChart(t, render.Options{})); sm != 0 || pr != 0 {
		t.Errorf("without the API: %d ServiceMonitors, %d PrometheusRules; want none", sm, pr)
	}
	if sm, pr := count(renderChart(t, render.Options{APIVersions: withOperator})); sm != 1 || pr != 1 {
		t.Errorf("with the API: %d ServiceMonitors, %d PrometheusRules; want one each", sm, pr)
	}
	off := []string{"serviceMonitor.enabled=false", "prometheusRule.enabled=false"}
	if sm, pr := count(renderChart(t, render.Options{APIVersions: withOperator, Set: off})); sm != 0 || pr != 0 {
		t.Errorf("switched off: %d ServiceMonitors, %d PrometheusRules; want none", sm, pr)
	}
	if sm, pr := count(renderChart(t, render.Options{APIVersions: withOperator, Set: []string{"serviceMonitor.enabled=true", "prometheusRule.enabled=true"}})); sm != 1 || pr != 1 {
		t.Errorf("forced with the API: %d ServiceMonitors, %d PrometheusRules; want one each", sm, pr)
	}
	for key, kind := range map[string]string{"serviceMonitor": "ServiceMonitor", "prometheusRule": "PrometheusRule"} {
		err := renderErr(t, render.Options{Set: []string{key + ".enabled=true"}})
		if err == nil {
			t.Errorf("%s.enabled=true without the API rendered", key)
			continue
		}
		for _, want := range []string{key + ".enabled=true", "monitoring.coreos.com/v1", kind, "CRDs"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("%s.enabled=true without the API: the error does not mention %q: %v", key, want, err)
			}
		}
	}
	res := renderChart(t, render.Options{})
	if !strings.Contains(res.Notes, "No ServiceMonitor or PrometheusRule was created") {
		t.Errorf("without the API the NOTES do not say that nothing was created:\n%s", res.Notes)
	}
}
