package helm_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/cretoai/monitor/dashboards"
)

// TestREADMEHelmSection: the README's Helm section exists, every value it
// names is a key of values.yaml, and the images it names are the pinned
// ones.
func TestREADMEHelmSection(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(root(t), "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(b), "\n## Helm\n")
	if !ok {
		t.Fatal(`README.md has no "## Helm" section`)
	}
	section, _, _ = strings.Cut(section, "\n## ")
	keys := valuesKeys(t)
	top := map[string]bool{}
	for k := range keys {
		top[strings.Split(k, ".")[0]] = true
	}
	named := regexp.MustCompile("(?:`|--set '?)([a-z][A-Za-z]*(?:\\.[A-Za-z*]+)+)")
	n := 0
	for _, m := range named.FindAllStringSubmatch(section, -1) {
		key := m[1]
		if !top[strings.Split(key, ".")[0]] || regexp.MustCompile(`\.(ya?ml|json|txt)$`).MatchString(key) {
			continue // a file name or a kube-prometheus-stack value
		}
		n++
		if strings.HasSuffix(key, ".*") || strings.HasPrefix(key, "serviceMonitor.labels.") || strings.HasPrefix(key, "prometheusRule.labels.") {
			key = key[:strings.LastIndex(key, ".")]
		}
		if _, ok := keys[key]; !ok {
			t.Errorf("the README's Helm section names %s, which is no key of values.yaml", m[1])
		}
	}
	if n < 20 {
		t.Errorf("the README's Helm section names only %d values", n)
	}
	for _, img := range []string{"prom/prometheus:v3.16.0", "prom/alertmanager:v0.31.1", dashboards.GrafanaImage} {
		if !strings.Contains(section, img) {
			t.Errorf("the README's Helm section does not name %s", img)
		}
	}
	for _, want := range []string{"--set standalone.enabled=true", "--set serviceMonitor.labels.release=kps", "go generate ./helm/...", "helm test"} {
		if !strings.Contains(section, want) {
			t.Errorf("the README's Helm section lacks %q", want)
		}
	}
}
