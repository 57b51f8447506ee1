package dashboards

import (
	"fmt"

	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/heatmap"
	"github.com/grafana/grafana-foundation-sdk/go/stat"
	"github.com/grafana/grafana-foundation-sdk/go/table"
	"github.com/grafana/grafana-foundation-sdk/go/timeseries"

	"github.com/cretoai/monitor/alerting"
	c "github.com/cretoai/monitor/service/catalog"
)

func rewardsDashboard() *dashboard.DashboardBuilder {
	return newDashboard(UIDRewards, "CretoAI / Rewards",
		"Reward distribution: value paid and allocated per epoch, allocations by reward type, distribution efficiency, pending rewards and their trend, failed payouts and why, recipients, allocation amounts and what each node earned. The Node filter applies to the per-node table, the Reward type filter to the by-type panels.",
		"rewards").
		Time("now-24h", "now").
		WithVariable(queryVariable(varNode, "Node", c.RewardsPendingPerNode)).
		WithVariable(queryVariable(varReward, "Reward type", c.RewardsDistributions)).
		WithRow(dashboard.NewRowBuilder("Now")).
		WithPanel(pendingRewardsStat().Span(4).Height(statHeight)).
		WithPanel(distributionEfficiencyStat().Span(4).Height(statHeight)).
		WithPanel(uniqueRecipientsStat().Span(4).Height(statHeight)).
		WithPanel(currentEpochStat().Span(4).Height(statHeight)).
		WithPanel(lastEpochAgeStat().Span(4).Height(statHeight)).
		WithPanel(payoutFailureRatioStat().Span(4).Height(statHeight)).
		WithRow(dashboard.NewRowBuilder("Distribution")).
		WithPanel(valueDistributedTimeseries().Span(12).Height(chartHeight)).
		WithPanel(distributionsByTypeTimeseries().Span(12).Height(chartHeight)).
		WithPanel(efficiencyTimeseries().Span(12).Height(chartHeight)).
		WithPanel(uniqueRecipientsTimeseries().Span(12).Height(chartHeight)).
		WithRow(dashboard.NewRowBuilder("Pending and failures")).
		WithPanel(pendingRewardsTimeseries().Span(12).Height(chartHeight)).
		WithPanel(pendingTrendTimeseries().Span(12).Height(chartHeight)).
		WithPanel(failuresByReasonTimeseries().Span(12).Height(chartHeight)).
		WithPanel(payoutFailureRatioTimeseries().Span(12).Height(chartHeight)).
		WithRow(dashboard.NewRowBuilder("Allocation amounts")).
		WithPanel(allocationAmountHeatmap().Span(12).Height(chartHeight)).
		WithPanel(allocationAmountQuantilesTimeseries().Span(12).Height(chartHeight)).
		WithRow(dashboard.NewRowBuilder("Nodes")).
		WithPanel(earningsPerNodeTable().Span(24).Height(10))
}

func uniqueRecipientsStat() *stat.PanelBuilder {
	return defaultStat().
		Title("Recipients last epoch").
		Description("Nodes credited with a reward in the last epoch: those with bonded stake and a reliable score. 0 before the first epoch and after an epoch without eligible node (red).").
		WithTarget(instantQuery(c.RewardsUniqueRecipients, "")).
		Unit("none").
		Decimals(0).
		Thresholds(thresholds(red, step{1, green}))
}

func currentEpochStat() *stat.PanelBuilder {
	return defaultStat().
		Title("Epoch").
		Description("Number of the last reward epoch run (0 before the first); it only ever grows, catch-up epochs after downtime included.").
		WithTarget(instantQuery(c.RewardsCurrentEpoch, "")).
		Unit("none").
		Decimals(0).
		Thresholds(thresholds(text))
}

// payoutFailureRatio is failed ÷ attempted payouts over a window: failed
// plus successful, no sample when nothing was attempted.
func payoutFailureRatio(window func(string) string) string {
	failed := fmt.Sprintf("sum(%s)", window(c.RewardsFailed))
	paid := fmt.Sprintf("sum(%s)", window(c.RewardsPayouts))
	return fmt.Sprintf("%s / (%s + %s > 0)", failed, failed, paid)
}

func payoutFailureRatioStat() *stat.PanelBuilder {
	return defaultStat().
		Title("Payout failure ratio").
		Description(fmt.Sprintf("Failed payouts divided by attempted payouts (failed plus successful) in the selected time range. Red from %.0f%%, the PayoutFailureRatioHigh alert threshold. Empty when no payout was attempted.", 100*alerting.PayoutFailureRatioHigh)).
		WithTarget(instantQuery(payoutFailureRatio(increaseOverRange), "")).
		Unit("percentunit").
		Decimals(1).
		Min(0).
		Max(1).
		Thresholds(thresholds(green, step{alerting.PayoutFailureRatioHigh, red}))
}

func valueDistributedTimeseries() *timeseries.PanelBuilder {
	return defaultTimeseries().
		Title("Reward value per second").
		Description("Reward value paid out (including pending rewards paid on retry) and allocated (credited as pending), in base units per second. Epochs run periodically, so both come in bursts; allocated minus paid accumulates as pending.").
		WithTarget(prometheusQuery(fmt.Sprintf("sum(%s)", rate(c.RewardsDistributedValue)), "paid out")).
		WithTarget(prometheusQuery(fmt.Sprintf("sum(%s)", rate(c.RewardsAllocatedValue)), "allocated")).
		Unit("short").
		Min(0)
}

func distributionsByTypeTimeseries() *timeseries.PanelBuilder {
	return stacked(defaultTimeseries()).
		Title("Allocations per second by reward type").
		Description("Reward allocations to nodes per second, by reward type (stacked): base shares and uptime bonuses. Each epoch allocates one base share per eligible node and one bonus per node with high uptime.").
		WithTarget(prometheusQuery(fmt.Sprintf("sum by (reward_type) (%s)", rate(sel(c.RewardsDistributions, rewardMatch))), "{{reward_type}}")).
		Unit("cps").
		Min(0)
}

func uniqueRecipientsTimeseries() *timeseries.PanelBuilder {
	return defaultTimeseries().
		Title("Recipients and reliable nodes").
		Description("Nodes credited in the last epoch, against reliable nodes: a reliable node without bonded stake earns nothing, so recipients can be fewer.").
		WithTarget(prometheusQuery(c.RewardsUniqueRecipients, "recipients last epoch")).
		WithTarget(prometheusQuery(c.ReputationNodesAbove, "reliable nodes")).
		Unit("none").
		Decimals(0).
		Min(0)
}

func pendingRewardsTimeseries() *timeseries.PanelBuilder {
	return defaultTimeseries().
		Title("Pending rewards over time").
		Description("Rewards allocated to nodes and not yet paid out, in base units. It drops back after each epoch's payouts; what stays is what failed to pay.").
		WithTarget(prometheusQuery(c.RewardsPendingAmount, "pending")).
		Unit("short").
		Min(0)
}

func pendingTrendTimeseries() *timeseries.PanelBuilder {
	return withThresholdLines(defaultTimeseries()).
		Title("Pending rewards trend per hour").
		Description("How fast pending rewards grow, in base units per hour: deriv of the pending gauge (never rate: it is a gauge) over at least an hour, so at least one epoch. Above 0 (red) payouts keep failing and rewards pile up; the PendingRewardsGrowing alert fires when this stays above 0 over 6h.").
		WithTarget(prometheusQuery(fmt.Sprintf("3600 * deriv(%s%s)", c.RewardsPendingAmount, rateWindow), "trend per hour")).
		Interval(hourly).
		Unit("short").
		Thresholds(thresholds(green, step{1, red}))
}

func failuresByReasonTimeseries() *timeseries.PanelBuilder {
	return stacked(defaultTimeseries()).
		Title("Failed payouts per second by reason").
		Description("Failed payouts per second, by reason (stacked): one per node and epoch whose pending rewards could not be paid, e.g. no_payout_address. The rewards stay pending and are retried next epoch.").
		WithTarget(prometheusQuery(fmt.Sprintf("sum by (reason) (%s)", rate(c.RewardsFailed)), "{{reason}}")).
		Unit("cps").
		Min(0)
}

func payoutFailureRatioTimeseries() *timeseries.PanelBuilder {
	return withThresholdLines(defaultTimeseries()).
		Title("Payout failure ratio over time").
		Description(fmt.Sprintf("Failed payouts divided by attempted payouts (failed plus successful), over at least an hour: payouts happen once per epoch, so shorter windows are mostly empty. The dashed line is %.0f%%, the PayoutFailureRatioHigh alert threshold. Gaps where no payout was attempted.", 100*alerting.PayoutFailureRatioHigh)).
		WithTarget(prometheusQuery(payoutFailureRatio(rate), "failure ratio")).
		Interval(hourly).
		Unit("percentunit").
		Min(0).
		Max(1).
		Thresholds(thresholds(green, step{alerting.PayoutFailureRatioHigh, red}))
}

func allocationAmountHeatmap() *heatmap.PanelBuilder {
	return defaultHeatmap().
		Title("Allocation amounts").
		Description("Amounts credited to one node in one epoch, in base units, for the selected reward types: each cell counts the allocations in its bucket in the interval.").
		WithTarget(heatmapQuery(heatmapBuckets(c.RewardsDistributionAmount, rewardMatch))).
		YAxis(heatmap.NewYAxisConfigBuilder().Unit("short").AxisLabel("base units")).
		CellValues(heatmap.NewCellValuesBuilder().Unit("none").Decimals(0))
}

func allocationAmountQuantilesTimeseries() *timeseries.PanelBuilder {
	return defaultTimeseries().
		Title("Allocation amount quantiles by reward type").
		Description("Median and 99th percentile of the amount credited to one node in one epoch, by reward type, in base units. Empty between epochs.").
		WithTarget(prometheusQuery(quantile(0.5, c.RewardsDistributionAmount, []string{"reward_type"}, rewardMatch), "p50 {{reward_type}}")).
		WithTarget(prometheusQuery(quantile(0.99, c.RewardsDistributionAmount, []string{"reward_type"}, rewardMatch), "p99 {{reward_type}}")).
		Unit("short").
		Min(0)
}

func earningsPerNodeTable() *table.PanelBuilder {
	return defaultTable().
		Title("Earnings per node").
		Description("For each selected node: reward value allocated to it in the selected time range, allocated ever, and still pending, largest earners first. Click a node to open its node detail.").
		WithTarget(tableQuery(byNode("sum", increaseOverRange(sel(c.RewardsPerNode, nodeMatch))))).
		WithTarget(tableQuery(byNode("max", sel(c.RewardsPerNode, nodeMatch)))).
		WithTarget(tableQuery(byNode("max", sel(c.RewardsPendingPerNode, nodeMatch)))).
		WithTransformation(mergeTables()).
		WithTransformation(renameColumns(map[string]string{
			"Value #A": "Earned in range", "Value #B": "Earned ever", "Value #C": "Pending",
		}, "node_id", "Value #A", "Value #B", "Value #C")).
		WithTransformation(sortBy("Earned in range", true)).
		Unit("short").
		Decimals(0).
		Thresholds(thresholds(text)).
		OverrideByName(varNode, nodeDetailLink())
}
