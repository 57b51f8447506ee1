// Package config reads the service's configuration from flags, each with a
// CRETOAI_* environment variable equivalent (the flag wins when both are set).
package config

import (
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/cretoai/monitor/service/internal/envflag"
	"github.com/cretoai/monitor/service/internal/jobs"
	"github.com/cretoai/monitor/service/internal/ledger"
	"github.com/cretoai/monitor/service/internal/reputation"
	"github.com/cretoai/monitor/service/internal/stake"
)

// Config is the whole service configuration.
type Config struct {
	ListenAddr      string
	DataDir         string
	APIToken        string
	LogLevel        slog.Level
	LogFormat       string
	ShutdownTimeout time.Duration
	Ledger          ledger.Config
	Jobs            jobs.Periods
	// MetricsAddr, when set, serves /metrics on its own listener (secured by
	// WebConfigFile) instead of the API listener.
	MetricsAddr   string
	WebConfigFile string
	// MetricsDisable lists per-node metric families not to expose.
	MetricsDisable    []string
	ScoreSamplePeriod time.Duration
}

// EnvName is the environment variable of a flag: --max-nodes is
// CRETOAI_MAX_NODES.
func EnvName(flagName string) string { return envflag.Name("CRETOAI", flagName) }

// ErrHelp is returned when -h or --help was asked for; usage was printed.
var ErrHelp = flag.ErrHelp

// Parse reads args (without the program name) and the environment.
func Parse(args []string, getenv func(string) string, usageOut io.Writer) (Config, error) {
	c := Config{Ledger: ledger.DefaultConfig(), Jobs: jobs.DefaultPeriods()}
	fs := flag.NewFlagSet("cretoai", flag.ContinueOnError)
	fs.SetOutput(usageOut)
	var (
		tokenFile    string
		logLevel     = "info"
		bonusShare   = float64(c.Ledger.Rewards.BonusPPM) / stake.PPM
		deltas       = typedFloats[reputation.EventType]{m: c.Ledger.Reputation.EventDeltas, known: reputation.EventTypes}
		penalties    = typedFloats[reputation.ViolationType]{m: c.Ledger.Reputation.Penalties, known: reputation.ViolationTypes}
		slashes      = map[reputation.ViolationType]float64{}
		slashFlag    = typedFloats[reputation.ViolationType]{m: slashes, known: reputation.ViolationTypes}
		epochPoolStr = strconv.FormatUint(c.Ledger.EpochPool, 10)
	)
	for v, ppm := range c.Ledger.SlashPPM {
		slashes[v] = float64(ppm) / stake.PPM
	}
	fs.StringVar(&c.ListenAddr, "listen-addr", ":8080", "address the HTTP API and /metrics listen on")
	fs.StringVar(&c.DataDir, "data-dir", "data", "directory of the embedded store (created if missing)")
	fs.StringVar(&c.APIToken, "api-token", "", "bearer token required on writes; a random one is generated and logged when empty")
	fs.StringVar(&tokenFile, "api-token-file", "", "file holding the API token (wins over --api-token)")
	fs.StringVar(&logLevel, "log-level", logLevel, "log level: debug, info, warn or error")
	fs.StringVar(&c.LogFormat, "log-format", "text", "log format: text or json")
	fs.DurationVar(&c.ShutdownTimeout, "shutdown-timeout", 10*time.Second, "time allowed for in-flight requests at shutdown")
	fs.IntVar(&c.Ledger.MaxNodes, "max-nodes", c.Ledger.MaxNodes, "maximum number of tracked nodes (protects label cardinality)")
	fs.Float64Var(&c.Ledger.Reputation.Initial, "initial-score", c.Ledger.Reputation.Initial, "score of a new node and target of decay, in [0,1]")
	fs.Float64Var(&c.Ledger.Reputation.Threshold, "reliability-threshold", c.Ledger.Reputation.Threshold, "score at or above which a node is reliable, in [0,1]")
	fs.DurationVar(&c.Ledger.Reputation.HalfLife, "decay-half-life", c.Ledger.Reputation.HalfLife, "time in which an idle node's distance to the initial score halves")
	fs.DurationVar(&c.Ledger.DecayIdle, "decay-idle", c.Ledger.DecayIdle, "time without events after which a node starts to decay")
	fs.DurationVar(&c.Jobs.Decay, "decay-period", c.Jobs.Decay, "how often the decay job runs")
	fs.Var(&deltas, "event-deltas", "score change per event, as type=delta,… (overrides the listed types)")
	fs.Var(&penalties, "violation-penalties", "score penalty per violation, as type=penalty,…")
	fs.Var(&slashFlag, "slash-fractions", "fraction of bonded and unbonding stake slashed per violation, as type=fraction,…")
	fs.DurationVar(&c.Ledger.UnbondingPeriod, "unbonding-period", c.Ledger.UnbondingPeriod, "time from a withdrawal request to its release")
	fs.DurationVar(&c.Jobs.Release, "release-period", c.Jobs.Release, "how often matured withdrawals are released")
	fs.DurationVar(&c.Ledger.EpochPeriod, "epoch-period", c.Ledger.EpochPeriod, "time between scheduled reward epochs")
	fs.StringVar(&epochPoolStr, "epoch-pool", epochPoolStr, "reward pool of a scheduled epoch, in base units")
	fs.Float64Var(&bonusShare, "uptime-bonus-share", bonusShare, "share of the pool reserved for the uptime bonus, in [0,1]")
	fs.Float64Var(&c.Ledger.Rewards.UptimeThreshold, "uptime-threshold", c.Ledger.Rewards.UptimeThreshold, "epoch uptime at or above which a node earns the bonus, in [0,1]")
	fs.IntVar(&c.Ledger.MaxEpochCatchUp, "max-epoch-catch-up", c.Ledger.MaxEpochCatchUp, "most scheduled epochs run at start after downtime")
	fs.DurationVar(&c.Ledger.IdempotencyTTL, "idempotency-ttl", c.Ledger.IdempotencyTTL, "how long idempotency keys are remembered")
	fs.StringVar(&c.MetricsAddr, "metrics-addr", "", "serve /metrics on this separate address instead of the API listener")
	fs.StringVar(&c.WebConfigFile, "web-config-file", "", "Prometheus exporter-toolkit web config (TLS, basic auth) for the --metrics-addr listener")
	fs.Func("metrics-disable", "comma-separated per-node metric families not to expose", func(v string) error {
		c.MetricsDisable = nil
		for _, f := range strings.Split(v, ",") {
			if f = strings.TrimSpace(f); f != "" {
				c.MetricsDisable = append(c.MetricsDisable, f)
			}
		}
		return nil
	})
	fs.DurationVar(&c.ScoreSamplePeriod, "score-sample-period", time.Minute, "how often every node's score is sampled into the score distribution histogram")
	fs.Usage = envflag.Usage(fs, usageOut, "CRETOAI", "Usage: cretoai [flags]\n\nEvery flag can also be set by its environment variable (the flag wins).\n\n")
	if err := envflag.Parse(fs, args, "CRETOAI", getenv); err != nil {
		return Config{}, err
	}

	if err := c.LogLevel.UnmarshalText([]byte(logLevel)); err != nil {
		return Config{}, fmt.Errorf("log-level: %w", err)
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		return Config{}, fmt.Errorf("log-format must be text or json, got %q", c.LogFormat)
	}
	if tokenFile != "" {
		b, err := os.ReadFile(tokenFile)
		if err != nil {
			return Config{}, fmt.Errorf("api-token-file: %w", err)
		}
		c.APIToken = strings.TrimSpace(string(b))
		if c.APIToken == "" {
			return Config{}, fmt.Errorf("api-token-file %s is empty", tokenFile)
		}
	}
	pool, err := strconv.ParseUint(epochPoolStr, 10, 64)
	if err != nil {
		return Config{}, fmt.Errorf("epoch-pool: %w", err)
	}
	c.Ledger.EpochPool = pool
	if c.Ledger.Rewards.BonusPPM, err = stake.FractionPPM(bonusShare); err != nil {
		return Config{}, fmt.Errorf("uptime-bonus-share: %w", err)
	}
	for v, f := range slashes {
		ppm, err := stake.FractionPPM(f)
		if err != nil {
			return Config{}, fmt.Errorf("slash-fractions %s: %w", v, err)
		}
		c.Ledger.SlashPPM[v] = ppm
	}
	if c.WebConfigFile != "" && c.MetricsAddr == "" {
		return Config{}, fmt.Errorf("web-config-file needs metrics-addr: it secures the separate metrics listener")
	}
	for name, d := range map[string]time.Duration{"score-sample-period": c.ScoreSamplePeriod, "decay-period": c.Jobs.Decay, "release-period": c.Jobs.Release, "shutdown-timeout": c.ShutdownTimeout} {
		if d <= 0 {
			return Config{}, fmt.Errorf("%s must be positive", name)
		}
	}
	if c.Jobs.EpochCheck > c.Ledger.EpochPeriod {
		c.Jobs.EpochCheck = c.Ledger.EpochPeriod
	}
	if err := c.Ledger.Validate(); err != nil {
		return Config{}, err
	}
	return c, nil
}

// typedFloats is a flag of type=value pairs over a closed set of types.
type typedFloats[T ~string] struct {
	m     map[T]float64
	known []T
}

func (t *typedFloats[T]) String() string {
	if t == nil || t.m == nil {
		return ""
	}
	parts := make([]string, 0, len(t.m))
	for k, v := range t.m {
		parts = append(parts, fmt.Sprintf("%s=%g", k, v))
	}
	sort.Strings(parts)
	return strings.Join(parts, ",")
}

func (t *typedFloats[T]) Set(s string) error {
	for _, kv := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(kv), "=")
		if !ok {
			return fmt.Errorf("%q is not type=value", kv)
		}
		typ := T(strings.TrimSpace(k))
		found := false
		for _, kt := range t.known {
			found = found || kt == typ
		}
		if !found {
			return fmt.Errorf("unknown type %q; known: %v", typ, t.known)
		}
		f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		if err != nil {
			return fmt.Errorf("%s: %w", typ, err)
		}
		t.m[typ] = f
	}
	return nil
}
