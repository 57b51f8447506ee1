package alerting_test

import (
	"os"
	"strings"
	"testing"

	"github.com/cretoai/monitor/service/catalog"
)

// promqlBlocks returns every non-blank, non-comment line of every ```promql
// block of a Markdown document, with its 1-based line number.
func promqlBlocks(doc string) map[int]string {
	out := map[int]string{}
	in := false
	for i, l := range strings.Split(doc, "\n") {
		trimmed := strings.TrimSpace(l)
		switch {
		case !in && trimmed == "```promql":
			in = true
		case in && strings.HasPrefix(trimmed, "```"):
			in = false
		case in && trimmed != "" && !strings.HasPrefix(trimmed, "#"):
			out[i+1] = trimmed
		}
	}
	return out
}

// TestRunbookQueriesAreValid: every diagnosis query in runbooks.md parses
// with the PromQL parser of Prometheus v3.16.0 and passes the same
// expression checks as the rules (catalog or recorded names, function fits
// the type, windows, guarded divisions, quantiles keep le). Besides the
// service's metrics they may select Prometheus's own ALERTS and
// notification counters.
func TestRunbookQueriesAreValid(t *testing.T) {
	b, err := os.ReadFile(runbooksPath)
	if err != nil {
		t.Fatal(err)
	}
	cfg := lintConfig(t)
	cfg.External = map[string]catalog.Type{
		"ALERTS":                                catalog.Gauge,
		"prometheus_notifications_errors_total": catalog.Counter,
	}
	queries := promqlBlocks(string(b))
	if len(queries) < 40 {
		t.Fatalf("found %d queries in ```promql blocks of %s; every runbook has diagnosis queries", len(queries), runbooksPath)
	}
	for line, q := range queries {
		for _, p := range cfg.CheckExpr(q) {
			t.Errorf("%s:%d: %s: %s", runbooksPath, line, q, p)
		}
	}
}

// TestRunbookQueryCheckCatchesMistakes proves the check above can fail.
func TestRunbookQueryCheckCatchesMistakes(t *testing.T) {
	doc := "```promql\n# a comment\nrate(cretoai_rewards_pending_amount[5m])\ncretoai_reputation_score{\n```\n"
	queries := promqlBlocks(doc)
	if len(queries) != 2 {
		t.Fatalf("extracted %d queries, want 2: %v", len(queries), queries)
	}
	cfg := lintConfig(t)
	for line, q := range queries {
		if len(cfg.CheckExpr(q)) == 0 {
			t.Errorf("line %d: %s passed the check", line, q)
		}
	}
}
