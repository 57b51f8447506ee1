package rulelint

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cretoai/monitor/service/catalog"
)

func TestAnchors(t *testing.T) {
	doc := "# Title\n## DoubleSignDetected\n### Two words, and: punctuation!\n```sh\n# not a heading\n```\n## snake_case-and-dash\n"
	got := Anchors(doc)
	for _, want := range []string{"title", "doublesigndetected", "two-words-and-punctuation", "snake_case-and-dash"} {
		if !got[want] {
			t.Errorf("no anchor %q in %v", want, got)
		}
	}
	if got["not-a-heading"] {
		t.Error("a comment inside a code block became an anchor")
	}
}

func TestOutputLabels(t *testing.T) {
	cases := []struct {
		expr    string
		want    []string
		wantErr string
	}{
		{`sum by (job, route) (rate(x_total[5m]))`, []string{"job", "route"}, ""},
		{`sum by (job) (a) / (sum by (job) (b) > 0)`, []string{"job"}, ""},
		{`histogram_quantile(0.9, sum by (job, le) (rate(x_bucket[5m]))) >= 0`, []string{"job"}, ""},
		{`2 * sum by (job) (a)`, []string{"job"}, ""},
		{`sum by (job) (a) or sum by (job) (b)`, []string{"job"}, ""},
		{`sum by (job) (a) or sum by (route) (b)`, nil, "sides of or keep different labels"},
		{`sum without (node_id) (a)`, nil, "uses without()"},
		{`topk(3, a)`, nil, "keeps labels the level cannot name"},
		{`rate(x_total[5m])`, nil, "keeps the labels of raw series"},
		{`label_replace(sum by (job) (a), "x", "$1", "job", "(.*)")`, nil, "changes labels"},
	}
	for _, c := range cases {
		e, err := promParser.ParseExpr(c.expr)
		if err != nil {
			t.Fatalf("%s: %v", c.expr, err)
		}
		got, err := outputLabels(e)
		switch {
		case c.wantErr != "":
			if err == nil || !strings.Contains(err.Error(), c.wantErr) {
				t.Errorf("%s: error %v, want one containing %q", c.expr, err, c.wantErr)
			}
		case err != nil:
			t.Errorf("%s: %v", c.expr, err)
		case !slices.Equal(got, c.want):
			t.Errorf("%s: labels %v, want %v", c.expr, got, c.want)
		}
	}
}

// TestCheckExprCounterUse: where a counter's raw value is harmless (only its
// presence counts) and where it is not.
func TestCheckExprCounterUse(t *testing.T) {
	cfg := &Config{ScrapeInterval: 15 * time.Second, External: map[string]catalog.Type{"ALERTS": catalog.Gauge}}
	ok := []string{
		`increase(cretoai_stake_slashed_total[15m]) > 0`,
		`resets(cretoai_http_requests_total[1h])`,
		`absent(cretoai_stake_slashed_total)`,
		`cretoai_reputation_score and cretoai_reputation_violations_total`,
		`up unless on (instance) (cretoai_stake_slashed_total)`,
		`max_over_time(rate(cretoai_stake_slashed_total[5m])[1h:1m])`,
		`ALERTS{alertname="Watchdog"}`,
	}
	bad := map[string]string{
		`cretoai_stake_slashed_total or cretoai_reputation_score`:             "used by its raw value",
		`cretoai_stake_slashed_total - cretoai_stake_slashed_total offset 1h`: "used by its raw value",
		`max_over_time(cretoai_stake_slashed_total[1h])`:                      "used by its raw value",
		`max_over_time(rate(cretoai_stake_slashed_total[5m])[45s:15s])`:       "subquery range [45s] is shorter",
		`rate({__name__=~"cretoai_.+"}[5m])`:                                  "names no metric",
		`cretoai_reputation_score / clamp_min(cretoai_reputation_mean, 0.1)`:  "division by",
	}
	for _, e := range ok {
		if p := cfg.CheckExpr(e); len(p) > 0 {
			t.Errorf("%s: %v", e, p)
		}
	}
	for e, want := range bad {
		p := cfg.CheckExpr(e)
		if !slices.ContainsFunc(p, func(s string) bool { return strings.Contains(s, want) }) {
			t.Errorf("%s: %v, want a problem containing %q", e, p, want)
		}
	}
}
