package simulator

import (
	"math"
	"math/rand/v2"

	"github.com/cretoai/monitor/service/internal/reputation"
)

// The behaviour model of the simulated network. Rates are per node per
// minute of simulated time and are multiplied by PlanConfig.Speedup.

// tier is a node's long-run quality.
type tier int

const (
	// tierExcellent nodes miss 0.5–3% of their duties: their score sits near
	// 1 and their epoch uptime earns the uptime bonus.
	tierExcellent tier = iota
	// tierFair nodes hover around a target score between the reliability
	// threshold and 0.92; their uptime (~80%) earns no bonus.
	tierFair
	// tierPoor nodes are chronically worse: their target score is below the
	// reliability threshold, and they break rules three times as often.
	tierPoor
)

func (t tier) String() string {
	return [...]string{"excellent", "fair", "poor"}[t]
}

// Shares of the network per tier (the rest is excellent).
const (
	poorShare = 0.15
	fairShare = 0.25
)

// profile is how one node behaves.
type profile struct {
	tier tier
	// miss is the fixed miss share of an excellent node.
	miss float64
	// target is the score a fair or poor node's miss share steers toward,
	// and the score of every node after the warm-up.
	target float64
	// violations multiplies the base violation rates; 0 for nodes named in
	// an incident, so that the incident is the only thing that happens to
	// them.
	violations float64
}

// drawProfile draws a profile of tier t.
func drawProfile(t tier, rng *rand.Rand) profile {
	switch t {
	case tierPoor:
		return profile{tier: t, target: uniform(rng, 0.25, 0.65), violations: 3}
	case tierFair:
		return profile{tier: t, target: uniform(rng, 0.72, 0.92), violations: 1}
	}
	return profile{tier: t, miss: uniform(rng, 0.005, 0.03), target: uniform(rng, 0.96, 1), violations: 0.5}
}

// weighted is one outcome of a discrete distribution.
type weighted[T any] struct {
	v T
	p float64
}

// liveMix is the mix of live events of a working node: mostly validations
// and votes, heartbeats, and a block proposal now and then.
var liveMix = []weighted[reputation.EventType]{
	{reputation.BlockValidated, 0.45},
	{reputation.VoteCast, 0.30},
	{reputation.Heartbeat, 0.20},
	{reputation.BlockProposed, 0.05},
}

// missMix is the mix of missed duties.
var missMix = []weighted[reputation.EventType]{
	{reputation.MissedBlock, 0.6},
	{reputation.LateResponse, 0.4},
}

// collapseMix is the mix of a node whose reputation collapses: it misses
// nearly everything.
var collapseMix = []weighted[reputation.EventType]{
	{reputation.MissedBlock, 0.8},
	{reputation.LateResponse, 0.2},
}

// violationRates are the base violation rates per node per minute, before the
// profile's factor. double_sign is rare (1 in 2000 node-minutes) and not
// scaled by the profile: any node can be misconfigured once.
var violationRates = []weighted[reputation.ViolationType]{
	{reputation.Downtime, 0.02},
	{reputation.InvalidBlock, 0.005},
	{reputation.ProtocolViolation, 0.005},
	{reputation.Censorship, 0.002},
	{reputation.Equivocation, 0.001},
	{reputation.DoubleSign, 0.0005},
}

// Stake activity per node per minute, before Speedup.
const (
	depositRate    = 0.02
	withdrawalRate = 0.01
)

// Stake amounts in base units.
const (
	minInitialStake = 10_000
	maxInitialStake = 500_000
	minTopUp        = 1_000
	maxTopUp        = 50_000
	// routine withdrawals take 2–10% of bonded stake, a mass withdrawal
	// 85–95%.
	minWithdrawPPM     = 20_000
	maxWithdrawPPM     = 100_000
	minMassWithdrawPPM = 850_000
	maxMassWithdrawPPM = 950_000
)

// Incident parameters.
const (
	// CollapseScore is the score below which a collapsing node counts as
	// collapsed; it then keeps missing but gets no more violations.
	CollapseScore = 0.3
	// collapseDowntimeP is the chance per tick of a downtime violation of a
	// collapsing node.
	collapseDowntimeP = 0.5
	// payoutsFailingShare is the share of other nodes whose payout address a
	// payouts-failing incident clears too.
	payoutsFailingShare = 0.2
	// massWithdrawalShare is the share of other nodes a mass withdrawal
	// takes stake from too.
	massWithdrawalShare = 0.5
)

// controllerGain is how strongly a fair or poor node's miss share reacts to
// its score being off its target: 0.1 above target adds 0.3 to the miss
// share.
const controllerGain = 3

// eventModel is the expected score arithmetic, from the service's default
// weights. The simulator uses it only to steer scores between reads of the
// real scores; every read corrects it.
type eventModel struct {
	params reputation.Params
	// breakEven is the miss share at which live and missed events cancel
	// out in expectation.
	breakEven float64
}

func newEventModel() eventModel {
	p := reputation.DefaultParams()
	live, miss := 0.0, 0.0
	for _, w := range liveMix {
		live += w.p * p.EventDeltas[w.v]
	}
	for _, w := range missMix {
		miss += w.p * p.EventDeltas[w.v]
	}
	return eventModel{params: p, breakEven: live / (live - miss)}
}

// missShare is the chance that a node's next duty is missed.
func (m eventModel) missShare(pr profile, score float64) float64 {
	if pr.tier == tierExcellent {
		return pr.miss
	}
	return math.Min(0.9, math.Max(0.01, m.breakEven+controllerGain*(score-pr.target)))
}

// liveDelta is the expected score change of one live event.
func (m eventModel) liveDelta() float64 {
	d := 0.0
	for _, w := range liveMix {
		d += w.p * m.params.EventDeltas[w.v]
	}
	return d
}

func uniform(rng *rand.Rand, lo, hi float64) float64 { return lo + (hi-lo)*rng.Float64() }

func uniformInt(rng *rand.Rand, lo, hi uint64) uint64 { return lo + rng.Uint64N(hi-lo+1) }

// logUniform draws from [lo, hi] with more small values than large ones, as
// stake is spread in real networks.
func logUniform(rng *rand.Rand, lo, hi float64) uint64 {
	return uint64(math.Round(math.Exp(uniform(rng, math.Log(lo), math.Log(hi)))))
}

func pick[T any](rng *rand.Rand, mix []weighted[T]) T {
	x := rng.Float64()
	for _, w := range mix {
		if x < w.p {
			return w.v
		}
		x -= w.p
	}
	return mix[len(mix)-1].v
}

// chance reports true with probability p (p ≥ 1 is always true).
func chance(rng *rand.Rand, p float64) bool { return p > 0 && rng.Float64() < p }
