package metrics_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"

	"github.com/cretoai/monitor/service/catalog"
	"github.com/cretoai/monitor/service/internal/ledger"
	"github.com/cretoai/monitor/service/internal/metrics"
	"github.com/cretoai/monitor/service/internal/reputation"
)

// observeEverything drives one observation through every metric: every
// ledger operation, both reward types and a failed payout, a decay, a
// release, an instrumented request, both job results and a score sample.
func observeEverything(t *testing.T, e *env) {
	t.Helper()
	e.register("n1", "payout-n1")
	e.register("n2", "")
	e.register("n3", "payout-n3")
	e.register("n4", "")
	e.event("n1", reputation.BlockProposed, 30) // reliable, full uptime
	e.event("n4", reputation.BlockProposed, 30) // reliable, no payout address
	e.event("n2", reputation.MissedBlock, 1)
	e.deposit("n1", 250_000)
	e.deposit("n2", 5_000)
	e.deposit("n4", 100)
	e.withdraw("n1", 50_000)
	e.violation("n2", reputation.DoubleSign) // slashes n2
	e.epoch(1_000_000)                       // base + uptime bonus; n4's payout fails
	if _, err := e.book.SetPayoutAddress(e.ctx, "n4", "payout-n4"); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(e.book.Config().UnbondingPeriod + time.Hour)
	if r, err := e.book.ReleaseUnbonding(e.ctx); err != nil || r.Withdrawals != 1 {
		t.Fatalf("ReleaseUnbonding = %+v, %v; want 1 withdrawal", r, err)
	}
	if r, err := e.book.Decay(e.ctx); err != nil || r.Nodes == 0 {
		t.Fatalf("Decay = %+v, %v; want some nodes decayed", r, err)
	}
	if err := e.book.Remove(e.ctx, "n3", false); err != nil {
		t.Fatal(err)
	}

	h := e.m.Instrument("/api/v1/nodes/{node_id}", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusOK)
	}))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/api/v1/nodes/n1", nil))
	e.m.JobRan("decay", nil)
	e.m.JobRan("epoch", errors.New("boom"))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	e.m.SampleScores(ctx, e.book, time.Hour) // samples once, then sees ctx done
	e.text()                                 // one scrape observes the scrape duration
}

// TestLint: with every metric observed, promlint finds nothing in the whole
// /metrics output (the SDK's families, go_*, process_* and the state
// families of the fast writer).
func TestLint(t *testing.T) {
	e := newEnv(t, ledger.DefaultConfig(), metrics.Options{Version: "v1.2.3", Revision: "abc"})
	observeEverything(t, e)
	mfs := e.families()
	problems, err := testutil.GatherAndLint(gathererOf(mfs))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("promlint: %s: %s", p.Metric, p.Text)
	}

	// The linter is live: a planted counter without _total is reported.
	name, help := "cretoai_planted_events", "Planted."
	typ := dto.MetricType_COUNTER
	v := 1.0
	mfs[name] = &dto.MetricFamily{Name: &name, Help: &help, Type: &typ, Metric: []*dto.Metric{{Counter: &dto.Counter{Value: &v}}}}
	if problems, err := testutil.GatherAndLint(gathererOf(mfs)); err != nil || len(problems) == 0 {
		t.Errorf("planted lint problem not reported: %v, %v", problems, err)
	}
}

// TestFamilySet (R02): one scrape holds exactly the catalog's families plus
// go_* and process_*, each with the catalog's type and label names.
func TestFamilySet(t *testing.T) {
	e := newEnv(t, ledger.DefaultConfig(), metrics.Options{Version: "v1.2.3", Revision: "abc"})
	observeEverything(t, e)
	mfs := e.families()

	var goFams, procFams int
	for name := range mfs {
		switch {
		case strings.HasPrefix(name, "go_"):
			goFams++
		case strings.HasPrefix(name, "process_"):
			procFams++
		default:
			if _, ok := catalog.Lookup(name); !ok {
				t.Errorf("unexpected family %s (not in the catalog)", name)
			}
		}
	}
	if goFams == 0 || procFams == 0 {
		t.Errorf("go_* families: %d, process_* families: %d; want both registered", goFams, procFams)
	}

	types := map[catalog.Type]dto.MetricType{
		catalog.Gauge: dto.MetricType_GAUGE, catalog.Counter: dto.MetricType_COUNTER, catalog.Histogram: dto.MetricType_HISTOGRAM,
	}
	for _, want := range catalog.All() {
		mf, ok := mfs[want.Name]
		if !ok {
			t.Errorf("family %s missing from /metrics", want.Name)
			continue
		}
		if mf.GetType() != types[want.Type] {
			t.Errorf("%s: type %s, catalog says %s", want.Name, mf.GetType(), want.Type)
		}
		wantLabels := slices.Sorted(slices.Values(want.Labels))
		for _, m := range mf.GetMetric() {
			var got []string
			for _, lp := range m.GetLabel() {
				got = append(got, lp.GetName())
			}
			slices.Sort(got)
			if !slices.Equal(got, wantLabels) {
				t.Errorf("%s: labels %v, catalog says %v", want.Name, got, wantLabels)
				break
			}
		}
	}
}

// catalogProblems checks the rules every list of metric definitions obeys.
func catalogProblems(ms []catalog.Metric) []string {
	var out []string
	seen := map[string]bool{}
	for _, m := range ms {
		if seen[m.Name] {
			out = append(out, m.Name+": defined twice")
		}
		seen[m.Name] = true
		if !strings.HasPrefix(m.Name, "cretoai_") {
			out = append(out, m.Name+": no cretoai_ prefix")
		}
		// A counter ends in _total exactly once (no _total_total); nothing
		// else ends in _total (a "_total_nodes" gauge is fine).
		switch {
		case m.Type == catalog.Counter && (strings.Count(m.Name, "_total") != 1 || !strings.HasSuffix(m.Name, "_total")):
			out = append(out, m.Name+": a counter must end in _total exactly once")
		case m.Type != catalog.Counter && strings.HasSuffix(m.Name, "_total"):
			out = append(out, fmt.Sprintf("%s: a %s must not end in _total", m.Name, m.Type))
		}
		labels := map[string]bool{}
		for _, l := range m.Labels {
			if l == "node" {
				out = append(out, m.Name+`: label "node" collides with Kubernetes target labels`)
			}
			if l == "job" || l == "instance" {
				// Prometheus sets these target labels itself and renames an
				// exposed one to exported_<name>.
				out = append(out, m.Name+`: label "`+l+`" collides with Prometheus target labels`)
			}
			if labels[l] {
				out = append(out, m.Name+": label "+l+" twice")
			}
			labels[l] = true
		}
		if m.PerNode != labels[catalog.LabelNodeID] {
			out = append(out, fmt.Sprintf("%s: PerNode=%v but node_id label present=%v", m.Name, m.PerNode, labels[catalog.LabelNodeID]))
		}
		if m.Help == "" || m.Unit == "" {
			out = append(out, m.Name+": help and unit are required")
		}
	}
	// Names a family takes in an exposition must not clash with another
	// family: an OpenMetrics counter is named without _total, a histogram
	// has _bucket, _sum and _count series.
	for _, m := range ms {
		var derived []string
		switch m.Type {
		case catalog.Counter:
			derived = []string{strings.TrimSuffix(m.Name, "_total")}
		case catalog.Histogram:
			derived = []string{m.Name + "_bucket", m.Name + "_sum", m.Name + "_count"}
		}
		for _, d := range derived {
			if d != m.Name && seen[d] {
				out = append(out, fmt.Sprintf("%s: its exposition name %s clashes with a family", m.Name, d))
			}
		}
	}
	return out
}

// TestCatalog (R03): names unique, counters end in _total exactly once,
// nothing else ends in _total, no "node" label, per-node families carry
// node_id; 14 families per domain group, 8 extras.
func TestCatalog(t *testing.T) {
	for _, p := range catalogProblems(catalog.All()) {
		t.Error(p)
	}
	groups := map[catalog.Group]int{}
	extras := 0
	for _, m := range catalog.Domain {
		groups[m.Group]++
		if m.Extra {
			extras++
		}
	}
	for _, g := range []catalog.Group{catalog.Reputation, catalog.Stake, catalog.Rewards} {
		if groups[g] != 14 {
			t.Errorf("group %s: %d families, want 14", g, groups[g])
		}
	}
	if extras != 8 {
		t.Errorf("%d extra families, want 8", extras)
	}
	for _, m := range catalog.Health {
		if m.PerNode || m.Group != catalog.Service {
			t.Errorf("%s: a health family must be in the service group and not per-node", m.Name)
		}
	}

	// The checker itself catches a planted second definition.
	planted := append(catalog.All(), catalog.Metric{Name: catalog.StakeSlashed, Type: catalog.Counter, Group: catalog.Reputation,
		Labels: []string{catalog.LabelNodeID, catalog.LabelReason}, PerNode: true, Unit: "base units", Help: "Slashed."})
	if ps := catalogProblems(planted); !slices.Contains(ps, catalog.StakeSlashed+": defined twice") {
		t.Errorf("planted duplicate not reported: %v", ps)
	}
	bad := []catalog.Metric{
		{Name: "cretoai_x_total_total", Type: catalog.Counter, Unit: "u", Help: "h"},
		{Name: "cretoai_y", Type: catalog.Counter, Unit: "u", Help: "h"},
		{Name: "cretoai_z_total", Type: catalog.Gauge, Unit: "u", Help: "h"},
		{Name: "cretoai_w", Type: catalog.Gauge, Labels: []string{"node"}, Unit: "u", Help: "h"},
		{Name: "cretoai_w2", Type: catalog.Gauge, Labels: []string{"job"}, Unit: "u", Help: "h"},
		{Name: "cretoai_v", Type: catalog.Gauge, PerNode: true, Unit: "u", Help: "h"},
		{Name: "cretoai_u", Type: catalog.Gauge, Unit: "u", Help: "h"}, // clashes with the next in OpenMetrics
		{Name: "cretoai_u_total", Type: catalog.Counter, Unit: "u", Help: "h"},
	}
	if ps := catalogProblems(bad); len(ps) != len(bad)-1 {
		t.Errorf("planted bad definitions: %d problems, want %d: %v", len(ps), len(bad)-1, ps)
	}
}

// TestRegistrationConflicts (R03): every catalog family registers into one
// fresh registry without error, and a second definition of any family —
// state families included, though the registry never collects them — makes
// registration fail instead of putting the name twice into /metrics.
func TestRegistrationConflicts(t *testing.T) {
	e := newEnv(t, ledger.DefaultConfig(), metrics.Options{})
	e.register("n1", "")

	cases := []struct {
		name      string
		collector prometheus.Collector
	}{
		{"state counter, other labels", prometheus.NewCounterVec(prometheus.CounterOpts{Name: catalog.StakeSlashed, Help: "Slashed."},
			[]string{catalog.LabelNodeID, catalog.LabelReason})},
		{"state counter, same labels and help", prometheus.NewCounterVec(prometheus.CounterOpts{Name: catalog.StakeSlashed,
			Help: "Stake slashed, by the violation type that caused it."}, []string{catalog.LabelViolationType})},
		{"state gauge, no labels", prometheus.NewGauge(prometheus.GaugeOpts{Name: catalog.ReputationMean, Help: "x"})},
		{"per-node gauge", prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: catalog.ReputationScore, Help: "x"}, []string{"node"})},
		{"event histogram as a counter", prometheus.NewCounter(prometheus.CounterOpts{Name: catalog.StakeDepositAmount, Help: "x"})},
		{"health counter", prometheus.NewCounterVec(prometheus.CounterOpts{Name: catalog.ServiceHTTPRequests, Help: "x"}, []string{"path"})},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err, panicked := registerNoPanic(e.reg, c.collector)
			if panicked {
				t.Fatalf("Register panicked: %v", err)
			}
			if err == nil {
				t.Fatal("registering a second definition succeeded")
			}
		})
	}

	// The exposition is still valid, each family once.
	body := e.text()
	parseText(t, body)
	blocks(t, body) // fails on a family that appears twice
	if n := strings.Count(string(body), "# TYPE "+catalog.StakeSlashed+" "); n != 1 {
		t.Errorf("%s has %d TYPE lines, want 1", catalog.StakeSlashed, n)
	}
}

func registerNoPanic(reg prometheus.Registerer, c prometheus.Collector) (err error, panicked bool) {
	defer func() {
		if r := recover(); r != nil {
			err, panicked = fmt.Errorf("%v", r), true
		}
	}()
	return reg.Register(c), false
}

// TestNewTwice (R01): New on a registry that already holds the metrics
// returns an error and never panics; New on two fresh registries works;
// Handler twice returns the same handler.
func TestNewTwice(t *testing.T) {
	noPanic := func(name string, f func()) {
		t.Helper()
		defer func() {
			if r := recover(); r != nil {
				t.Fatalf("%s panicked: %v", name, r)
			}
		}()
		f()
	}

	reg := prometheus.NewRegistry()
	noPanic("first New", func() {
		if _, err := metrics.New(reg, metrics.Options{}); err != nil {
			t.Fatalf("first New: %v", err)
		}
	})
	noPanic("second New on the same registry", func() {
		m, err := metrics.New(reg, metrics.Options{})
		if err == nil || m != nil {
			t.Fatalf("second New on the same registry = %v, %v; want nil and an error", m, err)
		}
		var are prometheus.AlreadyRegisteredError
		if !errors.As(err, &are) {
			t.Errorf("error %v does not wrap prometheus.AlreadyRegisteredError", err)
		}
	})
	// The registry still gathers after the failed second New.
	if _, err := reg.Gather(); err != nil {
		t.Fatalf("Gather after a failed New: %v", err)
	}

	for i := range 2 {
		if _, err := metrics.New(prometheus.NewRegistry(), metrics.Options{}); err != nil {
			t.Fatalf("New on fresh registry %d: %v", i, err)
		}
	}

	e := newEnv(t, ledger.DefaultConfig(), metrics.Options{})
	var h1, h2 http.Handler
	noPanic("Handler twice", func() {
		h1 = e.m.Handler(e.book)
		h2 = e.m.Handler(e.book)
	})
	if h1 != h2 || h1 != e.handler {
		t.Error("Handler returned a different handler on a later call")
	}
	if r := scrape(t, h2); r.status != http.StatusOK {
		t.Errorf("scrape: status %d", r.status)
	}
}

// TestDisabledFamilies: a disabled per-node family is absent from /metrics
// (and from the reference collector); disabling anything else is an error.
func TestDisabledFamilies(t *testing.T) {
	for _, name := range []string{catalog.ReputationMean, catalog.StakeSlashed, catalog.StakeDepositAmount, "cretoai_nonexistent", ""} {
		if _, err := metrics.New(prometheus.NewRegistry(), metrics.Options{DisabledFamilies: []string{name}}); err == nil {
			t.Errorf("New with %q disabled: no error", name)
		}
		if _, err := metrics.NewStateCollector(nil, []string{name}); err == nil {
			t.Errorf("NewStateCollector with %q disabled: no error", name)
		}
	}

	off := []string{catalog.ReputationEvents, catalog.StakePerNode}
	e := newEnv(t, ledger.DefaultConfig(), metrics.Options{DisabledFamilies: off})
	e.register("n1", "")
	e.deposit("n1", 10)
	mfs := e.families()
	for _, name := range off {
		if _, ok := mfs[name]; ok {
			t.Errorf("disabled family %s is exposed", name)
		}
	}
	for _, name := range []string{catalog.ReputationScore, catalog.ReputationViolations, catalog.StakeBondedAmount} {
		if _, ok := mfs[name]; !ok {
			t.Errorf("enabled family %s is missing", name)
		}
	}
	if got := scalarValue(t, mfs, catalog.StakeBondedAmount); got != 10 {
		t.Errorf("%s = %v with per-node stake disabled, want 10", catalog.StakeBondedAmount, got)
	}
	var perNode []string
	for _, m := range catalog.Domain {
		if slices.Contains(m.Labels, catalog.LabelNodeID) {
			perNode = append(perNode, m.Name)
		}
	}
	if got := metrics.PerNodeFamilies(); !slices.Equal(got, perNode) {
		t.Errorf("PerNodeFamilies = %v, want %v", got, perNode)
	}
}
