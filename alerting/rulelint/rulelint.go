// Package rulelint checks Prometheus rule files against the conventions of
// this project, beyond what Prometheus itself enforces: strict parsing
// (unknown fields are errors), metrics taken from the service catalog,
// functions that fit each metric's type, windows and `for` durations that fit
// the scrape and evaluation intervals, the alert shape of kubernetes-mixin
// (severity, static summary, templated description, runbook and dashboard
// links), thresholds equal to the Go constants, and recording rules named
// level:metric:operations. Each check names the failure class of
// ../shared/FAILURES.md it prevents.
//
// It also checks promtool unit-test files against the rules they test
// (CheckUnitTests), so that tests cannot pass for the wrong reason.
package rulelint

import (
	"fmt"
	"github.com/cretoai/monitor/prometheus/promexpr"
	"io"
	"log/slog"
	"os"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/rulefmt"
	"github.com/prometheus/prometheus/promql/parser"

	"github.com/cretoai/monitor/service/catalog"
)

// Config is what the checks compare rules against.
type Config struct {
	// ScrapeInterval bounds range windows from below (4×), EvaluationInterval
	// bounds `for` (2×) and unit-test eval times.
	ScrapeInterval     time.Duration
	EvaluationInterval time.Duration
	// Recorded holds the recording-rule names that expressions may select.
	Recorded map[string]bool
	// External holds metrics of other programs (Prometheus's own, such as
	// ALERTS) that expressions may select, with their types. Rules select
	// only the service's metrics and up; runbook queries may look further.
	External map[string]catalog.Type
	// RunbookBaseURL is the runbook document; an alert's runbook_url must be
	// RunbookBaseURL + "#" + its name in lower case, an anchor that must be
	// in RunbookAnchors.
	RunbookBaseURL string
	RunbookAnchors map[string]bool
	// DashboardUIDs holds the uids a dashboard_url may point at.
	DashboardUIDs map[string]bool
	// Thresholds maps every alert to the numbers its expression must contain
	// (the constants of alerting/thresholds.go); an empty list marks an alert
	// without a numeric threshold. An alert missing from the map is a
	// problem, so every new alert needs a decision. Nil: not checked.
	Thresholds map[string][]float64
}

// Problem is one finding.
type Problem struct {
	File string
	Rule string // alert or record name; empty for file-level problems
	Msg  string
}

func (p Problem) String() string {
	if p.Rule == "" {
		return p.File + ": " + p.Msg
	}
	return p.File + ": " + p.Rule + ": " + p.Msg
}

// Severities allowed on alerts. "none" is not among them: the Watchdog is
// info and routed by name.
var Severities = []string{"critical", "warning", "info"}

// Annotations every alert carries, and no others.
var Annotations = []string{"summary", "description", "runbook_url", "dashboard_url"}

var (
	alertName  = regexp.MustCompile(`^[A-Z][A-Za-z0-9]*$`)
	recordName = regexp.MustCompile(`^([a-z_]+):([a-z0-9_]+):([a-z0-9_]+)$`)
	dashURL    = regexp.MustCompile(`^/d/([a-z0-9-]+)(?:\?(.*))?$`)
)

// LoadFile parses a rule file the way Prometheus does, but strictly: an
// unknown field (say, description: next to annotations:) is an error
// instead of being dropped silently (FAILURES.md R21).
func LoadFile(path string) (*rulefmt.RuleGroups, []error) {
	return rulefmt.ParseFile(path, false, model.LegacyValidation, promParser, slog.New(slog.NewTextHandler(io.Discard, nil)))
}

// RecordNames returns the names of the recording rules of files.
func RecordNames(files ...string) (map[string]bool, error) {
	out := map[string]bool{}
	for _, f := range files {
		rgs, errs := LoadFile(f)
		if len(errs) > 0 {
			return nil, fmt.Errorf("%s: %w", f, errs[0])
		}
		for _, g := range rgs.Groups {
			for _, r := range g.Rules {
				if r.Record != "" {
					out[r.Record] = true
				}
			}
		}
	}
	return out, nil
}

// CheckFile checks every rule of one rule file.
func (c *Config) CheckFile(path string) []Problem {
	rgs, errs := LoadFile(path)
	if len(errs) > 0 {
		var out []Problem
		for _, err := range errs {
			p := Problem{File: path, Msg: strings.TrimPrefix(err.Error(), path+": ")}
			if !slices.Contains(out, p) { // the YAML error comes twice
				out = append(out, p)
			}
		}
		return out
	}
	if len(rgs.Groups) == 0 {
		return []Problem{{File: path, Msg: "no rule groups"}}
	}
	var out []Problem
	for _, g := range rgs.Groups {
		if g.Interval != 0 && time.Duration(g.Interval) != c.EvaluationInterval {
			out = append(out, Problem{File: path, Msg: fmt.Sprintf("group %s sets interval %s; rules are written for the global evaluation interval %s", g.Name, g.Interval, dur(c.EvaluationInterval))})
		}
		for _, r := range g.Rules {
			var msgs []string
			name := r.Alert
			if r.Record != "" {
				name = r.Record
				msgs = c.checkRecord(r)
			} else {
				msgs = c.checkAlert(r)
			}
			for _, m := range msgs {
				out = append(out, Problem{File: path, Rule: name, Msg: m})
			}
		}
	}
	return out
}

func (c *Config) checkRecord(r rulefmt.Rule) []string {
	var problems []string
	add := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	m := recordName.FindStringSubmatch(r.Record)
	if m == nil {
		add("recording rule name %q does not follow level:metric:operations (R23)", r.Record)
	}
	if _, err := (&Config{}).resolve(r.Record); err == nil {
		add("recording rule name %q is a raw metric name of the service", r.Record)
	}
	for k, v := range r.Labels {
		if strings.Contains(v, "{{") {
			add("label %s is templated: recording-rule labels are static", k)
		}
	}
	expr, err := promParser.ParseExpr(r.Expr)
	if err != nil {
		return append(problems, "does not parse: "+err.Error())
	}
	problems = append(problems, c.checkParsed(expr)...)
	if m == nil {
		return problems
	}
	kept, err := outputLabels(expr)
	if err != nil {
		return append(problems, err.Error())
	}
	for k := range r.Labels {
		kept = append(kept, k)
	}
	if want := strings.Join(kept, "_"); m[1] != want {
		add("level %q does not name the labels the expression keeps (%s): call it %s:%s:%s", m[1], strings.Join(kept, ", "), want, m[2], m[3])
	}
	return problems
}

// outputLabels returns the labels a recording rule's result keeps, in the
// order its by() clause lists them. Only aggregations with by() say that
// exactly; anything else is an error.
func outputLabels(e parser.Expr) ([]string, error) {
	switch n := promexpr.Unparen(e).(type) {
	case *parser.AggregateExpr:
		if n.Without {
			return nil, fmt.Errorf("aggregation %s uses without(): use by() so the level names the labels kept", n.Op)
		}
		switch n.Op {
		case parser.SUM, parser.AVG, parser.MIN, parser.MAX, parser.COUNT, parser.GROUP, parser.STDDEV, parser.STDVAR, parser.QUANTILE:
			return slices.Clone(n.Grouping), nil
		}
		return nil, fmt.Errorf("aggregation %s keeps labels the level cannot name", n.Op)
	case *parser.BinaryExpr:
		lhsScalar := n.LHS.Type() == parser.ValueTypeScalar
		rhsScalar := n.RHS.Type() == parser.ValueTypeScalar
		switch {
		case lhsScalar && rhsScalar:
			return nil, nil
		case lhsScalar:
			return outputLabels(n.RHS)
		case rhsScalar:
			return outputLabels(n.LHS)
		}
		lhs, err := outputLabels(n.LHS)
		if err != nil {
			return nil, err
		}
		rhs, err := outputLabels(n.RHS)
		if err != nil {
			return nil, err
		}
		if n.Op == parser.LOR && !slices.Equal(sorted(lhs), sorted(rhs)) {
			return nil, fmt.Errorf("the sides of or keep different labels (%v, %v)", lhs, rhs)
		}
		if n.VectorMatching != nil && n.VectorMatching.Card == parser.CardOneToMany {
			return rhs, nil
		}
		return lhs, nil
	case *parser.Call:
		if n.Func.Name == "histogram_quantile" && len(n.Args) == 2 {
			kept, err := outputLabels(n.Args[1])
			return slices.DeleteFunc(kept, func(l string) bool { return l == "le" }), err
		}
		if n.Func.ReturnType == parser.ValueTypeScalar {
			return nil, nil
		}
		if strings.HasPrefix(n.Func.Name, "label_") {
			return nil, fmt.Errorf("%s() changes labels: aggregate after it", n.Func.Name)
		}
		for _, a := range n.Args {
			if a.Type() == parser.ValueTypeVector {
				return outputLabels(a)
			}
		}
	case *parser.NumberLiteral:
		return nil, nil
	}
	return nil, fmt.Errorf("the expression keeps the labels of raw series: aggregate it with sum by (...) and name those labels in the level")
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	sort.Strings(s)
	return s
}

func (c *Config) checkAlert(r rulefmt.Rule) []string {
	var problems []string
	add := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }

	if !alertName.MatchString(r.Alert) {
		add("alert name %q is not CamelCase", r.Alert)
	}

	minFor := 2 * c.EvaluationInterval
	switch f := time.Duration(r.For); {
	case f == 0:
		add("no for: a single evaluation fires it, and noise pages (R20)")
	case f < minFor:
		add("for %s is shorter than 2 evaluation intervals (%s) (R20)", dur(f), dur(minFor))
	}

	switch sev, ok := r.Labels["severity"]; {
	case !ok:
		add("no severity label: one of %s", strings.Join(Severities, ", "))
	case !slices.Contains(Severities, sev):
		add("severity %q is not one of %s", sev, strings.Join(Severities, ", "))
	}
	for _, k := range sortedKeys(r.Labels) {
		v := r.Labels[k]
		switch {
		case strings.Contains(v, "$value") || strings.Contains(v, ".Value"):
			add("label %s uses $value: every new value makes a new alert (R20)", k)
		case strings.Contains(v, "{{"):
			add("label %s is templated: alert labels are static, templates belong in annotations", k)
		}
	}

	for _, k := range sortedKeys(r.Annotations) {
		if !slices.Contains(Annotations, k) {
			add("unexpected annotation %s: alerts carry exactly %s", k, strings.Join(Annotations, ", "))
		}
	}
	for _, k := range Annotations {
		if strings.TrimSpace(r.Annotations[k]) == "" {
			add("no %s annotation", k)
		}
	}
	if s := r.Annotations["summary"]; s != "" {
		body := strings.TrimSuffix(s, ".")
		switch {
		case strings.Contains(s, "{{"):
			add("summary is templated: it must be static, details go in description")
		case strings.Contains(s, "\n") || body == s || strings.Contains(body, ". "):
			add("summary must be one sentence ending with a full stop")
		}
	}
	if d := r.Annotations["description"]; d != "" && !strings.Contains(d, "{{") {
		add("description is static: template it with the alert's labels or value")
	}
	if u := r.Annotations["runbook_url"]; u != "" {
		anchor := strings.ToLower(r.Alert)
		want := c.RunbookBaseURL + "#" + anchor
		switch {
		case u != want:
			add("runbook_url %s: want %s", u, want)
		case !c.RunbookAnchors[anchor]:
			add("runbook_url anchor #%s has no heading in the runbooks", anchor)
		}
	}
	if u := r.Annotations["dashboard_url"]; u != "" {
		m := dashURL.FindStringSubmatch(u)
		switch {
		case m == nil:
			add("dashboard_url %s is not a Grafana path /d/<uid>[?query]", u)
		case !c.DashboardUIDs[m[1]]:
			add("dashboard_url points at unknown dashboard uid %s", m[1])
		case strings.Contains(m[2], "var-node_id=") && !strings.Contains(m[2], "var-node_id={{ $labels.node_id }}"):
			add("dashboard_url sets var-node_id to something else than {{ $labels.node_id }}")
		}
	}

	expr, err := promParser.ParseExpr(r.Expr)
	if err != nil {
		return append(problems, "does not parse: "+err.Error())
	}
	problems = append(problems, c.checkAlertExpr(expr)...)

	if c.Thresholds != nil {
		want, ok := c.Thresholds[r.Alert]
		if !ok {
			add("alert is not in the threshold table: list the constants of alerting/thresholds.go it uses, or none")
		}
		have := numbers(expr)
		for _, w := range want {
			if !slices.Contains(have, w) {
				add("threshold %v (alerting/thresholds.go) does not appear in the expression, which has %v", w, have)
			}
		}
	}
	return problems
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// Anchors returns the GitHub anchors of the headings of a Markdown document:
// lower case, spaces to hyphens, punctuation other than - and _ dropped.
func Anchors(markdown string) map[string]bool {
	out := map[string]bool{}
	in := false
	for _, l := range strings.Split(markdown, "\n") {
		if strings.HasPrefix(strings.TrimSpace(l), "```") {
			in = !in
			continue
		}
		if in || !strings.HasPrefix(l, "#") {
			continue
		}
		title := strings.TrimSpace(strings.TrimLeft(l, "#"))
		var b strings.Builder
		for _, r := range strings.ToLower(title) {
			switch {
			case r == ' ':
				b.WriteRune('-')
			case r == '-' || r == '_' || (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9'):
				b.WriteRune(r)
			}
		}
		out[b.String()] = true
	}
	return out
}

// ReadAnchors reads a Markdown file and returns its anchors.
func ReadAnchors(path string) (map[string]bool, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Anchors(string(b)), nil
}
