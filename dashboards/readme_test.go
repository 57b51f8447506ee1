package dashboards

import (
	"os"
	"strings"
	"testing"
)

// TestREADME checks the README's Dashboards section names every dashboard
// with its uid and the question it answers (from All), says how to
// regenerate, and names the pinned Grafana image.
func TestREADME(t *testing.T) {
	raw, err := os.ReadFile(repoPath("README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(raw), "\n## Dashboards\n")
	if !ok {
		t.Fatal("README.md has no \"## Dashboards\" section")
	}
	if end := strings.Index(section, "\n## "); end >= 0 {
		section = section[:end]
	}
	for _, d := range All() {
		line := ""
		for _, l := range strings.Split(section, "\n") {
			if strings.Contains(l, "`"+d.UID+"`") {
				line = l
			}
		}
		switch {
		case line == "":
			t.Errorf("README Dashboards section has no line for `%s`", d.UID)
		case !strings.Contains(line, d.Title) || !strings.Contains(line, d.Question):
			t.Errorf("README line for %s should name %q and answer %q; it is:\n%s", d.UID, d.Title, d.Question, line)
		}
	}
	for _, want := range []string{GenerateCommand, GrafanaImage} {
		if !strings.Contains(section, want) {
			t.Errorf("README Dashboards section does not mention %q", want)
		}
	}
}
