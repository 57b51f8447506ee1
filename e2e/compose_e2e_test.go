//go:build e2e

package e2e

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/cretoai/monitor/dashboards"
	"github.com/cretoai/monitor/e2e/tools"
)

// TestDockerCompose runs `docker compose up` and checks the real images work
// together. It is opt-in (CRETOAI_E2E_COMPOSE=1) and needs a Docker engine,
// which the machines that develop and test this repository do not have; the
// native TestStack covers the same programs and configuration there.
func TestDockerCompose(t *testing.T) {
	if os.Getenv("CRETOAI_E2E_COMPOSE") != "1" {
		t.Skip("opt-in: set CRETOAI_E2E_COMPOSE=1 on a machine with a Docker engine")
	}
	if err := exec.Command("docker", "info").Run(); err != nil {
		t.Fatalf("CRETOAI_E2E_COMPOSE=1 but no Docker engine answers: %v", err)
	}
	root, err := tools.Root()
	if err != nil {
		t.Fatal(err)
	}
	compose := func(args ...string) {
		t.Helper()
		cmd := exec.Command("docker", append([]string{"compose", "--project-name", "cretoai-e2e"}, args...)...)
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("docker compose %v: %v\n%s", args, err, out)
		}
	}
	t.Cleanup(func() { compose("down", "-v") })
	compose("up", "-d", "--build", "--wait", "--wait-timeout", "300")

	// Grafana's default admin login from .env.example; other services are open.
	get := func(url string, v any) error {
		req, err := http.NewRequest(http.MethodGet, url, nil)
		if err != nil {
			return err
		}
		req.SetBasicAuth("admin", "admin")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		return json.NewDecoder(resp.Body).Decode(v)
	}
	poll := func(what string, cond func() bool) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		for !cond() {
			select {
			case <-ctx.Done():
				t.Fatalf("%s: not within 3 minutes", what)
			case <-time.After(time.Second):
			}
		}
	}
	poll("the service target is up", func() bool {
		var r struct {
			Data struct {
				Result []any `json:"result"`
			} `json:"data"`
		}
		return get(`http://127.0.0.1:9090/api/v1/query?query=up%7Bjob%3D%22cretoai%22%7D%3D%3D1`, &r) == nil && len(r.Data.Result) == 1
	})
	poll("Grafana has the provisioned datasource", func() bool {
		var ds struct {
			UID string `json:"uid"`
		}
		return get("http://127.0.0.1:3000/api/datasources/uid/"+dashboards.DatasourceUID, &ds) == nil && ds.UID == dashboards.DatasourceUID
	})
	poll("Grafana lists every dashboard", func() bool {
		var hits []struct {
			UID string `json:"uid"`
		}
		if get("http://127.0.0.1:3000/api/search?type=dash-db", &hits) != nil {
			return false
		}
		n := 0
		for _, h := range hits {
			if strings.HasPrefix(h.UID, "cretoai-") {
				n++
			}
		}
		return n == len(dashboards.All())
	})
	poll("Watchdog heartbeats reach the alert sink", func() bool {
		var ns []notification
		if get("http://127.0.0.1:8095/api/notifications?path=heartbeat", &ns) != nil {
			return false
		}
		return len(ns) > 0
	})
}
