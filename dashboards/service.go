package dashboards

import (
	"fmt"

	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/stat"
	"github.com/grafana/grafana-foundation-sdk/go/timeseries"

	"github.com/cretoai/monitor/alerting"
	c "github.com/cretoai/monitor/service/catalog"
)

// taskLabel is the label naming the scheduled task of
// cretoai_job_runs_total and cretoai_job_last_success_timestamp_seconds.
// It is not "job", which Prometheus sets to the scrape job.
const taskLabel = "task"

// serverErrors matches 5xx responses.
const serverErrors = `code=~"5.."`

func serviceDashboard() *dashboard.DashboardBuilder {
	return newDashboard(UIDService, "CretoAI / Service health",
		"The CretoAI service itself: whether Prometheus reaches it, API request rate, errors and latency by route, store commits, the cost of a scrape and the scheduled jobs. The Route filter applies to the API panels.",
		"service").
		WithVariable(queryVariable(varRoute, "Route", c.ServiceHTTPRequests)).
		WithRow(dashboard.NewRowBuilder("Now")).
		WithPanel(serviceUpStat().Span(4).Height(statHeight)).
		WithPanel(requestRateStat().Span(4).Height(statHeight)).
		WithPanel(errorRatioStat().Span(4).Height(statHeight)).
		WithPanel(latencyP99Stat().Span(4).Height(statHeight)).
		WithPanel(commitP99Stat().Span(4).Height(statHeight)).
		WithPanel(versionStat().Span(4).Height(statHeight)).
		WithRow(dashboard.NewRowBuilder("API")).
		WithPanel(requestRateTimeseries().Span(12).Height(chartHeight)).
		WithPanel(responseCodesTimeseries().Span(12).Height(chartHeight)).
		WithPanel(errorRatioTimeseries().Span(12).Height(chartHeight)).
		WithPanel(latencyTimeseries().Span(12).Height(chartHeight)).
		WithRow(dashboard.NewRowBuilder("Store")).
		WithPanel(commitLatencyTimeseries().Span(8).Height(chartHeight)).
		WithPanel(commitSizeTimeseries().Span(8).Height(chartHeight)).
		WithPanel(commitFailuresTimeseries().Span(8).Height(chartHeight)).
		WithRow(dashboard.NewRowBuilder("Scrape")).
		WithPanel(scrapeDurationTimeseries().Span(12).Height(chartHeight)).
		WithPanel(targetUpTimeseries().Span(12).Height(chartHeight)).
		WithRow(dashboard.NewRowBuilder("Scheduled jobs")).
		WithPanel(jobRunsTimeseries().Span(12).Height(chartHeight)).
		WithPanel(jobLastSuccessTimeseries().Span(12).Height(chartHeight))
}

// Request rates, all and 5xx only, of the selected routes.
var (
	requestsRate = rate(sel(c.ServiceHTTPRequests, routeMatch))
	errorsRate   = rate(sel(c.ServiceHTTPRequests, routeMatch, serverErrors))
)

func requestRateStat() *stat.PanelBuilder {
	return defaultStat().
		Title("Requests").
		Description("Requests per second served on the selected routes, /metrics scrapes included.").
		WithTarget(instantQuery(fmt.Sprintf("sum(%s)", requestsRate), "")).
		Unit("reqps").
		Decimals(2).
		Thresholds(thresholds(text)).
		GraphMode(common.BigValueGraphModeArea)
}

func errorRatioStat() *stat.PanelBuilder {
	return defaultStat().
		Title("5xx ratio").
		Description(fmt.Sprintf("Share of responses on the selected routes that were server errors (5xx). Red from %.0f%%, the APIErrorRatioHigh alert threshold (the alert counts the /api/ routes only). 0 without errors, empty without traffic.", 100*alerting.APIErrorRatioHigh)).
		// "or … * 0" makes a route without any 5xx count as 0 rather than
		// leaving the panel empty in a healthy service.
		WithTarget(instantQuery(fmt.Sprintf("(sum(%s) or sum(%s) * 0) / (sum(%s) > 0)", errorsRate, requestsRate, requestsRate), "")).
		Unit("percentunit").
		Decimals(2).
		Min(0).
		Thresholds(thresholds(green, step{alerting.APIErrorRatioHigh, red}))
}

func latencyP99Stat() *stat.PanelBuilder {
	return defaultStat().
		Title("p99 latency").
		Description(fmt.Sprintf("99th percentile of the time to serve a request, over the selected routes. Red from %gs, the APILatencyHigh alert threshold (the alert counts the /api/ routes only). 0 without errors, empty without traffic.", alerting.APILatencyP99Seconds)).
		WithTarget(instantQuery(quantile(0.99, c.ServiceHTTPRequestDuration, nil, routeMatch), "")).
		Unit("s").
		Decimals(3).
		Thresholds(thresholds(green, step{alerting.APILatencyP99Seconds, red}))
}

func commitP99Stat() *stat.PanelBuilder {
	return defaultStat().
		Title("Commit p99").
		Description("99th percentile of the time of one store commit (one fsynced transaction): every write request waits for its commit. Empty without writes.").
		WithTarget(instantQuery(quantile(0.99, c.ServiceStoreCommitDuration, nil), "")).
		Unit("s").
		Decimals(4).
		Thresholds(thresholds(text))
}

func versionStat() *stat.PanelBuilder {
	return defaultStat().
		Title("Version").
		Description("Version and revision of the running service, from its build info.").
		WithTarget(instantQuery(c.ServiceBuildInfo, "{{version}} ({{revision}})")).
		Unit("none").
		TextMode(common.BigValueTextModeName).
		ColorMode(common.BigValueColorModeNone).
		Thresholds(thresholds(text))
}

func requestRateTimeseries() *timeseries.PanelBuilder {
	return defaultTimeseries().
		Title("Requests per second by route").
		Description("Requests served per second by route template (never the raw path, so node ids create no series); unmatched is everything outside the route table.").
		WithTarget(prometheusQuery(fmt.Sprintf("sum by (route) (%s)", requestsRate), "{{route}}")).
		Unit("reqps").
		Min(0)
}

func responseCodesTimeseries() *timeseries.PanelBuilder {
	return stacked(defaultTimeseries()).
		Title("Responses per second by status code").
		Description("Responses per second on the selected routes by HTTP status code (stacked): 4xx are rejected requests, 5xx server errors.").
		WithTarget(prometheusQuery(fmt.Sprintf("sum by (code) (%s)", requestsRate), "{{code}}")).
		Unit("reqps").
		Min(0)
}

func errorRatioTimeseries() *timeseries.PanelBuilder {
	return withThresholdLines(defaultTimeseries()).
		Title("5xx ratio by route").
		Description(fmt.Sprintf("Share of each route's responses that were server errors. The dashed line is %.0f%%, the APIErrorRatioHigh alert threshold. No line for a route without traffic.", 100*alerting.APIErrorRatioHigh)).
		WithTarget(prometheusQuery(fmt.Sprintf("(sum by (route) (%s) or sum by (route) (%s) * 0) / (sum by (route) (%s) > 0)", errorsRate, requestsRate, requestsRate), "{{route}}")).
		Unit("percentunit").
		Min(0).
		Thresholds(thresholds(green, step{alerting.APIErrorRatioHigh, red}))
}

func latencyTimeseries() *timeseries.PanelBuilder {
	return withThresholdLines(defaultTimeseries()).
		Title("Latency by route").
		Description(fmt.Sprintf("Median and 99th percentile of the time to serve a request, by route. The dashed line is %gs, the APILatencyHigh alert's p99 threshold.", alerting.APILatencyP99Seconds)).
		WithTarget(prometheusQuery(quantile(0.5, c.ServiceHTTPRequestDuration, []string{"route"}, routeMatch), "p50 {{route}}")).
		WithTarget(prometheusQuery(quantile(0.99, c.ServiceHTTPRequestDuration, []string{"route"}, routeMatch), "p99 {{route}}")).
		Unit("s").
		Min(0).
		Thresholds(thresholds(green, step{alerting.APILatencyP99Seconds, red}))
}

func commitLatencyTimeseries() *timeseries.PanelBuilder {
	return defaultTimeseries().
		Title("Store commit latency").
		Description("Median and 99th percentile of the time of one store commit: one fsynced bbolt transaction carrying a group of operations.").
		WithTarget(prometheusQuery(quantile(0.5, c.ServiceStoreCommitDuration, nil), "p50")).
		WithTarget(prometheusQuery(quantile(0.99, c.ServiceStoreCommitDuration, nil), "p99")).
		Unit("s").
		Min(0)
}

func commitSizeTimeseries() *timeseries.PanelBuilder {
	return defaultTimeseries().
		Title("Operations per commit").
		Description("Average number of operations one commit carries (group commit): higher under load means batching works.").
		WithTarget(prometheusQuery(fmt.Sprintf("sum(%s) / (sum(%s) > 0)",
			rate(sum(c.ServiceStoreCommitOps)), rate(count(c.ServiceStoreCommitOps))), "operations per commit")).
		Unit("none").
		Min(0)
}

func commitFailuresTimeseries() *timeseries.PanelBuilder {
	return withThresholdLines(defaultTimeseries()).
		Title("Failed commits per second").
		Description("Store commits that failed per second; their operations were rejected with 503 and nothing was applied. Anything above 0 (red) needs attention.").
		WithTarget(prometheusQuery(fmt.Sprintf("sum(%s)", rate(c.ServiceStoreCommitFailures)), "failed commits")).
		Unit("cps").
		Min(0).
		Thresholds(thresholds(green, step{0.000001, red}))
}

func scrapeDurationTimeseries() *timeseries.PanelBuilder {
	return defaultTimeseries().
		Title("Scrape duration").
		Description(fmt.Sprintf("How long Prometheus took to scrape the service (scrape_duration_seconds of job %q) and the service's own 99th percentile time to serve /metrics. Should stay well below the %s scrape interval.", ScrapeJob, ScrapeInterval)).
		WithTarget(prometheusQuery(sel(promScrapeDuration, jobMatch), "Prometheus scrape {{instance}}")).
		WithTarget(prometheusQuery(quantile(0.99, c.ServiceScrapeDuration, nil), "/metrics p99 (service)")).
		Unit("s").
		Min(0).
		Thresholds(thresholds(green, step{ScrapeInterval.Seconds(), red}))
}

func targetUpTimeseries() *timeseries.PanelBuilder {
	return defaultTimeseries().
		Title("Target up").
		Description(fmt.Sprintf("1 when Prometheus's scrape of the service succeeded, 0 when it failed (up{job=%q}); a gap means the target was not discovered.", ScrapeJob)).
		WithTarget(prometheusQuery(sel(promUp, jobMatch), "{{instance}}")).
		Unit("none").
		Min(0).
		Max(1).
		Mappings(upMappings()).
		LineInterpolation(common.LineInterpolationStepAfter)
}

func jobRunsTimeseries() *timeseries.PanelBuilder {
	return defaultTimeseries().
		Title("Scheduled job runs per second").
		Description("Runs of the scheduled jobs (release, decay, epoch, prune) per second, by job and result. Any failure line above 0 needs attention.").
		WithTarget(prometheusQuery(fmt.Sprintf("sum by (%s, result) (%s)", taskLabel, rate(c.ServiceJobRuns)), "{{"+taskLabel+"}} {{result}}")).
		OverrideByRegexp("/failure/", fixedColor(red)).
		Unit("cps").
		Min(0)
}

func jobLastSuccessTimeseries() *timeseries.PanelBuilder {
	return defaultTimeseries().
		Title("Time since last successful run").
		Description("Time since each scheduled job last succeeded. release runs every 10s, decay every minute, epoch checks every second, prune hourly; a line that keeps growing is a job that stopped.").
		WithTarget(prometheusQuery(fmt.Sprintf("time() - %s", c.ServiceJobLastSuccess), "{{"+taskLabel+"}}")).
		Unit("s").
		Min(0)
}
