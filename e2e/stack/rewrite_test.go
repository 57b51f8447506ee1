package stack

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cretoai/monitor/e2e/tools"
)

func TestScaleExpr(t *testing.T) {
	s := Scale{Factor: 15}
	for in, want := range map[string]string{
		`increase(x_total[15m]) > 0`:                          `increase(x_total[1m]) > 0`,
		`rate(x_total[5m] offset 1h)`:                         `rate(x_total[20s] offset 4m)`,
		`max_over_time(y[2h]) == 0 and y offset 2h`:           `max_over_time(y[8m]) == 0 and y offset 8m`,
		`time() - z > 7200`:                                   `time() - z > 7200`,
		`deriv(p[6h]) * 3600 > 0`:                             `deriv(p[24m]) * 3600 > 0`,
		`max_over_time(rate(x_total[5m])[30m:1m])`:            `max_over_time(rate(x_total[20s])[2m:4s])`,
		`histogram_quantile(0.99, sum by (le) (rate(h[5m])))`: `histogram_quantile(0.99, sum by (le) (rate(h[20s])))`,
	} {
		got, err := s.Expr(in)
		if err != nil || got != want {
			t.Errorf("Expr(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for in, want := range map[string]string{"1m": "4s", "15s": "1s", "0s": "0s", "4h": "16m", "10s": "1s"} {
		if got, err := s.Duration(in); err != nil || got != want {
			t.Errorf("Duration(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}

func TestRewriteRepositoryConfigs(t *testing.T) {
	root, err := tools.Root()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	a := Addrs{"cretoai:8080": "127.0.0.1:1", "localhost:9090": "127.0.0.1:2", "alertmanager:9093": "127.0.0.1:3", "alert-sink:8095": "127.0.0.1:4"}
	prom, am, err := WriteConfigs(root, dir, Scale{Factor: 15}, a)
	if err != nil {
		t.Fatal(err)
	}
	pb, _ := os.ReadFile(prom)
	ab, _ := os.ReadFile(am)
	for _, want := range []string{"127.0.0.1:1", "127.0.0.1:2", "127.0.0.1:3", "scrape_interval: 1s", filepath.Join(dir, "rules", "*.yml")} {
		if !strings.Contains(string(pb), want) {
			t.Errorf("rewritten prometheus.yml lacks %q:\n%s", want, pb)
		}
	}
	for _, bad := range []string{"cretoai:8080", "alertmanager:9093", "/etc/prometheus"} {
		if strings.Contains(string(pb), bad) {
			t.Errorf("rewritten prometheus.yml still has %q", bad)
		}
	}
	if !strings.Contains(string(ab), "http://127.0.0.1:4/webhook/") || strings.Contains(string(ab), "alert-sink") {
		t.Errorf("rewritten alertmanager.yml webhooks:\n%s", ab)
	}
	// An address the table does not know is an error, never kept.
	delete(a, "alertmanager:9093")
	if _, _, err := WriteConfigs(root, t.TempDir(), Scale{Factor: 15}, a); err == nil || !strings.Contains(err.Error(), "alertmanager:9093") {
		t.Errorf("unknown address: err = %v", err)
	}
}

func TestGrafanaConfig(t *testing.T) {
	root, err := tools.Root()
	if err != nil {
		t.Fatal(err)
	}
	prov, err := GrafanaConfig(root, t.TempDir(), "http://127.0.0.1:9999", Scale{Factor: 15})
	if err != nil {
		t.Fatal(err)
	}
	ds, _ := os.ReadFile(filepath.Join(prov, "datasources", "prometheus.yml"))
	if !strings.Contains(string(ds), "url: http://127.0.0.1:9999") || !strings.Contains(string(ds), "timeInterval: 1s") {
		t.Errorf("datasource:\n%s", ds)
	}
	pv, _ := os.ReadFile(filepath.Join(prov, "dashboards", "cretoai.yml"))
	if !strings.Contains(string(pv), "path: "+filepath.Join(root, "dashboards", "json")) {
		t.Errorf("provider:\n%s", pv)
	}
}
