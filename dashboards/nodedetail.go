package dashboards

import (
	"fmt"

	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/stat"
	"github.com/grafana/grafana-foundation-sdk/go/timeseries"

	"github.com/cretoai/monitor/alerting"
	c "github.com/cretoai/monitor/service/catalog"
)

func nodeDetailDashboard() *dashboard.DashboardBuilder {
	nodeParam := "var-" + varNode + "=${" + varNode + "}"
	return newDashboard(UIDNodeDetail, "CretoAI / Node detail",
		"One node across reputation, stake and rewards. Pick the node in the Node selector, or open this dashboard from a node id in the Reputation, Stake or Rewards tables (?var-node_id=<id>).",
		"node").
		Link(link("Reputation (this node)", UIDReputation, nodeParam)).
		Link(link("Stake (this node)", UIDStake, nodeParam)).
		Link(link("Rewards (this node)", UIDRewards, nodeParam)).
		WithVariable(singleNodeVariable()).
		WithRow(dashboard.NewRowBuilder("Now")).
		WithPanel(nodeScoreStat().Span(4).Height(statHeight)).
		WithPanel(nodeBondedStat().Span(4).Height(statHeight)).
		WithPanel(nodeStakeShareStat().Span(4).Height(statHeight)).
		WithPanel(nodePendingRewardsStat().Span(4).Height(statHeight)).
		WithPanel(nodeSilenceStat().Span(4).Height(statHeight)).
		WithPanel(nodeViolationsStat().Span(4).Height(statHeight)).
		WithRow(dashboard.NewRowBuilder("Reputation")).
		WithPanel(nodeScoreTimeseries().Span(12).Height(chartHeight)).
		WithPanel(nodeEventsTimeseries().Span(12).Height(chartHeight)).
		WithPanel(nodeViolationsTimeseries().Span(12).Height(chartHeight)).
		WithPanel(nodeMissedShareTimeseries().Span(12).Height(chartHeight)).
		WithRow(dashboard.NewRowBuilder("Stake")).
		WithPanel(nodeStakeTimeseries().Span(12).Height(chartHeight)).
		WithPanel(nodeActiveDepositsTimeseries().Span(12).Height(chartHeight)).
		WithRow(dashboard.NewRowBuilder("Rewards")).
		WithPanel(nodePendingRewardsTimeseries().Span(12).Height(chartHeight)).
		WithPanel(nodeRewardsTimeseries().Span(12).Height(chartHeight))
}

// singleNodeVariable selects exactly one node: no multi-select, no All, so
// queries match it exactly with node_id="$node_id".
func singleNodeVariable() *dashboard.QueryVariableBuilder {
	query := fmt.Sprintf("label_values(%s, %s)", c.ReputationScore, varNode)
	return dashboard.NewQueryVariableBuilder(varNode).
		Label("Node").
		Datasource(datasourceRef()).
		Query(dashboard.StringOrMap{String: cog.ToPtr(query)}).
		Definition(query).
		Refresh(dashboard.VariableRefreshOnTimeRangeChanged).
		Sort(dashboard.VariableSortAlphabeticalAsc).
		Multi(false).
		IncludeAll(false)
}

func nodeScoreStat() *stat.PanelBuilder {
	return defaultStat().
		Title("Score").
		Description(fmt.Sprintf("The node's reputation score now. Red below %g (NodeReputationCritical), orange below %g (below the reliability threshold: it earns no rewards).", alerting.ReputationCritical, alerting.ReputationLow)).
		WithTarget(instantQuery(sel(c.ReputationScore, oneNodeMatch), "")).
		Unit("none").
		Decimals(3).
		Min(0).
		Max(1).
		Thresholds(scoreThresholds()).
		GraphMode(common.BigValueGraphModeArea)
}

func nodeBondedStat() *stat.PanelBuilder {
	return defaultStat().
		Title("Bonded stake").
		Description("The node's bonded stake now, in base units. Red at 0: without bonded stake it earns no rewards.").
		WithTarget(instantQuery(sel(c.StakePerNode, oneNodeMatch), "")).
		Unit("short").
		Decimals(2).
		Thresholds(thresholds(red, step{1, green}))
}

func nodeStakeShareStat() *stat.PanelBuilder {
	return defaultStat().
		Title("Share of bonded stake").
		Description("The node's bonded stake as a share of all bonded stake now. Empty while nothing is bonded.").
		WithTarget(instantQuery(fmt.Sprintf("%s / on () group_left () (max(%s) > 0)", sel(c.StakePerNode, oneNodeMatch), c.StakeBondedAmount), "")).
		Unit("percentunit").
		Decimals(2).
		Min(0).
		Max(1).
		Thresholds(thresholds(text))
}

func nodePendingRewardsStat() *stat.PanelBuilder {
	return defaultStat().
		Title("Pending rewards").
		Description("Rewards allocated to the node and not paid out yet, in base units. Pending after an epoch means its payout failed, typically because it has no payout address.").
		WithTarget(instantQuery(sel(c.RewardsPendingPerNode, oneNodeMatch), "")).
		Unit("short").
		Decimals(2).
		Thresholds(thresholds(text))
}

func nodeSilenceStat() *stat.PanelBuilder {
	return defaultStat().
		Title("Since last event").
		Description(fmt.Sprintf("Time since the node's last event (or its registration). Red from %s, where the NodeSilent alert fires.", humanSeconds(alerting.NodeSilentSeconds))).
		WithTarget(instantQuery(fmt.Sprintf("time() - %s", sel(c.ReputationLastEventTimestamp, oneNodeMatch)), "")).
		Unit("s").
		Decimals(0).
		Thresholds(thresholds(green, step{alerting.NodeSilentSeconds, red}))
}

func nodeViolationsStat() *stat.PanelBuilder {
	return defaultStat().
		Title("Violations in range").
		Description(fmt.Sprintf("Violations reported for the node in the selected time range, all types. Orange from 1; red from %d, the NodeViolationRateHigh alert's count within an hour.", int(alerting.ViolationsPerNodeHigh))).
		WithTarget(instantQuery(fmt.Sprintf("sum(%s)", increaseOverRange(sel(c.ReputationViolations, oneNodeMatch))), "")).
		Unit("none").
		Decimals(0).
		Thresholds(thresholds(green, step{1, orange}, step{alerting.ViolationsPerNodeHigh, red}))
}

func nodeScoreTimeseries() *timeseries.PanelBuilder {
	return withThresholdLines(defaultTimeseries()).
		Title("Score over time").
		Description(fmt.Sprintf("The node's score over time with the configured reliability threshold (yellow); dashed lines at the alert thresholds %g and %g.", alerting.ReputationCritical, alerting.ReputationLow)).
		WithTarget(prometheusQuery(sel(c.ReputationScore, oneNodeMatch), "score")).
		WithTarget(prometheusQuery(c.ReputationThreshold, "reliability threshold")).
		OverrideByName("reliability threshold", dashedSeries("reliability threshold", "yellow")).
		Unit("none").
		Decimals(3).
		Min(0).
		Max(1).
		Thresholds(scoreThresholds())
}

func nodeEventsTimeseries() *timeseries.PanelBuilder {
	return stacked(defaultTimeseries()).
		Title("Events per second by type").
		Description("Events reported for the node, by type, per second (stacked).").
		WithTarget(prometheusQuery(fmt.Sprintf("sum by (event_type) (%s)", rate(sel(c.ReputationEvents, oneNodeMatch))), "{{event_type}}")).
		Unit("cps").
		Min(0)
}

func nodeViolationsTimeseries() *timeseries.PanelBuilder {
	return withThresholdLines(stacked(defaultTimeseries())).
		Title("Violations per hour by type").
		Description(fmt.Sprintf("Violations reported for the node, by type, as a rate per hour (stacked). The dashed line is %d per hour, where NodeViolationRateHigh fires.", int(alerting.ViolationsPerNodeHigh))).
		WithTarget(prometheusQuery(fmt.Sprintf("3600 * sum by (violation_type) (%s)", rate(sel(c.ReputationViolations, oneNodeMatch))), "{{violation_type}}")).
		Unit("short").
		Min(0).
		Thresholds(thresholds(green, step{alerting.ViolationsPerNodeHigh, red}))
}

func nodeMissedShareTimeseries() *timeseries.PanelBuilder {
	return defaultTimeseries().
		Title("Missed event share").
		Description("Share of the node's events that were missed_block or late_response; empty while it reports no events. A low share earns the uptime bonus.").
		WithTarget(prometheusQuery(fmt.Sprintf("sum(%s) / (sum(%s) > 0)",
			rate(sel(c.ReputationEvents, oneNodeMatch, missedEvents)), rate(sel(c.ReputationEvents, oneNodeMatch))), "missed share")).
		Unit("percentunit").
		Min(0).
		Max(1)
}

func nodeStakeTimeseries() *timeseries.PanelBuilder {
	return defaultTimeseries().
		Title("Bonded stake over time").
		Description("The node's bonded stake over time, in base units: deposits raise it, withdrawal requests and slashes lower it.").
		WithTarget(prometheusQuery(sel(c.StakePerNode, oneNodeMatch), "bonded")).
		Unit("short").
		Min(0)
}

func nodeActiveDepositsTimeseries() *timeseries.PanelBuilder {
	return defaultTimeseries().
		Title("Active deposits").
		Description("Deposits the node made since its bonded stake was last zero (a count, not an amount).").
		WithTarget(prometheusQuery(sel(c.StakeActiveDeposits, oneNodeMatch), "active deposits")).
		Unit("none").
		Decimals(0).
		Min(0)
}

func nodePendingRewardsTimeseries() *timeseries.PanelBuilder {
	return defaultTimeseries().
		Title("Pending rewards over time").
		Description("Rewards allocated to the node and not paid out yet, in base units, over time.").
		WithTarget(prometheusQuery(sel(c.RewardsPendingPerNode, oneNodeMatch), "pending")).
		Unit("short").
		Min(0)
}

func nodeRewardsTimeseries() *timeseries.PanelBuilder {
	return defaultTimeseries().
		Title("Reward value allocated per second").
		Description("Reward value allocated to the node, in base units per second; epochs run periodically, so it comes in bursts.").
		WithTarget(prometheusQuery(fmt.Sprintf("sum(%s)", rate(sel(c.RewardsPerNode, oneNodeMatch))), "allocated")).
		Unit("short").
		Min(0)
}
