package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/cretoai/monitor/service/internal/simulator"
)

func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestParseDefaults(t *testing.T) {
	o, err := parse(nil, env(map[string]string{"CRETOAI_API_TOKEN": "svc"}), &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	c := o.cfg
	if c.URL != "http://localhost:8080" || c.Token != "svc" || c.Nodes != 50 || c.Seed != 1 || c.Rate != 50 ||
		c.Tick != time.Second || c.Duration != 0 || c.EpochEvery != time.Minute || c.NoPayoutShare != 0.1 ||
		c.Speedup != 1 || len(c.Incidents) != 0 || c.RunID == "" {
		t.Fatalf("defaults: %+v", c)
	}
}

func TestParseEnvAndFlags(t *testing.T) {
	e := env(map[string]string{
		"CRETOAI_API_TOKEN":              "svc",
		"CRETOAI_SIM_API_TOKEN":          "sim",
		"CRETOAI_SIM_URL":                "http://svc:9000",
		"CRETOAI_SIM_NODES":              "120",
		"CRETOAI_SIM_SEED":               "42",
		"CRETOAI_SIM_RATE":               "500",
		"CRETOAI_SIM_TICK":               "250ms",
		"CRETOAI_SIM_DURATION":           "5m",
		"CRETOAI_SIM_EPOCH_EVERY":        "0",
		"CRETOAI_SIM_NO_PAYOUT_SHARE":    "0.25",
		"CRETOAI_SIM_INCIDENT":           "double-sign:node-003@30s,node-silent:node-010",
		"CRETOAI_SIM_SPEEDUP":            "60",
		"CRETOAI_SIM_REPORT_EVERY":       "5s",
		"CRETOAI_SIM_READY_TIMEOUT":      "2m",
		"CRETOAI_SIM_REQUEST_TIMEOUT":    "3s",
		"CRETOAI_SIM_LOG_LEVEL":          "debug",
		"CRETOAI_SIM_LOG_FORMAT":         "json",
		"CRETOAI_SIM_UNKNOWN_IS_IGNORED": "x",
	})
	o, err := parse(nil, e, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	c := o.cfg
	want := simulator.Incidents{
		{Kind: simulator.DoubleSign, NodeID: "node-003", Delay: 30 * time.Second},
		{Kind: simulator.NodeSilent, NodeID: "node-010"},
	}
	if c.URL != "http://svc:9000" || c.Token != "sim" || c.Nodes != 120 || c.Seed != 42 || c.Rate != 500 ||
		c.Tick != 250*time.Millisecond || c.Duration != 5*time.Minute || c.EpochEvery != 0 || c.NoPayoutShare != 0.25 ||
		c.Speedup != 60 || c.ReportEvery != 5*time.Second || c.ReadyTimeout != 2*time.Minute ||
		c.RequestTimeout != 3*time.Second || o.logFormat != "json" || o.logLevel.String() != "DEBUG" ||
		(*simulator.Incidents)(&c.Incidents).String() != want.String() {
		t.Fatalf("from env: %+v", o)
	}

	// Flags win over the environment; a repeated --incident adds up and
	// replaces the environment's list.
	o, err = parse([]string{"--api-token", "flag", "--nodes", "7", "--seed", "3", "--incident", "mass-withdrawal:node-2",
		"--incident", "payouts-failing:node-5@1m"}, e, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	c = o.cfg
	if c.Token != "flag" || c.Nodes != 7 || c.Seed != 3 || len(c.Incidents) != 2 || c.Incidents[1].Delay != time.Minute || c.Rate != 500 {
		t.Fatalf("flags over env: %+v", c)
	}
}

func TestParseRejects(t *testing.T) {
	tok := map[string]string{"CRETOAI_API_TOKEN": "t"}
	tests := []struct {
		name    string
		args    []string
		env     map[string]string
		mention string
	}{
		{"no token", nil, nil, "API token is required"},
		{"bad incident", []string{"--incident", "meltdown:node-1"}, tok, "unknown kind"},
		{"incident on no node", []string{"--nodes", "5", "--incident", "node-silent:node-6"}, tok, "not a simulated node"},
		{"bad env value", nil, map[string]string{"CRETOAI_API_TOKEN": "t", "CRETOAI_SIM_NODES": "many"}, "CRETOAI_SIM_NODES"},
		{"zero nodes", []string{"--nodes", "0"}, tok, "nodes"},
		{"zero tick", []string{"--tick", "0s"}, tok, "tick"},
		{"share above 1", []string{"--no-payout-share", "2"}, tok, "no-payout-share"},
		{"bad log level", []string{"--log-level", "loud"}, tok, "log-level"},
		{"bad log format", []string{"--log-format", "xml"}, tok, "log-format"},
		{"stray argument", []string{"now"}, tok, "unexpected arguments"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parse(tt.args, env(tt.env), &bytes.Buffer{})
			if err == nil || !strings.Contains(err.Error(), tt.mention) {
				t.Fatalf("err = %v, want one mentioning %q", err, tt.mention)
			}
		})
	}
}

func TestRunHelp(t *testing.T) {
	var out, errOut bytes.Buffer
	if err := run(context.Background(), []string{"--help"}, env(nil), &out, &errOut); err != nil {
		t.Fatalf("run --help: %v", err)
	}
	for _, want := range []string{"--incident", "CRETOAI_SIM_INCIDENT", "--no-payout-share", "CRETOAI_SIM_EPOCH_EVERY"} {
		if !strings.Contains(errOut.String(), want) {
			t.Errorf("usage lacks %q:\n%s", want, errOut.String())
		}
	}
}

func TestEnvName(t *testing.T) {
	if got := EnvName("no-payout-share"); got != "CRETOAI_SIM_NO_PAYOUT_SHARE" {
		t.Fatalf("EnvName = %q", got)
	}
}
