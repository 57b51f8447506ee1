package metrics_test

import (
	"math"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/cretoai/monitor/service/catalog"
	"github.com/cretoai/monitor/service/internal/ledger"
	"github.com/cretoai/monitor/service/internal/metrics"
	"github.com/cretoai/monitor/service/internal/reputation"
)

// gather returns the registry's own families (histograms and health
// metrics), by name.
func gather(t *testing.T, reg prometheus.Gatherer) map[string]*dto.MetricFamily {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]*dto.MetricFamily{}
	for _, mf := range mfs {
		out[mf.GetName()] = mf
	}
	return out
}

func noPanic(t *testing.T, name string, f func()) {
	t.Helper()
	defer func() {
		if r := recover(); r != nil {
			t.Errorf("%s panicked: %v", name, r)
		}
	}()
	f()
}

// TestUnknownLabelValues (R04): recording helpers given unknown or empty
// label values neither panic nor create series.
func TestUnknownLabelValues(t *testing.T) {
	reg := prometheus.NewRegistry()
	m, err := metrics.New(reg, metrics.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, typ := range []string{"", "unknown", "BASE", "base ", "uptime-bonus", strings.Repeat("x", 1000)} {
		noPanic(t, "RecordRewardDistribution("+typ+")", func() { m.RecordRewardDistribution(typ, 42) })
	}
	noPanic(t, "Observe(odd effects)", func() {
		m.Observe([]ledger.Effect{
			{Kind: ledger.EffectRewardAllocated, Type: "", Amount: 1},
			{Kind: ledger.EffectRewardAllocated, Type: "bogus", Amount: 1},
			{Kind: ledger.EffectEvent, Type: "no_such_event", Count: 1},
			{Kind: ledger.EffectViolation, Type: "", Count: 1},
			{Kind: ledger.EffectKind(0)},
			{Kind: ledger.EffectKind(999), Amount: 5},
		})
		m.Observe(nil)
	})

	mfs := gather(t, reg)
	dist := mfs[catalog.RewardsDistributionAmount]
	var types []string
	for _, s := range dist.GetMetric() {
		types = append(types, labelsOf(s)[catalog.LabelRewardType])
		if n := s.GetHistogram().GetSampleCount(); n != 0 {
			t.Errorf("%s%v: %d observations, want 0", catalog.RewardsDistributionAmount, labelsOf(s), n)
		}
	}
	want := []string{string(ledger.RewardBase), string(ledger.RewardUptime)}
	if !slices.Equal(types, want) {
		t.Errorf("%s series by reward_type: %v, want %v", catalog.RewardsDistributionAmount, types, want)
	}
	for _, name := range []string{catalog.StakeDepositAmount, catalog.StakeSlashingAmount, catalog.StakeWithdrawalAmount, catalog.ReputationDecaySeconds} {
		if n := mfs[name].GetMetric()[0].GetHistogram().GetSampleCount(); n != 0 {
			t.Errorf("%s: %d observations from odd effects, want 0", name, n)
		}
	}
}

// TestNonFiniteObservations (R07): a NaN or infinite value never reaches a
// histogram, whose _sum would stay NaN for the life of the process.
func TestNonFiniteObservations(t *testing.T) {
	reg := prometheus.NewRegistry()
	m, err := metrics.New(reg, metrics.Options{})
	if err != nil {
		t.Fatal(err)
	}
	m.RecordScore(0.5)
	m.Observe([]ledger.Effect{{Kind: ledger.EffectDecay, Seconds: 600}})
	for _, v := range []float64{math.NaN(), math.Inf(1), math.Inf(-1)} {
		m.RecordScore(v)
		m.Observe([]ledger.Effect{{Kind: ledger.EffectDecay, Seconds: v}})
	}
	mfs := gather(t, reg)
	for _, c := range []struct {
		name string
		sum  float64
	}{{catalog.ReputationScoreDistribution, 0.5}, {catalog.ReputationDecaySeconds, 600}} {
		h := mfs[c.name].GetMetric()[0].GetHistogram()
		if h.GetSampleSum() != c.sum || h.GetSampleCount() != 1 {
			t.Errorf("%s: sum %v count %d, want sum %v count 1", c.name, h.GetSampleSum(), h.GetSampleCount(), c.sum)
		}
	}
	checkFinite(t, mfs)
}

// TestAmountBuckets (R11): stake amounts of the documented range land in
// finite buckets; the amount buckets increase strictly and are not the
// default latency buckets.
func TestAmountBuckets(t *testing.T) {
	for _, bs := range [][]float64{metrics.AmountBuckets, metrics.ScoreBuckets, metrics.DecayBuckets, metrics.CommitBuckets, metrics.CommitOpsBuckets, metrics.ScrapeBuckets} {
		for i := 1; i < len(bs); i++ {
			if !(bs[i] > bs[i-1]) {
				t.Errorf("buckets %v not strictly increasing at %d", bs, i)
			}
		}
	}
	if slices.Equal(metrics.AmountBuckets, prometheus.DefBuckets) {
		t.Error("AmountBuckets are prometheus.DefBuckets")
	}

	e := newEnv(t, ledger.DefaultConfig(), metrics.Options{})
	amounts := []uint64{100, 5_000, 250_000}
	e.register("n1", "p1")
	e.event("n1", reputation.BlockProposed, 30)
	for _, a := range amounts {
		e.deposit("n1", a)
	}
	for _, a := range amounts {
		e.withdraw("n1", a/2)
	}
	e.violation("n1", reputation.DoubleSign)
	e.epoch(250_000)

	mfs := e.families()
	amountFams := 0
	for _, cm := range catalog.All() {
		if cm.Type != catalog.Histogram {
			continue
		}
		for _, s := range mfs[cm.Name].GetMetric() {
			h := s.GetHistogram()
			var bounds []float64
			for _, b := range h.GetBucket() {
				bounds = append(bounds, b.GetUpperBound())
			}
			for i := 1; i < len(bounds); i++ {
				if !(bounds[i] > bounds[i-1]) {
					t.Errorf("%s: bucket bounds not strictly increasing: %v", cm.Name, bounds)
					break
				}
			}
			if cm.Unit != "base units" {
				continue
			}
			amountFams++
			if slices.Equal(bounds, prometheus.DefBuckets) {
				t.Errorf("%s uses prometheus.DefBuckets", cm.Name)
			}
			if len(bounds) == 0 || bounds[len(bounds)-1] < 1e12 {
				t.Errorf("%s: largest finite bucket %v, want amounts up to at least 1e12", cm.Name, bounds)
				continue
			}
			// The parser folds le="+Inf" into the sample count.
			lastFinite := h.GetBucket()[len(bounds)-1].GetCumulativeCount()
			if over := h.GetSampleCount() - lastFinite; over != 0 {
				t.Errorf("%s%v: %d observations above the largest finite bucket", cm.Name, labelsOf(s), over)
			}
		}
	}
	if amountFams != 5 {
		t.Errorf("checked %d amount histograms, want 5 (deposit, slashing, withdrawal, 2 reward types)", amountFams)
	}
	dep, _ := find(mfs, catalog.StakeDepositAmount, nil)
	if n := dep.GetHistogram().GetSampleCount(); n != uint64(len(amounts)) {
		t.Errorf("%s count %d, want %d", catalog.StakeDepositAmount, n, len(amounts))
	}
}

// TestRemovedNodeSeriesGone (R10): after Remove, every series labelled with
// the node's id is gone at the next scrape; other nodes are untouched.
func TestRemovedNodeSeriesGone(t *testing.T) {
	e := newEnv(t, ledger.DefaultConfig(), metrics.Options{})
	for _, id := range []string{"n1", "n2"} {
		e.register(id, "")
		e.event(id, reputation.BlockProposed, 30)
		e.deposit(id, 1000)
		e.violation(id, reputation.Downtime)
	}
	e.epoch(0)
	before := e.text()
	if !strings.Contains(string(before), `node_id="n1"`) {
		t.Fatal(`no node_id="n1" series before the removal`)
	}
	if err := e.book.Remove(e.ctx, "n1", true); err != nil {
		t.Fatal(err)
	}
	after := e.text()
	if strings.Contains(string(after), `node_id="n1"`) {
		for _, line := range strings.Split(string(after), "\n") {
			if strings.Contains(line, `node_id="n1"`) {
				t.Errorf("after Remove: %s", line)
			}
		}
	}
	mb, ma := parseText(t, before), parseText(t, after)
	for _, m := range catalog.Domain {
		if !m.PerNode {
			continue
		}
		if got, want := len(ma[m.Name].GetMetric()), len(mb[m.Name].GetMetric())/2; got != want {
			t.Errorf("%s: %d series after removing one of two nodes, want %d", m.Name, got, want)
		}
	}
	if got := scalarValue(t, ma, catalog.ReputationTotalNodes); got != 1 {
		t.Errorf("%s = %v, want 1", catalog.ReputationTotalNodes, got)
	}
}

// TestCountersAtZero: the per-node counters of every event and violation
// type exist at 0 from the moment a node is registered.
func TestCountersAtZero(t *testing.T) {
	e := newEnv(t, ledger.DefaultConfig(), metrics.Options{})
	e.register("n1", "")
	mfs := e.families()
	for _, typ := range reputation.EventTypes {
		m, ok := find(mfs, catalog.ReputationEvents, map[string]string{"node_id": "n1", "event_type": string(typ)})
		if !ok || value(m) != 0 {
			t.Errorf(`%s{node_id="n1",event_type=%q}: present %v, want 0`, catalog.ReputationEvents, typ, ok)
		}
	}
	for _, typ := range reputation.ViolationTypes {
		m, ok := find(mfs, catalog.ReputationViolations, map[string]string{"node_id": "n1", "violation_type": string(typ)})
		if !ok || value(m) != 0 {
			t.Errorf(`%s{node_id="n1",violation_type=%q}: present %v, want 0`, catalog.ReputationViolations, typ, ok)
		}
	}
	if n := len(mfs[catalog.ReputationEvents].GetMetric()); n != len(reputation.EventTypes) {
		t.Errorf("%d event series, want %d", n, len(reputation.EventTypes))
	}
	if n := len(mfs[catalog.ReputationViolations].GetMetric()); n != len(reputation.ViolationTypes) {
		t.Errorf("%d violation series, want %d", n, len(reputation.ViolationTypes))
	}
	for _, name := range []string{catalog.RewardsPerNode, catalog.RewardsPendingPerNode, catalog.StakePerNode, catalog.StakeActiveDeposits} {
		m, ok := find(mfs, name, map[string]string{"node_id": "n1"})
		if !ok || value(m) != 0 {
			t.Errorf(`%s{node_id="n1"}: present %v, want 0`, name, ok)
		}
	}
	// The network counters by type exist at 0 too.
	for _, typ := range reputation.ViolationTypes {
		if _, ok := find(mfs, catalog.StakeSlashed, map[string]string{"violation_type": string(typ)}); !ok {
			t.Errorf("%s{violation_type=%q} missing", catalog.StakeSlashed, typ)
		}
	}
	if got := e.book.Config().Reputation.Initial; scalarValue(t, mfs, catalog.ReputationMean) != got {
		t.Errorf("mean of one new node = %v, want %v", scalarValue(t, mfs, catalog.ReputationMean), got)
	}
	ev, _ := find(mfs, catalog.ReputationLastEventTimestamp, map[string]string{"node_id": "n1"})
	if got, want := value(ev), float64(epoch0.Unix()); got != want {
		t.Errorf("last event time of a new node = %v, want its registration %v", got, want)
	}

	e.event("n1", reputation.Heartbeat, 7)
	e.clock.Advance(time.Minute)
	e.violation("n1", reputation.Censorship)
	mfs = e.families()
	if m, _ := find(mfs, catalog.ReputationEvents, map[string]string{"node_id": "n1", "event_type": "heartbeat"}); value(m) != 7 {
		t.Errorf("heartbeat events = %v, want 7", value(m))
	}
	if m, _ := find(mfs, catalog.ReputationViolations, map[string]string{"node_id": "n1", "violation_type": "censorship"}); value(m) != 1 {
		t.Errorf("censorship violations = %v, want 1", value(m))
	}
}

// checkNoDuplicateSeries fails when a family holds two samples with the same
// label set (the text parser keeps both).
func checkNoDuplicateSeries(t testing.TB, mfs map[string]*dto.MetricFamily) {
	t.Helper()
	for name, mf := range mfs {
		seen := map[string]bool{}
		for _, m := range mf.GetMetric() {
			var b strings.Builder
			for _, lp := range m.GetLabel() {
				b.WriteString(lp.GetName() + "=" + lp.GetValue() + ",")
			}
			if seen[b.String()] {
				t.Errorf("%s{%s} appears twice", name, b.String())
			}
			seen[b.String()] = true
		}
	}
}

// TestCaseDistinctIDs (R12): ids are case-sensitive and used as given:
// "Node-A" and "node-a" are two nodes with two series each, and neither the
// fast path nor the client_golang path fails the scrape.
func TestCaseDistinctIDs(t *testing.T) {
	e := newEnv(t, ledger.DefaultConfig(), metrics.Options{})
	e.register("Node-A", "")
	e.register("node-a", "")
	e.event("node-a", reputation.BlockProposed, 10)

	r := scrape(t, e.handler)
	if r.status != http.StatusOK {
		t.Fatalf("status %d: %s", r.status, r.body)
	}
	mfs := parseText(t, r.body)
	checkNoDuplicateSeries(t, mfs)
	for _, m := range catalog.Domain {
		if !m.PerNode {
			continue
		}
		for _, id := range []string{"Node-A", "node-a"} {
			if _, ok := find(mfs, m.Name, map[string]string{"node_id": id}); !ok {
				t.Errorf("%s{node_id=%q} missing", m.Name, id)
			}
		}
	}
	a, _ := find(mfs, catalog.ReputationScore, map[string]string{"node_id": "Node-A"})
	b, _ := find(mfs, catalog.ReputationScore, map[string]string{"node_id": "node-a"})
	if value(a) == value(b) {
		t.Errorf("Node-A and node-a share the score %v", value(a))
	}

	reg := prometheus.NewPedanticRegistry()
	sc, err := metrics.NewStateCollector(e.book, nil)
	if err != nil {
		t.Fatal(err)
	}
	reg.MustRegister(sc)
	if _, err := reg.Gather(); err != nil {
		t.Errorf("client_golang Gather: %v", err)
	}
}
