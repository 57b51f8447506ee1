package helm_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/cretoai/monitor/helm"
)

// TestChartCopiesAreCurrent fails while a file copied into the chart
// differs from its source, is missing, or has no source any more.
func TestChartCopiesAreCurrent(t *testing.T) {
	problems, err := helm.Stale(root(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("%s; run `%s`", p, helm.GenerateCommand)
	}
}

// TestCopiesCoverTheComposeMounts: every repository directory the compose
// stack mounts into Prometheus, Alertmanager and Grafana is copied.
func TestCopiesCoverTheComposeMounts(t *testing.T) {
	want := []string{"prometheus/rules", "alerting/rules", "dashboards/json",
		"dashboards/provisioning/datasources", "dashboards/provisioning/dashboards"}
	for _, dir := range want {
		if !slices.ContainsFunc(helm.Sources, func(s helm.Source) bool { return s.Dir == dir }) {
			t.Errorf("%s is not copied into the chart", dir)
		}
	}
	for _, file := range []string{"prometheus/prometheus.yml", "alerting/alertmanager.yml"} {
		if _, err := os.Stat(filepath.Join(chartDir(t), filepath.FromSlash(helm.ChartPath(file)))); err != nil {
			t.Errorf("%s is not copied into the chart: %v", file, err)
		}
	}
}

// TestSync runs the generator on a scratch repository: it copies, reports
// and repairs a changed source, and removes a copy whose source is gone.
func TestSync(t *testing.T) {
	tmp := t.TempDir()
	write := func(p, s string) {
		t.Helper()
		f := filepath.Join(tmp, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(f), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(f, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, s := range helm.Sources {
		name := "a" + s.Suffix
		if !strings.HasPrefix(s.Suffix, ".") {
			name = s.Suffix
		}
		write(s.Dir+"/"+name, "source of "+s.Dir+"\n")
	}
	write("prometheus/rules/b.yml", "b\n")
	write("prometheus/rules/notes.txt", "not a rule file\n")

	stale, err := helm.Stale(tmp)
	if err != nil {
		t.Fatal(err)
	}
	if len(stale) != len(helm.Sources)+2 { // every copy, b.yml and the README
		t.Errorf("before the first sync: %d problems, want %d: %v", len(stale), len(helm.Sources)+2, stale)
	}
	if err := helm.Sync(tmp); err != nil {
		t.Fatal(err)
	}
	if stale, _ := helm.Stale(tmp); len(stale) != 0 {
		t.Fatalf("after sync: %v", stale)
	}
	if _, err := os.Stat(filepath.Join(tmp, helm.ChartDir, "files/prometheus/rules/notes.txt")); err == nil {
		t.Error("a file without the source suffix was copied")
	}

	write("prometheus/rules/b.yml", "b changed\n")
	if err := os.Remove(filepath.Join(tmp, "prometheus/rules/a.yml")); err != nil {
		t.Fatal(err)
	}
	stale, _ = helm.Stale(tmp)
	want := []string{
		helm.ChartDir + "/files/prometheus/rules/a.yml has no source",
		helm.ChartDir + "/files/prometheus/rules/b.yml differs from its source",
	}
	if !slices.Equal(stale, want) {
		t.Errorf("after changing the sources: got %q, want %q", stale, want)
	}
	if err := helm.Sync(tmp); err != nil {
		t.Fatal(err)
	}
	if stale, _ := helm.Stale(tmp); len(stale) != 0 {
		t.Fatalf("after the second sync: %v", stale)
	}
	b, err := os.ReadFile(filepath.Join(tmp, helm.ChartDir, "files/prometheus/rules/b.yml"))
	if err != nil || string(b) != "b changed\n" {
		t.Errorf("b.yml copy = %q, %v", b, err)
	}
}
