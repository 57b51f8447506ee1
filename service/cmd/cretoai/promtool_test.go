package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/cretoai/monitor/e2e/tools"
)

// startInProcess runs the program in this process on a free port and
// returns its base URL; it stops when the test ends.
func startInProcess(t *testing.T, env map[string]string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	vars := map[string]string{
		"CRETOAI_LISTEN_ADDR": addr,
		"CRETOAI_DATA_DIR":    t.TempDir(),
		"CRETOAI_API_TOKEN":   "test-token",
		"CRETOAI_LOG_LEVEL":   "warn",
	}
	for k, v := range env {
		vars[k] = v
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(ctx, nil, func(k string) string { return vars[k] }, io.Discard, io.Discard) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("run: %v", err)
		}
	})
	base := "http://" + addr
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get(base + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return base
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("service not ready at %s: %v", base, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func post(t *testing.T, base, path, body string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, base+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer test-token")
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("POST %s %s: %d %s", path, body, resp.StatusCode, b)
	}
}

// TestPromtoolCheckMetrics scrapes the real program after activity that
// touches every family and runs the pinned promtool's metric lint on it.
func TestPromtoolCheckMetrics(t *testing.T) {
	promtool := tools.Path(t, "promtool")
	base := startInProcess(t, map[string]string{"CRETOAI_UNBONDING_PERIOD": "1ms", "CRETOAI_RELEASE_PERIOD": "50ms"})
	for i, addr := range []string{`,"payout_address":"addr-1"`, ``} {
		post(t, base, "/api/v1/nodes", fmt.Sprintf(`{"node_id":"node-%d"%s}`, i, addr))
		post(t, base, fmt.Sprintf("/api/v1/nodes/node-%d/deposits", i), `{"amount":250000}`)
		post(t, base, fmt.Sprintf("/api/v1/nodes/node-%d/events", i), `{"type":"block_proposed","count":40}`)
		post(t, base, fmt.Sprintf("/api/v1/nodes/node-%d/withdrawals", i), `{"amount":1000}`)
	}
	post(t, base, "/api/v1/nodes/node-0/violations", `{"type":"downtime"}`)
	post(t, base, "/api/v1/epochs", `{"pool":100000}`)

	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("/metrics: %d", resp.StatusCode)
	}
	cmd := exec.Command(promtool, "check", "metrics")
	cmd.Stdin = bytes.NewReader(body)
	out, err := cmd.CombinedOutput()
	if err != nil || len(bytes.TrimSpace(out)) > 0 {
		t.Fatalf("promtool check metrics: %v\n%s", err, out)
	}
}
