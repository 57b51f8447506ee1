// Package helm holds the CretoAI Helm chart (cretoai/) and the copies of
// repository files it needs. Helm can only read files inside a chart, so the
// rule files, alertmanager.yml, prometheus.yml, Grafana provisioning files
// and dashboard JSON are copied into cretoai/files/, each at its repository
// path: alerting/rules/stake.yml becomes cretoai/files/alerting/rules/stake.yml.
// The templates configure Prometheus, Alertmanager and Grafana from those
// copies, so the chart deploys what docker-compose.yml deploys, configured
// from the same files.
//
// The copies are committed. Regenerate them with `go generate ./helm/...`;
// a test fails while any copy differs from its source.
package helm

//go:generate go run ./cmd/gen

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
)

// ChartDir is the chart, relative to the repository root.
const ChartDir = "helm/cretoai"

// FilesDir is where the copies live, relative to ChartDir.
const FilesDir = "files"

// GenerateCommand rewrites the copies.
const GenerateCommand = "go generate ./helm/..."

// Source is one set of repository files copied into the chart: the files
// directly inside Dir (slash-separated, relative to the repository root)
// whose names end in Suffix.
type Source struct {
	Dir    string
	Suffix string
}

// Sources lists everything the chart copies. The compose file mounts the
// same files (prometheus/prometheus.go Mounts, dashboards/provisioning.go).
var Sources = []Source{
	{Dir: "prometheus", Suffix: "prometheus.yml"},
	{Dir: "prometheus/rules", Suffix: ".yml"},
	{Dir: "alerting", Suffix: "alertmanager.yml"},
	{Dir: "alerting/rules", Suffix: ".yml"},
	{Dir: "dashboards/provisioning/datasources", Suffix: ".yml"},
	{Dir: "dashboards/provisioning/dashboards", Suffix: ".yml"},
	{Dir: "dashboards/json", Suffix: ".json"},
}

// readmeName is a note inside FilesDir saying where the copies come from.
const readmeName = "README.md"

const readme = `# Generated copies: do not edit

Every file below this directory is a byte-for-byte copy of the repository
file at the same path (files/alerting/rules/stake.yml is
alerting/rules/stake.yml). Helm cannot read files outside the chart, so the
chart carries copies. Edit the originals and run

    ` + GenerateCommand + `

A test (helm/copies_test.go) fails while a copy is stale.
`

// ChartPath is the path of the copy of a repository file, relative to the
// chart directory.
func ChartPath(repoPath string) string {
	return path.Join(FilesDir, repoPath)
}

// Expected returns what FilesDir must hold, by path relative to the chart
// directory: the copy of every source file and the README.
func Expected(root string) (map[string][]byte, error) {
	out := map[string][]byte{path.Join(FilesDir, readmeName): []byte(readme)}
	for _, s := range Sources {
		entries, err := os.ReadDir(filepath.Join(root, filepath.FromSlash(s.Dir)))
		if err != nil {
			return nil, fmt.Errorf("helm: read %s: %w", s.Dir, err)
		}
		n := 0
		for _, e := range entries {
			if e.IsDir() || !strings.HasSuffix(e.Name(), s.Suffix) {
				continue
			}
			repoPath := path.Join(s.Dir, e.Name())
			b, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(repoPath)))
			if err != nil {
				return nil, fmt.Errorf("helm: %w", err)
			}
			out[ChartPath(repoPath)] = b
			n++
		}
		if n == 0 {
			return nil, fmt.Errorf("helm: no %s file in %s", s.Suffix, s.Dir)
		}
	}
	return out, nil
}

// Actual returns what FilesDir holds now, by path relative to the chart
// directory.
func Actual(root string) (map[string][]byte, error) {
	chart := filepath.Join(root, filepath.FromSlash(ChartDir))
	out := map[string][]byte{}
	err := filepath.WalkDir(filepath.Join(chart, FilesDir), func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if os.IsNotExist(err) {
				return nil
			}
			return err
		}
		if d.IsDir() {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(chart, p)
		if err != nil {
			return err
		}
		out[filepath.ToSlash(rel)] = b
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("helm: %w", err)
	}
	return out, nil
}

// Stale lists every way FilesDir differs from Expected: a copy that differs
// from its source, is missing, or has no source any more. Each entry names
// the chart path.
func Stale(root string) ([]string, error) {
	want, err := Expected(root)
	if err != nil {
		return nil, err
	}
	have, err := Actual(root)
	if err != nil {
		return nil, err
	}
	var problems []string
	for p, w := range want {
		h, ok := have[p]
		switch {
		case !ok:
			problems = append(problems, fmt.Sprintf("%s/%s is missing", ChartDir, p))
		case !bytes.Equal(h, w):
			problems = append(problems, fmt.Sprintf("%s/%s differs from its source", ChartDir, p))
		}
	}
	for p := range have {
		if _, ok := want[p]; !ok {
			problems = append(problems, fmt.Sprintf("%s/%s has no source", ChartDir, p))
		}
	}
	slices.Sort(problems)
	return problems, nil
}

// Sync rewrites FilesDir to equal Expected: it writes changed and missing
// copies and removes files without a source (and directories left empty).
func Sync(root string) error {
	want, err := Expected(root)
	if err != nil {
		return err
	}
	have, err := Actual(root)
	if err != nil {
		return err
	}
	chart := filepath.Join(root, filepath.FromSlash(ChartDir))
	for p, w := range want {
		if h, ok := have[p]; ok && bytes.Equal(h, w) {
			continue
		}
		dst := filepath.Join(chart, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return fmt.Errorf("helm: %w", err)
		}
		if err := os.WriteFile(dst, w, 0o644); err != nil {
			return fmt.Errorf("helm: %w", err)
		}
	}
	for p := range have {
		if _, ok := want[p]; ok {
			continue
		}
		dst := filepath.Join(chart, filepath.FromSlash(p))
		if err := os.Remove(dst); err != nil {
			return fmt.Errorf("helm: %w", err)
		}
		// Remove directories the removal left empty, up to FilesDir.
		for dir := filepath.Dir(dst); dir != filepath.Join(chart, FilesDir); dir = filepath.Dir(dir) {
			if os.Remove(dir) != nil {
				break
			}
		}
	}
	return nil
}
