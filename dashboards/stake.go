package dashboards

import (
	"fmt"

	"github.com/grafana/grafana-foundation-sdk/go/bargauge"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/heatmap"
	"github.com/grafana/grafana-foundation-sdk/go/stat"
	"github.com/grafana/grafana-foundation-sdk/go/table"
	"github.com/grafana/grafana-foundation-sdk/go/timeseries"

	"github.com/cretoai/monitor/alerting"
	c "github.com/cretoai/monitor/service/catalog"
)

// hourly is the minimum interval of trend panels on gauges that move in
// steps (epochs, deposits): with it, $__rate_interval spans at least an hour,
// the window the alerts on those trends use.
const hourly = "1h"

func stakeDashboard() *dashboard.DashboardBuilder {
	return newDashboard(UIDStake, "CretoAI / Stake",
		"Stake of the validator network: bonded and unbonding stake, capital flowing in and out, slashing by violation type, the distribution of deposit, withdrawal and slash amounts, and the stake of each node. The Node filter applies to the per-node table, the Violation type filter to the slashing panels.",
		"stake").
		Time("now-24h", "now").
		WithVariable(queryVariable(varNode, "Node", c.StakePerNode)).
		WithVariable(queryVariable(varViolation, "Violation type", c.StakeSlashed)).
		WithRow(dashboard.NewRowBuilder("Now")).
		WithPanel(bondedStakeStat().Span(4).Height(statHeight)).
		WithPanel(unbondingStakeStat().Span(4).Height(statHeight)).
		WithPanel(unbondingRatioStat().Span(4).Height(statHeight)).
		WithPanel(pendingWithdrawalsStat().Span(4).Height(statHeight)).
		WithPanel(averageStakeStat().Span(4).Height(statHeight)).
		WithPanel(bookInvariantStat().Span(4).Height(statHeight)).
		WithRow(dashboard.NewRowBuilder("Over time")).
		WithPanel(stakeTimeseries().Span(12).Height(chartHeight)).
		WithPanel(bondedChangeTimeseries().Span(12).Height(chartHeight)).
		WithPanel(depositsWithdrawalsTimeseries().Span(12).Height(chartHeight)).
		WithPanel(capitalFlowTimeseries().Span(12).Height(chartHeight)).
		WithRow(dashboard.NewRowBuilder("Slashing")).
		WithPanel(slashedByTypeTimeseries().Span(12).Height(chartHeight)).
		WithPanel(slashedInRangeBarGauge().Span(6).Height(chartHeight)).
		WithPanel(slashesTimeseries().Span(6).Height(chartHeight)).
		WithRow(dashboard.NewRowBuilder("Amount distributions")).
		WithPanel(depositAmountHeatmap().Span(8).Height(chartHeight)).
		WithPanel(withdrawalAmountHeatmap().Span(8).Height(chartHeight)).
		WithPanel(slashingAmountHeatmap().Span(8).Height(chartHeight)).
		WithPanel(depositAmountQuantilesTimeseries().Span(8).Height(chartHeight)).
		WithPanel(withdrawalAmountQuantilesTimeseries().Span(8).Height(chartHeight)).
		WithPanel(slashingAmountQuantilesTimeseries().Span(8).Height(chartHeight)).
		WithRow(dashboard.NewRowBuilder("Nodes")).
		WithPanel(stakePerNodeTable().Span(24).Height(10))
}

func unbondingRatioStat() *stat.PanelBuilder {
	return defaultStat().
		Title("Unbonding / bonded").
		Description(fmt.Sprintf("Stake in unbonding relative to bonded stake. Red from %.0f%%: the WithdrawalWave alert threshold. Empty while nothing is bonded.", 100*alerting.WithdrawalWaveRatio)).
		WithTarget(instantQuery(fmt.Sprintf("%s / (%s > 0)", c.StakeUnbondingAmount, c.StakeBondedAmount), "")).
		Unit("percentunit").
		Decimals(1).
		Min(0).
		Thresholds(thresholds(green, step{alerting.WithdrawalWaveRatio, red}))
}

func pendingWithdrawalsStat() *stat.PanelBuilder {
	return defaultStat().
		Title("Pending withdrawals").
		Description("Withdrawal requests still unbonding: requested and not yet released.").
		WithTarget(instantQuery(c.StakePendingWithdrawal, "")).
		Unit("none").
		Decimals(0).
		Thresholds(thresholds(text))
}

func averageStakeStat() *stat.PanelBuilder {
	return defaultStat().
		Title("Average stake").
		Description("Bonded stake divided by the number of tracked nodes, nodes without stake included, in base units.").
		WithTarget(instantQuery(c.StakeAverage, "")).
		Unit("short").
		Decimals(2).
		Thresholds(thresholds(text))
}

// bookImbalance is deposited − withdrawn − slashed − bonded − unbonding,
// read from one scrape: 0 while the book's invariant holds.
var bookImbalance = fmt.Sprintf("abs(sum(%s) - sum(%s) - sum(%s) - sum(%s) - sum(%s))",
	c.StakeDepositedValue, c.StakeWithdrawnValue, c.StakeSlashed, c.StakeBondedAmount, c.StakeUnbondingAmount)

func bookInvariantStat() *stat.PanelBuilder {
	return defaultStat().
		Title("Book imbalance").
		Description("|deposited − withdrawn − slashed − bonded − unbonding| from one scrape, in base units. The service's book guarantees 0; anything else (red) means the stake accounts disagree. Exact while totals stay below 2^53 base units.").
		WithTarget(instantQuery(bookImbalance, "")).
		Unit("short").
		Decimals(0).
		Thresholds(thresholds(green, step{1, red}))
}

// bondedChangeShare is the change of bonded stake per hour as a share of
// bonded stake.
var bondedChangeShare = fmt.Sprintf("3600 * deriv(%s%s) / (%s > 0)", c.StakeBondedAmount, rateWindow, c.StakeBondedAmount)

func bondedChangeTimeseries() *timeseries.PanelBuilder {
	return withThresholdLines(defaultTimeseries()).
		Title("Bonded stake change per hour").
		Description(fmt.Sprintf("How fast bonded stake changes, per hour, as a share of bonded stake (deriv of the gauge over at least an hour). Below −%.0f%% (dashed) stake leaves as fast as the BondedStakeDroppingFast alert allows.", 100*alerting.BondedStakeDropRatio)).
		WithTarget(prometheusQuery(bondedChangeShare, "change per hour")).
		Interval(hourly).
		Unit("percentunit").
		Thresholds(thresholds(red, step{-alerting.BondedStakeDropRatio, green}))
}

func depositsWithdrawalsTimeseries() *timeseries.PanelBuilder {
	return defaultTimeseries().
		Title("Deposits and withdrawal requests per second").
		Description("Deposits accepted and withdrawal requests accepted (each starts unbonding), per second, network-wide.").
		WithTarget(prometheusQuery(fmt.Sprintf("sum(%s)", rate(c.StakeDeposits)), "deposits")).
		WithTarget(prometheusQuery(fmt.Sprintf("sum(%s)", rate(c.StakeWithdrawals)), "withdrawal requests")).
		Unit("cps").
		Min(0)
}

func capitalFlowTimeseries() *timeseries.PanelBuilder {
	return defaultTimeseries().
		Title("Capital flow per second").
		Description("Value deposited, value withdrawn (unbonding released and force-removed nodes) and value slashed, in base units per second, network-wide. Deposited minus the other two is the growth of bonded plus unbonding stake.").
		WithTarget(prometheusQuery(fmt.Sprintf("sum(%s)", rate(c.StakeDepositedValue)), "deposited")).
		WithTarget(prometheusQuery(fmt.Sprintf("sum(%s)", rate(c.StakeWithdrawnValue)), "withdrawn")).
		WithTarget(prometheusQuery(fmt.Sprintf("sum(%s)", rate(c.StakeSlashed)), "slashed")).
		OverrideByName("slashed", fixedColor(red)).
		Unit("short").
		Min(0)
}

func slashedByTypeTimeseries() *timeseries.PanelBuilder {
	return stacked(defaultTimeseries()).
		Title("Slashed value per second by violation type").
		Description("Stake value slashed, in base units per second, by the violation type that caused it (stacked).").
		WithTarget(prometheusQuery(fmt.Sprintf("sum by (violation_type) (%s)", rate(sel(c.StakeSlashed, violationMatch))), "{{violation_type}}")).
		Unit("short").
		Min(0)
}

func slashedInRangeBarGauge() *bargauge.PanelBuilder {
	return defaultBarGauge().
		Title("Slashed in range by violation type").
		Description("Stake value slashed in the selected time range, in base units, by violation type.").
		WithTarget(instantQuery(fmt.Sprintf("sum by (violation_type) (%s)", increaseOverRange(sel(c.StakeSlashed, violationMatch))), "{{violation_type}}")).
		Unit("short").
		Decimals(0).
		Min(0).
		Thresholds(thresholds(orange))
}

func slashesTimeseries() *timeseries.PanelBuilder {
	return defaultTimeseries().
		Title("Slashes per second").
		Description("Number of slashes that took stake, per second (a violation against a node without stake takes nothing and is not counted).").
		WithTarget(prometheusQuery(fmt.Sprintf("sum(%s)", rate(count(c.StakeSlashingAmount))), "slashes")).
		Unit("cps").
		Min(0)
}

// amountHeatmap shows how the amounts of a stake histogram are spread.
func amountHeatmap(metric string) *heatmap.PanelBuilder {
	return defaultHeatmap().
		WithTarget(heatmapQuery(heatmapBuckets(metric))).
		YAxis(heatmap.NewYAxisConfigBuilder().Unit("short").AxisLabel("base units")).
		CellValues(heatmap.NewCellValuesBuilder().Unit("none").Decimals(0))
}

// amountQuantiles draws the median, p90 and p99 of an amount histogram.
func amountQuantiles(metric string) *timeseries.PanelBuilder {
	return defaultTimeseries().
		WithTarget(prometheusQuery(quantile(0.5, metric, nil), "p50")).
		WithTarget(prometheusQuery(quantile(0.9, metric, nil), "p90")).
		WithTarget(prometheusQuery(quantile(0.99, metric, nil), "p99")).
		Unit("short").
		Min(0)
}

func depositAmountHeatmap() *heatmap.PanelBuilder {
	return amountHeatmap(c.StakeDepositAmount).
		Title("Deposit amounts").
		Description("Amounts of accepted deposits, in base units: each cell counts the deposits in its bucket (1, 3, 10, 30 … base units) in the interval.")
}

func withdrawalAmountHeatmap() *heatmap.PanelBuilder {
	return amountHeatmap(c.StakeWithdrawalAmount).
		Title("Withdrawal request amounts").
		Description("Amounts of withdrawal requests at request time, in base units: each cell counts the requests in its bucket in the interval.")
}

func slashingAmountHeatmap() *heatmap.PanelBuilder {
	return amountHeatmap(c.StakeSlashingAmount).
		Title("Slash amounts").
		Description("Stake taken by each slash from bonded and unbonding stake, in base units: each cell counts the slashes in its bucket in the interval.")
}

func depositAmountQuantilesTimeseries() *timeseries.PanelBuilder {
	return amountQuantiles(c.StakeDepositAmount).
		Title("Deposit amount quantiles").
		Description("Median, 90th and 99th percentile of deposit amounts, in base units, estimated from the histogram buckets. Empty while there are no deposits.")
}

func withdrawalAmountQuantilesTimeseries() *timeseries.PanelBuilder {
	return amountQuantiles(c.StakeWithdrawalAmount).
		Title("Withdrawal request amount quantiles").
		Description("Median, 90th and 99th percentile of withdrawal request amounts, in base units. Empty while there are no requests.")
}

func slashingAmountQuantilesTimeseries() *timeseries.PanelBuilder {
	return amountQuantiles(c.StakeSlashingAmount).
		Title("Slash amount quantiles").
		Description("Median, 90th and 99th percentile of the stake taken per slash, in base units. Empty while nothing is slashed.")
}

func stakePerNodeTable() *table.PanelBuilder {
	return defaultTable().
		Title("Stake per node").
		Description("Bonded stake of each selected node, its deposits since its stake was last zero, and its share of all bonded stake, largest first. Click a node to open its node detail.").
		WithTarget(tableQuery(byNode("max", sel(c.StakePerNode, nodeMatch)))).
		WithTarget(tableQuery(byNode("max", sel(c.StakeActiveDeposits, nodeMatch)))).
		WithTarget(tableQuery(fmt.Sprintf("%s / on () group_left () (max(%s) > 0)", byNode("max", sel(c.StakePerNode, nodeMatch)), c.StakeBondedAmount))).
		WithTransformation(mergeTables()).
		WithTransformation(renameColumns(map[string]string{
			"Value #A": "Bonded", "Value #B": "Active deposits", "Value #C": "Share of bonded",
		}, "node_id", "Value #A", "Value #B", "Value #C")).
		WithTransformation(sortBy("Bonded", true)).
		Thresholds(thresholds(text)).
		OverrideByName("Bonded", []dashboard.DynamicConfigValue{{Id: "unit", Value: "short"}, {Id: "decimals", Value: 0}}).
		OverrideByName("Active deposits", []dashboard.DynamicConfigValue{{Id: "unit", Value: "none"}, {Id: "decimals", Value: 0}}).
		OverrideByName("Share of bonded", []dashboard.DynamicConfigValue{
			{Id: "unit", Value: "percentunit"},
			{Id: "decimals", Value: 2},
			{Id: "custom.cellOptions", Value: map[string]any{"type": "gauge", "mode": "basic"}},
			{Id: "min", Value: 0},
			{Id: "max", Value: 1},
		}).
		OverrideByName(varNode, nodeDetailLink())
}
