package dashboards

import (
	"testing"

	"github.com/cretoai/monitor/dashboards/lint"
)

// TestQueries checks every query and variable of every committed dashboard:
// it parses with the PromQL parser once Grafana's variables are substituted,
// selects only catalogued metrics (or up, ALERTS, scrape_duration_seconds,
// recording rules), applies rate/irate/increase only to counters and
// histogram series and deriv/delta never to counters, uses only
// [$__rate_interval] windows (or [$__range] inside increase() of an instant
// query), keeps le in every histogram_quantile, matches multi-value
// variables with =~, guards divisions, and uses the provisioned datasource.
func TestQueries(t *testing.T) {
	cfg := lintConfig(t)
	queries := 0
	for _, f := range committedDashboards(t) {
		t.Run(f.dash.UID, func(t *testing.T) {
			report(t, f.name, lint.Queries(f.dash, cfg))
		})
		for _, p := range f.dash.Panels {
			queries += len(p.Targets)
		}
	}
	if queries < 100 {
		t.Errorf("only %d queries checked: did the dashboards lose their panels?", queries)
	}
}
