package main

import (
	"context"
	"io"
	"net/url"
	"testing"
)

// The image's healthcheck command works against a running service and fails
// when nothing answers.
func TestHealthcheckSubcommand(t *testing.T) {
	base := startInProcess(t, nil)
	u, _ := url.Parse(base)
	getenv := func(k string) string {
		if k == "CRETOAI_LISTEN_ADDR" {
			return u.Host
		}
		return ""
	}
	if err := run(context.Background(), []string{"healthcheck"}, getenv, io.Discard, io.Discard); err != nil {
		t.Fatalf("healthcheck of a running service: %v", err)
	}
	if err := run(context.Background(), []string{"healthcheck", "--url", base + "/nope"}, getenv, io.Discard, io.Discard); err == nil {
		t.Error("healthcheck of a 404 endpoint succeeded")
	}
	if err := run(context.Background(), []string{"healthcheck", "--url", "http://127.0.0.1:1/healthz", "--timeout", "500ms"}, getenv, io.Discard, io.Discard); err == nil {
		t.Error("healthcheck with nothing listening succeeded")
	}
}

func TestLocalHealthURL(t *testing.T) {
	for addr, want := range map[string]string{
		"":               "http://127.0.0.1:8080/healthz",
		":8080":          "http://127.0.0.1:8080/healthz",
		"0.0.0.0:9000":   "http://127.0.0.1:9000/healthz",
		"127.0.0.1:7000": "http://127.0.0.1:7000/healthz",
		"[::]:8081":      "http://127.0.0.1:8081/healthz",
	} {
		if got := localHealthURL(addr); got != want {
			t.Errorf("localHealthURL(%q) = %q, want %q", addr, got, want)
		}
	}
}
