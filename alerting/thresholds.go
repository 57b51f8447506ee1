// Package alerting holds what the alert rules and the dashboards share: the
// alert thresholds. The rule files in rules/ are plain YAML that Prometheus
// loads as they are; tests check that every threshold written there is the
// one defined here, and the dashboards draw their threshold lines from here.
package alerting

// Alert thresholds. Each names the alert that uses it.
const (
	// ReputationLow is the reliability threshold (CRETOAI_RELIABILITY_THRESHOLD
	// default): below it a node earns no rewards. NodeReputationBelowThreshold.
	ReputationLow = 0.7
	// ReputationCritical: a node this low is close to being worthless to the
	// network. NodeReputationCritical.
	ReputationCritical = 0.3
	// UnreliableShareHigh is the share of unreliable nodes that threatens the
	// network's liveness. UnreliableNodesHigh.
	UnreliableShareHigh = 0.25
	// MeanReputationDropPerHour is how far the mean score may fall within an
	// hour. MeanReputationFallingFast.
	MeanReputationDropPerHour = 0.1
	// ViolationsPerNodeHigh is the number of violations of one node within an
	// hour that pages. NodeViolationRateHigh.
	ViolationsPerNodeHigh = 3
	// BondedStakeDropRatio is the share of bonded stake that may leave within
	// an hour. BondedStakeDroppingFast.
	BondedStakeDropRatio = 0.1
	// WithdrawalWaveRatio is unbonding stake relative to bonded stake that
	// marks a withdrawal wave. WithdrawalWave.
	WithdrawalWaveRatio = 0.2
	// RewardsStalledSeconds is the time without a reward epoch after which
	// distribution counts as stalled: two default epoch periods (1h).
	// RewardDistributionStalled.
	RewardsStalledSeconds = 2 * 3600
	// PayoutFailureRatioHigh is the share of failed payouts that pages.
	// PayoutFailureRatioHigh.
	PayoutFailureRatioHigh = 0.2
	// DistributionEfficiencyLow is the share of an epoch's pool paid out
	// below which distribution is inefficient. DistributionEfficiencyLow.
	DistributionEfficiencyLow = 0.8
	// NodeSilentSeconds is the time without any event after which a node
	// counts as silent. NodeSilent.
	NodeSilentSeconds = 600
	// APIErrorRatioHigh is the share of 5xx API responses that pages.
	// APIErrorRatioHigh.
	APIErrorRatioHigh = 0.05
	// APILatencyP99Seconds is the p99 API latency that pages.
	// APILatencyHigh.
	APILatencyP99Seconds = 0.5
	// WatchdogFreshnessSeconds is the age of the service's newest sample up
	// to which its data counts as fresh: the Watchdog fires (and so keeps
	// the heartbeat going) only while the data is younger. Eight scrapes.
	// Watchdog.
	WatchdogFreshnessSeconds = 120
)
