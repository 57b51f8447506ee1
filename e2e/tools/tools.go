// Package tools finds the pinned test programs (prometheus, promtool,
// alertmanager, amtool, helm) for tests, building them with .ci/build-tools,
// which reads the versions from .ci/tools.env. Tests never use whatever
// version happens to be on PATH.
package tools

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// Root returns the repository root (the directory holding go.mod).
func Root() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("tools: no go.mod above the working directory")
		}
		dir = parent
	}
}

// Versions returns the settings of .ci/tools.env.
func Versions() (map[string]string, error) {
	root, err := Root()
	if err != nil {
		return nil, err
	}
	f, err := os.Open(filepath.Join(root, ".ci", "tools.env"))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	out := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			return nil, fmt.Errorf("tools: bad line in tools.env: %q", line)
		}
		out[k] = v
	}
	return out, sc.Err()
}

// Build builds name (if needed) and returns its path.
func Build(name string) (string, error) {
	root, err := Root()
	if err != nil {
		return "", err
	}
	bin := os.Getenv("TOOLS_BIN")
	if bin == "" {
		bin = filepath.Join(root, ".bin")
	}
	cmd := exec.Command("bash", filepath.Join(root, ".ci", "build-tools"), name)
	cmd.Env = append(os.Environ(), "TOOLS_BIN="+bin)
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("tools: build %s: %v\n%s", name, err, out)
	}
	return filepath.Join(bin, name), nil
}

// Path returns the path of the pinned tool name, building it if needed; the
// test fails when it cannot be built.
func Path(t testing.TB, name string) string {
	t.Helper()
	p, err := Build(name)
	if err != nil {
		t.Fatal(err)
	}
	return p
}
