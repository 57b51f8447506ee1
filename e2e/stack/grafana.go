package stack

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/cretoai/monitor/dashboards"
)

// GrafanaConfig writes Grafana provisioning for the native stack into dir:
// the repository's datasource file with the URL pointed at the local
// Prometheus and the timeInterval divided by the factor, and the dashboard
// provider reading the repository's generated JSON. It returns the
// provisioning directory.
func GrafanaConfig(root, dir, promURL string, s Scale) (string, error) {
	prov := filepath.Join(dir, "grafana", "provisioning")
	for _, sub := range []string{"datasources", "dashboards"} {
		if err := os.MkdirAll(filepath.Join(prov, sub), 0o755); err != nil {
			return "", err
		}
	}
	ds, err := os.ReadFile(filepath.Join(root, dashboards.DatasourceFile))
	if err != nil {
		return "", err
	}
	interval, err := s.Duration(dashboards.ScrapeInterval.String())
	if err != nil {
		return "", err
	}
	text := strings.Replace(string(ds), "url: "+dashboards.PrometheusURL, "url: "+promURL, 1)
	text = strings.Replace(text, "timeInterval: 15s", "timeInterval: "+interval, 1)
	if !strings.Contains(text, promURL) {
		return "", fmt.Errorf("stack: %s has no url %s to rewrite", dashboards.DatasourceFile, dashboards.PrometheusURL)
	}
	if err := os.WriteFile(filepath.Join(prov, "datasources", "prometheus.yml"), []byte(text), 0o644); err != nil {
		return "", err
	}
	pv, err := os.ReadFile(filepath.Join(root, dashboards.ProviderFile))
	if err != nil {
		return "", err
	}
	text = strings.Replace(string(pv), "path: "+dashboards.GrafanaDashboardsPath, "path: "+filepath.Join(root, dashboards.JSONDir), 1)
	return prov, os.WriteFile(filepath.Join(prov, "dashboards", "cretoai.yml"), []byte(text), 0o644)
}

// StartGrafana starts a local `grafana` binary (Grafana is AGPL and never
// built or installed by this repository) with the stack's provisioning. It
// returns false when no grafana binary is on PATH. The repository's own
// machines have none, so this path is not exercised by its tests.
func (s *Stack) StartGrafana(ctx context.Context) (bool, error) {
	bin, err := exec.LookPath("grafana")
	if err != nil {
		return false, nil
	}
	addr, err := freePort()
	if err != nil {
		return true, err
	}
	s.addrs["grafana"] = addr
	prov, err := GrafanaConfig(s.opts.Root, s.opts.Dir, s.URL("prometheus"), Scale{Factor: s.opts.Factor})
	if err != nil {
		return true, err
	}
	host, port, _ := strings.Cut(addr, ":")
	env := map[string]string{
		"GF_PATHS_PROVISIONING":      prov,
		"GF_PATHS_DATA":              filepath.Join(s.opts.Dir, "grafana", "data"),
		"GF_PATHS_LOGS":              filepath.Join(s.opts.Dir, "grafana", "logs"),
		"GF_SERVER_HTTP_ADDR":        host,
		"GF_SERVER_HTTP_PORT":        port,
		"GF_AUTH_ANONYMOUS_ENABLED":  "true",
		"GF_AUTH_ANONYMOUS_ORG_ROLE": "Viewer",
	}
	args := []string{bin, "server"}
	if home := os.Getenv("GF_PATHS_HOME"); home != "" {
		args = append(args, "--homepath", home)
	} else if _, err := os.Stat("/usr/share/grafana"); err == nil {
		args = append(args, "--homepath", "/usr/share/grafana") // Debian/RPM packages
	}
	return true, s.start(ctx, "grafana", args, env, "/api/health")
}
