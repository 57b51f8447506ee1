package alerting_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/prometheus/promql/parser"

	"github.com/cretoai/monitor/alerting"
	"github.com/cretoai/monitor/alerting/rulelint"
	"github.com/cretoai/monitor/dashboards"
	"github.com/cretoai/monitor/e2e/tools"
	"github.com/cretoai/monitor/prometheus"
	"github.com/cretoai/monitor/service/catalog"
)

// Paths, relative to this package's directory (where go test runs).
const (
	alertRulesGlob     = "rules/*.yml"
	recordingRulesGlob = "../prometheus/rules/*.yml"
	unitTestsGlob      = "tests/*.yml"
	runbooksPath       = "runbooks.md"
)

// thresholds lists, for every alert, the constants of thresholds.go its
// expression must contain. An empty list is a decision too: the alert has
// no numeric threshold (structural conditions, "any" increase, or a live
// setting read from a metric, checked below).
var thresholds = map[string][]float64{
	"CretoaiServiceDown":           nil, // up == 0
	"CretoaiServiceAbsent":         nil, // absent(up)
	"CretoaiMetricsAbsent":         nil, // a sentinel family is missing
	"Watchdog":                     {alerting.WatchdogFreshnessSeconds},
	"APIErrorRatioHigh":            {alerting.APIErrorRatioHigh},
	"APILatencyHigh":               {alerting.APILatencyP99Seconds},
	"NodeReputationBelowThreshold": nil, // cretoai_reputation_threshold, see TestLiveThreshold
	"NodeReputationCritical":       {alerting.ReputationCritical},
	"UnreliableNodesHigh":          {alerting.UnreliableShareHigh},
	"MeanReputationFallingFast":    {alerting.MeanReputationDropPerHour},
	"NodeViolationRateHigh":        {alerting.ViolationsPerNodeHigh},
	"DoubleSignDetected":           nil, // the first one pages
	"NodeSilent":                   {alerting.NodeSilentSeconds},
	"StakeSlashed":                 nil, // any slash pages
	"BondedStakeDroppingFast":      {alerting.BondedStakeDropRatio},
	"WithdrawalWave":               {alerting.WithdrawalWaveRatio},
	"RewardDistributionStalled":    {alerting.RewardsStalledSeconds}, // and its windows, see TestStallWindows
	"PayoutFailureRatioHigh":       {alerting.PayoutFailureRatioHigh},
	"DistributionEfficiencyLow":    {alerting.DistributionEfficiencyLow},
	"PendingRewardsGrowing":        nil, // any sustained growth
}

func glob(t *testing.T, pattern string) []string {
	t.Helper()
	files, err := filepath.Glob(pattern)
	if err != nil || len(files) == 0 {
		t.Fatalf("glob %s: %v files, err %v", pattern, len(files), err)
	}
	return files
}

func ruleFiles(t *testing.T) []string {
	return append(glob(t, alertRulesGlob), glob(t, recordingRulesGlob)...)
}

// lintConfig is the configuration the shipped rules are checked with.
func lintConfig(t *testing.T) *rulelint.Config {
	t.Helper()
	recorded, err := rulelint.RecordNames(glob(t, recordingRulesGlob)...)
	if err != nil {
		t.Fatal(err)
	}
	anchors, err := rulelint.ReadAnchors(runbooksPath)
	if err != nil {
		t.Fatal(err)
	}
	uids := map[string]bool{}
	for _, d := range dashboards.All() {
		uids[d.UID] = true
	}
	return &rulelint.Config{
		ScrapeInterval:     prometheus.ScrapeInterval,
		EvaluationInterval: prometheus.EvaluationInterval,
		Recorded:           recorded,
		RunbookBaseURL:     alerting.RunbookBaseURL,
		RunbookAnchors:     anchors,
		DashboardUIDs:      uids,
		Thresholds:         thresholds,
	}
}

// alertRule is one alert of the shipped rule files.
type alertRule struct {
	file, name, expr string
	forDur           time.Duration
	labels           map[string]string
}

func alertRules(t *testing.T) []alertRule {
	t.Helper()
	var out []alertRule
	for _, f := range glob(t, alertRulesGlob) {
		rgs, errs := rulelint.LoadFile(f)
		if len(errs) > 0 {
			t.Fatalf("%s: %v", f, errs)
		}
		for _, g := range rgs.Groups {
			for _, r := range g.Rules {
				if r.Alert != "" {
					out = append(out, alertRule{file: f, name: r.Alert, expr: r.Expr, forDur: time.Duration(r.For), labels: r.Labels})
				}
			}
		}
	}
	return out
}

// TestRulesPassChecks runs every static check over every shipped rule file:
// strict parsing, catalog, function/type fit, windows, guards, alert shape,
// links, thresholds, recording-rule names.
func TestRulesPassChecks(t *testing.T) {
	cfg := lintConfig(t)
	for _, f := range ruleFiles(t) {
		t.Run(f, func(t *testing.T) {
			for _, p := range cfg.CheckFile(f) {
				t.Error(p)
			}
		})
	}
}

// TestThresholdTableMatchesRules: the table above has exactly the shipped
// alerts, so it cannot go stale silently.
func TestThresholdTableMatchesRules(t *testing.T) {
	var names []string
	for _, r := range alertRules(t) {
		names = append(names, r.name)
		if _, ok := thresholds[r.name]; !ok {
			t.Errorf("alert %s is missing from the threshold table", r.name)
		}
	}
	for name := range thresholds {
		if !slices.Contains(names, name) {
			t.Errorf("threshold table lists %s, which no rule file defines", name)
		}
	}
	if len(names) < 20 {
		t.Errorf("only %d alerts; issue 5 asks for at least 20", len(names))
	}
}

func findAlert(t *testing.T, name string) alertRule {
	t.Helper()
	for _, r := range alertRules(t) {
		if r.name == name {
			return r
		}
	}
	t.Fatalf("no alert %s", name)
	return alertRule{}
}

// TestLiveThreshold: NodeReputationBelowThreshold compares with the
// service's configured threshold, so it stays right when
// CRETOAI_RELIABILITY_THRESHOLD changes.
func TestLiveThreshold(t *testing.T) {
	r := findAlert(t, "NodeReputationBelowThreshold")
	e, err := parser.NewParser(parser.Options{}).ParseExpr(r.expr)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	parser.Inspect(e, func(n parser.Node, _ []parser.Node) error {
		if vs, ok := n.(*parser.VectorSelector); ok {
			names = append(names, vs.Name)
		}
		return nil
	})
	for _, want := range []string{catalog.ReputationScore, catalog.ReputationThreshold} {
		if !slices.Contains(names, want) {
			t.Errorf("expression %q does not select %s", r.expr, want)
		}
	}
}

// TestStallWindows: every window and offset of RewardDistributionStalled is
// the stall threshold, so changing the constant cannot leave one behind.
func TestStallWindows(t *testing.T) {
	r := findAlert(t, "RewardDistributionStalled")
	e, err := parser.NewParser(parser.Options{}).ParseExpr(r.expr)
	if err != nil {
		t.Fatal(err)
	}
	want := time.Duration(alerting.RewardsStalledSeconds) * time.Second
	seen := 0
	parser.Inspect(e, func(n parser.Node, _ []parser.Node) error {
		switch n := n.(type) {
		case *parser.MatrixSelector:
			seen++
			if n.Range != want {
				t.Errorf("window [%s], want %s", n.Range, want)
			}
		case *parser.VectorSelector:
			if n.OriginalOffset != 0 {
				seen++
				if n.OriginalOffset != want {
					t.Errorf("offset %s, want %s", n.OriginalOffset, want)
				}
			}
		}
		return nil
	})
	if seen != 2 {
		t.Errorf("found %d windows and offsets, want 2 (max_over_time window, offset)", seen)
	}
}

// TestPlantedBadRulesFail proves that each check fails on a rule written to
// break it; good.yml and good_record.yml prove the planted files are
// otherwise clean.
func TestPlantedBadRulesFail(t *testing.T) {
	cfg := lintConfig(t)
	cfg.RunbookAnchors["plantedalert"] = true
	cfg.RunbookAnchors["planted_alert"] = true
	cfg.Thresholds = map[string][]float64{
		"PlantedAlert":           nil,
		"planted_alert":          nil,
		"NoRunbookSection":       nil,
		"NodeReputationCritical": {alerting.ReputationCritical},
	}
	cases := map[string]string{
		"good.yml":                     "",
		"good_record.yml":              "",
		"unknown_field.yml":            "field description not found",
		"unquoted_template.yml":        "did not find expected key",
		"bad_expr.yml":                 "could not parse expression",
		"unknown_metric.yml":           "cretoai_reputation_scores is not in the catalog",
		"histogram_without_suffix.yml": "selected without _bucket, _sum or _count",
		"rate_on_gauge.yml":            "rate() on cretoai_rewards_pending_amount, a gauge",
		"delta_on_counter.yml":         "delta() on cretoai_stake_slashed_total, a counter",
		"raw_counter.yml":              "counter cretoai_reputation_violations_total used by its raw value",
		"rate_on_recorded.yml":         "rate() on job:cretoai_stake_slashings:increase1h, a recorded series",
		"short_window.yml":             "range [30s] is shorter than 4 scrape intervals (1m)",
		"unguarded_division.yml":       "division by cretoai_reputation_total_nodes, which can be 0",
		"quantile_without_le.yml":      "does not keep le",
		"topk.yml":                     "topk in an alert",
		"value_in_label.yml":           "label score uses $value",
		"templated_label.yml":          "label node is templated",
		"no_for.yml":                   "no for",
		"short_for.yml":                "for 15s is shorter than 2 evaluation intervals (30s)",
		"bad_severity.yml":             `severity "page" is not one of`,
		"no_severity.yml":              "no severity label",
		"not_camel_case.yml":           `alert name "planted_alert" is not CamelCase`,
		"templated_summary.yml":        "summary is templated",
		"two_sentence_summary.yml":     "summary must be one sentence",
		"static_description.yml":       "description is static",
		"no_runbook.yml":               "no runbook_url annotation",
		"wrong_runbook_url.yml":        "runbook_url https://github.com/cretoai/monitor/blob/main/alerting/runbooks.md#nodesilent: want",
		"missing_runbook_section.yml":  "anchor #norunbooksection has no heading",
		"unknown_dashboard.yml":        "unknown dashboard uid cretoai-nodes",
		"dashboard_fixed_node.yml":     "sets var-node_id to something else",
		"extra_annotation.yml":         "unexpected annotation runbook",
		"threshold_mismatch.yml":       "threshold 0.3 (alerting/thresholds.go) does not appear",
		"not_in_threshold_table.yml":   "not in the threshold table",
		"group_interval.yml":           "sets interval 1m",
		"record_bad_name.yml":          "does not follow level:metric:operations",
		"record_raw_name.yml":          "is a raw metric name of the service",
		"record_level_mismatch.yml":    `level "job" does not name the labels the expression keeps (node_id)`,
		"record_without.yml":           "uses without()",
		"record_unaggregated.yml":      "keeps the labels of raw series",
		"empty.yml":                    "no rule groups",
	}
	files, _ := filepath.Glob("testdata/rules/*.yml")
	for _, f := range files {
		if _, ok := cases[filepath.Base(f)]; !ok {
			t.Errorf("%s has no case in this table", f)
		}
	}
	for file, want := range cases {
		t.Run(file, func(t *testing.T) {
			problems := cfg.CheckFile(filepath.Join("testdata/rules", file))
			var msgs []string
			for _, p := range problems {
				msgs = append(msgs, p.String())
			}
			if want == "" {
				if len(msgs) > 0 {
					t.Errorf("want no problem, got:\n%s", strings.Join(msgs, "\n"))
				}
				return
			}
			if !slices.ContainsFunc(msgs, func(m string) bool { return strings.Contains(m, want) }) {
				t.Errorf("want a problem containing %q, got:\n%s", want, strings.Join(msgs, "\n"))
			}
		})
	}
}

// TestPromtoolCheckRules: Prometheus's own checker (the pinned version)
// accepts every rule file, with its duplicate-rule lint fatal.
func TestPromtoolCheckRules(t *testing.T) {
	promtool := tools.Path(t, "promtool")
	for _, f := range ruleFiles(t) {
		t.Run(f, func(t *testing.T) {
			out, err := exec.Command(promtool, "check", "rules", "--lint-fatal", f).CombinedOutput()
			if err != nil {
				t.Errorf("promtool check rules %s: %v\n%s", f, err, out)
			}
		})
	}
}

// TestPromtoolUnitTests runs every promtool test file: each alert firing
// with exact labels and annotations, quiet on normal input, resolving,
// across counter resets and quiet periods, and every recording rule.
func TestPromtoolUnitTests(t *testing.T) {
	promtool := tools.Path(t, "promtool")
	for _, f := range glob(t, unitTestsGlob) {
		t.Run(f, func(t *testing.T) {
			out, err := exec.Command(promtool, "test", "rules", f).CombinedOutput()
			if err != nil {
				t.Errorf("promtool test rules %s: %v\n%s", f, err, out)
			}
		})
	}
}

// TestUnitTestsCoverEveryRule is the meta-test: every rule has the cases
// that make its tests meaningful (rulelint.CheckUnitTests lists them).
func TestUnitTestsCoverEveryRule(t *testing.T) {
	cfg := lintConfig(t)
	for _, p := range cfg.CheckUnitTests(ruleFiles(t), glob(t, unitTestsGlob)) {
		t.Error(p)
	}
}

// TestPlantedBadUnitTestsFail proves each meta-check fails on a test file
// written to break it; complete.yml is the clean control.
func TestPlantedBadUnitTestsFail(t *testing.T) {
	cfg := lintConfig(t)
	rules := []string{"testdata/meta/rules.yml"}
	cases := []struct {
		file, want string
		extraRules []string
	}{
		{file: "complete.yml"},
		{file: "missing_alert_test.yml", want: "MetaCounterAlert: no test where the alert fires"},
		{file: "early_eval.yml", want: "eval_time 5m of MetaGaugeAlert is earlier than its for (5m) plus one evaluation interval (15s)"},
		{file: "no_stale.yml", want: "ends at 10m without stale, before eval_time 20m"},
		{file: "no_reset.yml", want: "MetaCounterAlert: reads counters (cretoai_stake_slashed_total) but no test resets one of them"},
		{file: "no_resolution.yml", want: "MetaGaugeAlert: no resolution test"},
		{file: "no_quiet_ratio.yml", want: "job:meta_reliable_nodes:ratio: ratio without a quiet-period test"},
		{file: "unknown_field.yml", want: "field exp_alert not found"},
		{file: "unknown_alert.yml", want: "alert_rule_test for MetaGaugeAlertOld, which no loaded rule file defines"},
		{file: "complete.yml", want: "unloaded_rules.yml: no test file loads this rule file", extraRules: []string{"testdata/meta/unloaded_rules.yml"}},
	}
	for _, c := range cases {
		t.Run(c.file+"/"+c.want, func(t *testing.T) {
			problems := cfg.CheckUnitTests(append(slices.Clone(rules), c.extraRules...), []string{filepath.Join("testdata/meta", c.file)})
			var msgs []string
			for _, p := range problems {
				msgs = append(msgs, p.String())
			}
			if c.want == "" {
				if len(msgs) > 0 {
					t.Errorf("want no problem, got:\n%s", strings.Join(msgs, "\n"))
				}
				return
			}
			if !slices.ContainsFunc(msgs, func(m string) bool { return strings.Contains(m, c.want) }) {
				t.Errorf("want a problem containing %q, got:\n%s", c.want, strings.Join(msgs, "\n"))
			}
		})
	}
}

// TestPlantedControlPassesPromtool: the clean planted test file is a real
// promtool test, so the meta-checks above were judged on a realistic file.
func TestPlantedControlPassesPromtool(t *testing.T) {
	promtool := tools.Path(t, "promtool")
	if out, err := exec.Command(promtool, "test", "rules", "testdata/meta/complete.yml").CombinedOutput(); err != nil {
		t.Errorf("promtool test rules: %v\n%s", err, out)
	}
}

// TestEveryAlertHasARunbook: a section per alert, with the four parts, and
// no section for an alert that does not exist.
func TestEveryAlertHasARunbook(t *testing.T) {
	b, err := os.ReadFile(runbooksPath)
	if err != nil {
		t.Fatal(err)
	}
	sections := map[string]string{}
	var current string
	for _, l := range strings.Split(string(b), "\n") {
		if name, ok := strings.CutPrefix(l, "## "); ok {
			current = strings.TrimSpace(name)
			sections[current] = ""
			continue
		}
		if current != "" {
			sections[current] += l + "\n"
		}
	}
	alerts := map[string]bool{}
	for _, r := range alertRules(t) {
		alerts[r.name] = true
		body, ok := sections[r.name]
		if !ok {
			t.Errorf("runbooks.md has no section ## %s", r.name)
			continue
		}
		for _, part := range []string{"**Meaning.**", "**Impact.**", "**Diagnosis.**", "**Action.**"} {
			if !strings.Contains(body, part) {
				t.Errorf("runbook of %s has no %s part", r.name, part)
			}
		}
		if !strings.Contains(body, "```promql") {
			t.Errorf("runbook of %s has no diagnosis query", r.name)
		}
	}
	for name := range sections {
		if !alerts[name] {
			t.Errorf("runbooks.md has a section %s for an alert that does not exist", name)
		}
	}
}
