package dashboards

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/cretoai/monitor/dashboards/lint"
)

// repoRoot is the repository root as seen from this package's directory,
// where go test runs.
const repoRoot = ".."

// repoPath turns a repository-relative path into one usable from here.
func repoPath(rel string) string { return filepath.Join(repoRoot, filepath.FromSlash(rel)) }

// committedFile is one committed dashboard file.
type committedFile struct {
	name string
	raw  []byte
	dash lint.Dashboard
}

// committedDashboards reads every committed dashboard JSON file; it fails
// the test when there is none or one does not decode.
func committedDashboards(t *testing.T) []committedFile {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(repoPath(JSONDir), "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) == 0 {
		t.Fatalf("no dashboards in %s: run `%s`", JSONDir, GenerateCommand)
	}
	sort.Strings(paths)
	var out []committedFile
	for _, p := range paths {
		raw, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		d, err := lint.Parse(raw)
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		out = append(out, committedFile{name: filepath.Base(p), raw: raw, dash: d})
	}
	return out
}

// lintConfig is what the committed dashboards are checked against: the
// catalog, Prometheus's own series, recording rules once they exist, the
// provisioned datasource and the pinned Grafana's schema versions.
func lintConfig(t *testing.T) lint.Config {
	t.Helper()
	metrics := lint.Catalog()
	if _, err := metrics.AddRecordingRules(filepath.Join(repoPath("prometheus/rules"), "*.yml")); err != nil {
		t.Fatalf("read recording rules: %v", err)
	}
	if _, err := metrics.AddRecordingRules(filepath.Join(repoPath("prometheus/rules"), "*.yaml")); err != nil {
		t.Fatalf("read recording rules: %v", err)
	}
	return lint.Config{
		Metrics:            metrics,
		DatasourceUID:      DatasourceUID,
		DatasourceVariable: varDatasource,
		MinSchemaVersion:   GrafanaMinSchemaVersion,
		MaxSchemaVersion:   GrafanaMaxSchemaVersion,
	}
}

// report fails t with every problem, one per line.
func report(t *testing.T, what string, problems []lint.Problem) {
	t.Helper()
	if len(problems) == 0 {
		return
	}
	lines := make([]string, len(problems))
	for i, p := range problems {
		lines[i] = p.String()
	}
	t.Errorf("%s: %d problem(s):\n  %s", what, len(problems), strings.Join(lines, "\n  "))
}
