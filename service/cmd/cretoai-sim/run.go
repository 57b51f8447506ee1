package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"github.com/cretoai/monitor/service/internal/envflag"
	"io"
	"log/slog"
	"time"

	"github.com/cretoai/monitor/service/internal/simulator"
)

// run is the whole program; main only wires the process to it.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	o, err := parse(args, getenv, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("config: %w", err)
	}
	opts := &slog.HandlerOptions{Level: o.logLevel}
	var log *slog.Logger
	if o.logFormat == "json" {
		log = slog.New(slog.NewJSONHandler(stderr, opts))
	} else {
		log = slog.New(slog.NewTextHandler(stderr, opts))
	}
	sim, err := simulator.New(o.cfg, log, stdout)
	if err != nil {
		return fmt.Errorf("config: %w", err)
	}
	return sim.Run(ctx)
}

// EnvName is the environment variable of a flag: --no-payout-share is
// CRETOAI_SIM_NO_PAYOUT_SHARE.
func EnvName(flagName string) string { return envflag.Name("CRETOAI_SIM", flagName) }

// serviceTokenEnv is the service's own token variable, read when neither
// --api-token nor CRETOAI_SIM_API_TOKEN is set, so one variable configures
// both programs.
const serviceTokenEnv = "CRETOAI_API_TOKEN"

type options struct {
	cfg       simulator.Config
	logLevel  slog.Level
	logFormat string
}

// parse reads the flags, each with a CRETOAI_SIM_* equivalent (the flag
// wins).
func parse(args []string, getenv func(string) string, usageOut io.Writer) (options, error) {
	o := options{cfg: simulator.Config{
		URL: "http://localhost:8080",
		PlanConfig: simulator.PlanConfig{
			Nodes: 50, Seed: 1, Rate: 50, Tick: time.Second, EpochEvery: time.Minute,
			NoPayoutShare: 0.1, Speedup: 1,
		},
		ReportEvery:    simulator.DefaultReportEvery,
		ReadyTimeout:   simulator.DefaultReadyTimeout,
		RequestTimeout: simulator.DefaultRequestTimeout,
	}}
	c := &o.cfg
	logLevel := "info"
	var incidents simulator.Incidents
	fs := flag.NewFlagSet("cretoai-sim", flag.ContinueOnError)
	fs.SetOutput(usageOut)
	fs.StringVar(&c.URL, "url", c.URL, "base URL of the service")
	fs.StringVar(&c.Token, "api-token", "", "bearer token for writes (also read from "+serviceTokenEnv+")")
	fs.IntVar(&c.Nodes, "nodes", c.Nodes, "number of simulated nodes, node-1…node-N zero-padded to the width of N")
	fs.Uint64Var(&c.Seed, "seed", c.Seed, "seed of every random choice; the same seed gives the same requests against a fresh service")
	fs.Float64Var(&c.Rate, "rate", c.Rate, "events per second across the network, sent as one batch per tick")
	fs.DurationVar(&c.Tick, "tick", c.Tick, "time between two batches")
	fs.DurationVar(&c.Duration, "duration", 0, "how long to simulate after setup; 0 runs until SIGINT/SIGTERM")
	fs.DurationVar(&c.EpochEvery, "epoch-every", c.EpochEvery, "run a reward epoch this often; 0 leaves epochs to the service's schedule")
	fs.Float64Var(&c.NoPayoutShare, "no-payout-share", c.NoPayoutShare, "share of nodes registered without a payout address (their payouts fail)")
	fs.Var(&incidents, "incident", "scripted incident kind:node_id[@delay], repeatable or comma-separated; kinds: "+
		"double-sign, reputation-collapse, mass-withdrawal, payouts-failing, node-silent; delay from the start, e.g. 2m")
	fs.Float64Var(&c.Speedup, "speedup", c.Speedup, "multiplies the per-minute rates of violations, deposits and withdrawals (e.g. 60 to see an hour's worth in a minute)")
	fs.DurationVar(&c.ReportEvery, "report-every", c.ReportEvery, "period of the progress line")
	fs.DurationVar(&c.ReadyTimeout, "ready-timeout", c.ReadyTimeout, "how long to wait for GET /readyz to answer 200")
	fs.DurationVar(&c.RequestTimeout, "request-timeout", c.RequestTimeout, "timeout of one request attempt (transient failures are retried for up to 30s)")
	fs.StringVar(&logLevel, "log-level", logLevel, "log level: debug, info, warn or error")
	fs.StringVar(&o.logFormat, "log-format", "text", "log format: text or json")
	fs.Usage = envflag.Usage(fs, usageOut, "CRETOAI_SIM", "Usage: cretoai-sim [flags]\n\nDrives a running CretoAI Monitor service through its HTTP API as a validator network.\nEvery flag can also be set by its environment variable (the flag wins).\n\n")
	if err := envflag.Parse(fs, args, "CRETOAI_SIM", getenv); err != nil {
		return options{}, err
	}
	if c.Token == "" {
		c.Token = getenv(serviceTokenEnv)
	}
	if c.Token == "" {
		return options{}, fmt.Errorf("an API token is required: --api-token, %s or %s", EnvName("api-token"), serviceTokenEnv)
	}
	if err := o.logLevel.UnmarshalText([]byte(logLevel)); err != nil {
		return options{}, fmt.Errorf("log-level: %w", err)
	}
	if o.logFormat != "text" && o.logFormat != "json" {
		return options{}, fmt.Errorf("log-format must be text or json, got %q", o.logFormat)
	}
	if c.ReportEvery <= 0 || c.ReadyTimeout <= 0 || c.RequestTimeout <= 0 {
		return options{}, errors.New("report-every, ready-timeout and request-timeout must be positive")
	}
	c.Incidents = incidents
	c.RunID = runID()
	// Building the plan checks the settings and that every incident names
	// a simulated node.
	if _, err := simulator.NewPlan(c.PlanConfig); err != nil {
		return options{}, err
	}
	return o, nil
}

// runID tells this run's idempotency keys from those of earlier runs.
func runID() string {
	b := make([]byte, 4)
	_, _ = rand.Read(b) // crypto/rand.Read does not fail
	return hex.EncodeToString(b)
}
