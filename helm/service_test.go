package helm_test

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/cretoai/monitor/helm/render"
	"github.com/cretoai/monitor/service/catalog"
)

// everyConfigKey sets each key of config to a valid value other than the
// service's default, the way a user would with --set.
var everyConfigKey = []string{
	"config.logLevel=debug",
	"config.logFormat=json",
	"config.maxNodes=5000",
	"config.shutdownTimeout=5s",
	"config.initialScore=0.4",
	"config.reliabilityThreshold=0.75",
	"config.decayHalfLife=12h",
	"config.decayIdle=5m",
	"config.decayPeriod=30s",
	`config.eventDeltas=heartbeat=0.002\,missed_block=-0.03`, // --set needs the comma escaped
	"config.violationPenalties=downtime=0.2",
	"config.slashFractions=downtime=0.002",
	"config.unbondingPeriod=24h",
	"config.releasePeriod=5s",
	"config.epochPeriod=30m",
	"config.epochPool=50000000000",
	"config.maxEpochCatchUp=12",
	"config.uptimeBonusShare=0.2",
	"config.uptimeThreshold=0.9",
	"config.idempotencyTtl=12h",
	"config.metricsDisable=" + catalog.StakePerNode,
	"config.scoreSamplePeriod=30s",
}

// buildService builds the service binary the image runs.
func buildService(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "cretoai")
	cmd := exec.Command("go", "build", "-o", bin, "./service/cmd/cretoai")
	cmd.Dir = root(t)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// serviceEnv is the environment the chart gives the service container:
// its env entries and its envFrom ConfigMap.
func serviceEnv(t *testing.T, res *render.Result) map[string]string {
	t.Helper()
	sts := statefulSet(t, res, fullname)
	c := container(t, sts.Spec.Template.Spec, "cretoai")
	cms := configMaps(t, res)
	env := map[string]string{}
	for _, from := range c.EnvFrom {
		for k, v := range cms[from.ConfigMapRef.Name].Data {
			env[k] = v
		}
	}
	for _, e := range c.Env {
		env[e.Name] = e.Value
	}
	return env
}

// TestConfigReachesTheService: every config key becomes a CRETOAI_*
// variable the service knows (`cretoai --help` lists it), values keep
// their digits (no 5e+10), and the real service starts with exactly the
// environment the chart renders and becomes ready.
func TestConfigReachesTheService(t *testing.T) {
	res := renderChart(t, render.Options{Set: everyConfigKey})
	env := serviceEnv(t, res)
	keys := 0
	for _, s := range everyConfigKey {
		if strings.HasPrefix(s, "config.") {
			keys++
		}
	}
	if n := len(env) - 3; n != keys { // 3: listen address, data dir, token file
		t.Errorf("%d config variables rendered for %d keys: %v", n, keys, env)
	}
	if env["CRETOAI_EPOCH_POOL"] != "50000000000" {
		t.Errorf("CRETOAI_EPOCH_POOL=%q", env["CRETOAI_EPOCH_POOL"])
	}

	bin := buildService(t)
	help, _ := exec.Command(bin, "--help").CombinedOutput()
	for k := range env {
		if !strings.Contains(string(help), "("+k+")") {
			t.Errorf("%s is not a variable of the service (`cretoai --help`)", k)
		}
	}
	// The chart's values as a values file give the same environment.
	if want := serviceEnv(t, renderChart(t, scenarioNamed(t, "existing-secret").options(t))); want["CRETOAI_EPOCH_POOL"] != "50000000000" || want["CRETOAI_MAX_NODES"] != "5000" {
		t.Errorf("from a values file: CRETOAI_EPOCH_POOL=%q CRETOAI_MAX_NODES=%q", want["CRETOAI_EPOCH_POOL"], want["CRETOAI_MAX_NODES"])
	}

	// Start it with the rendered environment; only the paths and the
	// address move into the test's directory.
	dir := t.TempDir()
	secret := decodeStrict[corev1.Secret](t, mustGet(t, res, "Secret", fullname))
	tokenFile := filepath.Join(dir, "api-token")
	if err := os.WriteFile(tokenFile, secret.Data["api-token"], 0o600); err != nil {
		t.Fatal(err)
	}
	addr := freeAddr(t)
	env["CRETOAI_LISTEN_ADDR"] = addr
	env["CRETOAI_DATA_DIR"] = filepath.Join(dir, "data")
	env["CRETOAI_API_TOKEN_FILE"] = tokenFile
	cmd := exec.Command(bin)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH")}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	var logs lockedBuffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	defer func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := waitReady(ctx, "http://"+addr+"/readyz", done); err != nil {
		t.Fatalf("the service did not become ready with the chart's environment: %v\n%s", err, logs.String())
	}
	if !strings.Contains(logs.String(), `"msg":"cretoai listening"`) {
		t.Errorf("no JSON log lines although config.logFormat=json:\n%s", logs.String())
	}
	// The token the chart generated is the one the service accepts.
	req, _ := http.NewRequest(http.MethodPost, "http://"+addr+"/api/v1/nodes", strings.NewReader(`{"node_id":"node-1"}`))
	req.Header.Set("Authorization", "Bearer "+string(secret.Data["api-token"]))
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Errorf("registering a node with the Secret's token: %s", resp.Status)
	}
}

// lockedBuffer collects a process's output while the test reads it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// waitReady polls url until it answers 200, the process exits or ctx ends.
func waitReady(ctx context.Context, url string, exited <-chan error) error {
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case err := <-exited:
			return fmt.Errorf("the service exited: %v", err)
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
}

// TestAPIToken: the token comes from the chart's Secret (given or
// generated) or from an existing Secret under its key, is mounted as a
// file, and the simulator reads the same Secret.
func TestAPIToken(t *testing.T) {
	res := renderChart(t, render.Options{Set: []string{"apiToken.value=s3cret", "simulator.enabled=true"}})
	secret := decodeStrict[corev1.Secret](t, mustGet(t, res, "Secret", fullname))
	if string(secret.Data["api-token"]) != "s3cret" {
		t.Errorf("Secret api-token = %q", secret.Data["api-token"])
	}
	gen := renderChart(t, render.Options{})
	if tok := decodeStrict[corev1.Secret](t, mustGet(t, gen, "Secret", fullname)).Data["api-token"]; len(tok) != 32 {
		t.Errorf("generated token %q is not 32 characters", tok)
	}

	ext := renderChart(t, scenarioNamed(t, "existing-secret").options(t, "simulator.enabled=true"))
	if _, ok := ext.Get("Secret", fullname); ok {
		t.Error("a Secret is rendered although apiToken.existingSecret is set")
	}
	spec := statefulSet(t, ext, fullname).Spec.Template.Spec
	i := slices.IndexFunc(spec.Volumes, func(v corev1.Volume) bool { return v.Name == "api-token" })
	if i < 0 || spec.Volumes[i].Secret == nil || spec.Volumes[i].Secret.SecretName != "cretoai-api-token" ||
		len(spec.Volumes[i].Secret.Items) != 1 || spec.Volumes[i].Secret.Items[0].Key != "token" {
		t.Errorf("the token volume does not read key token of Secret cretoai-api-token: %+v", spec.Volumes)
	}
	sim := container(t, deployment(t, ext, simulatorApp).Spec.Template.Spec, "simulator")
	for _, e := range sim.Env {
		if e.Name == "CRETOAI_API_TOKEN" {
			if ref := e.ValueFrom.SecretKeyRef; ref.Name != "cretoai-api-token" || ref.Key != "token" {
				t.Errorf("the simulator reads %s/%s", ref.Name, ref.Key)
			}
		}
	}
	notes := ext.Notes
	if !strings.Contains(notes, "get secret cretoai-api-token -o jsonpath='{.data.token}'") {
		t.Errorf("NOTES.txt does not tell how to read the existing Secret:\n%s", notes)
	}
}

// TestServicePod: the service pod keeps its book on a claim at the data
// directory, probes /healthz and /readyz on the named port, and runs as
// the image's user 65532.
func TestServicePod(t *testing.T) {
	res := renderChart(t, render.Options{})
	sts := statefulSet(t, res, fullname)
	spec := sts.Spec.Template.Spec
	c := container(t, spec, "cretoai")
	if len(sts.Spec.VolumeClaimTemplates) != 1 || sts.Spec.VolumeClaimTemplates[0].Name != "data" {
		t.Fatalf("no data claim: %+v", sts.Spec.VolumeClaimTemplates)
	}
	if !slices.ContainsFunc(c.VolumeMounts, func(m corev1.VolumeMount) bool { return m.Name == "data" && m.MountPath == "/var/lib/cretoai" }) {
		t.Errorf("the claim is not mounted at /var/lib/cretoai: %+v", c.VolumeMounts)
	}
	if c.LivenessProbe.HTTPGet.Path != "/healthz" || c.ReadinessProbe.HTTPGet.Path != "/readyz" {
		t.Errorf("probes: liveness %s, readiness %s", c.LivenessProbe.HTTPGet.Path, c.ReadinessProbe.HTTPGet.Path)
	}
	if *spec.SecurityContext.RunAsUser != 65532 || *spec.SecurityContext.FSGroup != 65532 {
		t.Errorf("security context %+v", spec.SecurityContext)
	}
	if c.Resources.Requests.Cpu().IsZero() {
		t.Error("no CPU request")
	}
	noPVC := statefulSet(t, renderChart(t, render.Options{Set: []string{"persistence.enabled=false"}}), fullname)
	if len(noPVC.Spec.VolumeClaimTemplates) != 0 || !slices.ContainsFunc(noPVC.Spec.Template.Spec.Volumes, func(v corev1.Volume) bool { return v.Name == "data" && v.EmptyDir != nil }) {
		t.Error("persistence.enabled=false does not use an emptyDir")
	}
	if notes := res.Notes; !strings.Contains(notes, "port-forward svc/"+fullname) {
		t.Errorf("NOTES.txt does not tell how to reach the service:\n%s", notes)
	}
}

// TestConnectionTest: `helm test` checks the service and, in standalone
// mode, every component, with the image's healthcheck command.
func TestConnectionTest(t *testing.T) {
	for name, want := range map[string][]string{
		"defaults":   {"service"},
		"standalone": {"service", "prometheus", "alertmanager", "grafana", "alert-sink"},
	} {
		res := renderChart(t, scenarioNamed(t, name).options(t))
		if len(res.Hooks) != 1 {
			t.Fatalf("%s: %d hooks", name, len(res.Hooks))
		}
		pod := decodeStrict[corev1.Pod](t, res.Hooks[0])
		if pod.Annotations["helm.sh/hook"] != "test" {
			t.Errorf("%s: hook annotation %q", name, pod.Annotations["helm.sh/hook"])
		}
		var got []string
		for _, c := range pod.Spec.Containers {
			got = append(got, c.Name)
			if len(c.Command) < 4 || c.Command[0] != "/usr/local/bin/cretoai" || c.Command[1] != "healthcheck" || !strings.HasPrefix(c.Command[3], "http://") {
				t.Errorf("%s: container %s runs %v", name, c.Name, c.Command)
			}
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s: the test checks %v, want %v", name, got, want)
		}
	}
}
