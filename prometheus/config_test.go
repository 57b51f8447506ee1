package prometheus_test

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/model"
	"go.yaml.in/yaml/v3"

	"github.com/cretoai/monitor/e2e/tools"
	"github.com/cretoai/monitor/prometheus"
)

// config is the part of prometheus.yml these tests read; promtool checks
// the whole file.
type config struct {
	Global struct {
		ScrapeInterval     model.Duration `yaml:"scrape_interval"`
		EvaluationInterval model.Duration `yaml:"evaluation_interval"`
	} `yaml:"global"`
	RuleFiles []string `yaml:"rule_files"`
	Alerting  struct {
		Alertmanagers []struct {
			StaticConfigs []staticConfig `yaml:"static_configs"`
		} `yaml:"alertmanagers"`
	} `yaml:"alerting"`
	ScrapeConfigs []struct {
		JobName        string         `yaml:"job_name"`
		ScrapeInterval model.Duration `yaml:"scrape_interval"`
		StaticConfigs  []staticConfig `yaml:"static_configs"`
	} `yaml:"scrape_configs"`
}

type staticConfig struct {
	Targets []string `yaml:"targets"`
}

func root(t *testing.T) string {
	t.Helper()
	r, err := tools.Root()
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func load(t *testing.T, file string) config {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var c config
	if err := yaml.Unmarshal(b, &c); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	return c
}

// shipped is the repository's prometheus.yml, found through the mount table.
func shipped(t *testing.T) string {
	t.Helper()
	rel, ok := prometheus.RepoPath(prometheus.ConfigPath)
	if !ok {
		t.Fatalf("no mount provides %s", prometheus.ConfigPath)
	}
	return filepath.Join(root(t), filepath.FromSlash(rel))
}

// ruleFileProblems checks rule_files against the mount table (FAILURES.md
// R24): every entry is an absolute path inside the container, provided by a
// mount, matching at least one file of the repository; and every rule file
// of the repository's rule folders is loaded by some entry.
func ruleFileProblems(c config, repoRoot string) []string {
	var out []string
	loaded := map[string]bool{}
	for _, g := range c.RuleFiles {
		if !path.IsAbs(g) {
			out = append(out, fmt.Sprintf("rule_files %s is relative: it resolves against the config file's directory inside the container", g))
			continue
		}
		rel, ok := prometheus.RepoPath(g)
		if !ok {
			out = append(out, fmt.Sprintf("rule_files %s: no mount provides this path in the container", g))
			continue
		}
		matches, err := filepath.Glob(filepath.Join(repoRoot, filepath.FromSlash(rel)))
		if err != nil || len(matches) == 0 {
			out = append(out, fmt.Sprintf("rule_files %s (repository %s) matches no file", g, rel))
		}
		for _, m := range matches {
			loaded[m] = true
		}
	}
	for _, dir := range []string{"prometheus/rules", "alerting/rules"} {
		files, _ := filepath.Glob(filepath.Join(repoRoot, dir, "*.yml"))
		for _, f := range files {
			if !loaded[f] {
				out = append(out, fmt.Sprintf("rule file %s is not loaded by any rule_files entry", f))
			}
		}
	}
	return out
}

// targetProblems checks scrape and Alertmanager targets (FAILURES.md R25,
// R26): inside the container localhost is Prometheus itself, so only the
// self-scrape may use it; everything else is a compose service name.
func targetProblems(c config) []string {
	var out []string
	local := func(target string) bool {
		host, _, err := net.SplitHostPort(target)
		if err != nil {
			host = target
		}
		ip := net.ParseIP(host)
		return host == "localhost" || (ip != nil && (ip.IsLoopback() || ip.IsUnspecified()))
	}
	for _, sc := range c.ScrapeConfigs {
		for _, st := range sc.StaticConfigs {
			for _, target := range st.Targets {
				switch {
				case sc.JobName == prometheus.SelfJob && target != prometheus.SelfTarget:
					out = append(out, fmt.Sprintf("job %s scrapes %s, want %s", sc.JobName, target, prometheus.SelfTarget))
				case sc.JobName != prometheus.SelfJob && local(target):
					out = append(out, fmt.Sprintf("job %s scrapes %s: localhost is the Prometheus container itself", sc.JobName, target))
				}
			}
		}
	}
	var ams []string
	for _, am := range c.Alerting.Alertmanagers {
		for _, st := range am.StaticConfigs {
			ams = append(ams, st.Targets...)
		}
	}
	if !slices.Equal(ams, []string{prometheus.AlertmanagerTarget}) {
		out = append(out, fmt.Sprintf("alertmanager targets %v, want [%s]", ams, prometheus.AlertmanagerTarget))
	}
	return out
}

func TestRuleFilesResolveThroughMounts(t *testing.T) {
	for _, p := range ruleFileProblems(load(t, shipped(t)), root(t)) {
		t.Error(p)
	}
}

func TestTargets(t *testing.T) {
	for _, p := range targetProblems(load(t, shipped(t))) {
		t.Error(p)
	}
}

// TestConfigMatchesConstants: prometheus.yml says what prometheus.go says.
func TestConfigMatchesConstants(t *testing.T) {
	c := load(t, shipped(t))
	if got := time.Duration(c.Global.ScrapeInterval); got != prometheus.ScrapeInterval {
		t.Errorf("scrape_interval %s, want %s", got, prometheus.ScrapeInterval)
	}
	if got := time.Duration(c.Global.EvaluationInterval); got != prometheus.EvaluationInterval {
		t.Errorf("evaluation_interval %s, want %s", got, prometheus.EvaluationInterval)
	}
	jobs := map[string][]string{}
	for _, sc := range c.ScrapeConfigs {
		if sc.ScrapeInterval != 0 && time.Duration(sc.ScrapeInterval) != prometheus.ScrapeInterval {
			t.Errorf("job %s overrides scrape_interval (%s): rule windows and dashboards assume %s", sc.JobName, sc.ScrapeInterval, prometheus.ScrapeInterval)
		}
		for _, st := range sc.StaticConfigs {
			jobs[sc.JobName] = append(jobs[sc.JobName], st.Targets...)
		}
	}
	for job, want := range map[string]string{prometheus.ServiceJob: prometheus.ServiceTarget, prometheus.SelfJob: prometheus.SelfTarget} {
		if !slices.Equal(jobs[job], []string{want}) {
			t.Errorf("job %s scrapes %v, want [%s]", job, jobs[job], want)
		}
	}
}

// TestPlantedBadConfigsFail proves the checks above can fail.
func TestPlantedBadConfigsFail(t *testing.T) {
	cases := map[string]string{
		"localhost_target.yml":       "job cretoai scrapes localhost:8080",
		"loopback_ip_target.yml":     "job cretoai scrapes 127.0.0.1:8080",
		"localhost_alertmanager.yml": "alertmanager targets [localhost:9093]",
		"relative_rule_files.yml":    "rule_files rules/*.yml is relative",
		"host_rule_files.yml":        "rule_files /srv/monitor/alerting/rules/*.yml: no mount provides",
		"missing_alert_rules.yml":    "is not loaded by any rule_files entry",
		"no_matching_rules.yml":      "matches no file",
	}
	for file, want := range cases {
		t.Run(file, func(t *testing.T) {
			c := load(t, filepath.Join("testdata", file))
			problems := append(ruleFileProblems(c, root(t)), targetProblems(c)...)
			if !slices.ContainsFunc(problems, func(p string) bool { return strings.Contains(p, want) }) {
				t.Errorf("want a problem containing %q, got %v", want, problems)
			}
		})
	}
}

// TestPromtoolCheckConfig runs the pinned promtool check config, which also
// checks every rule file the configuration loads. The rule_files globs are
// paths inside the container, which do not exist on the host; so it checks
// a temporary copy whose rule_files are rewritten to the repository paths
// through the same mount table the compose file and Helm chart follow.
func TestPromtoolCheckConfig(t *testing.T) {
	promtool := tools.Path(t, "promtool")
	b, err := os.ReadFile(shipped(t))
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := yaml.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	var rewritten []any
	for _, g := range load(t, shipped(t)).RuleFiles {
		rel, ok := prometheus.RepoPath(g)
		if !ok {
			t.Fatalf("rule_files %s: no mount provides it", g)
		}
		rewritten = append(rewritten, filepath.Join(root(t), filepath.FromSlash(rel)))
	}
	doc["rule_files"] = rewritten
	out, err := yaml.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	tmp := filepath.Join(t.TempDir(), "prometheus.yml")
	if err := os.WriteFile(tmp, out, 0o600); err != nil {
		t.Fatal(err)
	}
	res, err := exec.Command(promtool, "check", "config", "--lint-fatal", tmp).CombinedOutput()
	if err != nil {
		t.Fatalf("promtool check config: %v\n%s", err, res)
	}
	// Every rule file was checked: promtool lists each one it loaded.
	for _, dir := range []string{"prometheus/rules", "alerting/rules"} {
		files, _ := filepath.Glob(filepath.Join(root(t), dir, "*.yml"))
		for _, f := range files {
			if !strings.Contains(string(res), f) {
				t.Errorf("promtool did not check %s:\n%s", f, res)
			}
		}
	}
}

func TestRepoPath(t *testing.T) {
	cases := []struct {
		in, want string
		ok       bool
	}{
		{"/etc/prometheus/prometheus.yml", "prometheus/prometheus.yml", true},
		{"/etc/prometheus/rules/*.yml", "prometheus/rules/*.yml", true},
		{"/etc/prometheus/rules/stake.yml", "prometheus/rules/stake.yml", true},
		{"/etc/prometheus/alerts/*.yml", "alerting/rules/*.yml", true},
		{"/etc/prometheus/alerts/../rules/x.yml", "prometheus/rules/x.yml", true},
		{"/etc/prometheus", "prometheus", true},
		{"/etc/prometheus/alertsX/a.yml", "prometheus/alertsX/a.yml", true},
		{"/etc/prometheusX/rules/a.yml", "", false},
		{"/etc/alertmanager/alertmanager.yml", "", false},
		{"rules/*.yml", "", false},
	}
	for _, c := range cases {
		got, ok := prometheus.RepoPath(c.in)
		if got != c.want || ok != c.ok {
			t.Errorf("RepoPath(%q) = %q, %v; want %q, %v", c.in, got, ok, c.want, c.ok)
		}
	}
}
