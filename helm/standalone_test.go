package helm_test

import (
	"context"
	"maps"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/types"
	"go.yaml.in/yaml/v3"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/cretoai/monitor/dashboards"
	"github.com/cretoai/monitor/e2e/tools"
	"github.com/cretoai/monitor/helm"
	"github.com/cretoai/monitor/helm/render"
	"github.com/cretoai/monitor/prometheus"
)

// fileTree is what a container sees of its mounted ConfigMaps: absolute
// path inside the container to content.
type fileTree map[string]string

// mountedFiles builds the files a container of spec sees from the
// release's ConfigMaps (configMap and projected volumes). Secrets and
// other volumes are left out.
func mountedFiles(t *testing.T, spec corev1.PodSpec, containerName string, cms map[string]*corev1.ConfigMap) fileTree {
	t.Helper()
	vols := map[string]corev1.Volume{}
	for _, v := range spec.Volumes {
		vols[v.Name] = v
	}
	out := fileTree{}
	add := func(dir, cmName string, items []corev1.KeyToPath) {
		cm := cms[cmName]
		if cm == nil {
			t.Fatalf("ConfigMap %s is not rendered", cmName)
		}
		if len(items) == 0 {
			for k, v := range cm.Data {
				out[path.Join(dir, k)] = v
			}
			return
		}
		for _, it := range items {
			out[path.Join(dir, it.Path)] = cm.Data[it.Key]
		}
	}
	for _, m := range container(t, spec, containerName).VolumeMounts {
		v := vols[m.Name]
		switch {
		case v.ConfigMap != nil:
			add(m.MountPath, v.ConfigMap.Name, v.ConfigMap.Items)
		case v.Projected != nil:
			for _, s := range v.Projected.Sources {
				if s.ConfigMap != nil {
					add(m.MountPath, s.ConfigMap.Name, s.ConfigMap.Items)
				}
			}
		}
	}
	return out
}

// under lists the files of tree directly inside dir.
func (ft fileTree) under(dir string) map[string]string {
	out := map[string]string{}
	for p, c := range ft {
		if path.Dir(p) == dir {
			out[path.Base(p)] = c
		}
	}
	return out
}

func standalone(t *testing.T, set ...string) *render.Result {
	return renderChart(t, scenarioNamed(t, "standalone").options(t, set...))
}

// prometheusFiles is what the standalone Prometheus container sees.
func prometheusFiles(t *testing.T, res *render.Result) fileTree {
	sts := statefulSet(t, res, promName)
	return mountedFiles(t, sts.Spec.Template.Spec, "prometheus", configMaps(t, res))
}

// TestPrometheusMountsFollowTheMountTable (FAILURES.md R24): the standalone
// Prometheus sees prometheus.yml at prometheus.ConfigPath, every other file
// it sees is the repository file prometheus/prometheus.go Mounts maps that
// path to, byte for byte, and each rule_files glob matches exactly the
// files it matches in the repository.
func TestPrometheusMountsFollowTheMountTable(t *testing.T) {
	res := standalone(t)
	files := prometheusFiles(t, res)
	if _, ok := files[prometheus.ConfigPath]; !ok {
		t.Fatalf("%s is not mounted", prometheus.ConfigPath)
	}
	for p, content := range files {
		if p == prometheus.ConfigPath {
			continue
		}
		rel, ok := prometheus.RepoPath(p)
		if !ok {
			t.Errorf("%s is mounted, but no entry of prometheus.Mounts provides it", p)
			continue
		}
		b, err := os.ReadFile(filepath.Join(root(t), filepath.FromSlash(rel)))
		if err != nil {
			t.Errorf("%s: %v", p, err)
		} else if string(b) != content {
			t.Errorf("%s differs from %s; run `%s`", p, rel, helm.GenerateCommand)
		}
	}
	cfg := renderedPrometheusConfig(t, res)
	for _, g := range cfg["rule_files"].([]any) {
		glob := g.(string)
		got := map[string]string{}
		for p, c := range files {
			if ok, _ := path.Match(glob, p); ok {
				got[path.Base(p)] = c
			}
		}
		rel, ok := prometheus.RepoPath(glob)
		if !ok {
			t.Errorf("rule_files %s: no mount provides it", glob)
			continue
		}
		matches, err := filepath.Glob(filepath.Join(root(t), filepath.FromSlash(rel)))
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]string{}
		for _, m := range matches {
			b, err := os.ReadFile(m)
			if err != nil {
				t.Fatal(err)
			}
			want[filepath.Base(m)] = string(b)
		}
		if len(want) == 0 || !maps.Equal(got, want) {
			t.Errorf("rule_files %s matches %v in the pod, want the repository's %s %v; run `%s`", glob,
				slices.Sorted(maps.Keys(got)), rel, slices.Sorted(maps.Keys(want)), helm.GenerateCommand)
		}
	}
	if c := container(t, statefulSet(t, res, promName).Spec.Template.Spec, "prometheus"); !slices.Contains(c.Args, "--config.file="+prometheus.ConfigPath) {
		t.Errorf("Prometheus does not read %s: %v", prometheus.ConfigPath, c.Args)
	}
}

// renderedPrometheusConfig is the standalone prometheus.yml.
func renderedPrometheusConfig(t *testing.T, res *render.Result) map[string]any {
	t.Helper()
	var cfg map[string]any
	if err := yaml.Unmarshal([]byte(prometheusFiles(t, res)[prometheus.ConfigPath]), &cfg); err != nil {
		t.Fatal(err)
	}
	return cfg
}

func staticTargets(v any) []string {
	var out []string
	list, _ := v.([]any)
	for _, sc := range list {
		m, _ := sc.(map[string]any)
		ts, _ := m["targets"].([]any)
		for _, t := range ts {
			out = append(out, t.(string))
		}
	}
	return out
}

// TestPrometheusConfigIsTheRepositorys: the standalone prometheus.yml is
// the repository's with in-cluster addresses: the same globals, rule_files
// and jobs; the service's and every Alertmanager replica's pod addresses
// instead of compose names; localhost only for the self-scrape.
func TestPrometheusConfigIsTheRepositorys(t *testing.T) {
	res := standalone(t, "alertmanager.replicas=3")
	got := renderedPrometheusConfig(t, res)
	var repo map[string]any
	b, err := os.ReadFile(filepath.Join(root(t), "prometheus", "prometheus.yml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(b, &repo); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"global", "rule_files"} {
		g, _ := yaml.Marshal(got[k])
		r, _ := yaml.Marshal(repo[k])
		if string(g) != string(r) {
			t.Errorf("%s differs from prometheus/prometheus.yml:\n%s\nwant\n%s", k, g, r)
		}
	}
	svcPod := func(i string) string {
		return fullname + "-" + i + "." + fullname + "-headless." + namespace + ".svc.cluster.local"
	}
	amPod := func(i string) string {
		return amName + "-" + i + "." + amName + "-headless." + namespace + ".svc.cluster.local:9093"
	}
	wantTargets := map[string][]string{
		prometheus.ServiceJob: {svcPod("0") + ":8080"},
		prometheus.SelfJob:    {prometheus.SelfTarget},
		"alertmanager":        {amPod("0"), amPod("1"), amPod("2")},
	}
	gotJobs := map[string][]string{}
	for _, sc := range got["scrape_configs"].([]any) {
		m := sc.(map[string]any)
		gotJobs[m["job_name"].(string)] = staticTargets(m["static_configs"])
	}
	var repoJobs []string
	for _, sc := range repo["scrape_configs"].([]any) {
		repoJobs = append(repoJobs, sc.(map[string]any)["job_name"].(string))
	}
	if !slices.Equal(slices.Sorted(maps.Keys(gotJobs)), slices.Sorted(slices.Values(repoJobs))) {
		t.Errorf("jobs %v, want the repository's %v", slices.Sorted(maps.Keys(gotJobs)), repoJobs)
	}
	for job, want := range wantTargets {
		if !slices.Equal(gotJobs[job], want) {
			t.Errorf("job %s scrapes %v, want %v", job, gotJobs[job], want)
		}
	}
	var amTargets []string
	for _, am := range got["alerting"].(map[string]any)["alertmanagers"].([]any) {
		amTargets = append(amTargets, staticTargets(am.(map[string]any)["static_configs"])...)
	}
	// Every replica gets every alert (FAILURES.md R26).
	if !slices.Equal(amTargets, wantTargets["alertmanager"]) {
		t.Errorf("alerts go to %v, want every replica %v", amTargets, wantTargets["alertmanager"])
	}
}

// TestPromtoolCheckConfig: the rendered standalone prometheus.yml and the
// rule files mounted beside it pass the pinned `promtool check config`,
// for the plain and the HA + remoteWrite scenario. The files are written
// to a temporary directory at their in-container paths; rule_files (and
// remote_write credential files) are absolute paths inside the container,
// so they are rewritten to point into that directory.
func TestPromtoolCheckConfig(t *testing.T) {
	promtool := tools.Path(t, "promtool")
	for _, name := range []string{"standalone", "standalone-ha"} {
		t.Run(name, func(t *testing.T) {
			res := renderChart(t, scenarioNamed(t, name).options(t))
			dir := t.TempDir()
			files := prometheusFiles(t, res)
			var cfg map[string]any
			if err := yaml.Unmarshal([]byte(files[prometheus.ConfigPath]), &cfg); err != nil {
				t.Fatal(err)
			}
			var ruleFiles []any
			for _, g := range cfg["rule_files"].([]any) {
				ruleFiles = append(ruleFiles, filepath.Join(dir, filepath.FromSlash(g.(string))))
			}
			cfg["rule_files"] = ruleFiles
			rw, _ := cfg["remote_write"].([]any)
			for _, r := range rw {
				if ba, ok := r.(map[string]any)["basic_auth"].(map[string]any); ok {
					if pf, ok := ba["password_file"].(string); ok {
						files[pf] = "secret\n"
						ba["password_file"] = filepath.Join(dir, filepath.FromSlash(pf))
					}
				}
			}
			out, err := yaml.Marshal(cfg)
			if err != nil {
				t.Fatal(err)
			}
			files[prometheus.ConfigPath] = string(out)
			for p, c := range files {
				f := filepath.Join(dir, filepath.FromSlash(p))
				if err := os.MkdirAll(filepath.Dir(f), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(f, []byte(c), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			cmd := exec.Command(promtool, "check", "config", "--lint-fatal", filepath.Join(dir, filepath.FromSlash(prometheus.ConfigPath)))
			res2, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("promtool check config: %v\n%s\n%s", err, res2, out)
			}
			// Every mounted rule file was loaded.
			for p := range files {
				if strings.HasSuffix(p, ".yml") && p != prometheus.ConfigPath && !strings.Contains(string(res2), filepath.Join(dir, filepath.FromSlash(p))) {
					t.Errorf("promtool did not check %s:\n%s", p, res2)
				}
			}
		})
	}
}

// TestRemoteWrite (DESIGN.md §6): remoteWrite entries and external labels
// reach prometheus.yml as given.
func TestRemoteWrite(t *testing.T) {
	res := renderChart(t, scenarioNamed(t, "standalone-ha").options(t))
	cfg := renderedPrometheusConfig(t, res)
	rw, _ := cfg["remote_write"].([]any)
	if len(rw) != 2 || rw[0].(map[string]any)["url"] != "http://mimir-nginx.mimir.svc.cluster.local/api/v1/push" {
		t.Errorf("remote_write = %v", rw)
	}
	if el := cfg["global"].(map[string]any)["external_labels"]; el.(map[string]any)["cluster"] != "prod-eu-1" {
		t.Errorf("external_labels = %v", el)
	}
	if _, ok := renderedPrometheusConfig(t, standalone(t))["remote_write"]; ok {
		t.Error("remote_write is set without remoteWrite values")
	}
	sts := statefulSet(t, res, promName)
	if !slices.ContainsFunc(container(t, sts.Spec.Template.Spec, "prometheus").VolumeMounts, func(m corev1.VolumeMount) bool {
		return m.MountPath == "/etc/prometheus-secrets"
	}) {
		t.Error("prometheus.secretName is not mounted at /etc/prometheus-secrets")
	}
}

// alertmanagerConfig is the rendered alertmanager.yml.
func alertmanagerConfig(t *testing.T, res *render.Result) (string, string) {
	t.Helper()
	sts := statefulSet(t, res, amName)
	c := container(t, sts.Spec.Template.Spec, "alertmanager")
	var file string
	for _, a := range c.Args {
		if v, ok := strings.CutPrefix(a, "--config.file="); ok {
			file = v
		}
	}
	cfg, ok := mountedFiles(t, sts.Spec.Template.Spec, "alertmanager", configMaps(t, res))[file]
	if !ok {
		t.Fatalf("--config.file=%s is not mounted", file)
	}
	return file, cfg
}

// TestAmtoolCheckConfig: the rendered alertmanager.yml passes the pinned
// `amtool check-config`, and its webhooks point at the alert sink's
// Service instead of compose's alert-sink.
func TestAmtoolCheckConfig(t *testing.T) {
	amtool := tools.Path(t, "amtool")
	for _, name := range []string{"standalone", "standalone-ha"} {
		t.Run(name, func(t *testing.T) {
			_, cfg := alertmanagerConfig(t, renderChart(t, scenarioNamed(t, name).options(t)))
			if strings.Contains(cfg, "//alert-sink:") {
				t.Error("the compose address of the alert sink is left in alertmanager.yml")
			}
			sink := "http://" + alertSink + "." + namespace + ".svc.cluster.local:8095/webhook/"
			var parsed struct {
				Receivers []struct {
					WebhookConfigs []struct {
						URL string `yaml:"url"`
					} `yaml:"webhook_configs"`
				} `yaml:"receivers"`
			}
			if err := yaml.Unmarshal([]byte(cfg), &parsed); err != nil {
				t.Fatal(err)
			}
			n := 0
			for _, r := range parsed.Receivers {
				for _, w := range r.WebhookConfigs {
					n++
					if !strings.HasPrefix(w.URL, sink) {
						t.Errorf("webhook %s does not go to the alert sink Service %s", w.URL, sink)
					}
				}
			}
			if n == 0 {
				t.Error("no webhook receivers")
			}
			f := filepath.Join(t.TempDir(), "alertmanager.yml")
			if err := os.WriteFile(f, []byte(cfg), 0o600); err != nil {
				t.Fatal(err)
			}
			if out, err := exec.Command(amtool, "check-config", f).CombinedOutput(); err != nil {
				t.Fatalf("amtool check-config: %v\n%s", err, out)
			}
		})
	}
	if err := renderErr(t, scenarioNamed(t, "standalone").options(t, "alertSink.enabled=false")); err == nil || !strings.Contains(err.Error(), "alertmanager.config") {
		t.Errorf("without the alert sink and without alertmanager.config: %v, want an error naming alertmanager.config", err)
	}
}

// TestAlertmanagerCluster (DESIGN.md §6): with replicas > 1 every replica
// lists every peer through the headless Service, which publishes
// not-ready pods and carries the gossip ports; with one replica clustering
// is off.
func TestAlertmanagerCluster(t *testing.T) {
	res := renderChart(t, scenarioNamed(t, "standalone-ha").options(t))
	sts := statefulSet(t, res, amName)
	if *sts.Spec.Replicas != 3 || sts.Spec.PodManagementPolicy != appsv1.ParallelPodManagement {
		t.Errorf("replicas %d, policy %s", *sts.Spec.Replicas, sts.Spec.PodManagementPolicy)
	}
	args := container(t, sts.Spec.Template.Spec, "alertmanager").Args
	var peers []string
	for _, a := range args {
		if p, ok := strings.CutPrefix(a, "--cluster.peer="); ok {
			peers = append(peers, p)
		}
	}
	var want []string
	for _, i := range []string{"0", "1", "2"} {
		want = append(want, amName+"-"+i+"."+sts.Spec.ServiceName+"."+namespace+".svc.cluster.local:9094")
	}
	if !slices.Equal(peers, want) {
		t.Errorf("peers %v, want %v", peers, want)
	}
	if !slices.Contains(args, "--cluster.listen-address=0.0.0.0:9094") {
		t.Errorf("no cluster listen address: %v", args)
	}
	headless := decodeStrict[corev1.Service](t, mustGet(t, res, "Service", sts.Spec.ServiceName))
	if !headless.Spec.PublishNotReadyAddresses {
		t.Error("the headless Service hides not-ready peers")
	}
	var ports []string
	for _, p := range headless.Spec.Ports {
		ports = append(ports, p.Name+"/"+string(p.Protocol))
	}
	for _, p := range []string{"cluster-tcp/TCP", "cluster-udp/UDP"} {
		if !slices.Contains(ports, p) {
			t.Errorf("headless Service ports %v lack %s", ports, p)
		}
	}

	single := container(t, statefulSet(t, standalone(t), amName).Spec.Template.Spec, "alertmanager").Args
	if !slices.Contains(single, "--cluster.listen-address=") || slices.ContainsFunc(single, func(a string) bool { return strings.HasPrefix(a, "--cluster.peer") }) {
		t.Errorf("one replica must run without a cluster: %v", single)
	}
}

// TestExactlyOneDefaultDatasource (FAILURES.md R29, R28): across every
// datasource provisioning file the release renders, one datasource per org
// is the default; it has uid prometheus and points at the release's
// Prometheus Service.
func TestExactlyOneDefaultDatasource(t *testing.T) {
	res := standalone(t)
	type ds struct {
		Name      string `yaml:"name"`
		UID       string `yaml:"uid"`
		URL       string `yaml:"url"`
		OrgID     int    `yaml:"orgId"`
		IsDefault bool   `yaml:"isDefault"`
	}
	defaults := map[int][]ds{}
	files := 0
	for _, cm := range configMaps(t, res) {
		for key, content := range cm.Data {
			var f struct {
				Datasources []ds `yaml:"datasources"`
			}
			if yaml.Unmarshal([]byte(content), &f) != nil || len(f.Datasources) == 0 {
				continue
			}
			files++
			for _, d := range f.Datasources {
				if d.OrgID == 0 {
					d.OrgID = 1
				}
				if d.IsDefault {
					defaults[d.OrgID] = append(defaults[d.OrgID], d)
				}
				_ = key
			}
		}
	}
	if files != 1 {
		t.Errorf("%d datasource provisioning files, want 1", files)
	}
	if len(defaults) != 1 || len(defaults[1]) != 1 {
		t.Fatalf("default datasources per org: %v, want exactly one in org 1", defaults)
	}
	d := defaults[1][0]
	if d.UID != dashboards.DatasourceUID {
		t.Errorf("default datasource uid %q, want %q", d.UID, dashboards.DatasourceUID)
	}
	if want := "http://" + promName + "." + namespace + ".svc.cluster.local:9090"; d.URL != want {
		t.Errorf("datasource url %q, want %q", d.URL, want)
	}
}

// TestGrafanaProvisioning (R30): Grafana sees the provisioning files at
// the paths compose mounts them, the datasource file is the repository's
// with only the URL changed, and the provider's path holds exactly the
// dashboards.
func TestGrafanaProvisioning(t *testing.T) {
	res := standalone(t)
	dep := deployment(t, res, grafanaName)
	files := mountedFiles(t, dep.Spec.Template.Spec, "grafana", configMaps(t, res))
	rel := func(repoPath string) string {
		return path.Join(dashboards.GrafanaProvisioningPath, strings.TrimPrefix(repoPath, dashboards.ProvisioningDir+"/"))
	}
	read := func(p string) string {
		b, err := os.ReadFile(filepath.Join(root(t), filepath.FromSlash(p)))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	if got, want := files[rel(dashboards.ProviderFile)], read(dashboards.ProviderFile); got != want {
		t.Errorf("%s differs from %s", rel(dashboards.ProviderFile), dashboards.ProviderFile)
	}
	ds := files[rel(dashboards.DatasourceFile)]
	want := strings.ReplaceAll(read(dashboards.DatasourceFile), dashboards.PrometheusURL, "http://"+promName+"."+namespace+".svc.cluster.local:9090")
	if ds != want {
		t.Errorf("%s is not %s with the in-cluster URL:\n%s", rel(dashboards.DatasourceFile), dashboards.DatasourceFile, ds)
	}
	got := files.under(dashboards.GrafanaDashboardsPath)
	var names []string
	for _, d := range dashboards.All() {
		names = append(names, d.FileName())
		if got[d.FileName()] != read(path.Join(dashboards.JSONDir, d.FileName())) {
			t.Errorf("%s/%s is not the repository's dashboard", dashboards.GrafanaDashboardsPath, d.FileName())
		}
	}
	if !slices.Equal(slices.Sorted(maps.Keys(got)), slices.Sorted(slices.Values(names))) {
		t.Errorf("%s holds %v, want %v", dashboards.GrafanaDashboardsPath, slices.Sorted(maps.Keys(got)), names)
	}
}

// composeProject loads docker-compose.yml with no environment (defaults).
func composeProject(t *testing.T) *types.Project {
	t.Helper()
	opts, err := cli.NewProjectOptions([]string{filepath.Join(root(t), "docker-compose.yml")},
		cli.WithWorkingDirectory(root(t)), cli.WithEnv(nil), cli.WithDiscardEnvFile, cli.WithName("cretoai"))
	if err != nil {
		t.Fatal(err)
	}
	p, err := opts.LoadProject(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func composeService(t *testing.T, p *types.Project, name string) types.ServiceConfig {
	t.Helper()
	s, err := p.GetService(name)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func envMap(c corev1.Container) map[string]string {
	out := map[string]string{}
	for _, e := range c.Env {
		v := e.Value
		if e.ValueFrom != nil {
			v = "<from " + e.ValueFrom.String() + ">"
		}
		out[e.Name] = v
	}
	return out
}

// TestStandaloneIsTheComposeStack: standalone mode runs what compose runs:
// the same images, Prometheus with the same flags (at the default
// retention), Alertmanager with compose's flags, Grafana, the alert sink
// and the simulator with the same environment.
func TestStandaloneIsTheComposeStack(t *testing.T) {
	p := composeProject(t)
	res := standalone(t)
	promC := container(t, statefulSet(t, res, promName).Spec.Template.Spec, "prometheus")
	amC := container(t, statefulSet(t, res, amName).Spec.Template.Spec, "alertmanager")
	grafC := container(t, deployment(t, res, grafanaName).Spec.Template.Spec, "grafana")
	sinkC := container(t, deployment(t, res, alertSink).Spec.Template.Spec, "alert-sink")
	simC := container(t, deployment(t, res, simulatorApp).Spec.Template.Spec, "simulator")

	images := map[string]string{"prometheus": promC.Image, "alertmanager": amC.Image, "grafana": grafC.Image}
	for svc, img := range images {
		if want := composeService(t, p, svc).Image; img != want {
			t.Errorf("%s image %s, compose runs %s", svc, img, want)
		}
	}
	if grafC.Image != dashboards.GrafanaImage {
		t.Errorf("Grafana image %s, want dashboards.GrafanaImage %s", grafC.Image, dashboards.GrafanaImage)
	}

	if want := []string(composeService(t, p, "prometheus").Command); !slices.Equal(promC.Args, want) {
		t.Errorf("Prometheus args %v, compose runs %v", promC.Args, want)
	}
	// Compose's flags come first; the chart adds the listen and cluster
	// flags.
	if want := []string(composeService(t, p, "alertmanager").Command); !slices.Equal(amC.Args[:min(len(want), len(amC.Args))], want) {
		t.Errorf("Alertmanager args %v do not start with compose's %v", amC.Args, want)
	}

	grafEnv := envMap(grafC)
	for k, v := range composeService(t, p, "grafana").Environment {
		got, ok := grafEnv[k]
		if !ok {
			t.Errorf("Grafana lacks compose's %s", k)
			continue
		}
		if !strings.HasPrefix(got, "<from") && v != nil && got != *v {
			t.Errorf("Grafana %s=%q, compose %q", k, got, *v)
		}
	}
	if len(grafEnv) != len(composeService(t, p, "grafana").Environment) {
		t.Errorf("Grafana environment %v differs from compose's names", slices.Sorted(maps.Keys(grafEnv)))
	}

	sinkEnv := envMap(sinkC)
	for k, v := range composeService(t, p, "alert-sink").Environment {
		if sinkEnv[k] != *v {
			t.Errorf("alert sink %s=%q, compose %q", k, sinkEnv[k], *v)
		}
	}
	if want := []string(composeService(t, p, "alert-sink").Entrypoint); !slices.Equal(sinkC.Command, want) {
		t.Errorf("alert sink command %v, compose %v", sinkC.Command, want)
	}
	if want := []string(composeService(t, p, "simulator").Entrypoint); !slices.Equal(simC.Command, want) {
		t.Errorf("simulator command %v, compose %v", simC.Command, want)
	}
	simCompose := composeService(t, p, "simulator").Environment
	for k := range envMap(simC) {
		if _, ok := simCompose[k]; !ok {
			t.Errorf("the simulator's %s is not one of compose's variables", k)
		}
	}
}

// TestImageVersionsArePinnedOnce: the values' images are the versions of
// DESIGN.md §5 as written in .ci/tools.env, and Chart.yaml's image list
// agrees.
func TestImageVersionsArePinnedOnce(t *testing.T) {
	v, err := tools.Versions()
	if err != nil {
		t.Fatal(err)
	}
	res := standalone(t)
	prom := container(t, statefulSet(t, res, promName).Spec.Template.Spec, "prometheus").Image
	am := container(t, statefulSet(t, res, amName).Spec.Template.Spec, "alertmanager").Image
	if prom != "prom/prometheus:"+v["PROMETHEUS_RELEASE"] {
		t.Errorf("Prometheus image %s, tools.env pins %s", prom, v["PROMETHEUS_RELEASE"])
	}
	if am != "prom/alertmanager:"+v["ALERTMANAGER_VERSION"] {
		t.Errorf("Alertmanager image %s, tools.env pins %s", am, v["ALERTMANAGER_VERSION"])
	}
	var chartYAML struct {
		AppVersion  string            `yaml:"appVersion"`
		Annotations map[string]string `yaml:"annotations"`
	}
	if err := yaml.Unmarshal(readChartFile(t, "Chart.yaml"), &chartYAML); err != nil {
		t.Fatal(err)
	}
	var listed []struct {
		Image string `yaml:"image"`
	}
	if err := yaml.Unmarshal([]byte(chartYAML.Annotations["artifacthub.io/images"]), &listed); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, l := range listed {
		got = append(got, l.Image)
	}
	for _, img := range []string{prom, am, dashboards.GrafanaImage} {
		if !slices.Contains(got, img) {
			t.Errorf("Chart.yaml's artifacthub.io/images %v lacks %s", got, img)
		}
	}
	svc := container(t, statefulSet(t, res, fullname).Spec.Template.Spec, "cretoai").Image
	if svc != "cretoai-monitor:"+chartYAML.AppVersion {
		t.Errorf("service image %s, want cretoai-monitor:<appVersion %s>", svc, chartYAML.AppVersion)
	}
}

// TestStandaloneNotes: NOTES.txt tells how to reach Grafana and the
// service.
func TestStandaloneNotes(t *testing.T) {
	notes := standalone(t).Notes
	for _, want := range []string{
		"port-forward svc/" + grafanaName + " 3000:3000",
		"port-forward svc/" + fullname + " 8080:8080",
		"port-forward svc/" + promName,
		"port-forward svc/" + amName,
		"get secret " + fullname + " -o jsonpath='{.data.api-token}'",
		"helm test",
	} {
		if !strings.Contains(notes, want) {
			t.Errorf("NOTES.txt lacks %q:\n%s", want, notes)
		}
	}
}
