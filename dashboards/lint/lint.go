// Package lint checks Grafana dashboard JSON the way Grafana and Prometheus
// will read it: every query parses with the PromQL parser after Grafana's
// variable substitution and asks a valid question of a known metric
// (R16, R32, R33, R34); panels have ids, fit the 24-column grid without
// overlapping, carry a description, a unit and the provisioned datasource
// (R28, R31); the file is portable (no ${DS_…} placeholders, no __inputs, no
// instance id). It reads plain JSON, so it checks exactly what is committed
// and what file provisioning loads.
package lint

import (
	"encoding/json"
	"fmt"
	"github.com/cretoai/monitor/prometheus/promexpr"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"
)

// Problem is one finding.
type Problem struct {
	// Where names the dashboard and, if any, the panel and query.
	Where string
	What  string
}

func (p Problem) String() string { return p.Where + ": " + p.What }

// Dashboard is the part of a dashboard's JSON the checks read.
type Dashboard struct {
	UID           string   `json:"uid"`
	Title         string   `json:"title"`
	SchemaVersion int      `json:"schemaVersion"`
	Tags          []string `json:"tags"`
	Panels        []Panel  `json:"panels"`
	Templating    struct {
		List []Variable `json:"list"`
	} `json:"templating"`
}

// Panel is a panel or a row; a collapsed row holds its panels.
type Panel struct {
	ID          *int            `json:"id"`
	Type        string          `json:"type"`
	Title       string          `json:"title"`
	Description string          `json:"description"`
	Datasource  *DatasourceRef  `json:"datasource"`
	GridPos     *GridPos        `json:"gridPos"`
	Targets     []Target        `json:"targets"`
	FieldConfig json.RawMessage `json:"fieldConfig"`
	Options     json.RawMessage `json:"options"`
	Interval    string          `json:"interval"`
	TimeFrom    string          `json:"timeFrom"`
	Panels      []Panel         `json:"panels"`
}

// GridPos is a panel's place on the grid.
type GridPos struct {
	X, Y, W, H int
}

// Target is one query of a panel.
type Target struct {
	RefID      string         `json:"refId"`
	Expr       string         `json:"expr"`
	Instant    bool           `json:"instant"`
	Format     string         `json:"format"`
	Datasource *DatasourceRef `json:"datasource"`
}

// DatasourceRef references a datasource by type and uid.
type DatasourceRef struct {
	Type string `json:"type"`
	UID  string `json:"uid"`
}

// Variable is a template variable.
type Variable struct {
	Type       string          `json:"type"`
	Name       string          `json:"name"`
	Query      json.RawMessage `json:"query"`
	Multi      bool            `json:"multi"`
	IncludeAll bool            `json:"includeAll"`
	AllValue   string          `json:"allValue"`
	Datasource *DatasourceRef  `json:"datasource"`
	Current    struct {
		Value json.RawMessage `json:"value"`
	} `json:"current"`
}

// multiValue reports whether the variable can hold several values, which
// Grafana joins into a regex alternation.
func (v Variable) multiValue() bool { return v.Multi || v.IncludeAll }

// Parse decodes a dashboard's JSON.
func Parse(data []byte) (Dashboard, error) {
	var d Dashboard
	if err := json.Unmarshal(data, &d); err != nil {
		return Dashboard{}, fmt.Errorf("decode dashboard: %w", err)
	}
	return d, nil
}

// Config is what the checks compare against.
type Config struct {
	// Metrics resolves the metric names queries may select.
	Metrics Metrics
	// DatasourceUID is the provisioned datasource's uid; DatasourceVariable
	// the name of the datasource variable. Panels and queries must use one of
	// them.
	DatasourceUID      string
	DatasourceVariable string
	// MinSchemaVersion and MaxSchemaVersion bound the schemaVersion the
	// pinned Grafana loads.
	MinSchemaVersion, MaxSchemaVersion int
}

func (c Config) datasourceAllowed(ref *DatasourceRef) bool {
	if ref == nil || ref.Type != "prometheus" {
		return false
	}
	v := c.DatasourceVariable
	return ref.UID == c.DatasourceUID || ref.UID == "$"+v || ref.UID == "${"+v+"}"
}

// Kind is what a selected series is, for the functions applied to it.
type Kind int

// The kinds of series.
const (
	Gauge Kind = iota
	Counter
	Histogram // the family's base name; queries select _bucket, _sum, _count
)

// Metrics maps metric family names to their kind.
type Metrics map[string]Kind

var histogramSuffixes = []string{"_bucket", "_sum", "_count"}

// resolve returns the kind of a selected name and whether rate and increase
// apply to it (counters and histogram series).
func (m Metrics) resolve(name string) (counterLike bool, err error) {
	if k, ok := m[name]; ok {
		if k == Histogram {
			return false, fmt.Errorf("histogram %s selected without _bucket, _sum or _count: it selects nothing", name)
		}
		return k == Counter, nil
	}
	for _, suf := range histogramSuffixes {
		if base, ok := strings.CutSuffix(name, suf); ok {
			if k, known := m[base]; known && k == Histogram {
				return true, nil
			}
		}
	}
	return false, fmt.Errorf("metric %s is not in the catalog", name)
}

// Sentinel windows: the structural pass substitutes these for Grafana's
// interval variables so the parsed range tells which variable was written.
const (
	rateIntervalSentinel = 1234 * time.Second
	rangeSentinel        = 4321 * time.Second
)

// Values Grafana would substitute, for the realistic pass.
var realistic = map[string]string{
	"__rate_interval":    "1m",
	"__interval":         "15s",
	"__range":            "24h",
	"__range_s":          "86400",
	"__range_ms":         "86400000",
	"__interval_ms":      "15000",
	"__rate_interval_ms": "60000",
}

var structural = map[string]string{
	"__rate_interval": fmt.Sprintf("%ds", int(rateIntervalSentinel.Seconds())),
	"__range":         fmt.Sprintf("%ds", int(rangeSentinel.Seconds())),
}

// varRef matches $name, ${name}, ${name:format} and [[name]].
var varRef = regexp.MustCompile(`\$\{(\w+)(?::[^}]*)?\}|\$(\w+)|\[\[(\w+)(?::[^\]]*)?\]\]`)

// placeholder stands for a template variable in the structural pass; it is
// a plain word, valid inside a string literal and as a label value.
func placeholder(name string) string { return "grafanavar" + name + "x" }

// substitute replaces Grafana's variables in expr. In the structural pass
// template variables become placeholders and interval variables sentinels;
// in the realistic pass they become values Grafana would send: a regex
// alternation for multi-value variables.
func substitute(expr string, vars map[string]Variable, isStructural bool) (string, []string) {
	var unknown []string
	out := varRef.ReplaceAllStringFunc(expr, func(ref string) string {
		m := varRef.FindStringSubmatch(ref)
		name := m[1] + m[2] + m[3]
		if isStructural {
			if v, ok := structural[name]; ok {
				return v
			}
		}
		if v, ok := realistic[name]; ok {
			return v
		}
		v, ok := vars[name]
		if !ok {
			unknown = append(unknown, name)
			return ref
		}
		switch {
		case isStructural:
			return placeholder(name)
		case v.multiValue():
			// Grafana regex-escapes each value and joins them with |; inside
			// a PromQL string the escaping backslash is doubled.
			return `node\\.1|node-2`
		default:
			return "node.1"
		}
	})
	return out, unknown
}

var (
	promParser = parser.NewParser(parser.Options{})
	counterFns = []string{"rate", "irate", "increase"}
	gaugeFns   = []string{"deriv", "delta", "idelta", "predict_linear"}
)

// CheckExpr checks one query expression of a dashboard with the given
// variables; instant tells whether it is an instant query.
func CheckExpr(expr string, instant bool, vars map[string]Variable, metrics Metrics) []string {
	if strings.TrimSpace(expr) == "" {
		return []string{"empty expression"}
	}
	var problems []string
	real, unknown := substitute(expr, vars, false)
	for _, u := range unknown {
		problems = append(problems, fmt.Sprintf("uses $%s, which is no variable of the dashboard", u))
	}
	if _, err := promParser.ParseExpr(real); err != nil {
		return append(problems, fmt.Sprintf("does not parse as Grafana sends it (%s): %v", real, err))
	}
	structuralExpr, _ := substitute(expr, vars, true)
	ast, err := promParser.ParseExpr(structuralExpr)
	if err != nil {
		return append(problems, fmt.Sprintf("does not parse: %v", err))
	}
	parser.Inspect(ast, func(node parser.Node, path []parser.Node) error {
		switch n := node.(type) {
		case *parser.VectorSelector:
			problems = append(problems, checkSelector(n, vars, metrics)...)
		case *parser.MatrixSelector:
			problems = append(problems, checkWindow(n, path, instant)...)
		case *parser.SubqueryExpr:
			problems = append(problems, "subquery: its range and step are not $__rate_interval; use a recording rule")
		case *parser.Call:
			problems = append(problems, checkCall(n, metrics)...)
		case *parser.BinaryExpr:
			if n.Op == parser.DIV && !promexpr.GuardedDenominator(n.RHS) {
				problems = append(problems, fmt.Sprintf("division by %s, which can be 0: guard it, e.g. (... > 0)", n.RHS))
			}
		}
		return nil
	})
	return problems
}

func checkSelector(vs *parser.VectorSelector, vars map[string]Variable, metrics Metrics) []string {
	var problems []string
	name := promexpr.SelectorName(vs)
	if name == "" {
		problems = append(problems, fmt.Sprintf("selector %s names no metric", vs))
	} else if _, err := metrics.resolve(name); err != nil {
		problems = append(problems, err.Error())
	}
	for _, m := range vs.LabelMatchers {
		for vname, v := range vars {
			if !v.multiValue() || !strings.Contains(m.Value, placeholder(vname)) {
				continue
			}
			if m.Type != labels.MatchRegexp && m.Type != labels.MatchNotRegexp {
				problems = append(problems, fmt.Sprintf("%s %s \"$%s\": $%s can hold several values (a|b), match it with =~ (R33)", m.Name, m.Type, vname, vname))
			}
		}
	}
	return problems
}

func checkWindow(ms *parser.MatrixSelector, path []parser.Node, instant bool) []string {
	switch ms.Range {
	case rateIntervalSentinel:
		return nil
	case rangeSentinel:
		if call := parentCall(path); call == "increase" && instant {
			return nil
		}
		return []string{fmt.Sprintf("%s: [$__range] only in increase() of an instant query (a total over the panel's range)", ms)}
	}
	return []string{fmt.Sprintf("%s: range window is not [$__rate_interval] (R32)", ms)}
}

// parentCall names the function whose argument the last node of path is.
func parentCall(path []parser.Node) string {
	for i := len(path) - 1; i >= 0; i-- {
		switch p := path[i].(type) {
		case *parser.Call:
			return p.Func.Name
		case parser.Expressions, *parser.ParenExpr:
			continue
		default:
			return ""
		}
	}
	return ""
}

func checkCall(call *parser.Call, metrics Metrics) []string {
	var problems []string
	fn := call.Func.Name
	for _, vs := range promexpr.Selectors(call.Args) {
		counterLike, err := metrics.resolve(promexpr.SelectorName(vs))
		if err != nil {
			continue // reported at the selector
		}
		if slices.Contains(counterFns, fn) && !counterLike {
			problems = append(problems, fmt.Sprintf("%s() on %s, a gauge: only counters and histogram _bucket/_sum/_count (R16)", fn, vs.Name))
		}
		if slices.Contains(gaugeFns, fn) && counterLike {
			problems = append(problems, fmt.Sprintf("%s() on %s, a counter: use rate() or increase(), which handle resets (R17)", fn, vs.Name))
		}
	}
	if fn == "histogram_quantile" && len(call.Args) == 2 {
		agg, ok := promexpr.Unparen(call.Args[1]).(*parser.AggregateExpr)
		if !ok || agg.Without || !slices.Contains(agg.Grouping, "le") {
			problems = append(problems, "histogram_quantile() over an aggregation that does not keep le: use sum by (le) (rate(x_bucket[$__rate_interval])) (R34)")
		}
	}
	return problems
}

// labelValuesQuery matches a variable query label_values(selector, label).
var labelValuesQuery = regexp.MustCompile(`^\s*label_values\((.+),\s*(\w+)\s*\)\s*$`)

// variableQuery returns the query string of a query variable.
func variableQuery(v Variable) string {
	var s string
	if err := json.Unmarshal(v.Query, &s); err == nil {
		return s
	}
	var obj struct {
		Query string `json:"query"`
	}
	_ = json.Unmarshal(v.Query, &obj)
	return obj.Query
}

// Queries checks every query and every variable of d.
func Queries(d Dashboard, cfg Config) []Problem {
	var problems []Problem
	vars := map[string]Variable{}
	for _, v := range d.Templating.List {
		vars[v.Name] = v
	}
	for _, v := range d.Templating.List {
		where := fmt.Sprintf("%s variable $%s", d.UID, v.Name)
		add := func(format string, a ...any) {
			problems = append(problems, Problem{where, fmt.Sprintf(format, a...)})
		}
		switch v.Type {
		case "datasource":
			if q := variableQuery(v); q != "prometheus" {
				add("datasource variable of type %q, want prometheus", q)
			}
			var current string
			_ = json.Unmarshal(v.Current.Value, &current)
			if current != cfg.DatasourceUID {
				add("defaults to %q, want the provisioned datasource %q (R28)", current, cfg.DatasourceUID)
			}
		case "query":
			if !cfg.datasourceAllowed(v.Datasource) {
				add("queries datasource %+v, want the datasource variable or %q", v.Datasource, cfg.DatasourceUID)
			}
			if v.IncludeAll && v.AllValue != "" && v.AllValue != ".*" {
				add("All sends %q: use .* (R33)", v.AllValue)
			}
			q := variableQuery(v)
			m := labelValuesQuery.FindStringSubmatch(q)
			if m == nil {
				add("query %q is not label_values(selector, label)", q)
				continue
			}
			for _, p := range CheckExpr(m[1], true, vars, cfg.Metrics) {
				add("label_values selector %s: %s", m[1], p)
			}
		}
	}
	if _, ok := vars[cfg.DatasourceVariable]; !ok {
		problems = append(problems, Problem{d.UID, fmt.Sprintf("no $%s variable", cfg.DatasourceVariable)})
	}
	forEachPanel(d.Panels, func(p Panel) {
		if p.Type == "row" {
			return
		}
		for _, t := range p.Targets {
			where := fmt.Sprintf("%s panel %d %q query %s", d.UID, deref(p.ID), p.Title, t.RefID)
			if !cfg.datasourceAllowed(t.Datasource) {
				problems = append(problems, Problem{where, fmt.Sprintf("datasource %+v: want the datasource variable or %q (R28)", t.Datasource, cfg.DatasourceUID)})
			}
			for _, msg := range CheckExpr(t.Expr, t.Instant, vars, cfg.Metrics) {
				problems = append(problems, Problem{where, fmt.Sprintf("%s: %s", t.Expr, msg)})
			}
		}
	})
	return problems
}

// unitPanels are the panel types whose value needs a unit in
// fieldConfig.defaults.unit.
var unitPanels = []string{"timeseries", "stat", "gauge", "bargauge"}

// Layout checks panel ids, positions, overlaps, descriptions, units,
// datasources and fieldConfig (R31).
func Layout(d Dashboard, cfg Config) []Problem {
	var problems []Problem
	ids := map[int]string{}
	type placed struct {
		title string
		pos   GridPos
	}
	var top []placed
	titles := map[string]bool{}
	check := func(p Panel, nested bool) {
		where := fmt.Sprintf("%s panel %q", d.UID, p.Title)
		add := func(format string, a ...any) {
			problems = append(problems, Problem{where, fmt.Sprintf(format, a...)})
		}
		switch {
		case p.ID == nil || *p.ID <= 0:
			add("no positive integer id")
		case ids[*p.ID] != "":
			add("id %d already used by %q", *p.ID, ids[*p.ID])
		default:
			ids[*p.ID] = p.Title
		}
		if p.GridPos == nil {
			add("no gridPos")
		} else {
			g := *p.GridPos
			if g.W < 1 || g.H < 1 || g.X < 0 || g.Y < 0 || g.X+g.W > 24 {
				add("gridPos %+v is not inside the 24-column grid", g)
			}
			if !nested {
				for _, o := range top {
					if overlap(g, o.pos) {
						add("overlaps %q (%+v and %+v)", o.title, g, o.pos)
					}
				}
				top = append(top, placed{p.Title, g})
			}
		}
		if p.Type == "row" {
			return
		}
		if strings.TrimSpace(p.Title) == "" {
			add("no title")
		} else if titles[p.Title] {
			add("another panel has the same title")
		}
		titles[p.Title] = true
		if strings.TrimSpace(p.Description) == "" {
			add("no description")
		}
		if !cfg.datasourceAllowed(p.Datasource) {
			add("datasource %+v: want the datasource variable or %q (R28)", p.Datasource, cfg.DatasourceUID)
		}
		if len(p.Targets) == 0 {
			add("no query")
		}
		var fc struct {
			Defaults struct {
				Unit string `json:"unit"`
			} `json:"defaults"`
			Overrides json.RawMessage `json:"overrides"`
		}
		if len(p.FieldConfig) == 0 || json.Unmarshal(p.FieldConfig, &fc) != nil {
			add("no fieldConfig object")
		} else if o := strings.TrimSpace(string(fc.Overrides)); !strings.HasPrefix(o, "[") {
			add("fieldConfig.overrides is %q, want an array (R31)", o)
		}
		if slices.Contains(unitPanels, p.Type) && fc.Defaults.Unit == "" {
			add("no unit")
		}
		if p.Type == "heatmap" {
			var opts struct {
				YAxis struct {
					Unit string `json:"unit"`
				} `json:"yAxis"`
			}
			if json.Unmarshal(p.Options, &opts) != nil || opts.YAxis.Unit == "" {
				add("heatmap without a y-axis unit")
			}
		}
	}
	for _, p := range d.Panels {
		check(p, false)
		for _, inner := range p.Panels {
			check(inner, true)
		}
	}
	return problems
}

func overlap(a, b GridPos) bool {
	return a.X < b.X+b.W && b.X < a.X+a.W && a.Y < b.Y+b.H && b.Y < a.Y+a.H
}

// uidPattern is what Grafana accepts as a dashboard uid.
var uidPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,40}$`)

// Portability checks the raw file: plain dashboard JSON that file
// provisioning and the Helm sidecar load as is, on any Grafana.
func Portability(name string, raw []byte, cfg Config) []Problem {
	var problems []Problem
	add := func(format string, a ...any) {
		problems = append(problems, Problem{name, fmt.Sprintf(format, a...)})
	}
	if strings.Contains(string(raw), "${DS_") {
		add("holds a ${DS_…} placeholder: import-only, file provisioning cannot resolve it")
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(raw, &top); err != nil {
		add("not a JSON object: %v", err)
		return problems
	}
	if _, ok := top["__inputs"]; ok {
		add("has __inputs: an export for import, not a provisioning file")
	}
	if id, ok := top["id"]; ok && string(id) != "null" {
		add("has top-level id %s: ids belong to one Grafana instance", id)
	}
	for _, k := range []string{"elements", "layout"} {
		if _, ok := top[k]; ok {
			add("has %q: a v2 dashboard, file provisioning of v1 rejects it (R31)", k)
		}
	}
	if p, ok := top["panels"]; !ok || !strings.HasPrefix(strings.TrimSpace(string(p)), "[") {
		add("no top-level panels array (R31)")
	}
	var head struct {
		UID           string `json:"uid"`
		SchemaVersion *int   `json:"schemaVersion"`
	}
	_ = json.Unmarshal(raw, &head)
	if !uidPattern.MatchString(head.UID) {
		add("uid %q does not match %s", head.UID, uidPattern)
	}
	switch {
	case head.SchemaVersion == nil:
		add("no schemaVersion")
	case *head.SchemaVersion < cfg.MinSchemaVersion || *head.SchemaVersion > cfg.MaxSchemaVersion:
		add("schemaVersion %d: the pinned Grafana loads %d to %d", *head.SchemaVersion, cfg.MinSchemaVersion, cfg.MaxSchemaVersion)
	}
	return problems
}

// LinkedUIDs returns the dashboard uids that links in raw point to
// (/d/<uid> in any "url"), with the URLs.
func LinkedUIDs(raw []byte) (map[string][]string, error) {
	var doc any
	if err := json.Unmarshal(raw, &doc); err != nil {
		return nil, err
	}
	out := map[string][]string{}
	var walk func(v any)
	walk = func(v any) {
		switch t := v.(type) {
		case map[string]any:
			for k, val := range t {
				if s, ok := val.(string); ok && k == "url" {
					if rest, ok := strings.CutPrefix(s, "/d/"); ok {
						uid := rest
						if i := strings.IndexAny(uid, "/?"); i >= 0 {
							uid = uid[:i]
						}
						out[uid] = append(out[uid], s)
					}
				}
				walk(val)
			}
		case []any:
			for _, val := range t {
				walk(val)
			}
		}
	}
	walk(doc)
	return out, nil
}

func forEachPanel(panels []Panel, f func(Panel)) {
	for _, p := range panels {
		f(p)
		forEachPanel(p.Panels, f)
	}
}

func deref(p *int) int {
	if p == nil {
		return 0
	}
	return *p
}
