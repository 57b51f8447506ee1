package dashboards

import (
	"fmt"

	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/stat"
	"github.com/grafana/grafana-foundation-sdk/go/table"
	"github.com/grafana/grafana-foundation-sdk/go/timeseries"

	"github.com/cretoai/monitor/alerting"
	c "github.com/cretoai/monitor/service/catalog"
)

// pagingSeverities matches the severities that page: critical and warning,
// not info (the Watchdog heartbeat fires all the time by design).
const pagingSeverities = `severity=~"critical|warning"`

// statHeight and chartHeight are the heights of a stat and of a chart.
const (
	statHeight  = 4
	chartHeight = 8
)

// last24h fixes a stat's time range to the last 24 hours; its query sums
// increase(x[$__range]) over exactly that range.
const last24h = "24h"

func overviewDashboard() *dashboard.DashboardBuilder {
	return newDashboard(UIDOverview, "CretoAI / Network overview",
		"The validator network at a glance: nodes and their reliability, reputation, stake, rewards, the service and firing alerts. Each panel links to the dashboard with the details.",
		"overview").
		WithPanel(serviceUpStat().Span(3).Height(statHeight)).
		WithPanel(firingAlertsStat().Span(3).Height(statHeight)).
		WithPanel(nodesTotalStat().Span(3).Height(statHeight)).
		WithPanel(reliableShareStat().Span(3).Height(statHeight)).
		WithPanel(meanReputationStat().Span(3).Height(statHeight)).
		WithPanel(medianReputationStat().Span(3).Height(statHeight)).
		WithPanel(lastEpochAgeStat().Span(3).Height(statHeight)).
		WithPanel(distributionEfficiencyStat().Span(3).Height(statHeight)).
		WithPanel(bondedStakeStat().Span(5).Height(statHeight)).
		WithPanel(unbondingStakeStat().Span(5).Height(statHeight)).
		WithPanel(slashed24hStat().Span(5).Height(statHeight)).
		WithPanel(rewardsDistributed24hStat().Span(5).Height(statHeight)).
		WithPanel(pendingRewardsStat().Span(4).Height(statHeight)).
		WithPanel(networkReputationTimeseries().Span(8).Height(chartHeight)).
		WithPanel(stakeTimeseries().Span(8).Height(chartHeight)).
		WithPanel(firingAlertsTable().Span(8).Height(chartHeight)).
		WithPanel(nodeReliabilityTimeseries().Span(12).Height(chartHeight)).
		WithPanel(efficiencyTimeseries().Span(12).Height(chartHeight))
}

func serviceUpStat() *stat.PanelBuilder {
	return defaultStat().
		Title("Service").
		Description(fmt.Sprintf("Whether Prometheus reached the CretoAI service at its last scrape (up{job=%q}): UP or DOWN. No value means the target is not discovered at all.", ScrapeJob)).
		WithTarget(instantQuery(sel(promUp, jobMatch), "")).
		Unit("none").
		Mappings(upMappings()).
		Thresholds(thresholds(red, step{1, green})).
		ColorMode(common.BigValueColorModeBackground).
		Links([]cogLink{link("Service health", UIDService)})
}

func firingAlertsStat() *stat.PanelBuilder {
	return defaultStat().
		Title("Firing alerts").
		Description("Number of critical and warning alerts firing now in Prometheus (ALERTS with alertstate=\"firing\"); 0 when none fire. Info alerts such as the always-firing Watchdog heartbeat are not counted; the table lists every firing alert.").
		WithTarget(instantQuery(fmt.Sprintf(`count(%s) or vector(0)`, sel(promAlerts, `alertstate="firing"`, pagingSeverities)), "")).
		Unit("none").
		Decimals(0).
		Thresholds(thresholds(green, step{1, red})).
		ColorMode(common.BigValueColorModeBackground)
}

func nodesTotalStat() *stat.PanelBuilder {
	return defaultStat().
		Title("Nodes").
		Description("Nodes the service tracks: registered and not removed.").
		WithTarget(instantQuery(c.ReputationTotalNodes, "")).
		Unit("none").
		Decimals(0).
		Thresholds(thresholds(blue)).
		Links([]cogLink{link("Reputation", UIDReputation)})
}

// reliableShare is the share of reliable nodes; no sample without nodes.
var reliableShare = fmt.Sprintf("%s / (%s > 0)", c.ReputationNodesAbove, c.ReputationTotalNodes)

func reliableShareStat() *stat.PanelBuilder {
	return defaultStat().
		Title("Reliable nodes").
		Description(fmt.Sprintf("Share of nodes whose score is at or above the reliability threshold. Red below %.0f%%: more than %.0f%% of nodes unreliable is what the UnreliableNodesHigh alert fires on.",
			100*(1-alerting.UnreliableShareHigh), 100*alerting.UnreliableShareHigh)).
		WithTarget(instantQuery(reliableShare, "")).
		Unit("percentunit").
		Decimals(1).
		Min(0).
		Max(1).
		Thresholds(thresholds(red, step{1 - alerting.UnreliableShareHigh, green})).
		Links([]cogLink{link("Reputation", UIDReputation)})
}

func meanReputationStat() *stat.PanelBuilder {
	return defaultStat().
		Title("Mean reputation").
		Description(fmt.Sprintf("Mean score of all tracked nodes (0 with no node). Red below %g (critical), orange below %g (reliability threshold).", alerting.ReputationCritical, alerting.ReputationLow)).
		WithTarget(instantQuery(c.ReputationMean, "")).
		Unit("none").
		Decimals(3).
		Min(0).
		Max(1).
		Thresholds(scoreThresholds()).
		GraphMode(common.BigValueGraphModeArea).
		Links([]cogLink{link("Reputation", UIDReputation)})
}

func medianReputationStat() *stat.PanelBuilder {
	return defaultStat().
		Title("Median reputation").
		Description(fmt.Sprintf("Median score of all tracked nodes (0 with no node); far below the mean means a few strong nodes hide many weak ones. Red below %g, orange below %g.", alerting.ReputationCritical, alerting.ReputationLow)).
		WithTarget(instantQuery(c.ReputationMedian, "")).
		Unit("none").
		Decimals(3).
		Min(0).
		Max(1).
		Thresholds(scoreThresholds()).
		GraphMode(common.BigValueGraphModeArea).
		Links([]cogLink{link("Reputation", UIDReputation)})
}

// lastEpochAge is the time since the last reward epoch; no sample before
// the first one.
var lastEpochAge = fmt.Sprintf("time() - (%s > 0)", c.RewardsLastDistribution)

func lastEpochAgeStat() *stat.PanelBuilder {
	return defaultStat().
		Title("Since last epoch").
		Description(fmt.Sprintf("Time since the last reward epoch ran. Red from %s on: that is when the RewardDistributionStalled alert fires. Empty before the first epoch.", humanSeconds(alerting.RewardsStalledSeconds))).
		WithTarget(instantQuery(lastEpochAge, "")).
		Unit("s").
		Decimals(0).
		NoValue("no epoch yet").
		Thresholds(thresholds(green, step{alerting.RewardsStalledSeconds, red})).
		Links([]cogLink{link("Rewards", UIDRewards)})
}

// efficiencySinceFirstEpoch is the last epoch's distribution efficiency,
// without the 0 the gauge holds before the first epoch.
var efficiencySinceFirstEpoch = fmt.Sprintf("%s and on() (%s > 0)", c.RewardsDistributionEfficiency, c.RewardsCurrentEpoch)

func distributionEfficiencyStat() *stat.PanelBuilder {
	return defaultStat().
		Title("Distribution efficiency").
		Description(fmt.Sprintf("Part of the last epoch's pool paid out in that epoch. Red below %.0f%%, the DistributionEfficiencyLow alert threshold; payouts that fail (no payout address) lower it. Empty before the first epoch.", 100*alerting.DistributionEfficiencyLow)).
		WithTarget(instantQuery(efficiencySinceFirstEpoch, "")).
		Unit("percentunit").
		Decimals(1).
		Min(0).
		Max(1).
		NoValue("no epoch yet").
		Thresholds(thresholds(red, step{alerting.DistributionEfficiencyLow, green})).
		Links([]cogLink{link("Rewards", UIDRewards)})
}

func bondedStakeStat() *stat.PanelBuilder {
	return defaultStat().
		Title("Bonded stake").
		Description("Stake bonded by all tracked nodes, in base units: it earns rewards and can be slashed. Unbonding stake is not included.").
		WithTarget(instantQuery(c.StakeBondedAmount, "")).
		Unit("short").
		Decimals(2).
		Thresholds(thresholds(blue)).
		GraphMode(common.BigValueGraphModeArea).
		Links([]cogLink{link("Stake", UIDStake)})
}

func unbondingStakeStat() *stat.PanelBuilder {
	return defaultStat().
		Title("Unbonding stake").
		Description(fmt.Sprintf("Stake waiting in unbonding after withdrawal requests, in base units; it is released after the unbonding period and can still be slashed. Above %.0f%% of bonded stake is a withdrawal wave (WithdrawalWave alert); the Stake dashboard shows that ratio.", 100*alerting.WithdrawalWaveRatio)).
		WithTarget(instantQuery(c.StakeUnbondingAmount, "")).
		Unit("short").
		Decimals(2).
		Thresholds(thresholds(text)).
		GraphMode(common.BigValueGraphModeArea).
		Links([]cogLink{link("Stake", UIDStake)})
}

func slashed24hStat() *stat.PanelBuilder {
	return defaultStat().
		Title("Stake slashed (24h)").
		Description("Stake value slashed by violations in the last 24 hours, in base units, all violation types: increase over the panel's fixed 24h range. Orange as soon as anything was slashed.").
		WithTarget(instantQuery(fmt.Sprintf("sum(%s)", increaseOverRange(c.StakeSlashed)), "")).
		TimeFrom(last24h).
		Unit("short").
		Decimals(2).
		Thresholds(thresholds(green, step{1, orange})).
		Links([]cogLink{link("Stake", UIDStake)})
}

func rewardsDistributed24hStat() *stat.PanelBuilder {
	return defaultStat().
		Title("Rewards paid (24h)").
		Description("Reward value paid out to nodes in the last 24 hours, in base units, including pending rewards paid on retry: increase over the panel's fixed 24h range. Red when nothing was paid.").
		WithTarget(instantQuery(fmt.Sprintf("sum(%s)", increaseOverRange(c.RewardsDistributedValue)), "")).
		TimeFrom(last24h).
		Unit("short").
		Decimals(2).
		Thresholds(thresholds(red, step{1, green})).
		Links([]cogLink{link("Rewards", UIDRewards)})
}

func pendingRewardsStat() *stat.PanelBuilder {
	return defaultStat().
		Title("Pending rewards").
		Description("Rewards allocated to nodes and not paid out yet, in base units. Right after an epoch this is what failed to pay; steady growth means payouts keep failing.").
		WithTarget(instantQuery(c.RewardsPendingAmount, "")).
		Unit("short").
		Decimals(2).
		Thresholds(thresholds(text)).
		GraphMode(common.BigValueGraphModeArea).
		Links([]cogLink{link("Rewards", UIDRewards)})
}

func networkReputationTimeseries() *timeseries.PanelBuilder {
	return withThresholdLines(defaultTimeseries()).
		Title("Network reputation").
		Description(fmt.Sprintf("Mean, median, highest and lowest score of all tracked nodes, with the configured reliability threshold (dashed). Dashed threshold lines: %g critical, %g reliable.", alerting.ReputationCritical, alerting.ReputationLow)).
		WithTarget(prometheusQuery(c.ReputationMean, "mean")).
		WithTarget(prometheusQuery(c.ReputationMedian, "median")).
		WithTarget(prometheusQuery(c.ReputationHighestScore, "highest")).
		WithTarget(prometheusQuery(c.ReputationLowestScore, "lowest")).
		WithTarget(prometheusQuery(c.ReputationThreshold, "reliability threshold")).
		OverrideByName("reliability threshold", dashedSeries("reliability threshold", "yellow")).
		Unit("none").
		Decimals(3).
		Min(0).
		Max(1).
		Thresholds(scoreThresholds()).
		Links([]cogLink{link("Reputation", UIDReputation)})
}

func stakeTimeseries() *timeseries.PanelBuilder {
	return defaultTimeseries().
		Title("Bonded and unbonding stake").
		Description("Bonded stake and stake waiting in unbonding, in base units. Bonded falling while unbonding rises is a withdrawal wave; both falling at once is slashing.").
		WithTarget(prometheusQuery(c.StakeBondedAmount, "bonded")).
		WithTarget(prometheusQuery(c.StakeUnbondingAmount, "unbonding")).
		Unit("short").
		Min(0).
		Links([]cogLink{link("Stake", UIDStake)})
}

func firingAlertsTable() *table.PanelBuilder {
	return defaultTable().
		Title("Firing alerts by name").
		Description("Every alert firing now, by alert name and severity, with the number of firing instances (ALERTS{alertstate=\"firing\"}); the info-level Watchdog is always there while alerting works. Each alert's runbook and dashboard links are in its annotations in Alertmanager.").
		WithTarget(tableQuery(fmt.Sprintf("count by (alertname, severity) (%s)", sel(promAlerts, `alertstate="firing"`)))).
		WithTransformation(renameColumns(map[string]string{"alertname": "Alert", "severity": "Severity", "Value": "Firing"}, "alertname", "severity", "Value")).
		WithTransformation(sortBy("Firing", true)).
		Unit("none").
		Thresholds(thresholds(text)).
		NoValue("no alert firing")
}

func nodeReliabilityTimeseries() *timeseries.PanelBuilder {
	return stacked(defaultTimeseries()).
		Title("Reliable and unreliable nodes").
		Description("Tracked nodes at or above the reliability threshold (reliable: they can earn rewards) and below it (unreliable), stacked: the top of the stack is the number of tracked nodes.").
		WithTarget(prometheusQuery(c.ReputationNodesAbove, "reliable")).
		WithTarget(prometheusQuery(c.ReputationNodesBelow, "unreliable")).
		OverrideByName("reliable", fixedColor(green)).
		OverrideByName("unreliable", fixedColor(red)).
		Unit("none").
		Decimals(0).
		Min(0)
}

func efficiencyTimeseries() *timeseries.PanelBuilder {
	return withThresholdLines(defaultTimeseries()).
		Title("Distribution efficiency per epoch").
		Description(fmt.Sprintf("Part of each epoch's pool paid out in that epoch, over time; the dashed line is the DistributionEfficiencyLow alert threshold (%.0f%%). Empty before the first epoch.", 100*alerting.DistributionEfficiencyLow)).
		WithTarget(prometheusQuery(efficiencySinceFirstEpoch, "efficiency")).
		Unit("percentunit").
		Min(0).
		Max(1).
		Thresholds(thresholds(red, step{alerting.DistributionEfficiencyLow, green})).
		Links([]cogLink{link("Rewards", UIDRewards)})
}
