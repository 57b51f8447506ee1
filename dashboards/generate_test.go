package dashboards

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// TestGeneratedJSONIsCurrent regenerates every dashboard in memory and
// fails when a committed file differs, is missing, or is left over.
func TestGeneratedJSONIsCurrent(t *testing.T) {
	dir := repoPath(JSONDir)
	want := map[string]bool{}
	for _, d := range All() {
		want[d.FileName()] = true
		generated, err := d.JSON()
		if err != nil {
			t.Fatalf("%s: %v", d.UID, err)
		}
		committed, err := os.ReadFile(filepath.Join(dir, d.FileName()))
		if err != nil {
			t.Errorf("%s/%s: %v; run `%s`", JSONDir, d.FileName(), err, GenerateCommand)
			continue
		}
		if !bytes.Equal(generated, committed) {
			t.Errorf("%s/%s is stale: it differs from what the code generates (first difference at byte %d); run `%s`",
				JSONDir, d.FileName(), firstDiff(generated, committed), GenerateCommand)
		}
	}
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if !want[filepath.Base(f)] {
			t.Errorf("%s/%s is no generated dashboard; run `%s`, which removes it", JSONDir, filepath.Base(f), GenerateCommand)
		}
	}
}

// TestGenerationIsDeterministic builds every dashboard twice.
func TestGenerationIsDeterministic(t *testing.T) {
	for _, d := range All() {
		a, err := d.JSON()
		if err != nil {
			t.Fatal(err)
		}
		b, err := d.JSON()
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(a, b) {
			t.Errorf("%s: two generations differ at byte %d", d.UID, firstDiff(a, b))
		}
	}
}

func firstDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}
