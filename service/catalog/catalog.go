// Package catalog is the contract of the service's metrics: every family it
// exposes with its type, labels, unit and meaning. The service, the dashboards,
// the alert rules and the tests all take metric names from here; nothing else
// types them by hand. It is plain data and imports nothing from Prometheus.
package catalog

// Type is a Prometheus metric type.
type Type string

// The metric types used.
const (
	Gauge     Type = "gauge"
	Counter   Type = "counter"
	Histogram Type = "histogram"
)

// Group is the area a metric belongs to.
type Group string

// The groups.
const (
	Reputation Group = "reputation"
	Stake      Group = "stake"
	Rewards    Group = "rewards"
	Service    Group = "service"
)

// Label names. Never "node": it collides with Kubernetes target labels.
const (
	LabelNodeID        = "node_id"
	LabelEventType     = "event_type"
	LabelViolationType = "violation_type"
	LabelRewardType    = "reward_type"
	LabelReason        = "reason"
)

// Metric describes one family.
type Metric struct {
	Name   string
	Type   Type
	Group  Group
	Labels []string
	Unit   string
	Help   string
	// SeedName is the name the original design used, when it differed.
	SeedName string
	// Extra marks the 8 domain metrics chosen beyond the seed's list.
	Extra bool
	// PerNode marks families with a node_id label; operators can switch
	// these off one by one.
	PerNode bool
}

// The families of the book. Names are a contract: dashboards, alert rules and
// tests depend on them.
const (
	ReputationScore              = "cretoai_reputation_score"
	ReputationMean               = "cretoai_reputation_mean"
	ReputationMedian             = "cretoai_reputation_median"
	ReputationHighestScore       = "cretoai_reputation_highest_score"
	ReputationLowestScore        = "cretoai_reputation_lowest_score"
	ReputationNodesAbove         = "cretoai_reputation_nodes_above_threshold"
	ReputationNodesBelow         = "cretoai_reputation_nodes_below_threshold"
	ReputationTotalNodes         = "cretoai_reputation_total_nodes"
	ReputationViolations         = "cretoai_reputation_violations_total"
	ReputationEvents             = "cretoai_reputation_events_total"
	ReputationDecaySeconds       = "cretoai_reputation_decay_seconds"
	ReputationScoreDistribution  = "cretoai_reputation_score_distribution"
	ReputationThreshold          = "cretoai_reputation_threshold"
	ReputationLastEventTimestamp = "cretoai_reputation_last_event_timestamp_seconds"

	StakeBondedAmount      = "cretoai_stake_bonded_amount"
	StakePerNode           = "cretoai_stake_per_node"
	StakeActiveDeposits    = "cretoai_stake_active_deposits"
	StakeAverage           = "cretoai_stake_average"
	StakePendingWithdrawal = "cretoai_stake_pending_withdrawals"
	StakeUnbondingAmount   = "cretoai_stake_unbonding_amount"
	StakeDeposits          = "cretoai_stake_deposits_total"
	StakeWithdrawals       = "cretoai_stake_withdrawals_total"
	StakeSlashed           = "cretoai_stake_slashed_total"
	StakeDepositAmount     = "cretoai_stake_deposit_amount"
	StakeSlashingAmount    = "cretoai_stake_slashing_amount"
	StakeWithdrawalAmount  = "cretoai_stake_withdrawal_amount"
	StakeDepositedValue    = "cretoai_stake_deposited_value_total"
	StakeWithdrawnValue    = "cretoai_stake_withdrawn_value_total"

	RewardsPendingAmount          = "cretoai_rewards_pending_amount"
	RewardsUniqueRecipients       = "cretoai_rewards_unique_recipients"
	RewardsDistributionEfficiency = "cretoai_rewards_distribution_efficiency"
	RewardsPendingPerNode         = "cretoai_rewards_pending_per_node"
	RewardsDistributedValue       = "cretoai_rewards_distributed_value_total"
	RewardsDistributions          = "cretoai_rewards_distributions_total"
	RewardsUptimeBonuses          = "cretoai_rewards_uptime_bonuses_total"
	RewardsPerNode                = "cretoai_rewards_per_node_total"
	RewardsFailed                 = "cretoai_rewards_failed_total"
	RewardsDistributionAmount     = "cretoai_rewards_distribution_amount"
	RewardsCurrentEpoch           = "cretoai_rewards_current_epoch"
	RewardsLastDistribution       = "cretoai_rewards_last_distribution_timestamp_seconds"
	RewardsPayouts                = "cretoai_rewards_payouts_total"
	RewardsAllocatedValue         = "cretoai_rewards_allocated_value_total"

	ServiceBuildInfo           = "cretoai_build_info"
	ServiceHTTPRequests        = "cretoai_http_requests_total"
	ServiceHTTPRequestDuration = "cretoai_http_request_duration_seconds"
	ServiceStoreCommitDuration = "cretoai_store_commit_duration_seconds"
	ServiceStoreCommitOps      = "cretoai_store_commit_operations"
	ServiceStoreCommitFailures = "cretoai_store_commit_failures_total"
	ServiceScrapeDuration      = "cretoai_metrics_scrape_duration_seconds"
	ServiceJobRuns             = "cretoai_job_runs_total"
	ServiceJobLastSuccess      = "cretoai_job_last_success_timestamp_seconds"
)

var (
	node          = []string{LabelNodeID}
	nodeEvent     = []string{LabelNodeID, LabelEventType}
	nodeViolation = []string{LabelNodeID, LabelViolationType}
)

// Domain lists the 42 families of the book: 14 reputation, 14 stake, 14
// rewards.
var Domain = []Metric{
	{Name: ReputationScore, Type: Gauge, Group: Reputation, Labels: node, PerNode: true, Unit: "score 0..1",
		Help: "Reputation score of the node, in [0, 1]."},
	{Name: ReputationMean, Type: Gauge, Group: Reputation, Unit: "score 0..1",
		Help: "Mean reputation score over all tracked nodes (0 with no nodes)."},
	{Name: ReputationMedian, Type: Gauge, Group: Reputation, Unit: "score 0..1",
		Help: "Median reputation score over all tracked nodes (0 with no nodes)."},
	{Name: ReputationHighestScore, Type: Gauge, Group: Reputation, Unit: "score 0..1",
		Help: "Highest reputation score of any tracked node (0 with no nodes)."},
	{Name: ReputationLowestScore, Type: Gauge, Group: Reputation, Unit: "score 0..1",
		Help: "Lowest reputation score of any tracked node (0 with no nodes)."},
	{Name: ReputationNodesAbove, Type: Gauge, Group: Reputation, Unit: "nodes",
		Help: "Number of reliable nodes: score at or above the reliability threshold."},
	{Name: ReputationNodesBelow, Type: Gauge, Group: Reputation, Unit: "nodes",
		Help: "Number of unreliable nodes: score below the reliability threshold."},
	{Name: ReputationTotalNodes, Type: Gauge, Group: Reputation, Unit: "nodes",
		Help: "Number of tracked nodes."},
	{Name: ReputationViolations, Type: Counter, Group: Reputation, Labels: nodeViolation, PerNode: true, Unit: "violations",
		Help: "Violations reported for the node, by type."},
	{Name: ReputationEvents, Type: Counter, Group: Reputation, Labels: nodeEvent, PerNode: true, Unit: "events",
		Help: "Events reported for the node, by type."},
	{Name: ReputationDecaySeconds, Type: Histogram, Group: Reputation, Unit: "seconds",
		Help: "Idle time of nodes when decay moved their score toward the initial score."},
	{Name: ReputationScoreDistribution, Type: Histogram, Group: Reputation, Unit: "score 0..1",
		Help: "Scores of all tracked nodes, sampled once per sampling period."},
	{Name: ReputationThreshold, Type: Gauge, Group: Reputation, Unit: "score 0..1", Extra: true,
		Help: "Configured reliability threshold."},
	{Name: ReputationLastEventTimestamp, Type: Gauge, Group: Reputation, Labels: node, PerNode: true, Unit: "seconds since epoch", Extra: true,
		Help: "Time of the node's last reported event, or of its registration if it has none."},

	{Name: StakeBondedAmount, Type: Gauge, Group: Stake, Unit: "base units", SeedName: "cretoai_stake_total",
		Help: "Bonded stake of all tracked nodes."},
	{Name: StakePerNode, Type: Gauge, Group: Stake, Labels: node, PerNode: true, Unit: "base units",
		Help: "Bonded stake of the node."},
	{Name: StakeActiveDeposits, Type: Gauge, Group: Stake, Labels: node, PerNode: true, Unit: "deposits",
		Help: "Deposits the node made since its bonded stake was last zero."},
	{Name: StakeAverage, Type: Gauge, Group: Stake, Unit: "base units",
		Help: "Average bonded stake per tracked node (0 with no nodes)."},
	{Name: StakePendingWithdrawal, Type: Gauge, Group: Stake, Unit: "withdrawals",
		Help: "Withdrawal requests still unbonding."},
	{Name: StakeUnbondingAmount, Type: Gauge, Group: Stake, Unit: "base units", SeedName: "cretoai_stake_unbonding_total",
		Help: "Stake waiting in unbonding."},
	{Name: StakeDeposits, Type: Counter, Group: Stake, Unit: "deposits",
		Help: "Deposits made."},
	{Name: StakeWithdrawals, Type: Counter, Group: Stake, Unit: "withdrawals",
		Help: "Withdrawal requests made (each starts unbonding)."},
	{Name: StakeSlashed, Type: Counter, Group: Stake, Labels: []string{LabelViolationType}, Unit: "base units",
		Help: "Stake slashed, by the violation type that caused it."},
	{Name: StakeDepositAmount, Type: Histogram, Group: Stake, Unit: "base units", SeedName: "cretoai_stake_deposit_amount_histogram",
		Help: "Amounts of deposits."},
	{Name: StakeSlashingAmount, Type: Histogram, Group: Stake, Unit: "base units", SeedName: "cretoai_stake_slashing_amount_histogram",
		Help: "Amounts taken by slashes."},
	{Name: StakeWithdrawalAmount, Type: Histogram, Group: Stake, Unit: "base units", SeedName: "cretoai_stake_withdrawal_amount_histogram",
		Help: "Amounts of withdrawal requests."},
	{Name: StakeDepositedValue, Type: Counter, Group: Stake, Unit: "base units", Extra: true,
		Help: "Value deposited."},
	{Name: StakeWithdrawnValue, Type: Counter, Group: Stake, Unit: "base units", Extra: true,
		Help: "Value withdrawn: unbonding released, and stake of force-removed nodes."},

	{Name: RewardsPendingAmount, Type: Gauge, Group: Rewards, Unit: "base units", SeedName: "cretoai_rewards_pending_total",
		Help: "Rewards allocated to tracked nodes and not yet paid out."},
	{Name: RewardsUniqueRecipients, Type: Gauge, Group: Rewards, Unit: "nodes",
		Help: "Nodes credited with a reward in the last epoch."},
	{Name: RewardsDistributionEfficiency, Type: Gauge, Group: Rewards, Unit: "ratio 0..1",
		Help: "Part of the last epoch's pool paid out in that epoch, divided by the pool (0 before the first epoch)."},
	{Name: RewardsPendingPerNode, Type: Gauge, Group: Rewards, Labels: node, PerNode: true, Unit: "base units",
		Help: "Rewards allocated to the node and not yet paid out."},
	{Name: RewardsDistributedValue, Type: Counter, Group: Rewards, Unit: "base units", SeedName: "cretoai_rewards_distributed_total_value",
		Help: "Reward value paid out."},
	{Name: RewardsDistributions, Type: Counter, Group: Rewards, Labels: []string{LabelRewardType}, Unit: "allocations", SeedName: "cretoai_rewards_distributed_count",
		Help: "Reward allocations to nodes, by reward type."},
	{Name: RewardsUptimeBonuses, Type: Counter, Group: Rewards, Unit: "bonuses",
		Help: "Uptime bonuses awarded."},
	{Name: RewardsPerNode, Type: Counter, Group: Rewards, Labels: node, PerNode: true, Unit: "base units", SeedName: "cretoai_rewards_total_per_node",
		Help: "Rewards ever allocated to the node."},
	{Name: RewardsFailed, Type: Counter, Group: Rewards, Labels: []string{LabelReason}, Unit: "payouts",
		Help: "Failed payouts, by reason; the rewards stay pending for the next epoch."},
	{Name: RewardsDistributionAmount, Type: Histogram, Group: Rewards, Labels: []string{LabelRewardType}, Unit: "base units",
		Help: "Amounts of reward allocations to nodes, by reward type."},
	{Name: RewardsCurrentEpoch, Type: Gauge, Group: Rewards, Unit: "epoch number", Extra: true,
		Help: "Number of the last reward epoch run (0 before the first)."},
	{Name: RewardsLastDistribution, Type: Gauge, Group: Rewards, Unit: "seconds since epoch", Extra: true,
		Help: "Time of the last reward epoch (0 before the first)."},
	{Name: RewardsPayouts, Type: Counter, Group: Rewards, Unit: "payouts", Extra: true,
		Help: "Successful payouts; with cretoai_rewards_failed_total it gives the payout failure ratio."},
	{Name: RewardsAllocatedValue, Type: Counter, Group: Rewards, Unit: "base units", Extra: true,
		Help: "Reward value allocated (credited as pending) to nodes."},
}

// Health lists the service's own families (on top of go_* and process_*).
var Health = []Metric{
	{Name: ServiceBuildInfo, Type: Gauge, Group: Service, Labels: []string{"version", "revision", "goversion"}, Unit: "info",
		Help: "Build information of the running service; the value is always 1."},
	{Name: ServiceHTTPRequests, Type: Counter, Group: Service, Labels: []string{"route", "method", "code"}, Unit: "requests",
		Help: "HTTP requests served, by route template, method and status code."},
	{Name: ServiceHTTPRequestDuration, Type: Histogram, Group: Service, Labels: []string{"route", "method"}, Unit: "seconds",
		Help: "Time to serve HTTP requests, by route template and method."},
	{Name: ServiceStoreCommitDuration, Type: Histogram, Group: Service, Unit: "seconds",
		Help: "Time of store commits (one fsynced transaction each)."},
	{Name: ServiceStoreCommitOps, Type: Histogram, Group: Service, Unit: "operations",
		Help: "Operations carried by one store commit (group commit size)."},
	{Name: ServiceStoreCommitFailures, Type: Counter, Group: Service, Unit: "commits",
		Help: "Store commits that failed; their operations were rejected."},
	{Name: ServiceScrapeDuration, Type: Histogram, Group: Service, Unit: "seconds",
		Help: "Time to serve one successful /metrics request."},
	{Name: ServiceJobRuns, Type: Counter, Group: Service, Labels: []string{"task", "result"}, Unit: "runs",
		Help: "Runs of the scheduled jobs, by task and result (success or failure)."},
	{Name: ServiceJobLastSuccess, Type: Gauge, Group: Service, Labels: []string{"task"}, Unit: "seconds since epoch",
		Help: "Time of the last successful run of each scheduled task."},
}

// All is Domain followed by Health.
func All() []Metric {
	return append(append([]Metric(nil), Domain...), Health...)
}

// Lookup returns the metric named name, or false.
func Lookup(name string) (Metric, bool) {
	for _, m := range All() {
		if m.Name == name {
			return m, true
		}
	}
	return Metric{}, false
}
