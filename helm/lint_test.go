package helm_test

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cretoai/monitor/e2e/tools"
)

// helmLint runs the pinned `helm lint --strict` on the chart with args.
func helmLint(t *testing.T, args ...string) (string, error) {
	t.Helper()
	bin := tools.Path(t, "helm")
	cmd := exec.Command(bin, append([]string{"lint", "--strict", chartDir(t)}, args...)...)
	// No user configuration or plugins leak in.
	home := t.TempDir()
	cmd.Env = append(cmd.Environ(), "HELM_CONFIG_HOME="+home, "HELM_CACHE_HOME="+home, "HELM_DATA_HOME="+home)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// TestHelmLintStrict: the pinned helm lint --strict passes for the default
// values and for every ci/*-values.yaml scenario.
func TestHelmLintStrict(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(chartDir(t), "ci", "*-values.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	cases := map[string][]string{"defaults": nil}
	for _, f := range files {
		cases[filepath.Base(f)] = []string{"-f", f}
	}
	for name, args := range cases {
		t.Run(name, func(t *testing.T) {
			out, err := helmLint(t, args...)
			if err != nil {
				t.Fatalf("helm lint --strict %s: %v\n%s", strings.Join(args, " "), err, out)
			}
			if !strings.Contains(out, "0 chart(s) failed") {
				t.Errorf("unexpected lint output:\n%s", out)
			}
		})
	}
}

// TestHelmLintRejectsBadValues (FAILURES.md R45): the schema makes lint
// fail on a misspelled key, an unknown top-level key and a wrong type, and
// says where.
func TestHelmLintRejectsBadValues(t *testing.T) {
	cases := map[string]string{
		"bogusKey=1":                  "additional properties 'bogusKey' not allowed",
		"serviceMonitor.enabeld=true": "additional properties 'enabeld' not allowed",
		"replicaCount=two":            "/replicaCount",
	}
	for set, want := range cases {
		t.Run(set, func(t *testing.T) {
			out, err := helmLint(t, "--set", set)
			if err == nil {
				t.Fatalf("helm lint --set %s passed:\n%s", set, out)
			}
			if !strings.Contains(out, want) {
				t.Errorf("helm lint --set %s failed without mentioning %q:\n%s", set, want, out)
			}
		})
	}
}
