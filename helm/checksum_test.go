package helm_test

import (
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/cretoai/monitor/helm/render"
)

// podChecksum renders the chart and returns annotation key of the pod
// template of the workload kind/name, read at exactly
// spec.template.metadata.annotations (FAILURES.md R44); it fails the test
// when the annotation sits anywhere else.
func podChecksum(t *testing.T, kind, name, key string, set ...string) string {
	t.Helper()
	res := renderChart(t, scenarioNamed(t, "standalone").options(t, set...))
	o := mustGet(t, res, kind, name)
	var doc map[string]any
	if err := yaml.Unmarshal(o.YAML, &doc); err != nil {
		t.Fatal(err)
	}
	// Strict decoding rejects spec.template.annotations and friends.
	switch kind {
	case "StatefulSet":
		statefulSet(t, res, name)
	case "Deployment":
		deployment(t, res, name)
	}
	if md, _ := doc["metadata"].(map[string]any); md != nil {
		if a, _ := md["annotations"].(map[string]any); a[key] != nil {
			t.Errorf("%s/%s: %s is on the workload, where it rolls nothing", kind, name, key)
		}
	}
	spec, _ := doc["spec"].(map[string]any)
	tpl, _ := spec["template"].(map[string]any)
	md, _ := tpl["metadata"].(map[string]any)
	ann, _ := md["annotations"].(map[string]any)
	v, _ := ann[key].(string)
	if len(v) != 64 {
		t.Fatalf("%s/%s: spec.template.metadata.annotations[%q] = %q, want a sha256", kind, name, key, v)
	}
	return v
}

// TestChecksumRollsPods (R44): a config change changes the pod template's
// checksum/config, so pods roll; identical values give identical checksums;
// unrelated changes leave it alone.
func TestChecksumRollsPods(t *testing.T) {
	cases := []struct {
		kind, name, key string
		// a and b differ in the workload's configuration.
		a, b []string
		// unrelated changes something else.
		unrelated []string
	}{
		{"StatefulSet", fullname, "checksum/config",
			[]string{"config.epochPeriod=30m"}, []string{"config.epochPeriod=1h"},
			[]string{"prometheus.retentionTime=30d", "service.annotations.x=y"}},
		{"StatefulSet", fullname, "checksum/secret",
			[]string{"apiToken.value=one"}, []string{"apiToken.value=two"},
			[]string{"config.epochPeriod=1h"}},
		{"StatefulSet", promName, "checksum/config",
			[]string{"prometheus.externalLabels.cluster=a"}, []string{"prometheus.externalLabels.cluster=b"},
			[]string{"config.epochPeriod=1h"}},
		{"StatefulSet", promName, "checksum/config",
			[]string{"alertmanager.replicas=1"}, []string{"alertmanager.replicas=2"},
			[]string{"grafana.anonymousAccess=false"}},
		{"StatefulSet", amName, "checksum/config",
			[]string{}, []string{"alertmanager.config=route: {receiver: x}\nreceivers: [{name: x}]\n"},
			[]string{"prometheus.retentionTime=30d"}},
		{"Deployment", grafanaName, "checksum/config",
			[]string{}, []string{"prometheus.service.port=9091"},
			[]string{"config.epochPeriod=1h"}},
		{"Deployment", grafanaName, "checksum/secret",
			[]string{"grafana.adminPassword=a"}, []string{"grafana.adminPassword=b"},
			[]string{"config.epochPeriod=1h"}},
	}
	for _, c := range cases {
		t.Run(c.name+" "+c.key, func(t *testing.T) {
			a := podChecksum(t, c.kind, c.name, c.key, c.a...)
			if again := podChecksum(t, c.kind, c.name, c.key, c.a...); again != a {
				t.Errorf("the same values gave two checksums: %s, %s", a, again)
			}
			if b := podChecksum(t, c.kind, c.name, c.key, c.b...); b == a {
				t.Errorf("%v and %v give the same %s: the pods would not roll", c.a, c.b, c.key)
			}
			if u := podChecksum(t, c.kind, c.name, c.key, append(append([]string{}, c.a...), c.unrelated...)...); u != a {
				t.Errorf("%v changed %s although it does not touch the workload", c.unrelated, c.key)
			}
		})
	}
}

// TestGeneratedTokenChecksumIsStable: a generated token is random in each
// rendering (it is kept on upgrades through lookup), but the checksum does
// not depend on it, so an upgrade does not roll the pods for nothing.
func TestGeneratedTokenChecksumIsStable(t *testing.T) {
	a := podChecksum(t, "StatefulSet", fullname, "checksum/secret", "apiToken.value=")
	b := podChecksum(t, "StatefulSet", fullname, "checksum/secret", "apiToken.value=")
	if a != b {
		t.Error("checksum/secret of a generated token changes between renderings")
	}
	res := renderChart(t, render.Options{})
	res2 := renderChart(t, render.Options{})
	if string(mustGet(t, res, "Secret", fullname).YAML) == string(mustGet(t, res2, "Secret", fullname).YAML) {
		t.Error("two fresh installs got the same generated token")
	}
}
