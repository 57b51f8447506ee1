package rulelint

import (
	"bytes"
	"fmt"
	"github.com/cretoai/monitor/prometheus/promexpr"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/value"
	"github.com/prometheus/prometheus/promql/parser"
	"go.yaml.in/yaml/v3"
)

// unitTestFile is a promtool test file: the fields of promtool's format
// (cmd/promtool/unittest.go). Decoded strictly, so a misspelt field is an
// error here rather than a test that silently checks nothing.
type unitTestFile struct {
	RuleFiles          []string       `yaml:"rule_files"`
	EvaluationInterval model.Duration `yaml:"evaluation_interval"`
	GroupEvalOrder     []string       `yaml:"group_eval_order"`
	FuzzyCompare       bool           `yaml:"fuzzy_compare"`
	Tests              []testGroup    `yaml:"tests"`
}

type testGroup struct {
	Name           string            `yaml:"name"`
	Interval       model.Duration    `yaml:"interval"`
	ExternalLabels map[string]string `yaml:"external_labels"`
	ExternalURL    string            `yaml:"external_url"`
	StartTimestamp any               `yaml:"start_timestamp"`
	InputSeries    []struct {
		Series string `yaml:"series"`
		Values string `yaml:"values"`
	} `yaml:"input_series"`
	AlertRuleTests []struct {
		EvalTime  model.Duration `yaml:"eval_time"`
		Alertname string         `yaml:"alertname"`
		ExpAlerts []struct {
			ExpLabels      map[string]string `yaml:"exp_labels"`
			ExpAnnotations map[string]string `yaml:"exp_annotations"`
		} `yaml:"exp_alerts"`
	} `yaml:"alert_rule_test"`
	PromqlExprTests []struct {
		Expr       string         `yaml:"expr"`
		EvalTime   model.Duration `yaml:"eval_time"`
		ExpSamples []struct {
			Labels    string  `yaml:"labels"`
			Value     float64 `yaml:"value"`
			Histogram string  `yaml:"histogram"`
		} `yaml:"exp_samples"`
	} `yaml:"promql_expr_test"`
}

// promtool's defaults.
const defaultInterval = time.Minute

// ruleInfo is what the test checks need to know about one rule.
type ruleInfo struct {
	file     string
	forDur   time.Duration
	counters []string // counter series the expression reads
	ratio    bool     // the expression divides
}

// coverage is what the test files show about one rule.
type coverage struct {
	firing, quiet, resolved, resetQuiet, exprTested, quietSample bool
}

func (c *Config) ruleInfos(ruleFiles []string) (alerts, records map[string]*ruleInfo, problems []Problem) {
	alerts, records = map[string]*ruleInfo{}, map[string]*ruleInfo{}
	for _, f := range ruleFiles {
		rgs, errs := LoadFile(f)
		if len(errs) > 0 {
			problems = append(problems, Problem{File: f, Msg: errs[0].Error()})
			continue
		}
		for _, g := range rgs.Groups {
			for _, r := range g.Rules {
				info := &ruleInfo{file: f, forDur: time.Duration(r.For)}
				if e, err := promParser.ParseExpr(r.Expr); err == nil {
					for _, vs := range promexpr.Selectors(e) {
						if s, err := c.resolve(promexpr.SelectorName(vs)); err == nil && s.counterLike() && !slices.Contains(info.counters, s.name) {
							info.counters = append(info.counters, s.name)
						}
					}
					parser.Inspect(e, func(n parser.Node, _ []parser.Node) error {
						if b, ok := n.(*parser.BinaryExpr); ok && b.Op == parser.DIV {
							info.ratio = true
						}
						return nil
					})
				}
				if r.Alert != "" {
					alerts[r.Alert] = info
				} else {
					records[r.Record] = info
				}
			}
		}
	}
	return alerts, records, problems
}

// CheckUnitTests checks promtool test files against the rule files they
// test, so that green tests mean what they seem to (FAILURES.md R17, R18,
// R22):
//   - every rule file is loaded by some test file;
//   - every alert has a case where it fires, one where it stays quiet, and a
//     resolution (a firing eval_time followed by a later one where it is
//     resolved) in the same test;
//   - every alert_rule_test's eval_time is at least the alert's for plus one
//     evaluation interval, so a pending alert is not mistaken for a quiet
//     one, nor a firing one for a test of for;
//   - every input series runs up to the last eval_time of its test or ends
//     with stale: a series that just stops lives on for the 5m lookback;
//   - an alert that reads a counter has a test that resets that counter and
//     checks the alert stays quiet after the reset;
//   - every recording rule is checked by a promql_expr_test, and a ratio has
//     a test where it gives no sample (its denominator is 0).
func (c *Config) CheckUnitTests(ruleFiles, testFiles []string) []Problem {
	alerts, records, problems := c.ruleInfos(ruleFiles)
	cov := map[string]*coverage{}
	for name := range alerts {
		cov[name] = &coverage{}
	}
	for name := range records {
		cov[name] = &coverage{}
	}
	loaded := map[string]bool{}

	for _, tf := range testFiles {
		add := func(format string, args ...any) {
			problems = append(problems, Problem{File: tf, Msg: fmt.Sprintf(format, args...)})
		}
		b, err := os.ReadFile(tf)
		if err != nil {
			add("%v", err)
			continue
		}
		var f unitTestFile
		dec := yaml.NewDecoder(bytes.NewReader(b))
		dec.KnownFields(true)
		if err := dec.Decode(&f); err != nil {
			add("%v", err)
			continue
		}
		for _, rf := range f.RuleFiles {
			if !filepath.IsAbs(rf) {
				rf = filepath.Join(filepath.Dir(tf), rf)
			}
			matches, err := filepath.Glob(rf)
			if err != nil || len(matches) == 0 {
				add("rule_files entry %s matches no file", rf)
			}
			for _, m := range matches {
				loaded[filepath.Clean(m)] = true
			}
		}
		evalInterval := time.Duration(f.EvaluationInterval)
		if evalInterval == 0 {
			evalInterval = defaultInterval
		}
		for gi, g := range f.Tests {
			name := g.Name
			if name == "" {
				name = fmt.Sprintf("tests[%d]", gi)
			}
			c.checkTestGroup(name, g, evalInterval, alerts, records, cov, add)
		}
	}

	for _, f := range ruleFiles {
		if !loaded[filepath.Clean(f)] {
			problems = append(problems, Problem{File: f, Msg: "no test file loads this rule file"})
		}
	}
	for _, name := range sortedNames(alerts) {
		info, cv := alerts[name], cov[name]
		add := func(msg string) { problems = append(problems, Problem{File: info.file, Rule: name, Msg: msg}) }
		if !cv.firing {
			add("no test where the alert fires (an alert_rule_test with exp_alerts)")
		}
		if !cv.quiet {
			add("no test where the alert stays quiet (an alert_rule_test without exp_alerts)")
		}
		if !cv.resolved {
			add("no resolution test: a firing eval_time followed, in the same test, by a later one where it is resolved")
		}
		if len(info.counters) > 0 && !cv.resetQuiet {
			add(fmt.Sprintf("reads counters (%s) but no test resets one of them and checks the alert stays quiet after the reset (R17)", strings.Join(info.counters, ", ")))
		}
	}
	for _, name := range sortedNames(records) {
		info, cv := records[name], cov[name]
		add := func(msg string) { problems = append(problems, Problem{File: info.file, Rule: name, Msg: msg}) }
		if !cv.exprTested {
			add("no promql_expr_test checks this recording rule")
		}
		if info.ratio && !cv.quietSample {
			add("ratio without a quiet-period test: a promql_expr_test on it with no exp_samples, its denominator 0 (R18)")
		}
	}
	return problems
}

func (c *Config) checkTestGroup(name string, g testGroup, evalInterval time.Duration,
	alerts, records map[string]*ruleInfo, cov map[string]*coverage, add func(string, ...any)) {
	interval := time.Duration(g.Interval)
	if interval == 0 {
		interval = defaultInterval
	}
	var lastEval time.Duration
	for _, t := range g.AlertRuleTests {
		lastEval = max(lastEval, time.Duration(t.EvalTime))
	}
	for _, t := range g.PromqlExprTests {
		lastEval = max(lastEval, time.Duration(t.EvalTime))
	}

	// Input series: where each ends, and where counters reset.
	resets := map[string]time.Duration{} // counter name → earliest reset
	for _, s := range g.InputSeries {
		lset, vals, err := promParser.ParseSeriesDesc(s.Series + " " + s.Values)
		if err != nil {
			add("%s: series %s: %v", name, s.Series, err)
			continue
		}
		last := -1
		for i, v := range vals {
			if !v.Omitted {
				last = i
			}
		}
		if last < 0 {
			continue
		}
		if end := time.Duration(last) * interval; !value.IsStaleNaN(vals[last].Value) && end < lastEval {
			add("%s: series %s ends at %s without stale, before eval_time %s: the 5m lookback keeps its last value alive (R22)", name, s.Series, dur(end), dur(lastEval))
		}
		metric := lset.Get(model.MetricNameLabel)
		sr, err := c.resolve(metric)
		if err != nil || !sr.counterLike() {
			continue
		}
		prev := -1
		for i, v := range vals {
			if v.Omitted || value.IsStaleNaN(v.Value) {
				continue
			}
			if prev >= 0 && v.Value < vals[prev].Value {
				at := time.Duration(i) * interval
				if old, ok := resets[metric]; !ok || at < old {
					resets[metric] = at
				}
				break
			}
			prev = i
		}
	}

	firstFiring := map[string]time.Duration{}
	var quietAt []struct {
		alert string
		at    time.Duration
	}
	for _, t := range g.AlertRuleTests {
		at := time.Duration(t.EvalTime)
		info, ok := alerts[t.Alertname]
		if !ok {
			add("%s: alert_rule_test for %s, which no loaded rule file defines", name, t.Alertname)
			continue
		}
		if minAt := info.forDur + evalInterval; at < minAt {
			add("%s: eval_time %s of %s is earlier than its for (%s) plus one evaluation interval (%s): the alert may still be pending (R22)", name, dur(at), t.Alertname, dur(info.forDur), dur(evalInterval))
		}
		cv := cov[t.Alertname]
		if len(t.ExpAlerts) > 0 {
			cv.firing = true
			if old, ok := firstFiring[t.Alertname]; !ok || at < old {
				firstFiring[t.Alertname] = at
			}
			continue
		}
		cv.quiet = true
		quietAt = append(quietAt, struct {
			alert string
			at    time.Duration
		}{t.Alertname, at})
		for _, counter := range info.counters {
			if r, ok := resets[counter]; ok && at >= r {
				cv.resetQuiet = true
			}
		}
	}
	for _, q := range quietAt {
		if f, ok := firstFiring[q.alert]; ok && q.at > f {
			cov[q.alert].resolved = true
		}
	}

	for _, t := range g.PromqlExprTests {
		e, err := promParser.ParseExpr(t.Expr)
		if err != nil {
			add("%s: promql_expr_test %q does not parse: %v", name, t.Expr, err)
			continue
		}
		for _, vs := range promexpr.Selectors(e) {
			rec := promexpr.SelectorName(vs)
			if _, ok := records[rec]; !ok {
				continue
			}
			cov[rec].exprTested = true
			// No sample from the recorded series itself, not from an
			// expression over it (such as "x < 0").
			if _, bare := promexpr.Unparen(e).(*parser.VectorSelector); bare && len(t.ExpSamples) == 0 {
				cov[rec].quietSample = true
			}
		}
	}
}

func sortedNames(m map[string]*ruleInfo) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
