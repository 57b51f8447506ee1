package dashboards

import (
	"fmt"
	"strings"
	"time"

	"github.com/grafana/grafana-foundation-sdk/go/bargauge"
	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/heatmap"
	"github.com/grafana/grafana-foundation-sdk/go/prometheus"
	"github.com/grafana/grafana-foundation-sdk/go/stat"
	"github.com/grafana/grafana-foundation-sdk/go/table"
	"github.com/grafana/grafana-foundation-sdk/go/timeseries"

	"github.com/cretoai/monitor/alerting"
)

// Series that Prometheus itself produces; everything else comes from the
// service's catalog (service/catalog) and is never typed by hand here.
const (
	promUp             = "up"
	promAlerts         = "ALERTS"
	promScrapeDuration = "scrape_duration_seconds"
)

// Grafana variables and the windows built from them. Every range window of
// rate, irate, increase and the gauge functions is $__rate_interval, so it
// always spans at least four scrape intervals (R32). The one exception is
// increase(x[$__range]) in instant queries: the total over the panel's time
// range, used for "in the last 24h" stats (with a fixed panel time range) and
// for the "in the selected range" columns of tables.
const (
	varDatasource = "datasource"
	varNode       = "node_id"
	varViolation  = "violation_type"
	varEvent      = "event_type"
	varReward     = "reward_type"
	varRoute      = "route"

	rateWindow  = "[$__rate_interval]"
	rangeWindow = "[$__range]"
)

// Label matchers. Multi-value variables are always matched with =~ (R33);
// the node detail dashboard's single-value node variable is matched exactly,
// because Grafana inserts a single value unescaped and node ids may hold '.'.
const (
	nodeMatch      = `node_id=~"$node_id"`
	oneNodeMatch   = `node_id="$node_id"`
	violationMatch = `violation_type=~"$violation_type"`
	eventMatch     = `event_type=~"$event_type"`
	rewardMatch    = `reward_type=~"$reward_type"`
	routeMatch     = `route=~"$route"`
	jobMatch       = `job="` + ScrapeJob + `"`
)

// Colors of threshold steps.
const (
	green  = "green"
	orange = "orange"
	red    = "red"
	blue   = "blue"
	text   = "text"
)

// sel renders a selector: the metric name and its label matchers.
func sel(metric string, matchers ...string) string {
	if len(matchers) == 0 {
		return metric
	}
	return metric + "{" + strings.Join(matchers, ", ") + "}"
}

// rate is the per-second rate of a counter selector over $__rate_interval.
func rate(selector string) string { return "rate(" + selector + rateWindow + ")" }

// increaseOverRange is a counter's increase over the panel's time range; use
// it only in instant queries.
func increaseOverRange(selector string) string {
	return "increase(" + selector + rangeWindow + ")"
}

// Series of a classic histogram.
func bucket(metric string) string { return metric + "_bucket" }
func count(metric string) string  { return metric + "_count" }
func sum(metric string) string    { return metric + "_sum" }

// quantile is histogram_quantile over sum by (le, by...) of the bucket rates
// (R34): le always survives the aggregation.
func quantile(q float64, metric string, by []string, matchers ...string) string {
	grouping := strings.Join(append([]string{"le"}, by...), ", ")
	return fmt.Sprintf("histogram_quantile(%g, sum by (%s) (%s))", q, grouping, rate(sel(bucket(metric), matchers...)))
}

// heatmapBuckets is the increase of each bucket of a histogram per
// $__rate_interval, for a heatmap panel reading Prometheus buckets as rows.
func heatmapBuckets(metric string, matchers ...string) string {
	return fmt.Sprintf("sum by (le) (increase(%s%s))", sel(bucket(metric), matchers...), rateWindow)
}

// datasourceRef is the reference every panel and every query uses: the
// datasource variable, whose default is the provisioned uid.
func datasourceRef() dashboard.DataSourceRef {
	return dashboard.DataSourceRef{
		Type: cog.ToPtr("prometheus"),
		Uid:  cog.ToPtr("${" + varDatasource + "}"),
	}
}

// datasourceVariable selects the Prometheus datasource; it defaults to the
// one provisioned with DatasourceUID.
func datasourceVariable() *dashboard.DatasourceVariableBuilder {
	return dashboard.NewDatasourceVariableBuilder(varDatasource).
		Label("Data source").
		Type("prometheus").
		Current(dashboard.VariableOption{
			Selected: cog.ToPtr(true),
			Text:     dashboard.StringOrArrayOfString{String: cog.ToPtr(DatasourceName)},
			Value:    dashboard.StringOrArrayOfString{String: cog.ToPtr(DatasourceUID)},
		})
}

// queryVariable lists the values of a label of a catalogued metric. Multi
// with All: "All" is sent as .* (R33), every query matches it with =~.
func queryVariable(name, label, metric string) *dashboard.QueryVariableBuilder {
	query := fmt.Sprintf("label_values(%s, %s)", metric, name)
	return dashboard.NewQueryVariableBuilder(name).
		Label(label).
		Datasource(datasourceRef()).
		Query(dashboard.StringOrMap{String: cog.ToPtr(query)}).
		Definition(query).
		Refresh(dashboard.VariableRefreshOnTimeRangeChanged).
		Sort(dashboard.VariableSortAlphabeticalAsc).
		Multi(true).
		IncludeAll(true).
		AllValue(".*").
		Current(dashboard.VariableOption{
			Selected: cog.ToPtr(true),
			Text:     dashboard.StringOrArrayOfString{ArrayOfString: []string{"All"}},
			Value:    dashboard.StringOrArrayOfString{ArrayOfString: []string{"$__all"}},
		})
}

// prometheusQuery is a range query drawn over time.
func prometheusQuery(expr, legend string) *prometheus.DataqueryBuilder {
	return prometheus.NewDataqueryBuilder().
		Datasource(datasourceRef()).
		Expr(expr).
		LegendFormat(legend).
		Range()
}

// instantQuery evaluates once, at the end of the panel's time range.
func instantQuery(expr, legend string) *prometheus.DataqueryBuilder {
	return prometheus.NewDataqueryBuilder().
		Datasource(datasourceRef()).
		Expr(expr).
		LegendFormat(legend).
		Instant()
}

// tableQuery is an instant query returned as a table: one row per series,
// one column per label and a "Value #<refId>" column.
func tableQuery(expr string) *prometheus.DataqueryBuilder {
	return prometheus.NewDataqueryBuilder().
		Datasource(datasourceRef()).
		Expr(expr).
		Format(prometheus.PromQueryFormatTable).
		Instant()
}

// heatmapQuery returns histogram buckets for a heatmap panel.
func heatmapQuery(expr string) *prometheus.DataqueryBuilder {
	return prometheus.NewDataqueryBuilder().
		Datasource(datasourceRef()).
		Expr(expr).
		LegendFormat("{{le}}").
		Format(prometheus.PromQueryFormatHeatmap).
		Range()
}

type step struct {
	at    float64
	color string
}

// thresholds builds absolute threshold steps from a base color.
func thresholds(base string, steps ...step) *dashboard.ThresholdsConfigBuilder {
	all := []dashboard.Threshold{{Value: nil, Color: base}}
	for _, s := range steps {
		all = append(all, dashboard.Threshold{Value: cog.ToPtr(s.at), Color: s.color})
	}
	return dashboard.NewThresholdsConfigBuilder().Mode(dashboard.ThresholdsModeAbsolute).Steps(all)
}

// scoreThresholds colors a reputation score by the alert thresholds: red
// below the critical score, orange below the reliability threshold.
func scoreThresholds() *dashboard.ThresholdsConfigBuilder {
	return thresholds(red, step{alerting.ReputationCritical, orange}, step{alerting.ReputationLow, green})
}

// defaultTimeseries is a line chart with a multi-series tooltip and the
// legend as a table below it.
func defaultTimeseries() *timeseries.PanelBuilder {
	return timeseries.NewPanelBuilder().
		Datasource(datasourceRef()).
		LineWidth(1).
		FillOpacity(10).
		LineInterpolation(common.LineInterpolationLinear).
		ShowPoints(common.VisibilityModeNever).
		DrawStyle(common.GraphDrawStyleLine).
		GradientMode(common.GraphGradientModeNone).
		SpanNulls(common.BoolOrFloat64{Bool: cog.ToPtr(false)}).
		AxisBorderShow(false).
		Legend(common.NewVizLegendOptionsBuilder().
			DisplayMode(common.LegendDisplayModeList).
			Placement(common.LegendPlacementBottom).
			ShowLegend(true)).
		Tooltip(common.NewVizTooltipOptionsBuilder().
			Mode(common.TooltipDisplayModeMulti).
			Sort(common.SortOrderDescending)).
		ThresholdsStyle(common.NewGraphThresholdsStyleConfigBuilder().
			Mode(common.GraphThresholdsStyleModeOff))
}

// withThresholdLines draws the panel's threshold steps as dashed lines.
func withThresholdLines(p *timeseries.PanelBuilder) *timeseries.PanelBuilder {
	return p.ThresholdsStyle(common.NewGraphThresholdsStyleConfigBuilder().
		Mode(common.GraphThresholdsStyleModeDashed))
}

// stacked stacks the series of a time series panel.
func stacked(p *timeseries.PanelBuilder) *timeseries.PanelBuilder {
	return p.Stacking(common.NewStackingConfigBuilder().Mode(common.StackingModeNormal)).FillOpacity(40)
}

// defaultStat is a single value: the last non-null value of its query.
func defaultStat() *stat.PanelBuilder {
	return stat.NewPanelBuilder().
		Datasource(datasourceRef()).
		ReduceOptions(common.NewReduceDataOptionsBuilder().
			Values(false).
			Calcs([]string{"lastNotNull"})).
		Orientation(common.VizOrientationAuto).
		TextMode(common.BigValueTextModeAuto).
		JustifyMode(common.BigValueJustifyModeAuto).
		ColorMode(common.BigValueColorModeValue).
		GraphMode(common.BigValueGraphModeNone).
		WideLayout(true).
		ShowPercentChange(false)
}

// defaultTable is a table of instant queries.
func defaultTable() *table.PanelBuilder {
	return table.NewPanelBuilder().
		Datasource(datasourceRef()).
		ShowHeader(true).
		CellHeight(common.TableCellHeightSm).
		Footer(common.NewTableFooterOptionsBuilder().
			Show(false).
			Reducer([]string{}).
			CountRows(false)).
		Filterable(false)
}

// defaultHeatmap draws Prometheus histogram buckets as they are (no
// re-bucketing) with an exponential color scale.
func defaultHeatmap() *heatmap.PanelBuilder {
	return heatmap.NewPanelBuilder().
		Datasource(datasourceRef()).
		Calculate(false).
		Color(heatmap.NewHeatmapColorOptionsBuilder().
			Mode(heatmap.HeatmapColorModeScheme).
			Scheme("Spectral").
			Fill("dark-orange").
			Scale(heatmap.HeatmapColorScaleExponential).
			Exponent(0.5).
			Steps(64).
			Reverse(false)).
		FilterValues(heatmap.NewFilterValueRangeBuilder().Le(1e-9)).
		CellGap(1).
		ShowLegend().
		Tooltip(heatmap.NewHeatmapTooltipBuilder().
			Mode(common.TooltipDisplayModeSingle).
			YHistogram(true).
			ShowColorScale(true))
}

// defaultBarGauge shows one horizontal bar per series.
func defaultBarGauge() *bargauge.PanelBuilder {
	return bargauge.NewPanelBuilder().
		Datasource(datasourceRef()).
		ReduceOptions(common.NewReduceDataOptionsBuilder().
			Values(false).
			Calcs([]string{"lastNotNull"})).
		Orientation(common.VizOrientationHorizontal).
		DisplayMode(common.BarGaugeDisplayModeGradient).
		ValueMode(common.BarGaugeValueModeColor).
		NamePlacement(common.BarGaugeNamePlacementAuto).
		ShowUnfilled(true).
		Sizing(common.BarGaugeSizingAuto)
}

// upMappings shows 1 and 0 of an up-like series as UP and DOWN.
func upMappings() []dashboard.ValueMapping {
	return []dashboard.ValueMapping{{ValueMap: &dashboard.ValueMap{
		Type: dashboard.MappingTypeValueToText,
		Options: map[string]dashboard.ValueMappingResult{
			"0": {Text: cog.ToPtr("DOWN"), Color: cog.ToPtr(red), Index: cog.ToPtr[int32](0)},
			"1": {Text: cog.ToPtr("UP"), Color: cog.ToPtr(green), Index: cog.ToPtr[int32](1)},
		},
	}}}
}

// dashedSeries draws the series named name as a dashed line without fill:
// reference lines such as the configured reliability threshold.
func dashedSeries(name, color string) []dashboard.DynamicConfigValue {
	return []dashboard.DynamicConfigValue{
		{Id: "custom.lineStyle", Value: map[string]any{"fill": "dash", "dash": []int{10, 10}}},
		{Id: "custom.fillOpacity", Value: 0},
		{Id: "color", Value: map[string]any{"mode": "fixed", "fixedColor": color}},
	}
}

// built adapts an already built value to the SDK's builder interface, for
// values the SDK's builders fill with defaults we do not want (links).
type built[T any] struct{ v T }

func (b built[T]) Build() (T, error) { return b.v, nil }

// dashboardURL is the path of one of our dashboards.
func dashboardURL(uid string) string { return "/d/" + uid }

// link is a link to another of our dashboards that keeps the time range.
func link(title, uid string, query ...string) cog.Builder[dashboard.DashboardLink] {
	url := dashboardURL(uid)
	if len(query) > 0 {
		url += "?" + strings.Join(query, "&")
	}
	return built[dashboard.DashboardLink]{dashboard.DashboardLink{
		Title:    title,
		Type:     dashboard.DashboardLinkTypeLink,
		Icon:     "dashboard",
		Tooltip:  "Open " + title,
		Url:      cog.ToPtr(url),
		Tags:     []string{},
		KeepTime: true,
	}}
}

// allDashboardsLink is the dropdown of every CretoAI dashboard.
func allDashboardsLink() cog.Builder[dashboard.DashboardLink] {
	return built[dashboard.DashboardLink]{dashboard.DashboardLink{
		Title:      "CretoAI dashboards",
		Type:       dashboard.DashboardLinkTypeDashboards,
		Icon:       "external link",
		Tags:       []string{Tag},
		AsDropdown: true,
		KeepTime:   true,
	}}
}

// nodeDetailLink is a data link from a table's node_id column to the node
// detail dashboard with that node preselected, keeping the time range and
// the datasource. Node ids are [A-Za-z0-9._:-], safe in a URL as they are.
func nodeDetailLink() []dashboard.DynamicConfigValue {
	url := dashboardURL(UIDNodeDetail) + "?var-" + varNode + "=${__data.fields." + varNode + "}&${" +
		varDatasource + ":queryparam}&${__url_time_range}"
	return []dashboard.DynamicConfigValue{{
		Id:    "links",
		Value: []map[string]any{{"title": "Node detail for ${__data.fields." + varNode + "}", "url": url}},
	}}
}

// renameColumns hides the time column of merged instant table queries and
// gives the value columns readable names (keys: "Value #A" …).
func renameColumns(names map[string]string, order ...string) dashboard.DataTransformerConfig {
	rename := map[string]any{}
	for k, v := range names {
		rename[k] = v
	}
	index := map[string]any{}
	for i, f := range order {
		index[f] = i
	}
	return dashboard.DataTransformerConfig{
		Id: "organize",
		Options: map[string]any{
			"excludeByName": map[string]any{"Time": true},
			"renameByName":  rename,
			"indexByName":   index,
		},
	}
}

// mergeTables joins instant table queries on their common labels.
func mergeTables() dashboard.DataTransformerConfig {
	return dashboard.DataTransformerConfig{Id: "merge", Options: map[string]any{}}
}

// sortBy sorts a table by a column.
func sortBy(field string, desc bool) dashboard.DataTransformerConfig {
	return dashboard.DataTransformerConfig{
		Id:      "sortBy",
		Options: map[string]any{"fields": map[string]any{}, "sort": []map[string]any{{"field": field, "desc": desc}}},
	}
}

// cogLink is a link as the panel builders take it.
type cogLink = cog.Builder[dashboard.DashboardLink]

// fixedColor gives the series an override's matcher selects one color.
func fixedColor(color string) []dashboard.DynamicConfigValue {
	return []dashboard.DynamicConfigValue{{Id: "color", Value: map[string]any{"mode": "fixed", "fixedColor": color}}}
}

// humanSeconds renders a whole number of seconds as Go renders durations
// ("2h0m0s" becomes "2h").
func humanSeconds(seconds float64) string {
	d := time.Duration(seconds) * time.Second
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// byNode aggregates an expression to one series per node, so that the
// instant queries of a table share exactly the node_id column and merge into
// one row per node (job and instance labels would split the rows).
func byNode(aggregation, expr string) string {
	return aggregation + " by (node_id) (" + expr + ")"
}
