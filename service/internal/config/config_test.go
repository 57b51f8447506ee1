package config_test

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cretoai/monitor/service/internal/config"
	"github.com/cretoai/monitor/service/internal/reputation"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestDefaultsNeedNoConfiguration(t *testing.T) {
	c, err := config.Parse(nil, env(nil), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.ListenAddr != ":8080" || c.DataDir != "data" || c.Ledger.MaxNodes != 10_000 || c.APIToken != "" {
		t.Errorf("defaults: %+v", c)
	}
	for _, port := range []string{":9090", ":9093", ":3000", ":9100"} {
		if c.ListenAddr == port {
			t.Errorf("default listen address %s clashes with the monitoring stack", port)
		}
	}
}

func TestEnvironmentAndFlagPrecedence(t *testing.T) {
	e := env(map[string]string{
		"CRETOAI_MAX_NODES":        "50",
		"CRETOAI_LISTEN_ADDR":      ":9999",
		"CRETOAI_UNBONDING_PERIOD": "2h",
		"CRETOAI_SLASH_FRACTIONS":  "double_sign=0.25",
		"CRETOAI_EVENT_DELTAS":     "heartbeat=0.01,missed_block=-0.5",
		"CRETOAI_METRICS_DISABLE":  "cretoai_reputation_events_total, cretoai_reputation_violations_total",
	})
	c, err := config.Parse([]string{"--max-nodes", "70"}, e, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.Ledger.MaxNodes != 70 {
		t.Errorf("flag should win over env: max nodes %d", c.Ledger.MaxNodes)
	}
	if c.ListenAddr != ":9999" || c.Ledger.UnbondingPeriod != 2*time.Hour {
		t.Errorf("env not applied: %q %v", c.ListenAddr, c.Ledger.UnbondingPeriod)
	}
	if got := c.Ledger.SlashPPM[reputation.DoubleSign]; got != 250_000 {
		t.Errorf("double_sign slash ppm = %d", got)
	}
	if c.Ledger.Reputation.EventDeltas[reputation.Heartbeat] != 0.01 || c.Ledger.Reputation.EventDeltas[reputation.MissedBlock] != -0.5 {
		t.Errorf("event deltas: %v", c.Ledger.Reputation.EventDeltas)
	}
	if c.Ledger.Reputation.EventDeltas[reputation.BlockProposed] != 0.01 {
		t.Error("types not listed must keep their defaults")
	}
	if len(c.MetricsDisable) != 2 || c.MetricsDisable[1] != "cretoai_reputation_violations_total" {
		t.Errorf("metrics disable: %q", c.MetricsDisable)
	}
}

func TestTokenFile(t *testing.T) {
	f := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(f, []byte("s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := config.Parse(nil, env(map[string]string{"CRETOAI_API_TOKEN": "other", "CRETOAI_API_TOKEN_FILE": f}), io.Discard)
	if err != nil || c.APIToken != "s3cret" {
		t.Fatalf("token %q, err %v", c.APIToken, err)
	}
}

func TestBadSettingsAreRejected(t *testing.T) {
	for name, tc := range map[string]struct {
		args []string
		env  map[string]string
		want string
	}{
		"threshold above 1":      {args: []string{"--reliability-threshold", "1.5"}, want: "threshold"},
		"NaN threshold":          {env: map[string]string{"CRETOAI_RELIABILITY_THRESHOLD": "NaN"}, want: "threshold"},
		"negative unbonding":     {args: []string{"--unbonding-period", "-1h"}, want: "unbonding"},
		"zero epoch period":      {args: []string{"--epoch-period", "0s"}, want: "epoch period"},
		"pool not a number":      {args: []string{"--epoch-pool", "lots"}, want: "epoch-pool"},
		"unknown event type":     {args: []string{"--event-deltas", "nap=0.1"}, want: "unknown type"},
		"slash above 1":          {args: []string{"--slash-fractions", "double_sign=2"}, want: "slash-fractions"},
		"bad env duration":       {env: map[string]string{"CRETOAI_DECAY_HALF_LIFE": "soon"}, want: "CRETOAI_DECAY_HALF_LIFE"},
		"zero max nodes":         {args: []string{"--max-nodes", "0"}, want: "node limit"},
		"bad log level":          {args: []string{"--log-level", "loud"}, want: "log-level"},
		"bad log format":         {args: []string{"--log-format", "xml"}, want: "log-format"},
		"web config alone":       {args: []string{"--web-config-file", "web.yml"}, want: "metrics-addr"},
		"missing token file":     {args: []string{"--api-token-file", "/nonexistent/token"}, want: "api-token-file"},
		"stray argument":         {args: []string{"serve"}, want: "unexpected arguments"},
		"zero score sample":      {args: []string{"--score-sample-period", "0s"}, want: "score-sample-period"},
		"bonus share above 1":    {args: []string{"--uptime-bonus-share", "1.1"}, want: "uptime-bonus-share"},
		"uptime threshold above": {args: []string{"--uptime-threshold", "2"}, want: "uptime threshold"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := config.Parse(tc.args, env(tc.env), io.Discard)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want one mentioning %q", err, tc.want)
			}
		})
	}
}

func TestHelpListsEveryVariable(t *testing.T) {
	var out strings.Builder
	if _, err := config.Parse([]string{"--help"}, env(nil), &out); err != config.ErrHelp {
		t.Fatalf("err = %v, want ErrHelp", err)
	}
	for _, v := range []string{"CRETOAI_LISTEN_ADDR", "CRETOAI_DATA_DIR", "CRETOAI_API_TOKEN", "CRETOAI_MAX_NODES",
		"CRETOAI_DECAY_PERIOD", "CRETOAI_UNBONDING_PERIOD", "CRETOAI_EPOCH_PERIOD"} {
		if !strings.Contains(out.String(), v) {
			t.Errorf("--help does not mention %s", v)
		}
	}
}
