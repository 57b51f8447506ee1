// Command gen copies the repository files the Helm chart needs into
// helm/cretoai/files (see package helm). Run it with `go generate ./helm/...`.
package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/cretoai/monitor/helm"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

func run() error {
	root, err := repoRoot()
	if err != nil {
		return err
	}
	return helm.Sync(root)
}

// repoRoot is the directory holding go.mod, at or above the working
// directory (go generate runs in helm/).
func repoRoot() (string, error) {
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
			return "", errors.New("no go.mod above the working directory")
		}
		dir = parent
	}
}
