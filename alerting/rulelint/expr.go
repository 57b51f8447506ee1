package rulelint

import (
	"fmt"
	"github.com/cretoai/monitor/prometheus/promexpr"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/promql/parser"

	"github.com/cretoai/monitor/service/catalog"
)

// promParser parses PromQL as Prometheus v3.16.0 does by default: no
// experimental functions.
var promParser = parser.NewParser(parser.Options{})

var (
	// counterFns read a counter's increase and handle its resets; they are
	// meaningless on gauges (FAILURES.md R16).
	counterFns = map[string]bool{"rate": true, "irate": true, "increase": true, "resets": true}
	// gaugeFns read a gauge's change and do not know about counter resets
	// (FAILURES.md R17).
	gaugeFns = map[string]bool{"deriv": true, "delta": true, "idelta": true, "predict_linear": true, "double_exponential_smoothing": true}
	// unstableAggregations pick a changing subset of series, so an alert
	// built on them flaps (FAILURES.md R20).
	unstableAggregations = map[parser.ItemType]bool{parser.TOPK: true, parser.BOTTOMK: true, parser.LIMITK: true, parser.LIMIT_RATIO: true}
)

var histogramSuffixes = []string{"_bucket", "_sum", "_count"}

// series is what a selected metric name resolves to.
type series struct {
	name     string
	typ      catalog.Type
	recorded bool
	suffix   string // _bucket, _sum or _count of a histogram
}

// counterLike reports whether rate, irate and increase apply: counters and
// the cumulative series of a classic histogram.
func (s series) counterLike() bool {
	return s.typ == catalog.Counter || (s.typ == catalog.Histogram && s.suffix != "")
}

// resolve maps a selected metric name to the catalog. up is Prometheus's own
// gauge; recording rules count as gauges (what they store is already a rate,
// a ratio or a quantile). A histogram is selected through one of its suffixes.
func (c *Config) resolve(name string) (series, error) {
	if name == "up" {
		return series{name: name, typ: catalog.Gauge}, nil
	}
	if c.Recorded[name] {
		return series{name: name, typ: catalog.Gauge, recorded: true}, nil
	}
	if t, ok := c.External[name]; ok {
		return series{name: name, typ: t}, nil
	}
	if m, ok := catalog.Lookup(name); ok {
		if m.Type == catalog.Histogram {
			return series{}, fmt.Errorf("histogram %s selected without _bucket, _sum or _count: it selects nothing", name)
		}
		return series{name: name, typ: m.Type}, nil
	}
	for _, suf := range histogramSuffixes {
		if base, ok := strings.CutSuffix(name, suf); ok {
			if m, ok := catalog.Lookup(base); ok && m.Type == catalog.Histogram {
				return series{name: name, typ: m.Type, suffix: suf}, nil
			}
		}
	}
	return series{}, fmt.Errorf("metric %s is not in the catalog (service/catalog) nor a recording rule", name)
}

// parent returns the nearest ancestor in path that is not a parenthesis, and
// the one above it.
func parent(path []parser.Node) (p, grand parser.Node) {
	var found []parser.Node
	for i := len(path) - 1; i >= 0 && len(found) < 2; i-- {
		if _, ok := path[i].(*parser.ParenExpr); ok {
			continue
		}
		found = append(found, path[i])
	}
	for len(found) < 2 {
		found = append(found, nil)
	}
	return found[0], found[1]
}

// rawCounterAllowed reports whether a counter selector with these ancestors
// is used in a way that survives counter resets: inside rate, irate,
// increase or resets, inside absent(), or as the right-hand side of and /
// unless, where only its presence counts.
func rawCounterAllowed(vs *parser.VectorSelector, path []parser.Node) bool {
	p, grand := parent(path)
	switch n := p.(type) {
	case *parser.MatrixSelector:
		call, ok := grand.(*parser.Call)
		return ok && counterFns[call.Func.Name]
	case *parser.Call:
		return n.Func.Name == "absent"
	case *parser.BinaryExpr:
		if n.Op != parser.LAND && n.Op != parser.LUNLESS {
			return false
		}
		return slices.ContainsFunc(promexpr.Selectors(n.RHS), func(s *parser.VectorSelector) bool { return s == vs })
	}
	return false
}

// CheckExpr returns what is wrong with one PromQL expression, as written in a
// rule, a runbook or a dashboard: it does not parse; it selects a metric that
// is neither in the catalog nor recorded; it applies rate/irate/increase to a
// gauge (R16), deriv/delta/idelta to a counter, or uses a counter's raw value
// (R17); a range window is shorter than four scrape intervals (R22); a
// division can divide by zero (R18); or a quantile loses le (R34).
func (c *Config) CheckExpr(expr string) []string {
	e, err := promParser.ParseExpr(expr)
	if err != nil {
		return []string{"does not parse: " + err.Error()}
	}
	return c.checkParsed(e)
}

func (c *Config) checkParsed(expr parser.Expr) []string {
	var problems []string
	add := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	minWindow := 4 * c.ScrapeInterval
	parser.Inspect(expr, func(node parser.Node, path []parser.Node) error {
		switch n := node.(type) {
		case *parser.VectorSelector:
			name := promexpr.SelectorName(n)
			if name == "" {
				add("selector %s names no metric", n)
				return nil
			}
			s, err := c.resolve(name)
			if err != nil {
				add("%v", err)
				return nil
			}
			if s.counterLike() && !rawCounterAllowed(n, path) {
				add("counter %s used by its raw value: it jumps back to 0 on a reset; use rate() or increase()", name)
			}
		case *parser.MatrixSelector:
			if n.Range < minWindow {
				add("range [%s] is shorter than 4 scrape intervals (%s): the window may hold fewer than 2 samples", dur(n.Range), dur(minWindow))
			}
		case *parser.SubqueryExpr:
			if n.Range < minWindow {
				add("subquery range [%s] is shorter than 4 scrape intervals (%s)", dur(n.Range), dur(minWindow))
			}
		case *parser.Call:
			fn := n.Func.Name
			for _, vs := range promexpr.Selectors(n.Args) {
				s, err := c.resolve(promexpr.SelectorName(vs))
				if err != nil {
					continue // reported at the selector
				}
				if counterFns[fn] && !s.counterLike() {
					kind := string(s.typ)
					if s.recorded {
						kind = "recorded series"
					}
					add("%s() on %s, a %s: only counters and histogram _bucket/_sum/_count", fn, s.name, kind)
				}
				if gaugeFns[fn] && s.counterLike() {
					add("%s() on %s, a counter series: use rate() or increase(), which handle resets", fn, s.name)
				}
			}
			if fn == "histogram_quantile" && len(n.Args) == 2 && !promexpr.KeepsLe(n.Args[1]) {
				add("histogram_quantile() over an aggregation that does not keep le: use sum by (le) (rate(x_bucket[w]))")
			}
		case *parser.BinaryExpr:
			if n.Op == parser.DIV && !promexpr.GuardedDenominator(n.RHS) {
				add("division by %s, which can be 0: guard it so quiet periods give no sample, e.g. (... > 0)", n.RHS)
			}
		}
		return nil
	})
	return problems
}

// checkAlertExpr adds the checks for alert expressions: no aggregation that
// picks a changing subset of series (R20).
func (c *Config) checkAlertExpr(expr parser.Expr) []string {
	problems := c.checkParsed(expr)
	parser.Inspect(expr, func(node parser.Node, _ []parser.Node) error {
		if agg, ok := node.(*parser.AggregateExpr); ok && unstableAggregations[agg.Op] {
			problems = append(problems, fmt.Sprintf("%s in an alert: the selected series change between evaluations and the alert flaps", agg.Op))
		}
		return nil
	})
	return problems
}

// numbers returns the absolute values of the number literals of expr.
func numbers(expr parser.Expr) []float64 {
	var out []float64
	parser.Inspect(expr, func(node parser.Node, _ []parser.Node) error {
		if n, ok := node.(*parser.NumberLiteral); ok && !n.Duration {
			out = append(out, math.Abs(n.Val))
		}
		return nil
	})
	return out
}

// dur formats a duration the way Prometheus writes it (1m, not 1m0s).
func dur(d time.Duration) string {
	return model.Duration(d).String()
}
