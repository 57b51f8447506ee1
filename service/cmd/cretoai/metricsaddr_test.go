package main

import (
	"net"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// With CRETOAI_METRICS_ADDR and a web config, /metrics moves to its own
// listener behind the exporter-toolkit's basic auth, and leaves the API port.
func TestSeparateMetricsListenerWithBasicAuth(t *testing.T) {
	hash, err := bcrypt.GenerateFromPassword([]byte("s3cret"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	web := filepath.Join(t.TempDir(), "web.yml")
	if err := os.WriteFile(web, []byte("basic_auth_users:\n  prometheus: "+string(hash)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	metricsAddr := ln.Addr().String()
	ln.Close()
	base := startInProcess(t, map[string]string{"CRETOAI_METRICS_ADDR": metricsAddr, "CRETOAI_WEB_CONFIG_FILE": web})

	get := func(url, user, pass string) int {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, url, nil)
		if user != "" {
			req.SetBasicAuth(user, pass)
		}
		var resp *http.Response
		deadline := time.Now().Add(10 * time.Second)
		for {
			resp, err = http.DefaultClient.Do(req)
			if err == nil || time.Now().After(deadline) {
				break
			}
			time.Sleep(20 * time.Millisecond) // the metrics listener starts just after the API's
		}
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := get("http://"+metricsAddr+"/metrics", "", ""); code != http.StatusUnauthorized {
		t.Errorf("/metrics without credentials: %d, want 401", code)
	}
	if code := get("http://"+metricsAddr+"/metrics", "prometheus", "wrong"); code != http.StatusUnauthorized {
		t.Errorf("/metrics with a wrong password: %d, want 401", code)
	}
	if code := get("http://"+metricsAddr+"/metrics", "prometheus", "s3cret"); code != http.StatusOK {
		t.Errorf("/metrics with credentials: %d, want 200", code)
	}
	if code := get(base+"/metrics", "", ""); code != http.StatusNotFound {
		t.Errorf("/metrics on the API port: %d, want 404 once it has its own listener", code)
	}
}
