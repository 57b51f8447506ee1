// Package promexpr holds the small PromQL syntax-tree questions that the
// rule checks (alerting/rulelint), the dashboard lint (dashboards/lint) and
// the metrics documentation test all ask.
package promexpr

import (
	"slices"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"
)

// SelectorName is the metric name a selector selects, from its name or an
// equality matcher on __name__; "" when it selects by other labels only.
func SelectorName(vs *parser.VectorSelector) string {
	if vs.Name != "" {
		return vs.Name
	}
	for _, m := range vs.LabelMatchers {
		if m.Name == labels.MetricName && m.Type == labels.MatchEqual {
			return m.Value
		}
	}
	return ""
}

// Selectors returns every vector selector below n.
func Selectors(n parser.Node) []*parser.VectorSelector {
	var out []*parser.VectorSelector
	parser.Inspect(n, func(node parser.Node, _ []parser.Node) error {
		if vs, ok := node.(*parser.VectorSelector); ok {
			out = append(out, vs)
		}
		return nil
	})
	return out
}

// Unparen strips parentheses around e.
func Unparen(e parser.Expr) parser.Expr {
	for {
		p, ok := e.(*parser.ParenExpr)
		if !ok {
			return e
		}
		e = p.Expr
	}
}

// GuardedDenominator reports whether a divisor cannot be 0: a non-zero
// constant, or a comparison filter such as "> 0", which drops zero samples
// so the ratio has no sample instead of NaN or +Inf (FAILURES.md R18).
// clamp_min does not count: it invents a denominator for quiet periods.
func GuardedDenominator(e parser.Expr) bool {
	switch d := Unparen(e).(type) {
	case *parser.NumberLiteral:
		return d.Val != 0
	case *parser.BinaryExpr:
		return d.Op.IsComparisonOperator() && !d.ReturnBool
	}
	return false
}

// KeepsLe reports whether an aggregation keeps the le label that
// histogram_quantile needs (FAILURES.md R34).
func KeepsLe(e parser.Expr) bool {
	agg, ok := Unparen(e).(*parser.AggregateExpr)
	if !ok {
		return false
	}
	return slices.Contains(agg.Grouping, "le") != agg.Without
}
