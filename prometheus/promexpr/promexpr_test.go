package promexpr

import (
	"testing"

	"github.com/prometheus/prometheus/promql/parser"
)

func mustParse(t *testing.T, s string) parser.Expr {
	t.Helper()
	e, err := parser.NewParser(parser.Options{}).ParseExpr(s)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func TestGuardedDenominator(t *testing.T) {
	for expr, want := range map[string]bool{
		`a / (b > 0)`: true, `a / 2`: true, `a / clamp_min(b, 1)`: false,
		`a / b`: false, `a / 0`: false, `a / (b > bool 0)`: false, `a / ((b))`: false,
	} {
		div := mustParse(t, expr).(*parser.BinaryExpr)
		if got := GuardedDenominator(div.RHS); got != want {
			t.Errorf("%s: guarded = %v, want %v", expr, got, want)
		}
	}
}

func TestKeepsLe(t *testing.T) {
	for expr, want := range map[string]bool{
		`sum by (le) (rate(x_bucket[5m]))`: true, `sum by (le, route) (x)`: true, `sum without (route) (x)`: true,
		`sum(x)`: false, `sum without (le) (x)`: false, `x`: false,
	} {
		if got := KeepsLe(mustParse(t, expr)); got != want {
			t.Errorf("%s: keeps le = %v, want %v", expr, got, want)
		}
	}
}

func TestSelectors(t *testing.T) {
	e := mustParse(t, `sum(rate(a_total[5m])) / ({__name__="b"} > 0) + on() group_left {job="x"}`)
	var names []string
	for _, vs := range Selectors(e) {
		names = append(names, SelectorName(vs))
	}
	if len(names) != 3 || names[0] != "a_total" || names[1] != "b" || names[2] != "" {
		t.Errorf("selector names %q", names)
	}
}
