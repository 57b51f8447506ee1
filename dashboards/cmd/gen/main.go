// Command gen writes every CretoAI dashboard as plain dashboard JSON, one
// <uid>.json per dashboard, and removes JSON files of dashboards that no
// longer exist. Run it with `go generate ./dashboards/...`.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/cretoai/monitor/dashboards"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("gen", flag.ContinueOnError)
	dir := fs.String("dir", "json", "directory to write the dashboards to")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := os.MkdirAll(*dir, 0o755); err != nil {
		return fmt.Errorf("create %s: %w", *dir, err)
	}
	want := map[string]bool{}
	for _, d := range dashboards.All() {
		out, err := d.JSON()
		if err != nil {
			return err
		}
		path := filepath.Join(*dir, d.FileName())
		if err := os.WriteFile(path, out, 0o644); err != nil {
			return fmt.Errorf("write %s: %w", path, err)
		}
		want[d.FileName()] = true
	}
	stale, err := filepath.Glob(filepath.Join(*dir, "*.json"))
	if err != nil {
		return err
	}
	for _, path := range stale {
		if !want[filepath.Base(path)] {
			if err := os.Remove(path); err != nil {
				return fmt.Errorf("remove stale %s: %w", path, err)
			}
		}
	}
	return nil
}
