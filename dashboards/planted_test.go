package dashboards

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/cretoai/monitor/dashboards/lint"
)

// plantedBase is a small correct dashboard; each planted case breaks one
// thing in a copy of it.
func plantedBase() map[string]any {
	ds := map[string]any{"type": "prometheus", "uid": "${datasource}"}
	target := func(expr string) map[string]any {
		return map[string]any{"refId": "A", "expr": expr, "datasource": ds}
	}
	panel := func(id, x int, title string, expr string) map[string]any {
		return map[string]any{
			"id": id, "type": "timeseries", "title": title, "description": "What " + title + " shows.",
			"datasource":  ds,
			"gridPos":     map[string]any{"x": x, "y": 0, "w": 12, "h": 8},
			"targets":     []any{target(expr)},
			"fieldConfig": map[string]any{"defaults": map[string]any{"unit": "short"}, "overrides": []any{}},
		}
	}
	return map[string]any{
		"uid": "planted", "title": "Planted", "schemaVersion": GrafanaMinSchemaVersion + 1,
		"templating": map[string]any{"list": []any{
			map[string]any{"type": "datasource", "name": "datasource", "query": "prometheus",
				"current": map[string]any{"text": "Prometheus", "value": DatasourceUID}},
			map[string]any{"type": "query", "name": "node_id", "multi": true, "includeAll": true, "allValue": ".*",
				"datasource": ds, "query": "label_values(cretoai_reputation_score, node_id)"},
		}},
		"panels": []any{
			panel(1, 0, "Scores", `cretoai_reputation_score{node_id=~"$node_id"}`),
			panel(2, 12, "Events", `sum by (event_type) (rate(cretoai_reputation_events_total{node_id=~"$node_id"}[$__rate_interval]))`),
		},
	}
}

func plantedPanel(d map[string]any, i int) map[string]any {
	return d["panels"].([]any)[i].(map[string]any)
}

func setExpr(expr string) func(map[string]any) {
	return func(d map[string]any) {
		plantedPanel(d, 1)["targets"].([]any)[0].(map[string]any)["expr"] = expr
	}
}

// lintAll runs every check on one dashboard document.
func lintAll(t *testing.T, doc map[string]any) []lint.Problem {
	t.Helper()
	raw, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	d, err := lint.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	cfg := lintConfig(t)
	var all []lint.Problem
	all = append(all, lint.Queries(d, cfg)...)
	all = append(all, lint.Layout(d, cfg)...)
	all = append(all, lint.Portability("planted.json", raw, cfg)...)
	return all
}

// TestPlantedBaselineIsClean makes sure the planted cases below fail for
// the one thing each breaks.
func TestPlantedBaselineIsClean(t *testing.T) {
	report(t, "planted baseline", lintAll(t, plantedBase()))
}

// TestPlantedMistakesAreReported runs the checks on dashboards with one
// known mistake each and asserts each is reported.
func TestPlantedMistakesAreReported(t *testing.T) {
	cases := []struct {
		name   string
		break_ func(map[string]any)
		want   string
	}{
		{"rate on a gauge (R16)", setExpr(`rate(cretoai_rewards_pending_amount[$__rate_interval])`), "a gauge: only counters"},
		{"increase on a gauge (R16)", setExpr(`increase(cretoai_stake_bonded_amount[$__rate_interval])`), "a gauge: only counters"},
		{"deriv on a counter (R17)", setExpr(`deriv(cretoai_stake_deposits_total[$__rate_interval])`), "a counter: use rate()"},
		{"fixed [5m] window (R32)", setExpr(`sum(rate(cretoai_http_requests_total[5m]))`), "not [$__rate_interval]"},
		{"$__interval window (R32)", setExpr(`sum(rate(cretoai_http_requests_total[$__interval]))`), "not [$__rate_interval]"},
		{"$__range in a range query", setExpr(`sum(increase(cretoai_stake_slashed_total[$__range]))`), "[$__range] only"},
		{"$__range in rate", func(d map[string]any) {
			setExpr(`sum(rate(cretoai_stake_slashed_total[$__range]))`)(d)
			plantedPanel(d, 1)["targets"].([]any)[0].(map[string]any)["instant"] = true
		}, "[$__range] only"},
		{"subquery", setExpr(`max_over_time(cretoai_reputation_mean[1h:1m])`), "subquery"},
		{"= with a multi-value variable (R33)", setExpr(`cretoai_reputation_score{node_id="$node_id"}`), "match it with =~"},
		{"!= with a multi-value variable (R33)", setExpr(`cretoai_reputation_score{node_id!="${node_id}"}`), "match it with =~"},
		{"quantile without le (R34)", setExpr(`histogram_quantile(0.99, sum(rate(cretoai_http_request_duration_seconds_bucket[$__rate_interval])))`), "keep le"},
		{"quantile by route only (R34)", setExpr(`histogram_quantile(0.99, sum by (route) (rate(cretoai_http_request_duration_seconds_bucket[$__rate_interval])))`), "keep le"},
		{"quantile without (le) (R34)", setExpr(`histogram_quantile(0.99, sum without (le) (rate(cretoai_http_request_duration_seconds_bucket[$__rate_interval])))`), "keep le"},
		{"metric not in the catalog", setExpr(`cretoai_stake_total`), "not in the catalog"},
		{"histogram without suffix", setExpr(`rate(cretoai_stake_deposit_amount[$__rate_interval])`), "without _bucket"},
		{"unguarded division (R18)", setExpr(`cretoai_reputation_nodes_above_threshold / cretoai_reputation_total_nodes`), "can be 0"},
		{"syntax error", setExpr(`sum(rate(cretoai_http_requests_total[$__rate_interval])`), "does not parse"},
		{"unknown variable", setExpr(`cretoai_reputation_score{node_id=~"$node"}`), "no variable"},
		{"query on another datasource (R28)", func(d map[string]any) {
			plantedPanel(d, 1)["targets"].([]any)[0].(map[string]any)["datasource"] = map[string]any{"type": "prometheus", "uid": "P1809F7CD0C75ACF3"}
		}, "want the datasource variable"},
		{"panel on another datasource (R28)", func(d map[string]any) {
			plantedPanel(d, 0)["datasource"] = map[string]any{"type": "prometheus", "uid": "${DS_PROMETHEUS}"}
		}, "want the datasource variable"},
		{"${DS_} placeholder", func(d map[string]any) {
			plantedPanel(d, 0)["datasource"] = map[string]any{"type": "prometheus", "uid": "${DS_PROMETHEUS}"}
		}, "${DS_"},
		{"__inputs", func(d map[string]any) { d["__inputs"] = []any{} }, "__inputs"},
		{"top-level id", func(d map[string]any) { d["id"] = 7 }, "top-level id"},
		{"v2 layout", func(d map[string]any) { d["elements"] = map[string]any{} }, "v2 dashboard"},
		{"invalid uid", func(d map[string]any) { d["uid"] = "has spaces" }, "does not match"},
		{"schemaVersion too new", func(d map[string]any) { d["schemaVersion"] = GrafanaMaxSchemaVersion + 1 }, "schemaVersion"},
		{"datasource variable not defaulting to the provisioned uid (R28)", func(d map[string]any) {
			d["templating"].(map[string]any)["list"].([]any)[0].(map[string]any)["current"] = map[string]any{"value": "other"}
		}, "provisioned datasource"},
		{"All sends a bad regex (R33)", func(d map[string]any) {
			d["templating"].(map[string]any)["list"].([]any)[1].(map[string]any)["allValue"] = "All"
		}, "use .*"},
		{"variable on an unknown metric", func(d map[string]any) {
			d["templating"].(map[string]any)["list"].([]any)[1].(map[string]any)["query"] = "label_values(cretoai_node_score, node_id)"
		}, "not in the catalog"},
		{"overlapping panels", func(d map[string]any) {
			plantedPanel(d, 1)["gridPos"] = map[string]any{"x": 6, "y": 4, "w": 12, "h": 8}
		}, "overlaps"},
		{"panel beyond 24 columns", func(d map[string]any) {
			plantedPanel(d, 1)["gridPos"] = map[string]any{"x": 18, "y": 0, "w": 12, "h": 8}
		}, "24-column grid"},
		{"missing description", func(d map[string]any) { delete(plantedPanel(d, 0), "description") }, "no description"},
		{"duplicate title", func(d map[string]any) { plantedPanel(d, 1)["title"] = "Scores" }, "same title"},
		{"missing id", func(d map[string]any) { delete(plantedPanel(d, 0), "id") }, "no positive integer id"},
		{"duplicate id", func(d map[string]any) { plantedPanel(d, 1)["id"] = 1 }, "already used"},
		{"missing unit", func(d map[string]any) {
			plantedPanel(d, 0)["fieldConfig"] = map[string]any{"defaults": map[string]any{}, "overrides": []any{}}
		}, "no unit"},
		{"fieldConfig without overrides (R31)", func(d map[string]any) {
			plantedPanel(d, 0)["fieldConfig"] = map[string]any{"defaults": map[string]any{"unit": "short"}}
		}, "want an array"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			doc := plantedBase()
			tc.break_(doc)
			problems := lintAll(t, doc)
			for _, p := range problems {
				if strings.Contains(p.String(), tc.want) {
					return
				}
			}
			t.Errorf("not reported (want a problem mentioning %q); reported: %v", tc.want, problems)
		})
	}
}

// TestPlantedRoundTripLoss checks the round-trip comparison notices a
// field the SDK's dashboard type does not keep.
func TestPlantedRoundTripLoss(t *testing.T) {
	before := map[string]any{"uid": "x", "bogus": true}
	after := map[string]any{"uid": "x"}
	if diffs := jsonDiff("", before, after); len(diffs) != 1 || !strings.Contains(diffs[0], "bogus: lost") {
		t.Errorf("jsonDiff = %v, want .bogus lost", diffs)
	}
}
