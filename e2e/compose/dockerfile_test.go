package compose

import (
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// dockerfile returns service/Dockerfile's instructions with continuation
// lines joined.
func dockerfile(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root(t), "service", "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	cur := ""
	for _, line := range strings.Split(string(b), "\n") {
		trimmed := strings.TrimSpace(line)
		if cur == "" && (trimmed == "" || strings.HasPrefix(trimmed, "#")) {
			continue
		}
		if strings.HasSuffix(trimmed, "\\") {
			cur += strings.TrimSuffix(trimmed, "\\") + " "
			continue
		}
		out = append(out, strings.Join(strings.Fields(cur+trimmed), " "))
		cur = ""
	}
	return out
}

var goBuild = regexp.MustCompile(`go build (.*?) -o \S+ ((?:\./service/cmd/\S+ ?)+)`)

// The image's build is the local build the README documents: the same go
// build flags and packages, with CGO_ENABLED=0, giving static binaries.
func TestDockerfileBuildIsTheDocumentedLocalBuild(t *testing.T) {
	var build, env, final string
	var froms []string
	for _, ins := range dockerfile(t) {
		switch {
		case strings.HasPrefix(ins, "RUN ") && strings.Contains(ins, "go build"):
			build = ins
		case strings.HasPrefix(ins, "ENV CGO_ENABLED"):
			env = ins
		case strings.HasPrefix(ins, "FROM "):
			froms = append(froms, ins)
		}
		final += ins + "\n"
	}
	if env != "ENV CGO_ENABLED=0" {
		t.Errorf("the build stage must set CGO_ENABLED=0, got %q", env)
	}
	for _, f := range froms {
		image := strings.Fields(f)[1]
		if _, tag, ok := strings.Cut(image, ":"); !ok || tag == "latest" {
			t.Errorf("%q: base image not pinned", f)
		}
	}
	last := final[strings.LastIndex(final, "FROM "):]
	for _, want := range []string{"USER 65532:65532", `HEALTHCHECK`, `"healthcheck"`, `ENTRYPOINT ["/usr/local/bin/cretoai"]`} {
		if !strings.Contains(last, want) {
			t.Errorf("runtime stage lacks %s", want)
		}
	}
	m := goBuild.FindStringSubmatch(build)
	if m == nil {
		t.Fatalf("no go build in %q", build)
	}
	flags, pkgs := m[1], strings.Fields(m[2])
	readme, err := os.ReadFile(filepath.Join(root(t), "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	local := strings.NewReplacer("${VERSION}", "dev", "${REVISION}", "unknown").Replace(flags)
	want := "CGO_ENABLED=0 go build " + local + " -o bin/ " + strings.Join(pkgs, " ")
	if !strings.Contains(string(readme), want) {
		t.Errorf("README.md does not document the Dockerfile's build; it should show:\n%s", want)
	}

	// Run that build here and check the binaries are static.
	out := t.TempDir()
	// -ldflags takes one argument: take it from the quoted string.
	args := []string{"build", "-trimpath", "-ldflags", ldflags(t, local), "-o", out + "/"}
	args = append(args, pkgs...)
	cmd := exec.Command("go", args...)
	cmd.Dir = root(t)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go %v: %v\n%s", args, err, b)
	}
	for _, p := range pkgs {
		bin := filepath.Join(out, filepath.Base(p))
		f, err := elf.Open(bin)
		if err != nil {
			t.Fatalf("%s: %v", bin, err)
		}
		for _, prog := range f.Progs {
			if prog.Type == elf.PT_INTERP {
				t.Errorf("%s is dynamically linked", bin)
			}
		}
		f.Close()
		if b, err := exec.Command(bin, "--help").CombinedOutput(); err != nil {
			t.Errorf("%s --help: %v\n%s", bin, err, b)
		}
	}
}

// ldflags returns the value of -ldflags "..." in flags.
func ldflags(t *testing.T, flags string) string {
	t.Helper()
	m := regexp.MustCompile(`-ldflags "([^"]*)"`).FindStringSubmatch(flags)
	if m == nil {
		t.Fatalf("no -ldflags in %q", flags)
	}
	if !strings.Contains(flags, "-trimpath") {
		t.Fatalf("no -trimpath in %q", flags)
	}
	return m[1]
}
