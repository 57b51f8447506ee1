package ledger

import (
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/cretoai/monitor/service/internal/reputation"
	"github.com/cretoai/monitor/service/internal/rewards"
	"github.com/cretoai/monitor/service/internal/stake"
)

// Config is every rule and limit of the book, with DefaultConfig's values
// unless configured otherwise.
type Config struct {
	Reputation reputation.Params
	// SlashPPM is the fraction of bonded and unbonding stake a violation of
	// each type slashes, in parts per million.
	SlashPPM map[reputation.ViolationType]uint32
	// UnbondingPeriod is the time from a withdrawal request to its release.
	UnbondingPeriod time.Duration
	// DecayIdle is how long a node must go without events before it decays.
	DecayIdle time.Duration
	// Rewards are the split rules of an epoch.
	Rewards rewards.Params
	// EpochPool is the pool of a scheduled epoch and the default of one run
	// through the API.
	EpochPool uint64
	// EpochPeriod is the time between scheduled epochs.
	EpochPeriod time.Duration
	// MaxEpochCatchUp caps the scheduled epochs run at once after downtime.
	MaxEpochCatchUp int
	// MaxNodes caps the number of tracked nodes (label cardinality).
	MaxNodes int
	// IdempotencyTTL is how long an idempotency key is remembered.
	IdempotencyTTL time.Duration
}

// DefaultConfig returns the documented defaults.
func DefaultConfig() Config {
	return Config{
		Reputation: reputation.DefaultParams(),
		SlashPPM: map[reputation.ViolationType]uint32{
			reputation.DoubleSign:        50_000, // 5%
			reputation.Equivocation:      50_000, // 5%
			reputation.InvalidBlock:      10_000, // 1%
			reputation.Downtime:          1_000,  // 0.1%
			reputation.Censorship:        20_000, // 2%
			reputation.ProtocolViolation: 10_000, // 1%
		},
		UnbondingPeriod: 7 * 24 * time.Hour,
		DecayIdle:       10 * time.Minute,
		Rewards:         rewards.Params{BonusPPM: 100_000, UptimeThreshold: 0.95},
		EpochPool:       1_000_000,
		EpochPeriod:     time.Hour,
		MaxEpochCatchUp: 24,
		MaxNodes:        10_000,
		IdempotencyTTL:  24 * time.Hour,
	}
}

// Validate reports the first setting that is out of range.
func (c Config) Validate() error {
	if err := c.Reputation.Validate(); err != nil {
		return fmt.Errorf("reputation: %w", err)
	}
	for _, v := range reputation.ViolationTypes {
		ppm, ok := c.SlashPPM[v]
		if !ok {
			return fmt.Errorf("slash fraction for %q is missing", v)
		}
		if ppm > stake.PPM {
			return fmt.Errorf("slash fraction for %q exceeds 1", v)
		}
	}
	switch {
	case c.UnbondingPeriod < 0:
		return errors.New("unbonding period must not be negative")
	case c.DecayIdle < 0:
		return errors.New("decay idle time must not be negative")
	case c.Rewards.BonusPPM > rewards.PPM:
		return errors.New("uptime bonus share exceeds 1")
	case math.IsNaN(c.Rewards.UptimeThreshold) || c.Rewards.UptimeThreshold < 0 || c.Rewards.UptimeThreshold > 1:
		return errors.New("uptime threshold must be in [0, 1]")
	case c.EpochPool == 0 || c.EpochPool > stake.MaxAmount:
		return fmt.Errorf("epoch pool must be in [1, %d]", stake.MaxAmount)
	case c.EpochPeriod <= 0:
		return errors.New("epoch period must be positive")
	case c.MaxEpochCatchUp < 1:
		return errors.New("epoch catch-up must be at least 1")
	case c.MaxNodes < 1:
		return errors.New("node limit must be at least 1")
	case c.IdempotencyTTL <= 0:
		return errors.New("idempotency TTL must be positive")
	}
	return nil
}
