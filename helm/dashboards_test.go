package helm_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"helm.sh/helm/v4/pkg/chart/common"
	corev1 "k8s.io/api/core/v1"

	"github.com/cretoai/monitor/dashboards"
	"github.com/cretoai/monitor/helm"
	"github.com/cretoai/monitor/helm/render"
)

// Limits a ConfigMap must stay under (FAILURES.md R43): the API server's
// object size, and the last-applied-configuration annotation kubectl's
// client-side apply writes (the whole object again, in 256 KiB).
const (
	maxObjectBytes = 1 << 20
	maxDataBytes   = 262144
)

// dashboardConfigMaps returns the ConfigMaps labelled for Grafana's
// dashboard sidecar.
func dashboardConfigMaps(t *testing.T, res *render.Result) []*corev1.ConfigMap {
	var out []*corev1.ConfigMap
	for _, cm := range configMaps(t, res) {
		if cm.Labels["grafana_dashboard"] == "1" {
			out = append(out, cm)
		}
	}
	return out
}

// configMapSizeProblems checks one ConfigMap against the limits.
func configMapSizeProblems(cm *corev1.ConfigMap) []string {
	var problems []string
	b, err := json.Marshal(cm)
	if err != nil {
		return []string{err.Error()}
	}
	if len(b) >= maxObjectBytes {
		problems = append(problems, fmt.Sprintf("ConfigMap %s is %d bytes serialized, not under %d", cm.Name, len(b), maxObjectBytes))
	}
	data := 0
	for _, v := range cm.Data {
		data += len(v)
	}
	for _, v := range cm.BinaryData {
		data += len(v)
	}
	if data >= maxDataBytes {
		problems = append(problems, fmt.Sprintf("ConfigMap %s holds %d bytes of data, not under %d", cm.Name, data, maxDataBytes))
	}
	return problems
}

// TestDashboardConfigMaps (R43): one ConfigMap per dashboard, labelled
// grafana_dashboard: "1" with the folder annotation, holding exactly the
// repository's JSON, each under the size limits.
func TestDashboardConfigMaps(t *testing.T) {
	res := renderChart(t, render.Options{})
	cms := dashboardConfigMaps(t, res)
	if len(cms) != len(dashboards.All()) {
		t.Errorf("%d dashboard ConfigMaps, want one per dashboard (%d)", len(cms), len(dashboards.All()))
	}
	seen := map[string]bool{}
	for _, cm := range cms {
		if len(cm.Data) != 1 {
			t.Errorf("ConfigMap %s holds %d files, want one dashboard", cm.Name, len(cm.Data))
		}
		for file, content := range cm.Data {
			seen[file] = true
			want, err := os.ReadFile(filepath.Join(root(t), dashboards.JSONDir, file))
			if err != nil {
				t.Errorf("ConfigMap %s holds %s, which is no dashboard of %s", cm.Name, file, dashboards.JSONDir)
				continue
			}
			if content != string(want) {
				t.Errorf("ConfigMap %s: %s differs from %s/%s; run `%s`", cm.Name, file, dashboards.JSONDir, file, helm.GenerateCommand)
			}
		}
		if got := cm.Annotations["grafana_folder"]; got != dashboards.FolderTitle {
			t.Errorf("ConfigMap %s: folder annotation %q, want %q", cm.Name, got, dashboards.FolderTitle)
		}
		for _, p := range configMapSizeProblems(cm) {
			t.Error(p)
		}
	}
	for _, d := range dashboards.All() {
		if !seen[d.FileName()] {
			t.Errorf("no ConfigMap holds dashboard %s", d.FileName())
		}
	}
}

// TestDashboardLabelIsConfigurable: the sidecar label and folder are values.
func TestDashboardLabelIsConfigurable(t *testing.T) {
	res := renderChart(t, render.Options{Set: []string{"dashboards.label=my_dashboards", "dashboards.labelValue=yes",
		"dashboards.folderAnnotation=k8s-sidecar-target-directory", "dashboards.folder=Validators"}})
	n := 0
	for _, cm := range configMaps(t, res) {
		if cm.Labels["my_dashboards"] == "yes" {
			n++
			if cm.Annotations["k8s-sidecar-target-directory"] != "Validators" {
				t.Errorf("%s: annotations %v", cm.Name, cm.Annotations)
			}
		}
	}
	if n != len(dashboards.All()) {
		t.Errorf("%d ConfigMaps carry the configured label, want %d", n, len(dashboards.All()))
	}
	if res := renderChart(t, render.Options{Set: []string{"dashboards.enabled=false"}}); len(dashboardConfigMaps(t, res)) != 0 {
		t.Error("dashboards.enabled=false still renders dashboard ConfigMaps")
	}
}

// TestPlantedHugeDashboardFails: a 1.2 MB dashboard added to the chart
// gets its own ConfigMap, and the size check rejects it.
func TestPlantedHugeDashboardFails(t *testing.T) {
	ch, err := render.Load(chartDir(t))
	if err != nil {
		t.Fatal(err)
	}
	huge := `{"uid": "planted", "title": "Planted", "panels": [], "description": "` + strings.Repeat("x", 1200*1000) + `"}`
	ch.Files = append(ch.Files, &common.File{Name: "files/dashboards/json/cretoai-planted.json", Data: []byte(huge)})
	res, err := render.Render(ch, render.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var problems []string
	for _, cm := range dashboardConfigMaps(t, res) {
		problems = append(problems, configMapSizeProblems(cm)...)
	}
	if len(problems) != 2 || !strings.Contains(problems[0], "planted") {
		t.Errorf("the planted dashboard gave %v, want the object and the data limit exceeded", problems)
	}
}
