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

// missedEvents matches the event types that count against a node.
const missedEvents = `event_type=~"missed_block|late_response"`

func reputationDashboard() *dashboard.DashboardBuilder {
	return newDashboard(UIDReputation, "CretoAI / Reputation",
		"Reputation of the validator nodes: scores over time and their distribution, the best and worst nodes, the violations and events that move scores, decay and silent nodes. Filter by node, event type and violation type; a node id in a table opens its node detail.",
		"reputation").
		WithVariable(queryVariable(varNode, "Node", c.ReputationScore)).
		WithVariable(queryVariable(varEvent, "Event type", c.ReputationEvents)).
		WithVariable(queryVariable(varViolation, "Violation type", c.ReputationViolations)).
		WithRow(dashboard.NewRowBuilder("Network")).
		WithPanel(nodesTotalStat().Span(4).Height(statHeight)).
		WithPanel(reliableNodesStat().Span(4).Height(statHeight)).
		WithPanel(unreliableShareStat().Span(4).Height(statHeight)).
		WithPanel(lowestScoreStat().Span(4).Height(statHeight)).
		WithPanel(highestScoreStat().Span(4).Height(statHeight)).
		WithPanel(silentNodesStat().Span(4).Height(statHeight)).
		WithRow(dashboard.NewRowBuilder("Scores")).
		WithPanel(scorePerNodeTimeseries().Span(12).Height(9)).
		WithPanel(meanScoreChangeTimeseries().Span(6).Height(9)).
		WithPanel(nodeReliabilityTimeseries().Span(6).Height(9)).
		WithPanel(scoreDistributionHeatmap().Span(12).Height(9)).
		WithPanel(lowestNodesTable().Span(6).Height(9)).
		WithPanel(highestNodesTable().Span(6).Height(9)).
		WithRow(dashboard.NewRowBuilder("Violations and events")).
		WithPanel(violationsByTypeTimeseries().Span(12).Height(chartHeight)).
		WithPanel(eventsByTypeTimeseries().Span(12).Height(chartHeight)).
		WithPanel(violationsPerNodeTimeseries().Span(12).Height(chartHeight)).
		WithPanel(missedShareTimeseries().Span(12).Height(chartHeight)).
		WithRow(dashboard.NewRowBuilder("Decay and silence")).
		WithPanel(decayStepsTimeseries().Span(8).Height(chartHeight)).
		WithPanel(decayIdleTimeTimeseries().Span(8).Height(chartHeight)).
		WithPanel(idleNodesTimeseries().Span(8).Height(chartHeight))
}

func reliableNodesStat() *stat.PanelBuilder {
	return defaultStat().
		Title("Reliable nodes").
		Description("Nodes whose score is at or above the configured reliability threshold; only these can earn rewards.").
		WithTarget(instantQuery(c.ReputationNodesAbove, "")).
		Unit("none").
		Decimals(0).
		Thresholds(thresholds(green))
}

func unreliableShareStat() *stat.PanelBuilder {
	return defaultStat().
		Title("Unreliable share").
		Description(fmt.Sprintf("Share of tracked nodes below the reliability threshold. Red from %.0f%%, where the UnreliableNodesHigh alert fires. Empty with no node.", 100*alerting.UnreliableShareHigh)).
		WithTarget(instantQuery(fmt.Sprintf("%s / (%s > 0)", c.ReputationNodesBelow, c.ReputationTotalNodes), "")).
		Unit("percentunit").
		Decimals(1).
		Min(0).
		Max(1).
		Thresholds(thresholds(green, step{alerting.UnreliableShareHigh, red}))
}

func lowestScoreStat() *stat.PanelBuilder {
	return defaultStat().
		Title("Lowest score").
		Description(fmt.Sprintf("Worst score of any tracked node (0 with no node). Red below %g (NodeReputationCritical), orange below %g (NodeReputationBelowThreshold).", alerting.ReputationCritical, alerting.ReputationLow)).
		WithTarget(instantQuery(c.ReputationLowestScore, "")).
		Unit("none").
		Decimals(3).
		Min(0).
		Max(1).
		Thresholds(scoreThresholds())
}

func highestScoreStat() *stat.PanelBuilder {
	return defaultStat().
		Title("Highest score").
		Description(fmt.Sprintf("Best score of any tracked node (0 with no node). Red below %g, orange below %g: then no node is reliable and nobody earns rewards.", alerting.ReputationCritical, alerting.ReputationLow)).
		WithTarget(instantQuery(c.ReputationHighestScore, "")).
		Unit("none").
		Decimals(3).
		Min(0).
		Max(1).
		Thresholds(scoreThresholds())
}

// silentNodes counts the selected nodes without any event for the
// NodeSilent alert's time.
var silentNodes = fmt.Sprintf("count(time() - %s > %d) or vector(0)",
	sel(c.ReputationLastEventTimestamp, nodeMatch), int(alerting.NodeSilentSeconds))

func silentNodesStat() *stat.PanelBuilder {
	return defaultStat().
		Title("Silent nodes").
		Description(fmt.Sprintf("Selected nodes that reported no event for more than %s, the NodeSilent alert's limit (a new node counts from its registration).", humanSeconds(alerting.NodeSilentSeconds))).
		WithTarget(instantQuery(silentNodes, "")).
		Unit("none").
		Decimals(0).
		Thresholds(thresholds(green, step{1, orange}))
}

func scorePerNodeTimeseries() *timeseries.PanelBuilder {
	return withThresholdLines(defaultTimeseries()).
		Title("Score per node").
		Description(fmt.Sprintf("Reputation score of each selected node over time, with the configured reliability threshold (yellow). Dashed lines at %g (critical) and %g (reliable) are the alert thresholds. With many nodes, pick a few in the Node filter.", alerting.ReputationCritical, alerting.ReputationLow)).
		WithTarget(prometheusQuery(sel(c.ReputationScore, nodeMatch), "{{node_id}}")).
		WithTarget(prometheusQuery(c.ReputationThreshold, "reliability threshold")).
		OverrideByName("reliability threshold", dashedSeries("reliability threshold", "yellow")).
		Unit("none").
		Decimals(3).
		Min(0).
		Max(1).
		Thresholds(scoreThresholds())
}

func meanScoreChangeTimeseries() *timeseries.PanelBuilder {
	return withThresholdLines(defaultTimeseries()).
		Title("Mean score change per hour").
		Description(fmt.Sprintf("How fast the network's mean score moves, per hour (deriv of the mean over at least an hour). Below −%g (dashed) it falls as fast as the MeanReputationFallingFast alert allows.", alerting.MeanReputationDropPerHour)).
		WithTarget(prometheusQuery(fmt.Sprintf("3600 * deriv(%s%s)", c.ReputationMean, rateWindow), "mean change per hour")).
		Interval(hourly).
		Unit("none").
		Decimals(3).
		Thresholds(thresholds(red, step{-alerting.MeanReputationDropPerHour, green}))
}

func scoreDistributionHeatmap() *heatmap.PanelBuilder {
	return defaultHeatmap().
		Title("Score distribution").
		Description("How scores are spread across nodes over time: every tracked node's score is sampled once a minute into buckets of 0.1, and each cell counts the samples of its bucket in the interval. A bucket le=0.7 counts scores up to and including 0.7; exact reliable counts are in the stats above.").
		WithTarget(heatmapQuery(heatmapBuckets(c.ReputationScoreDistribution))).
		YAxis(heatmap.NewYAxisConfigBuilder().Unit("none").Decimals(1).AxisLabel("score")).
		CellValues(heatmap.NewCellValuesBuilder().Unit("none").Decimals(0))
}

// scoreTable lists the selected nodes picked by pick (topk or bottomk) with
// their score and violations over the time range.
func scoreTable(pick string) *table.PanelBuilder {
	picked := fmt.Sprintf("%s(10, %s)", pick, byNode("max", sel(c.ReputationScore, nodeMatch)))
	return defaultTable().
		WithTarget(tableQuery(picked)).
		WithTarget(tableQuery(fmt.Sprintf("%s and on (node_id) %s",
			byNode("sum", increaseOverRange(sel(c.ReputationViolations, nodeMatch))), picked))).
		WithTransformation(mergeTables()).
		WithTransformation(renameColumns(map[string]string{
			"Value #A": "Score", "Value #B": "Violations in range",
		}, "node_id", "Value #A", "Value #B")).
		WithTransformation(sortBy("Score", pick == "topk")).
		Thresholds(thresholds(text)).
		OverrideByName("Score", []dashboard.DynamicConfigValue{
			{Id: "unit", Value: "none"},
			{Id: "decimals", Value: 3},
			{Id: "thresholds", Value: scoreThresholdsValue()},
			{Id: "custom.cellOptions", Value: map[string]any{"type": "color-text"}},
		}).
		OverrideByName("Violations in range", []dashboard.DynamicConfigValue{
			{Id: "unit", Value: "none"},
			{Id: "decimals", Value: 0},
		}).
		OverrideByName(varNode, nodeDetailLink())
}

func lowestNodesTable() *table.PanelBuilder {
	return scoreTable("bottomk").
		Title("Lowest-scored nodes").
		Description("The ten selected nodes with the lowest score now, with their violations in the selected time range. Click a node to open its node detail.")
}

func highestNodesTable() *table.PanelBuilder {
	return scoreTable("topk").
		Title("Highest-scored nodes").
		Description("The ten selected nodes with the highest score now, with their violations in the selected time range. Click a node to open its node detail.")
}

func violationsByTypeTimeseries() *timeseries.PanelBuilder {
	return stacked(defaultTimeseries()).
		Title("Violations per hour by type").
		Description("Violations reported for the selected nodes, by violation type, as a rate per hour (stacked). Each violation also applies a penalty to the score and slashes stake.").
		WithTarget(prometheusQuery(fmt.Sprintf("3600 * sum by (violation_type) (%s)",
			rate(sel(c.ReputationViolations, nodeMatch, violationMatch))), "{{violation_type}}")).
		Unit("short").
		Min(0)
}

func eventsByTypeTimeseries() *timeseries.PanelBuilder {
	return stacked(defaultTimeseries()).
		Title("Events per second by type").
		Description("Events reported for the selected nodes, by event type, per second (stacked). block_proposed, block_validated, vote_cast and heartbeat raise scores; missed_block and late_response lower them.").
		WithTarget(prometheusQuery(fmt.Sprintf("sum by (event_type) (%s)",
			rate(sel(c.ReputationEvents, nodeMatch, eventMatch))), "{{event_type}}")).
		Unit("cps").
		Min(0)
}

func violationsPerNodeTimeseries() *timeseries.PanelBuilder {
	return withThresholdLines(defaultTimeseries()).
		Title("Violations per hour, top 10 nodes").
		Description(fmt.Sprintf("The ten selected nodes with the highest violation rate, per hour. The dashed line is %d per hour, where the NodeViolationRateHigh alert fires (it counts violations within an hour).", int(alerting.ViolationsPerNodeHigh))).
		WithTarget(prometheusQuery(fmt.Sprintf("topk(10, 3600 * sum by (node_id) (%s))",
			rate(sel(c.ReputationViolations, nodeMatch, violationMatch))), "{{node_id}}")).
		Unit("short").
		Min(0).
		Thresholds(thresholds(green, step{alerting.ViolationsPerNodeHigh, red}))
}

func missedShareTimeseries() *timeseries.PanelBuilder {
	return defaultTimeseries().
		Title("Missed event share, worst 10 nodes").
		Description("Share of each node's events that were missed_block or late_response, for the ten selected nodes with the highest share; no line for a node without events. A node needs a low share for the uptime bonus.").
		WithTarget(prometheusQuery(fmt.Sprintf("topk(10, sum by (node_id) (%s) / (sum by (node_id) (%s) > 0))",
			rate(sel(c.ReputationEvents, nodeMatch, missedEvents)), rate(sel(c.ReputationEvents, nodeMatch))), "{{node_id}}")).
		Unit("percentunit").
		Min(0).
		Max(1)
}

func decayStepsTimeseries() *timeseries.PanelBuilder {
	return defaultTimeseries().
		Title("Decay steps per minute").
		Description("How many node scores the decay job moved toward the initial score, per minute: about the number of idle nodes still decaying at the default one-minute decay period.").
		WithTarget(prometheusQuery(fmt.Sprintf("60 * sum(%s)", rate(count(c.ReputationDecaySeconds))), "decay steps")).
		Unit("short").
		Min(0)
}

func decayIdleTimeTimeseries() *timeseries.PanelBuilder {
	return defaultTimeseries().
		Title("Idle time when decayed").
		Description("Median and 90th percentile of how long nodes had been idle when decay moved their score. Empty while decay moves nothing (the quantile of no observations is not a number).").
		WithTarget(prometheusQuery(quantile(0.5, c.ReputationDecaySeconds, nil), "p50")).
		WithTarget(prometheusQuery(quantile(0.9, c.ReputationDecaySeconds, nil), "p90")).
		Unit("s").
		Min(0)
}

func idleNodesTimeseries() *timeseries.PanelBuilder {
	return withThresholdLines(defaultTimeseries()).
		Title("Time since last event, top 10 nodes").
		Description(fmt.Sprintf("The ten selected nodes that have been silent longest: time since their last event (or registration). The dashed line is %s, where the NodeSilent alert fires.", humanSeconds(alerting.NodeSilentSeconds))).
		WithTarget(prometheusQuery(fmt.Sprintf("topk(10, time() - %s)", sel(c.ReputationLastEventTimestamp, nodeMatch)), "{{node_id}}")).
		Unit("s").
		Min(0).
		Thresholds(thresholds(green, step{alerting.NodeSilentSeconds, red}))
}

// scoreThresholdsValue is scoreThresholds as a field override value.
func scoreThresholdsValue() map[string]any {
	return map[string]any{
		"mode": "absolute",
		"steps": []map[string]any{
			{"value": nil, "color": red},
			{"value": alerting.ReputationCritical, "color": orange},
			{"value": alerting.ReputationLow, "color": green},
		},
	}
}
