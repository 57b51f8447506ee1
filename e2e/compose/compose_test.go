// Package compose checks docker-compose.yml and the files it mounts as
// `docker compose config` would see them. There is no Docker engine on the
// machines that run these tests, so the stack itself is not started here; the
// e2e package runs the same programs and configs natively.
package compose

import (
	"context"
	"net"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/types"
	"go.yaml.in/yaml/v3"

	"github.com/cretoai/monitor/dashboards"
	"github.com/cretoai/monitor/e2e/tools"
)

func root(t *testing.T) string {
	t.Helper()
	r, err := tools.Root()
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// load reads the compose file with env as the only environment (no .env).
func load(t *testing.T, env map[string]string) *types.Project {
	t.Helper()
	var list []string
	for k, v := range env {
		list = append(list, k+"="+v)
	}
	opts, err := cli.NewProjectOptions([]string{filepath.Join(root(t), "docker-compose.yml")},
		cli.WithWorkingDirectory(root(t)), cli.WithEnv(list), cli.WithDiscardEnvFile, cli.WithName("cretoai"))
	if err != nil {
		t.Fatal(err)
	}
	p, err := opts.LoadProject(context.Background())
	if err != nil {
		t.Fatalf("docker-compose.yml does not load: %v", err)
	}
	return p
}

// envExample reads .env.example as KEY=VALUE pairs.
func envExample(t *testing.T) map[string]string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root(t), ".env.example"))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			t.Fatalf(".env.example: %q is not KEY=VALUE", line)
		}
		out[k] = v
	}
	return out
}

func service(t *testing.T, p *types.Project, name string) types.ServiceConfig {
	t.Helper()
	s, err := p.GetService(name)
	if err != nil {
		t.Fatalf("service %s: %v", name, err)
	}
	return s
}

var wantServices = []string{"alert-sink", "alertmanager", "cretoai", "grafana", "prometheus", "simulator"}

func TestLoadsWithDefaultsAndWithEnvExample(t *testing.T) {
	for name, env := range map[string]map[string]string{"no .env": nil, ".env.example": envExample(t)} {
		t.Run(name, func(t *testing.T) {
			p := load(t, env)
			if got := p.ServiceNames(); !slices.Equal(slices.Sorted(slices.Values(got)), wantServices) {
				t.Errorf("services %v, want %v", got, wantServices)
			}
		})
	}
}

// Every variable the compose file reads is documented in .env.example, and
// every variable there is used.
func TestEnvExampleDocumentsEveryVariable(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(root(t), "docker-compose.yml"))
	if err != nil {
		t.Fatal(err)
	}
	used := map[string]bool{}
	for _, part := range strings.Split(string(b), "${")[1:] {
		name := part[:strings.IndexAny(part, ":}-?")]
		used[name] = true
	}
	example := envExample(t)
	for v := range used {
		if _, ok := example[v]; !ok {
			t.Errorf("docker-compose.yml reads ${%s}, which .env.example does not document", v)
		}
	}
	for v := range example {
		if !used[v] {
			t.Errorf(".env.example sets %s, which docker-compose.yml never reads", v)
		}
	}
}

func TestImagesArePinned(t *testing.T) {
	p := load(t, nil)
	v, err := tools.Versions()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"prometheus":   "prom/prometheus:" + v["PROMETHEUS_RELEASE"],
		"alertmanager": "prom/alertmanager:" + v["ALERTMANAGER_VERSION"],
		"grafana":      dashboards.GrafanaImage,
	}
	for _, s := range p.Services {
		name, tag, ok := strings.Cut(s.Image, ":")
		if !ok || tag == "" || tag == "latest" || name == "" {
			t.Errorf("%s: image %q is not pinned to a version", s.Name, s.Image)
		}
		if w, ok := want[s.Name]; ok && s.Image != w {
			t.Errorf("%s: image %q, want %q (the version the tests build)", s.Name, s.Image, w)
		}
		if s.Build != nil && s.Build.Dockerfile != "service/Dockerfile" {
			t.Errorf("%s: builds %q, want service/Dockerfile", s.Name, s.Build.Dockerfile)
		}
	}
}

func TestHealthchecksRestartAndOrder(t *testing.T) {
	p := load(t, nil)
	for _, s := range p.Services {
		hc := s.HealthCheck
		if hc == nil || hc.Disable || len(hc.Test) == 0 {
			t.Errorf("%s: no healthcheck", s.Name)
			continue
		}
		if hc.StartPeriod == nil || *hc.StartPeriod <= 0 {
			t.Errorf("%s: healthcheck without start_period", s.Name)
		}
		if hc.Test[0] != "CMD" {
			t.Errorf("%s: healthcheck %v should be exec form (CMD), not a shell", s.Name, hc.Test)
		}
		if s.Restart != "unless-stopped" && s.Restart != "always" {
			t.Errorf("%s: restart policy %q", s.Name, s.Restart)
		}
		for dep, d := range s.DependsOn {
			if d.Condition != types.ServiceConditionHealthy {
				t.Errorf("%s depends on %s with condition %q, want service_healthy", s.Name, dep, d.Condition)
			}
		}
	}
	for svc, deps := range map[string][]string{
		"prometheus": {"cretoai", "alertmanager"},
		"grafana":    {"prometheus"},
		"simulator":  {"cretoai"},
	} {
		s := service(t, p, svc)
		for _, d := range deps {
			if _, ok := s.DependsOn[d]; !ok {
				t.Errorf("%s must wait for %s to be healthy", svc, d)
			}
		}
	}
	// The health endpoints each image's check asks for (R46).
	for svc, endpoint := range map[string]string{
		"cretoai": "healthcheck", "alert-sink": "healthcheck",
		"prometheus": "/-/ready", "alertmanager": "/-/ready", "grafana": "/api/health",
	} {
		if test := strings.Join(service(t, p, svc).HealthCheck.Test, " "); !strings.Contains(test, endpoint) {
			t.Errorf("%s: healthcheck %q does not check %s", svc, test, endpoint)
		}
	}
}

// Published ports are unique, bound to 127.0.0.1 by default, never clash
// with each other, and every one can be moved through the environment (R48).
func TestPorts(t *testing.T) {
	ports := func(p *types.Project) map[string]string {
		out := map[string]string{}
		for _, s := range p.Services {
			for _, port := range s.Ports {
				key := s.Name + "/" + strconv.Itoa(int(port.Target))
				out[key] = net.JoinHostPort(port.HostIP, port.Published)
			}
		}
		return out
	}
	def := ports(load(t, nil))
	want := map[string]string{
		"cretoai/8080": "127.0.0.1:8080", "prometheus/9090": "127.0.0.1:9090", "alertmanager/9093": "127.0.0.1:9093",
		"grafana/3000": "127.0.0.1:3000", "alert-sink/8095": "127.0.0.1:8095",
	}
	for k, v := range want {
		if def[k] != v {
			t.Errorf("%s published on %q, want %q", k, def[k], v)
		}
	}
	if len(def) != len(want) {
		t.Errorf("published ports %v, want exactly %v", def, want)
	}
	seen := map[string]string{}
	for k, v := range def {
		if other, ok := seen[v]; ok {
			t.Errorf("%s and %s both publish %s", k, other, v)
		}
		seen[v] = k
	}
	remapped := ports(load(t, map[string]string{
		"BIND_ADDRESS": "0.0.0.0", "CRETOAI_HOST_PORT": "18080", "PROMETHEUS_HOST_PORT": "19090",
		"ALERTMANAGER_HOST_PORT": "19093", "GRAFANA_HOST_PORT": "13000", "ALERT_SINK_HOST_PORT": "18095",
	}))
	for k, v := range remapped {
		if v == def[k] || !strings.HasPrefix(v, "0.0.0.0:1") {
			t.Errorf("%s: %q did not move with the environment", k, v)
		}
	}
	// The service's own default port stays clear of the stack's.
	if p := "8080"; slices.Contains([]string{"9090", "9093", "3000", "9100"}, p) {
		t.Errorf("service port %s clashes", p)
	}
}

// mounts returns the bind mounts of a service: container path → repo path.
func mounts(t *testing.T, p *types.Project, svc string) map[string]string {
	t.Helper()
	r := root(t)
	out := map[string]string{}
	for _, v := range service(t, p, svc).Volumes {
		if v.Type != types.VolumeTypeBind {
			continue
		}
		rel, err := filepath.Rel(r, v.Source)
		if err != nil || strings.HasPrefix(rel, "..") {
			t.Errorf("%s: bind mount %s is outside the repository", svc, v.Source)
			continue
		}
		out[v.Target] = filepath.ToSlash(rel)
	}
	return out
}

// Bind mounts exist in the repository and are directories, so an edited
// file is seen after a reload (R49: the single-file inode trap); state lives
// in named volumes whose image directories carry the right owners (R47).
func TestMounts(t *testing.T) {
	p := load(t, nil)
	r := root(t)
	for _, s := range p.Services {
		for target, rel := range mounts(t, p, s.Name) {
			fi, err := os.Stat(filepath.Join(r, rel))
			if err != nil {
				t.Errorf("%s: mount source %s does not exist: %v", s.Name, rel, err)
				continue
			}
			if !fi.IsDir() {
				t.Errorf("%s: %s is mounted as a single file at %s; mount its directory", s.Name, rel, target)
			}
		}
	}
	// A bind mount nested in another read-only bind mount needs its mount
	// point to exist in the outer source: Docker cannot create it in a
	// read-only mount and the container would not start.
	for _, s := range p.Services {
		for _, outer := range s.Volumes {
			if outer.Type != types.VolumeTypeBind || !outer.ReadOnly {
				continue
			}
			for _, inner := range s.Volumes {
				if inner.Target == outer.Target || !strings.HasPrefix(inner.Target, outer.Target+"/") {
					continue
				}
				point := filepath.Join(outer.Source, strings.TrimPrefix(inner.Target, outer.Target+"/"))
				if fi, err := os.Stat(point); err != nil || !fi.IsDir() {
					t.Errorf("%s: %s is mounted inside read-only %s, but %s has no directory to mount it on",
						s.Name, inner.Target, outer.Target, point)
				}
			}
		}
	}
	for svc, target := range map[string]string{
		"cretoai": "/var/lib/cretoai", "prometheus": "/prometheus", "alertmanager": "/alertmanager", "grafana": "/var/lib/grafana",
	} {
		found := false
		for _, v := range service(t, p, svc).Volumes {
			found = found || (v.Type == types.VolumeTypeVolume && v.Target == target)
		}
		if !found {
			t.Errorf("%s: no named volume at %s", svc, target)
		}
	}
	prom := service(t, p, "prometheus")
	cmd := strings.Join(prom.Command, " ")
	for _, flag := range []string{"--web.enable-lifecycle", "--storage.tsdb.retention.time=", "--config.file=/etc/prometheus/prometheus.yml"} {
		if !strings.Contains(cmd, flag) {
			t.Errorf("prometheus command %q lacks %s", cmd, flag)
		}
	}
}

// inContainer resolves a path inside a container to the repository file it
// comes from, through the service's bind mounts (the longest prefix wins).
func inContainer(m map[string]string, p string) (string, bool) {
	best := ""
	for target := range m {
		if (p == target || strings.HasPrefix(p, target+"/")) && len(target) > len(best) {
			best = target
		}
	}
	if best == "" {
		return "", false
	}
	return path.Join(m[best], strings.TrimPrefix(p, best)), true
}

func readYAML(t *testing.T, rel string, v any) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root(t), rel))
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", rel, err)
	}
}

// containerPort reports whether svc listens on port inside the compose
// network (its published target port or the port its healthcheck asks).
func listens(t *testing.T, p *types.Project, svc, port string) bool {
	s := service(t, p, svc)
	for _, pc := range s.Ports {
		if strconv.Itoa(int(pc.Target)) == port {
			return true
		}
	}
	return false
}

// Prometheus's targets are compose services on the ports they listen on
// (R25, R26); its rule_files, resolved inside the container, match the
// mounted rule files (R24).
func TestPrometheusConfigAgreesWithCompose(t *testing.T) {
	p := load(t, nil)
	m := mounts(t, p, "prometheus")
	cfgRel, ok := inContainer(m, "/etc/prometheus/prometheus.yml")
	if !ok {
		t.Fatal("/etc/prometheus/prometheus.yml is not provided by any mount")
	}
	var cfg struct {
		RuleFiles []string `yaml:"rule_files"`
		Alerting  struct {
			Alertmanagers []struct {
				StaticConfigs []struct {
					Targets []string `yaml:"targets"`
				} `yaml:"static_configs"`
			} `yaml:"alertmanagers"`
		} `yaml:"alerting"`
		ScrapeConfigs []struct {
			JobName       string `yaml:"job_name"`
			StaticConfigs []struct {
				Targets []string `yaml:"targets"`
			} `yaml:"static_configs"`
		} `yaml:"scrape_configs"`
	}
	readYAML(t, cfgRel, &cfg)
	for _, glob := range cfg.RuleFiles {
		dir, pattern := path.Split(glob)
		rel, ok := inContainer(m, path.Clean(dir))
		if !ok {
			t.Errorf("rule_files %s: no mount provides %s", glob, dir)
			continue
		}
		matches, _ := filepath.Glob(filepath.Join(root(t), rel, pattern))
		if len(matches) == 0 {
			t.Errorf("rule_files %s matches no file (repo %s/%s)", glob, rel, pattern)
		}
	}
	check := func(what, target string) {
		host, port, err := net.SplitHostPort(target)
		if err != nil {
			t.Errorf("%s: target %q: %v", what, target, err)
			return
		}
		if host == "localhost" || host == "127.0.0.1" {
			return // only Prometheus's own job, checked below
		}
		if !slices.Contains(p.ServiceNames(), host) {
			t.Errorf("%s: target %s is not a compose service", what, target)
		} else if !listens(t, p, host, port) {
			t.Errorf("%s: service %s does not listen on %s", what, host, port)
		}
	}
	jobs := map[string]bool{}
	for _, sc := range cfg.ScrapeConfigs {
		jobs[sc.JobName] = true
		for _, st := range sc.StaticConfigs {
			for _, tg := range st.Targets {
				if (strings.HasPrefix(tg, "localhost:") || strings.HasPrefix(tg, "127.0.0.1:")) && sc.JobName != "prometheus" {
					t.Errorf("job %s scrapes %s: inside the container that is Prometheus itself", sc.JobName, tg)
				}
				check("job "+sc.JobName, tg)
			}
		}
	}
	if !jobs["cretoai"] {
		t.Error("no scrape job cretoai")
	}
	n := 0
	for _, am := range cfg.Alerting.Alertmanagers {
		for _, st := range am.StaticConfigs {
			for _, tg := range st.Targets {
				n++
				if tg != "alertmanager:9093" {
					t.Errorf("alertmanager target %q, want alertmanager:9093", tg)
				}
				check("alerting", tg)
			}
		}
	}
	if n == 0 {
		t.Error("prometheus.yml names no Alertmanager")
	}
}

// Grafana's provisioning and dashboards are mounted where its provider
// expects them, and its datasource points at the prometheus service.
func TestGrafanaAgreesWithCompose(t *testing.T) {
	p := load(t, nil)
	m := mounts(t, p, "grafana")
	if rel, ok := inContainer(m, dashboards.GrafanaProvisioningPath); !ok || rel != dashboards.ProvisioningDir {
		t.Errorf("%s comes from %q, want %s", dashboards.GrafanaProvisioningPath, rel, dashboards.ProvisioningDir)
	}
	if rel, ok := inContainer(m, dashboards.GrafanaDashboardsPath); !ok || rel != dashboards.JSONDir {
		t.Errorf("%s comes from %q, want %s", dashboards.GrafanaDashboardsPath, rel, dashboards.JSONDir)
	}
	u, err := url.Parse(dashboards.PrometheusURL)
	if err != nil {
		t.Fatal(err)
	}
	if u.Hostname() != "prometheus" || !listens(t, p, u.Hostname(), u.Port()) {
		t.Errorf("datasource URL %s does not reach the prometheus service", dashboards.PrometheusURL)
	}
	env := service(t, p, "grafana").Environment
	if pw := env["GF_SECURITY_ADMIN_PASSWORD"]; pw == nil || *pw == "" {
		t.Error("Grafana's admin password is not set from the environment")
	}
	if on := env["GF_AUTH_ANONYMOUS_ENABLED"]; on == nil || *on != "true" {
		t.Error("anonymous read-only viewing should be on by default")
	}
	if role := env["GF_AUTH_ANONYMOUS_ORG_ROLE"]; role == nil || *role != "Viewer" {
		t.Error("anonymous visitors must be Viewers")
	}
}

// Alertmanager's config is mounted as a directory and every webhook URL
// reaches the compose alert sink on its port and webhook path.
func TestAlertmanagerAgreesWithCompose(t *testing.T) {
	p := load(t, nil)
	m := mounts(t, p, "alertmanager")
	rel, ok := inContainer(m, "/etc/alertmanager/alertmanager.yml")
	if !ok {
		t.Fatal("/etc/alertmanager/alertmanager.yml is not provided by any mount")
	}
	var cfg struct {
		Receivers []struct {
			Name           string `yaml:"name"`
			WebhookConfigs []struct {
				URL string `yaml:"url"`
			} `yaml:"webhook_configs"`
		} `yaml:"receivers"`
	}
	readYAML(t, rel, &cfg)
	n := 0
	for _, r := range cfg.Receivers {
		for _, w := range r.WebhookConfigs {
			n++
			u, err := url.Parse(w.URL)
			if err != nil {
				t.Errorf("receiver %s: %v", r.Name, err)
				continue
			}
			if u.Hostname() != "alert-sink" || !listens(t, p, "alert-sink", u.Port()) {
				t.Errorf("receiver %s: %s does not reach the alert-sink service", r.Name, w.URL)
			}
			if !strings.HasPrefix(u.Path, "/webhook/") || strings.Count(u.Path, "/") != 2 {
				t.Errorf("receiver %s: path %s is not a sink webhook path (/webhook/<name>)", r.Name, u.Path)
			}
		}
	}
	if n == 0 {
		t.Error("alertmanager.yml has no webhook receiver; the stack would deliver alerts nowhere")
	}
}
