// Package docs holds the service's operator documentation. Its test keeps
// METRICS.md honest: every example query parses with the real PromQL parser
// and selects only catalogued metrics with functions that fit their types,
// every catalogued metric is documented with its type, labels, unit and
// series per node, and the numbers the document states about buckets and
// cardinality are the numbers the code produces.
package docs

import (
	"context"
	"fmt"
	"github.com/cretoai/monitor/prometheus/promexpr"
	"go/ast"
	goparser "go/parser"
	"go/token"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/prometheus/promql/parser"

	"github.com/cretoai/monitor/service/catalog"
	"github.com/cretoai/monitor/service/internal/ledger"
	"github.com/cretoai/monitor/service/internal/metrics"
	"github.com/cretoai/monitor/service/internal/reputation"
	"github.com/cretoai/monitor/service/internal/store"
)

const docFile = "METRICS.md"

// maxSeriesPerNode is the budget of series one tracked node may add.
const maxSeriesPerNode = 25

// seedHelpers are the 18 helper functions of the seed's metrics module; the
// document maps each one to the Go API.
var seedHelpers = []string{
	"register_metrics", "update_reputation_metrics", "update_node_reputation_score",
	"record_reputation_violation", "record_reputation_event", "record_reputation_decay",
	"update_stake_metrics", "update_node_stake", "record_stake_deposit",
	"record_stake_slashing", "record_stake_withdrawal", "update_active_deposits",
	"update_reward_metrics", "record_reward_distribution", "record_uptime_bonus",
	"update_pending_rewards", "record_node_total_rewards", "record_reward_failure",
}

func readDoc(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(docFile)
	if err != nil {
		t.Fatalf("read %s: %v", docFile, err)
	}
	return string(b)
}

// report fails t with every problem, one per line.
func report(t *testing.T, what string, problems []string) {
	t.Helper()
	if len(problems) > 0 {
		t.Errorf("%s: %d problem(s):\n  %s", what, len(problems), strings.Join(problems, "\n  "))
	}
}

// ---------------------------------------------------------------------------
// Example queries

// query is one line of a ```promql block.
type query struct {
	line int // 1-based line in the document
	text string
}

// promqlQueries returns every non-blank, non-comment line of every ```promql
// block of doc. An unterminated block is returned as far as it goes.
func promqlQueries(doc string) []query {
	var out []query
	in := false
	for i, l := range strings.Split(doc, "\n") {
		trimmed := strings.TrimSpace(l)
		switch {
		case !in && trimmed == "```promql":
			in = true
		case in && strings.HasPrefix(trimmed, "```"):
			in = false
		case in && trimmed != "" && !strings.HasPrefix(trimmed, "#"):
			out = append(out, query{line: i + 1, text: trimmed})
		}
	}
	return out
}

// series is what a selected metric name resolves to.
type series struct {
	metric catalog.Metric
	suffix string // _bucket, _sum or _count of a histogram; "" otherwise
}

// counterLike reports whether rate, irate and increase apply: counters and
// the cumulative series of a classic histogram.
func (s series) counterLike() bool {
	return s.metric.Type == catalog.Counter || (s.metric.Type == catalog.Histogram && s.suffix != "")
}

var histogramSuffixes = []string{"_bucket", "_sum", "_count"}

// resolve maps a selected metric name to the catalog. up is Prometheus's own
// gauge. A histogram must be selected through one of its series suffixes.
func resolve(name string) (series, error) {
	if name == "up" {
		return series{metric: catalog.Metric{Name: "up", Type: catalog.Gauge}}, nil
	}
	if m, ok := catalog.Lookup(name); ok {
		if m.Type == catalog.Histogram {
			return series{}, fmt.Errorf("histogram %s selected without _bucket, _sum or _count: it selects nothing", name)
		}
		return series{metric: m}, nil
	}
	for _, suf := range histogramSuffixes {
		if base, ok := strings.CutSuffix(name, suf); ok {
			if m, ok := catalog.Lookup(base); ok && m.Type == catalog.Histogram {
				return series{metric: m, suffix: suf}, nil
			}
		}
	}
	return series{}, fmt.Errorf("metric %s is not in the catalog", name)
}

var (
	promParser = parser.NewParser(parser.Options{})
	counterFns = map[string]bool{"rate": true, "irate": true, "increase": true}
	gaugeFns   = map[string]bool{"deriv": true, "delta": true, "idelta": true}
)

// checkQuery returns what is wrong with one query: it does not parse, it
// selects a metric outside the catalog, it applies a counter function to a
// gauge or a gauge function to a counter, it divides by an unguarded
// denominator, or it takes a quantile of a histogram without keeping le.
func checkQuery(q string) []string {
	expr, err := promParser.ParseExpr(q)
	if err != nil {
		return []string{"does not parse: " + err.Error()}
	}
	var problems []string
	parser.Inspect(expr, func(node parser.Node, _ []parser.Node) error {
		switch n := node.(type) {
		case *parser.VectorSelector:
			name := promexpr.SelectorName(n)
			if name == "" {
				problems = append(problems, fmt.Sprintf("selector %s names no metric", n))
			} else if _, err := resolve(name); err != nil {
				problems = append(problems, err.Error())
			}
		case *parser.Call:
			fn := n.Func.Name
			for _, vs := range promexpr.Selectors(n.Args) {
				s, err := resolve(promexpr.SelectorName(vs))
				if err != nil {
					continue // reported at the selector
				}
				if counterFns[fn] && !s.counterLike() {
					problems = append(problems, fmt.Sprintf("%s() on %s, a %s: only counters and histogram _bucket/_sum/_count", fn, vs.Name, s.metric.Type))
				}
				if gaugeFns[fn] && s.counterLike() {
					problems = append(problems, fmt.Sprintf("%s() on %s, a counter series: use rate() or increase(), which handle resets", fn, vs.Name))
				}
			}
			if fn == "histogram_quantile" && len(n.Args) == 2 {
				agg, ok := promexpr.Unparen(n.Args[1]).(*parser.AggregateExpr)
				if !ok || agg.Without || !slices.Contains(agg.Grouping, "le") {
					problems = append(problems, "histogram_quantile() over an aggregation that does not keep le: use sum by (le) (rate(x_bucket[w]))")
				}
			}
		case *parser.BinaryExpr:
			if n.Op == parser.DIV && !promexpr.GuardedDenominator(n.RHS) {
				problems = append(problems, fmt.Sprintf("division by %s, which can be 0: guard it, e.g. (... > 0)", n.RHS))
			}
		}
		return nil
	})
	return problems
}

// checkQueries checks every query of doc.
func checkQueries(doc string) []string {
	var problems []string
	qs := promqlQueries(doc)
	for _, q := range qs {
		for _, p := range checkQuery(q.text) {
			problems = append(problems, fmt.Sprintf("line %d: %s: %s", q.line, q.text, p))
		}
	}
	return problems
}

// ---------------------------------------------------------------------------
// Tables

// tableRows returns the cells of every table row that starts with "| `".
func tableRows(doc string) [][]string {
	var rows [][]string
	for _, l := range strings.Split(doc, "\n") {
		if !strings.HasPrefix(l, "| `") {
			continue
		}
		l = strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(l), "|"), "|")
		cells := strings.Split(l, "|")
		for i := range cells {
			cells[i] = strings.TrimSpace(cells[i])
		}
		rows = append(rows, cells)
	}
	return rows
}

// The columns of a metric table: | metric | type | labels | unit | series
// per node | seed name | meaning |.
const (
	colName = iota
	colType
	colLabels
	colUnit
	colPerNode
	colSeed
	colMeaning
	metricCols
)

// labelFanOut is how many values each non-node label takes in a per-node
// family: the closed sets of the book.
func labelFanOut(label string) (int, bool) {
	switch label {
	case catalog.LabelEventType:
		return len(reputation.EventTypes), true
	case catalog.LabelViolationType:
		return len(reputation.ViolationTypes), true
	case catalog.LabelRewardType:
		return len(ledger.RewardTypes), true
	case catalog.LabelReason:
		return len(ledger.FailureReasons), true
	}
	return 0, false
}

// seriesPerNode is how many series one tracked node adds to the family m.
func seriesPerNode(m catalog.Metric) (int, error) {
	if !m.PerNode {
		return 0, nil
	}
	n := 1
	for _, l := range m.Labels {
		if l == catalog.LabelNodeID {
			continue
		}
		f, ok := labelFanOut(l)
		if !ok {
			return 0, fmt.Errorf("%s: label %s has no known fan-out", m.Name, l)
		}
		n *= f
	}
	return n, nil
}

// metricRow finds the row that documents m: it starts with "| `name`" and has
// the type word in the type column.
func metricRow(rows [][]string, m catalog.Metric) ([]string, bool) {
	for _, r := range rows {
		if r[colName] == "`"+m.Name+"`" && len(r) > colType && r[colType] == string(m.Type) {
			return r, true
		}
	}
	return nil, false
}

// checkCatalogCoverage checks that every catalogued metric has a full row
// whose labels, unit, series per node, seed name and "extra" mark match the
// catalog, and that every seed name appears in the document.
func checkCatalogCoverage(doc string) []string {
	var problems []string
	rows := tableRows(doc)
	for _, m := range catalog.All() {
		r, ok := metricRow(rows, m)
		if !ok {
			problems = append(problems, fmt.Sprintf("%s: no table row \"| `%s` | %s | …\"", m.Name, m.Name, m.Type))
			continue
		}
		if len(r) != metricCols {
			problems = append(problems, fmt.Sprintf("%s: row has %d cells, want %d", m.Name, len(r), metricCols))
			continue
		}
		var wantLabels []string
		for _, l := range m.Labels {
			wantLabels = append(wantLabels, "`"+l+"`")
		}
		want := strings.Join(wantLabels, ", ")
		if want == "" {
			want = "—"
		}
		if r[colLabels] != want {
			problems = append(problems, fmt.Sprintf("%s: labels cell %q, want %q", m.Name, r[colLabels], want))
		}
		if r[colUnit] != m.Unit {
			problems = append(problems, fmt.Sprintf("%s: unit cell %q, want %q", m.Name, r[colUnit], m.Unit))
		}
		if n, err := seriesPerNode(m); err != nil {
			problems = append(problems, err.Error())
		} else if r[colPerNode] != strconv.Itoa(n) {
			problems = append(problems, fmt.Sprintf("%s: series-per-node cell %q, want %d", m.Name, r[colPerNode], n))
		}
		wantSeed := "—"
		if m.SeedName != "" {
			wantSeed = "`" + m.SeedName + "`"
		}
		if r[colSeed] != wantSeed {
			problems = append(problems, fmt.Sprintf("%s: seed-name cell %q, want %q", m.Name, r[colSeed], wantSeed))
		}
		if marked := strings.HasPrefix(r[colMeaning], "**Extra.**"); marked != m.Extra {
			problems = append(problems, fmt.Sprintf("%s: meaning starts with **Extra.** = %v, but catalog Extra = %v", m.Name, marked, m.Extra))
		}
		if m.Extra && len(strings.TrimPrefix(r[colMeaning], "**Extra.**")) < 80 {
			problems = append(problems, fmt.Sprintf("%s: an extra metric needs its reason for operators", m.Name))
		}
	}
	for _, m := range catalog.All() {
		if m.SeedName != "" && !strings.Contains(doc, "`"+m.SeedName+"`") {
			problems = append(problems, fmt.Sprintf("seed name %s of %s is not in the document", m.SeedName, m.Name))
		}
	}
	return problems
}

// knownName reports whether a cretoai_* name mentioned in the document is a
// catalogued metric, one of a histogram's series, or a seed name.
func knownName(name string) bool {
	if _, err := resolve(name); err == nil {
		return true
	}
	if m, ok := catalog.Lookup(name); ok && m.Type == catalog.Histogram {
		return true
	}
	for _, m := range catalog.All() {
		if m.SeedName == name {
			return true
		}
	}
	return false
}

var metricNameRE = regexp.MustCompile(`\bcretoai_[a-z0-9_]*[a-z0-9]`)

// checkMentionedNames reports cretoai_* names in the document that are no
// metric: typos and names that no longer exist.
func checkMentionedNames(doc string) []string {
	var problems []string
	seen := map[string]bool{}
	for _, name := range metricNameRE.FindAllString(doc, -1) {
		if !seen[name] && !knownName(name) {
			problems = append(problems, "the document mentions "+name+", which is neither a metric nor a seed name")
		}
		seen[name] = true
	}
	return problems
}

// ---------------------------------------------------------------------------
// Tests

func TestQueriesParseAndFitTheCatalog(t *testing.T) {
	doc := readDoc(t)
	qs := promqlQueries(doc)
	if len(qs) < 30 {
		t.Fatalf("found %d queries in ```promql blocks; the document should have examples for every group", len(qs))
	}
	report(t, "example queries", checkQueries(doc))

	// Every group has examples.
	selected := map[catalog.Group]bool{}
	for _, q := range qs {
		expr, err := promParser.ParseExpr(q.text)
		if err != nil {
			continue
		}
		for _, vs := range promexpr.Selectors(expr) {
			if s, err := resolve(promexpr.SelectorName(vs)); err == nil && s.metric.Group != "" {
				selected[s.metric.Group] = true
			}
		}
	}
	for _, g := range []catalog.Group{catalog.Reputation, catalog.Stake, catalog.Rewards, catalog.Service} {
		if !selected[g] {
			t.Errorf("no example query selects a %s metric", g)
		}
	}
}

func TestEveryMetricDocumented(t *testing.T) {
	doc := readDoc(t)
	report(t, "metric tables", checkCatalogCoverage(doc))
	report(t, "metric names", checkMentionedNames(doc))

	extras := 0
	for _, m := range catalog.Domain {
		if m.Extra {
			extras++
		}
	}
	if extras != 8 {
		t.Errorf("catalog marks %d metrics Extra, DESIGN.md §4 says 8", extras)
	}
}

var perNodeRE = regexp.MustCompile(`adds \*\*(\d+) series\*\*`)

func TestSeriesPerNodeStated(t *testing.T) {
	doc := readDoc(t)
	total := 0
	for _, m := range catalog.All() {
		n, err := seriesPerNode(m)
		if err != nil {
			t.Fatal(err)
		}
		total += n
	}
	if total > maxSeriesPerNode {
		t.Errorf("a node adds %d series; the budget is %d", total, maxSeriesPerNode)
	}
	ms := perNodeRE.FindAllStringSubmatch(doc, -1)
	if len(ms) == 0 {
		t.Fatalf("the document does not state \"adds **N series**\" per node")
	}
	for _, m := range ms {
		if m[1] != strconv.Itoa(total) {
			t.Errorf("the document says a node adds %s series; the catalog gives %d", m[1], total)
		}
	}
	// Every per-node family is named in the cardinality section as one that
	// can be switched off.
	sec := section(doc, "## Cardinality")
	for _, name := range metrics.PerNodeFamilies() {
		if !strings.Contains(sec, "`"+name+"`") {
			t.Errorf("cardinality section does not list the per-node family %s", name)
		}
	}
}

// section returns the text from heading to the next heading of the same
// level.
func section(doc, heading string) string {
	i := strings.Index(doc, "\n"+heading+"\n")
	if i < 0 {
		return ""
	}
	rest := doc[i+1+len(heading):]
	if j := strings.Index(rest, "\n## "); j >= 0 {
		rest = rest[:j]
	}
	return rest
}

// formatBound writes a bucket bound as the document does: plain decimals,
// and 1e6-style for powers-of-ten multiples of a single digit from 10^6 up.
func formatBound(v float64) string {
	if v >= 1e6 {
		s := strconv.FormatFloat(v, 'e', -1, 64) // e.g. 3e+06
		mant, exp, _ := strings.Cut(s, "e+")
		if !strings.Contains(mant, ".") {
			e, _ := strconv.Atoi(exp)
			return mant + "e" + strconv.Itoa(e)
		}
	}
	return strconv.FormatFloat(v, 'f', -1, 64)
}

func formatBounds(b []float64) string {
	parts := make([]string, len(b))
	for i, v := range b {
		parts[i] = formatBound(v)
	}
	return strings.Join(parts, ", ")
}

func TestBucketLayoutsDocumented(t *testing.T) {
	doc := readDoc(t)
	layouts := map[string][]float64{
		catalog.ReputationDecaySeconds:      metrics.DecayBuckets,
		catalog.ReputationScoreDistribution: metrics.ScoreBuckets,
		catalog.StakeDepositAmount:          metrics.AmountBuckets,
		catalog.StakeSlashingAmount:         metrics.AmountBuckets,
		catalog.StakeWithdrawalAmount:       metrics.AmountBuckets,
		catalog.RewardsDistributionAmount:   metrics.AmountBuckets,
		catalog.ServiceHTTPRequestDuration:  prometheus.DefBuckets,
		catalog.ServiceStoreCommitDuration:  metrics.CommitBuckets,
		catalog.ServiceStoreCommitOps:       metrics.CommitOpsBuckets,
		catalog.ServiceScrapeDuration:       metrics.ScrapeBuckets,
	}
	lines := strings.Split(doc, "\n")
	for _, m := range catalog.All() {
		if m.Type != catalog.Histogram {
			continue
		}
		b, ok := layouts[m.Name]
		if !ok {
			t.Errorf("histogram %s: the test does not know its buckets; add it to layouts", m.Name)
			continue
		}
		want := "`" + formatBounds(b) + "`"
		found := false
		for _, l := range lines {
			if strings.Contains(l, want) && strings.Contains(l, "`"+m.Name+"`") {
				found = true
				break
			}
		}
		if !found {
			t.Errorf("histogram %s: no line names it with its bucket bounds %s", m.Name, want)
		}
	}
}

func TestSeedHelpersMapped(t *testing.T) {
	doc := readDoc(t)
	sec := section(doc, "## The seed's helpers in Go")
	if sec == "" {
		t.Fatal("no section \"## The seed's helpers in Go\"")
	}
	rows := tableRows(sec)
	for _, h := range seedHelpers {
		found := false
		for _, r := range rows {
			if r[0] == "`"+h+"()`" && len(r) >= 2 && r[1] != "" {
				found = true
			}
		}
		if !found {
			t.Errorf("seed helper %s has no row \"| `%s()` | …\"", h, h)
		}
	}
	report(t, "Go identifiers", checkGoIdentifiers(t, doc))
}

var (
	methodRE = regexp.MustCompile("`(Recorder|Metrics|Ledger)\\.([A-Z][A-Za-z]*)")
	pkgRE    = regexp.MustCompile("`(metrics|ledger)\\.([A-Z][A-Za-z]*)")
)

// checkGoIdentifiers checks that every Type.Method and package.Name the
// document cites in code spans exists.
func checkGoIdentifiers(t *testing.T, doc string) []string {
	types := map[string]reflect.Type{
		"Recorder": reflect.TypeOf(&metrics.Recorder{}),
		"Metrics":  reflect.TypeOf(&metrics.Metrics{}),
		"Ledger":   reflect.TypeOf(&ledger.Ledger{}),
	}
	var problems []string
	for _, m := range methodRE.FindAllStringSubmatch(doc, -1) {
		if _, ok := types[m[1]].MethodByName(m[2]); !ok {
			problems = append(problems, fmt.Sprintf("%s.%s is not a method", m[1], m[2]))
		}
	}
	decls := map[string]map[string]bool{
		"metrics": exportedDecls(t, "../internal/metrics"),
		"ledger":  exportedDecls(t, "../internal/ledger"),
	}
	for _, m := range pkgRE.FindAllStringSubmatch(doc, -1) {
		if !decls[m[1]][m[2]] {
			problems = append(problems, fmt.Sprintf("%s.%s is not declared in package %s", m[1], m[2], m[1]))
		}
	}
	return problems
}

// exportedDecls lists the package-level names declared in dir.
func exportedDecls(t *testing.T, dir string) map[string]bool {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	fset := token.NewFileSet()
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		file, err := goparser.ParseFile(fset, f, nil, goparser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range file.Decls {
			switch d := d.(type) {
			case *ast.FuncDecl:
				if d.Recv == nil {
					names[d.Name.Name] = true
				}
			case *ast.GenDecl:
				for _, s := range d.Specs {
					switch s := s.(type) {
					case *ast.TypeSpec:
						names[s.Name.Name] = true
					case *ast.ValueSpec:
						for _, n := range s.Names {
							names[n.Name] = true
						}
					}
				}
			}
		}
	}
	return names
}

// ---------------------------------------------------------------------------
// Planted-bad checks: the checkers must catch what they are for.

const badDoc = "# Bad\n\n" +
	"| `cretoai_reputation_score` | counter | `node_id` | score 0..1 | 1 | — | wrong type |\n\n" +
	"```promql\n" +
	"# a comment is skipped\n" +
	"\n" +
	"rate(cretoai_rewards_pending_amount[5m])\n" +
	"increase(cretoai_reputation_score[1h])\n" +
	"cretoai_no_such_metric\n" +
	"rate(cretoai_stake_total[1h])\n" +
	"sum(rate(cretoai_http_requests_total[5m])\n" +
	"delta(cretoai_stake_deposits_total[1h])\n" +
	"deriv(cretoai_stake_deposit_amount_count[1h])\n" +
	"histogram_quantile(0.9, sum(rate(cretoai_stake_deposit_amount_bucket[5m])))\n" +
	"cretoai_reputation_nodes_above_threshold / cretoai_reputation_total_nodes\n" +
	"cretoai_stake_deposit_amount\n" +
	"```\n\n" +
	"Mentions cretoai_stake_totl in prose.\n"

func TestCheckersCatchPlantedMistakes(t *testing.T) {
	qs := promqlQueries(badDoc)
	if len(qs) != 10 {
		t.Fatalf("extracted %d queries from the bad document, want 10 (comment and blank lines skipped): %v", len(qs), qs)
	}
	problems := strings.Join(checkQueries(badDoc), "\n")
	for _, want := range []string{
		"rate(cretoai_rewards_pending_amount[5m]): rate() on cretoai_rewards_pending_amount, a gauge",
		"increase(cretoai_reputation_score[1h]): increase() on cretoai_reputation_score, a gauge",
		"cretoai_no_such_metric: metric cretoai_no_such_metric is not in the catalog",
		"rate(cretoai_stake_total[1h]): metric cretoai_stake_total is not in the catalog",
		"sum(rate(cretoai_http_requests_total[5m]): does not parse",
		"delta(cretoai_stake_deposits_total[1h]): delta() on cretoai_stake_deposits_total, a counter series",
		"deriv(cretoai_stake_deposit_amount_count[1h]): deriv() on cretoai_stake_deposit_amount_count, a counter series",
		"does not keep le",
		"cretoai_reputation_nodes_above_threshold / cretoai_reputation_total_nodes: division by cretoai_reputation_total_nodes",
		"histogram cretoai_stake_deposit_amount selected without _bucket",
	} {
		if !strings.Contains(problems, want) {
			t.Errorf("the query checker missed %q; it reported:\n%s", want, problems)
		}
	}

	coverage := strings.Join(checkCatalogCoverage(badDoc), "\n")
	for _, want := range []string{
		"cretoai_reputation_score: no table row",    // documented as a counter
		"cretoai_stake_bonded_amount: no table row", // not documented at all
		"seed name cretoai_stake_total of cretoai_stake_bonded_amount is not in the document",
	} {
		if !strings.Contains(coverage, want) {
			t.Errorf("the coverage checker missed %q", want)
		}
	}
	if names := strings.Join(checkMentionedNames(badDoc), "\n"); !strings.Contains(names, "cretoai_stake_totl") {
		t.Errorf("the name checker missed cretoai_stake_totl; it reported:\n%s", names)
	}

	// And good queries pass.
	for _, q := range []string{
		"sum by (violation_type) (rate(cretoai_reputation_violations_total[5m]))",
		"deriv(cretoai_stake_bonded_amount[1h])",
		"histogram_quantile(0.9, sum by (le) (rate(cretoai_stake_deposit_amount_bucket[5m])))",
		"cretoai_reputation_nodes_above_threshold / (cretoai_reputation_total_nodes > 0)",
		`up{job="cretoai"} == 0`,
	} {
		if p := checkQuery(q); len(p) > 0 {
			t.Errorf("good query %s reported: %v", q, p)
		}
	}
}

// ---------------------------------------------------------------------------
// The cardinality the document states, checked on a live exposition.

type liveBook struct {
	*ledger.Ledger
	ctx context.Context
}

func openLiveBook(t *testing.T, obs ledger.Observer) liveBook {
	t.Helper()
	st, err := store.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	l, err := ledger.Open(ledger.DefaultConfig(), st, slog.New(slog.DiscardHandler), ledger.Options{Observer: obs})
	if err != nil {
		st.Close()
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		l.Run(ctx)
	}()
	for deadline := time.Now().Add(10 * time.Second); !l.Ready(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("ledger did not start")
		}
	}
	t.Cleanup(func() {
		l.Close()
		cancel()
		<-done
		st.Close()
	})
	return liveBook{Ledger: l, ctx: ctx}
}

// scrape returns the text exposition of m over book.
func scrape(t *testing.T, m *metrics.Metrics, book *ledger.Ledger) string {
	t.Helper()
	rec := httptest.NewRecorder()
	m.Handler(book).ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != 200 {
		t.Fatalf("scrape: status %d", rec.Code)
	}
	b, _ := io.ReadAll(rec.Body)
	return string(b)
}

// countSamples counts sample lines whose family is in fams and that contain
// (or, with want false, do not contain) substr.
func countSamples(expo string, fams map[string]bool, substr string, want bool) int {
	n := 0
	for _, l := range strings.Split(expo, "\n") {
		if l == "" || l[0] == '#' {
			continue
		}
		name, _, _ := strings.Cut(l, " ")
		name, _, _ = strings.Cut(name, "{")
		for _, suf := range histogramSuffixes {
			if base, ok := strings.CutSuffix(name, suf); ok && fams[base] {
				name = base
			}
		}
		if fams[name] && strings.Contains(l, substr) == want {
			n++
		}
	}
	return n
}

var (
	fixedRE       = regexp.MustCompile(`domain families are \*\*(\d+) series\*\*`)
	healthFixedRE = regexp.MustCompile(`own\s+families add \*\*(\d+) fixed series\*\*`)
)

func TestLiveExpositionMatchesDoc(t *testing.T) {
	doc := readDoc(t)
	reg := prometheus.NewRegistry()
	mx, err := metrics.New(reg, metrics.Options{})
	if err != nil {
		t.Fatal(err)
	}
	book := openLiveBook(t, mx)
	for _, id := range []string{"n1", "n2"} {
		if _, err := book.Register(book.ctx, id, ""); err != nil {
			t.Fatal(err)
		}
	}
	domain := map[string]bool{}
	for _, m := range catalog.Domain {
		domain[m.Name] = true
	}
	expo := scrape(t, mx, book.Ledger)

	// The types the tables give are the types the service exposes.
	for _, m := range catalog.Domain {
		if !strings.Contains(expo, fmt.Sprintf("# TYPE %s %s\n", m.Name, m.Type)) {
			t.Errorf("the exposition has no \"# TYPE %s %s\"", m.Name, m.Type)
		}
	}

	perNode := countSamples(expo, domain, `node_id="n1"`, true)
	if m := perNodeRE.FindStringSubmatch(doc); m == nil || m[1] != strconv.Itoa(perNode) {
		t.Errorf("a live node adds %d series; the document says %v", perNode, m)
	}
	fixed := countSamples(expo, domain, `node_id="`, false)
	if m := fixedRE.FindStringSubmatch(doc); m == nil || m[1] != strconv.Itoa(fixed) {
		t.Errorf("the node-independent domain families are %d series; the document says %v", fixed, m)
	}

	// Before any HTTP traffic or job run, the service's own families are a
	// fixed number of series.
	health := map[string]bool{}
	for _, m := range catalog.Health {
		health[m.Name] = true
	}
	healthFixed := countSamples(expo, health, "", true)
	if m := healthFixedRE.FindStringSubmatch(doc); m == nil || m[1] != strconv.Itoa(healthFixed) {
		t.Errorf("the service's own families are %d series before traffic; the document says %v", healthFixed, m)
	}

	// A removed node's series are gone at the next scrape.
	if err := book.Remove(book.ctx, "n1", true); err != nil {
		t.Fatal(err)
	}
	expo = scrape(t, mx, book.Ledger)
	if n := countSamples(expo, domain, `node_id="n1"`, true); n != 0 {
		t.Errorf("removed node n1 still has %d series", n)
	}
	if n := countSamples(expo, domain, `node_id="n2"`, true); n != perNode {
		t.Errorf("node n2 has %d series after n1 was removed, want %d", n, perNode)
	}

	// Switching off the two per-type families leaves 6 series per node, as
	// the cardinality section says.
	off, err := metrics.New(prometheus.NewRegistry(), metrics.Options{
		DisabledFamilies: []string{catalog.ReputationEvents, catalog.ReputationViolations}})
	if err != nil {
		t.Fatal(err)
	}
	if n := countSamples(scrape(t, off, book.Ledger), domain, `node_id="n2"`, true); n != 6 {
		t.Errorf("with events and violations switched off a node has %d series, want 6", n)
	}
	if !strings.Contains(section(doc, "## Cardinality"), "**6 series**") {
		t.Errorf("the cardinality section does not state the **6 series** left when both per-type families are off")
	}
	// Only per-node families can be switched off.
	if _, err := metrics.New(prometheus.NewRegistry(), metrics.Options{DisabledFamilies: []string{catalog.ReputationMean}}); err == nil {
		t.Errorf("switching off the global family %s was accepted", catalog.ReputationMean)
	}
}
