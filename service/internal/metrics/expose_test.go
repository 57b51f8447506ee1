package metrics_test

import (
	"bytes"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"

	"github.com/cretoai/monitor/service/catalog"
	"github.com/cretoai/monitor/service/internal/ledger"
	"github.com/cretoai/monitor/service/internal/metrics"
	"github.com/cretoai/monitor/service/internal/reputation"
	"github.com/cretoai/monitor/service/internal/stake"
)

// exposition turns sample lines into a text exposition, adding each
// family's HELP and TYPE from the catalog before its first sample.
func exposition(t *testing.T, samples string) string {
	t.Helper()
	var b strings.Builder
	last := ""
	for _, line := range strings.Split(strings.TrimSpace(samples), "\n") {
		line = strings.TrimSpace(line)
		name, _, _ := strings.Cut(line, " ")
		name, _, _ = strings.Cut(name, "{")
		if name != last {
			m, ok := catalog.Lookup(name)
			if !ok {
				t.Fatalf("%s is not in the catalog", name)
			}
			b.WriteString("# HELP " + name + " " + m.Help + "\n# TYPE " + name + " " + string(m.Type) + "\n")
			last = name
		}
		b.WriteString(line + "\n")
	}
	return b.String()
}

// aggregateNames are the families TestAggregates compares.
var aggregateNames = []string{
	catalog.ReputationMean, catalog.ReputationMedian, catalog.ReputationHighestScore, catalog.ReputationLowestScore,
	catalog.ReputationNodesAbove, catalog.ReputationNodesBelow, catalog.ReputationTotalNodes, catalog.ReputationThreshold,
	catalog.ReputationScore,
	catalog.StakeBondedAmount, catalog.StakePerNode, catalog.StakeAverage, catalog.StakeUnbondingAmount,
	catalog.StakePendingWithdrawal, catalog.StakeActiveDeposits,
	catalog.StakeDeposits, catalog.StakeWithdrawals, catalog.StakeDepositedValue, catalog.StakeWithdrawnValue,
	catalog.RewardsPendingAmount, catalog.RewardsPendingPerNode, catalog.RewardsPerNode,
	catalog.RewardsUniqueRecipients, catalog.RewardsDistributionEfficiency, catalog.RewardsCurrentEpoch,
	catalog.RewardsPayouts, catalog.RewardsDistributedValue, catalog.RewardsAllocatedValue,
	catalog.RewardsDistributions, catalog.RewardsFailed, catalog.RewardsUptimeBonuses,
}

// TestAggregates checks the scrape-time aggregates of a fixed book against
// values worked out by hand, through the reference collector, for an odd and
// an even number of nodes, and that the fast path says the same.
func TestAggregates(t *testing.T) {
	e := newEnv(t, exactConfig(), metrics.Options{})
	// Scores: a 1, b 0.75, c 0.5, d 0, e 0.75 (threshold 0.75).
	e.register("a", "")
	e.event("a", reputation.BlockProposed, 4)
	e.deposit("a", 1500)
	e.register("b", "payout-b")
	e.event("b", reputation.VoteCast, 1)
	e.deposit("b", 1000)
	e.register("c", "")
	e.deposit("c", 2000)
	e.withdraw("c", 500)
	e.register("d", "")
	e.violation("d", reputation.DoubleSign) // no stake: nothing slashed
	e.register("e", "")
	e.event("e", reputation.VoteCast, 1)
	e.deposit("e", 4000)
	e.withdraw("e", 1000)
	e.withdraw("e", 1000)
	// Eligible a (1500 × 1), b (1000 × 0.75), e (2000 × 0.75): weights
	// 1500 : 750 : 1500 of a pool of 1000 → 400, 200, 400. Only b has a
	// payout address.
	if r := e.epoch(1000); r.Recipients != 3 || r.Paid != 200 {
		t.Fatalf("epoch = %+v; want 3 recipients, 200 paid", r)
	}

	sc, err := metrics.NewStateCollector(e.book, nil)
	if err != nil {
		t.Fatal(err)
	}
	odd := exposition(t, `
		cretoai_reputation_highest_score 1
		cretoai_reputation_lowest_score 0
		cretoai_reputation_mean 0.6
		cretoai_reputation_median 0.75
		cretoai_reputation_nodes_above_threshold 3
		cretoai_reputation_nodes_below_threshold 2
		cretoai_reputation_score{node_id="a"} 1
		cretoai_reputation_score{node_id="b"} 0.75
		cretoai_reputation_score{node_id="c"} 0.5
		cretoai_reputation_score{node_id="d"} 0
		cretoai_reputation_score{node_id="e"} 0.75
		cretoai_reputation_threshold 0.75
		cretoai_reputation_total_nodes 5
		cretoai_rewards_allocated_value_total 1000
		cretoai_rewards_current_epoch 1
		cretoai_rewards_distributed_value_total 200
		cretoai_rewards_distribution_efficiency 0.2
		cretoai_rewards_distributions_total{reward_type="base"} 3
		cretoai_rewards_distributions_total{reward_type="uptime_bonus"} 0
		cretoai_rewards_failed_total{reason="no_payout_address"} 2
		cretoai_rewards_payouts_total 1
		cretoai_rewards_pending_amount 800
		cretoai_rewards_pending_per_node{node_id="a"} 400
		cretoai_rewards_pending_per_node{node_id="b"} 0
		cretoai_rewards_pending_per_node{node_id="c"} 0
		cretoai_rewards_pending_per_node{node_id="d"} 0
		cretoai_rewards_pending_per_node{node_id="e"} 400
		cretoai_rewards_per_node_total{node_id="a"} 400
		cretoai_rewards_per_node_total{node_id="b"} 200
		cretoai_rewards_per_node_total{node_id="c"} 0
		cretoai_rewards_per_node_total{node_id="d"} 0
		cretoai_rewards_per_node_total{node_id="e"} 400
		cretoai_rewards_unique_recipients 3
		cretoai_rewards_uptime_bonuses_total 0
		cretoai_stake_active_deposits{node_id="a"} 1
		cretoai_stake_active_deposits{node_id="b"} 1
		cretoai_stake_active_deposits{node_id="c"} 1
		cretoai_stake_active_deposits{node_id="d"} 0
		cretoai_stake_active_deposits{node_id="e"} 1
		cretoai_stake_average 1200
		cretoai_stake_bonded_amount 6000
		cretoai_stake_deposited_value_total 8500
		cretoai_stake_deposits_total 4
		cretoai_stake_pending_withdrawals 3
		cretoai_stake_per_node{node_id="a"} 1500
		cretoai_stake_per_node{node_id="b"} 1000
		cretoai_stake_per_node{node_id="c"} 1500
		cretoai_stake_per_node{node_id="d"} 0
		cretoai_stake_per_node{node_id="e"} 2000
		cretoai_stake_unbonding_amount 2500
		cretoai_stake_withdrawals_total 3
		cretoai_stake_withdrawn_value_total 0
	`)
	if err := testutil.CollectAndCompare(sc, strings.NewReader(odd), aggregateNames...); err != nil {
		t.Errorf("5 nodes:\n%v", err)
	}
	checkFastMatches(t, e, odd, aggregateNames)

	// A sixth node at 0: scores 0 0 0.5 0.75 0.75 1, so the median is the
	// mean of the two middle values, 0.625, and the mean is 3/6.
	e.register("f", "")
	e.violation("f", reputation.DoubleSign)
	even := exposition(t, `
		cretoai_reputation_highest_score 1
		cretoai_reputation_lowest_score 0
		cretoai_reputation_mean 0.5
		cretoai_reputation_median 0.625
		cretoai_reputation_nodes_above_threshold 3
		cretoai_reputation_nodes_below_threshold 3
		cretoai_reputation_total_nodes 6
		cretoai_stake_average 1000
		cretoai_stake_bonded_amount 6000
		cretoai_stake_pending_withdrawals 3
		cretoai_stake_unbonding_amount 2500
		cretoai_rewards_pending_amount 800
	`)
	evenNames := []string{
		catalog.ReputationHighestScore, catalog.ReputationLowestScore, catalog.ReputationMean, catalog.ReputationMedian,
		catalog.ReputationNodesAbove, catalog.ReputationNodesBelow, catalog.ReputationTotalNodes,
		catalog.StakeAverage, catalog.StakeBondedAmount, catalog.StakePendingWithdrawal, catalog.StakeUnbondingAmount,
		catalog.RewardsPendingAmount,
	}
	if err := testutil.CollectAndCompare(sc, strings.NewReader(even), evenNames...); err != nil {
		t.Errorf("6 nodes:\n%v", err)
	}
	checkFastMatches(t, e, even, evenNames)

	// Identities over the scrape: above + below = total; bonded and pending
	// rewards are the sums of their per-node families.
	checkConsistent(t, e.families())
}

// checkFastMatches compares the named families of the fast /metrics output
// with the expected exposition.
func checkFastMatches(t *testing.T, e *env, expected string, names []string) {
	t.Helper()
	g := gathererOf(e.families())
	if err := testutil.GatherAndCompare(g, strings.NewReader(expected), names...); err != nil {
		t.Errorf("fast /metrics output:\n%v", err)
	}
}

// checkConsistent checks the identities that hold within one scrape.
func checkConsistent(t testing.TB, mfs map[string]*dto.MetricFamily) {
	t.Helper()
	total := scalarValue(t, mfs, catalog.ReputationTotalNodes)
	if n := len(mfs[catalog.ReputationScore].GetMetric()); float64(n) != total {
		t.Errorf("%s = %v but %d %s series", catalog.ReputationTotalNodes, total, n, catalog.ReputationScore)
	}
	above, below := scalarValue(t, mfs, catalog.ReputationNodesAbove), scalarValue(t, mfs, catalog.ReputationNodesBelow)
	if above+below != total {
		t.Errorf("above %v + below %v != total %v", above, below, total)
	}
	for _, c := range []struct{ total, perNode string }{
		{catalog.StakeBondedAmount, catalog.StakePerNode},
		{catalog.RewardsPendingAmount, catalog.RewardsPendingPerNode},
	} {
		sum := 0.0
		for _, m := range mfs[c.perNode].GetMetric() {
			sum += value(m)
		}
		if got := scalarValue(t, mfs, c.total); got != sum {
			t.Errorf("%s = %v, Σ %s = %v", c.total, got, c.perNode, sum)
		}
	}
}

// TestZeroNodes: with no nodes (a fresh book, and one whose nodes were all
// removed) no sample anywhere is NaN or ±Inf, the per-node families are
// absent and the aggregates are 0.
func TestZeroNodes(t *testing.T) {
	e := newEnv(t, ledger.DefaultConfig(), metrics.Options{})
	check := func(t *testing.T) {
		mfs := e.families()
		checkFinite(t, mfs)
		for _, m := range catalog.Domain {
			if _, ok := mfs[m.Name]; ok == m.PerNode {
				t.Errorf("%s: present=%v with no nodes", m.Name, ok)
			}
		}
		for _, name := range []string{
			catalog.ReputationMean, catalog.ReputationMedian, catalog.ReputationHighestScore, catalog.ReputationLowestScore,
			catalog.ReputationNodesAbove, catalog.ReputationNodesBelow, catalog.ReputationTotalNodes,
			catalog.StakeBondedAmount, catalog.StakeAverage, catalog.StakeUnbondingAmount, catalog.StakePendingWithdrawal,
			catalog.RewardsPendingAmount,
		} {
			if v := scalarValue(t, mfs, name); v != 0 {
				t.Errorf("%s = %v with no nodes, want 0", name, v)
			}
		}
		checkConsistent(t, mfs)
	}
	t.Run("fresh", check)

	e.register("n1", "")
	e.deposit("n1", 100)
	e.event("n1", reputation.BlockProposed, 50)
	e.epoch(0)
	if err := e.book.Remove(e.ctx, "n1", true); err != nil {
		t.Fatal(err)
	}
	t.Run("all removed", check)
}

// checkFinite fails on any NaN or ±Inf sample value in mfs.
func checkFinite(t testing.TB, mfs map[string]*dto.MetricFamily) {
	t.Helper()
	bad := func(f float64) bool { return math.IsNaN(f) || math.IsInf(f, 0) }
	for name, mf := range mfs {
		for _, m := range mf.GetMetric() {
			vals := []float64{}
			switch mf.GetType() {
			case dto.MetricType_HISTOGRAM:
				vals = append(vals, m.GetHistogram().GetSampleSum())
			case dto.MetricType_SUMMARY:
				vals = append(vals, m.GetSummary().GetSampleSum())
				for _, q := range m.GetSummary().GetQuantile() {
					vals = append(vals, q.GetValue())
				}
			default:
				vals = append(vals, value(m))
			}
			for _, v := range vals {
				if bad(v) {
					t.Errorf("%s%v = %v", name, labelsOf(m), v)
				}
			}
		}
	}
}

// referenceText renders the state families of book through client_golang: a
// registry holding only the reference collector, encoded by expfmt. For
// OpenMetrics the closing "# EOF" is cut off.
func referenceText(t *testing.T, book *ledger.Ledger, disabled []string, ft expfmt.FormatType) string {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	sc, err := metrics.NewStateCollector(book, disabled)
	if err != nil {
		t.Fatal(err)
	}
	reg.MustRegister(sc)
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatalf("reference Gather: %v", err)
	}
	var buf bytes.Buffer
	enc := expfmt.NewEncoder(&buf, expfmt.NewFormat(ft))
	for _, mf := range mfs {
		if err := enc.Encode(mf); err != nil {
			t.Fatal(err)
		}
	}
	if c, ok := enc.(expfmt.Closer); ok {
		if err := c.Close(); err != nil {
			t.Fatal(err)
		}
	}
	out := buf.String()
	if ft == expfmt.TypeOpenMetrics {
		var ok bool
		if out, ok = strings.CutSuffix(out, "# EOF\n"); !ok {
			t.Fatal("reference OpenMetrics output does not end with # EOF")
		}
	}
	return out
}

// fastStateText is the state-family part of one fast /metrics response, in
// the order it was written.
func fastStateText(t *testing.T, e *env, accept string) string {
	t.Helper()
	r := scrape(t, e.handler, "Accept", accept)
	if r.status != 200 {
		t.Fatalf("status %d: %s", r.status, r.body)
	}
	order, text := blocks(t, r.body)
	state := stateNames()
	var b strings.Builder
	for _, name := range order {
		if state[name] {
			b.WriteString(text[name])
		}
	}
	return b.String()
}

// TestByteCompatible: the fast writer's state families are byte for byte
// what client_golang and expfmt make of the reference collector, in the text
// format and in OpenMetrics, for values that exercise every formatting path.
func TestByteCompatible(t *testing.T) {
	cfg := ledger.DefaultConfig()
	cfg.Reputation.Initial = 0.1 // new nodes sit at 0.1
	cfg.Reputation.Threshold = 0.1
	formats := []struct {
		name   string
		accept string
		ft     expfmt.FormatType
	}{
		{"text", "text/plain", expfmt.TypeTextPlain},
		{"openmetrics", "application/openmetrics-text; version=1.0.0", expfmt.TypeOpenMetrics},
	}
	compare := func(t *testing.T, e *env, disabled []string) {
		t.Helper()
		for _, f := range formats {
			want := referenceText(t, e.book, disabled, f.ft)
			got := fastStateText(t, e, f.accept)
			if got != want {
				t.Errorf("%s: fast output differs from client_golang (-client_golang +fast):\n%s", f.name, firstDiff(want, got))
			}
		}
	}

	t.Run("no nodes", func(t *testing.T) {
		compare(t, newEnv(t, cfg, metrics.Options{}), nil)
	})

	book := func(t *testing.T, opts metrics.Options) *env {
		e := newEnv(t, cfg, opts)
		e.clock.Advance(1500 * time.Millisecond) // fractional timestamps
		e.register("n-one", "payout-1")          // score 1, stake 1
		e.event("n-one", reputation.BlockProposed, 10_000)
		e.deposit("n-one", 1)
		e.register("n-zero", "") // score 0, no stake
		e.violation("n-zero", reputation.DoubleSign)
		e.register("n-tenth", "payout-3") // score 0.1, stake 10^6 half unbonding
		e.deposit("n-tenth", 1_500_000)
		e.withdraw("n-tenth", 500_000) // bonded 10^6
		e.clock.Advance(1234567 * time.Microsecond)
		e.register("Node-A", "")   // upper case sorts first
		e.register("node.b:7", "") // odd characters, score 0.115
		e.event("node.b:7", reputation.BlockValidated, 3)
		e.deposit("node.b:7", 12_345)
		e.register("whale", "") // a huge amount: the network's deposit cap
		e.event("whale", reputation.VoteCast, 7)
		e.deposit("whale", stake.MaxAmount-1-1_500_000-12_345)
		e.violation("whale", reputation.Equivocation) // slashes 5% of it
		e.epoch(999_999_937)                          // rewards in odd shares
		e.epoch(0)
		return e
	}
	t.Run("varied", func(t *testing.T) {
		e := book(t, metrics.Options{})
		compare(t, e, nil)
		// Sanity: the values meant to be covered are there.
		body := string(e.text())
		for _, s := range []string{` 1e+06`, ` 0.1`, ` 9.`, `e+18`, `cretoai_reputation_score{node_id="n-one"} 1`, `{node_id="n-zero"} 0`} {
			if !strings.Contains(body, s) {
				t.Errorf("scrape has no %q", s)
			}
		}
	})
	t.Run("disabled", func(t *testing.T) {
		off := []string{catalog.ReputationEvents, catalog.StakePerNode, catalog.RewardsPerNode}
		e := book(t, metrics.Options{DisabledFamilies: off})
		compare(t, e, off)
		body := string(e.text())
		for _, name := range off {
			if strings.Contains(body, name) {
				t.Errorf("disabled family %s is in the scrape", name)
			}
		}
	})
}

// firstDiff describes where two texts first differ, line by line.
func firstDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := 0; i < len(w) || i < len(g); i++ {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl || i >= len(w) || i >= len(g) {
			return fmt.Sprintf("line %d (of %d vs %d):\n-%s\n+%s", i+1, len(w), len(g), wl, gl)
		}
	}
	return "(no line differs)"
}

// TestScrapeDeterministic: an unchanged book renders the same bytes on every
// scrape, whatever order the book's map yields its nodes in (the mean is a
// float sum whose last digit depends on the order of its terms).
func TestScrapeDeterministic(t *testing.T) {
	e := newEnv(t, ledger.DefaultConfig(), metrics.Options{})
	populate(t, e.ctx, e.book, "det", 300)
	e.epoch(0)
	for _, accept := range []string{"text/plain", acceptOpenMetrics} {
		first := fastStateText(t, e, accept)
		for i := range 5 {
			if got := fastStateText(t, e, accept); got != first {
				t.Fatalf("%s: scrape %d of an unchanged book differs from the first: %s", accept, i+2, firstDiff(first, got))
			}
		}
		if want := referenceText(t, e.book, nil, map[string]expfmt.FormatType{"text/plain": expfmt.TypeTextPlain, acceptOpenMetrics: expfmt.TypeOpenMetrics}[accept]); want != first {
			t.Errorf("%s: fast output differs from client_golang: %s", accept, firstDiff(want, first))
		}
	}
}
