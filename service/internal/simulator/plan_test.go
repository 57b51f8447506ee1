package simulator

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cretoai/monitor/service/internal/reputation"
)

var testIncidents = []Incident{
	{DoubleSign, "node-03", 20 * time.Second},
	{PayoutsFailing, "node-05", 40 * time.Second},
	{MassWithdrawal, "node-07", 60 * time.Second},
	{NodeSilent, "node-09", 30 * time.Second},
	{ReputationCollapse, "node-11", 50 * time.Second},
}

func lines(calls []call) []string {
	out := make([]string, len(calls))
	for i, c := range calls {
		out[i] = c.line()
	}
	return out
}

func mustPlan(t *testing.T, cfg PlanConfig) *Plan {
	t.Helper()
	p, err := NewPlan(cfg)
	if err != nil {
		t.Fatalf("NewPlan: %v", err)
	}
	return p
}

// TestPlanDeterministic: two plans with the same seed, answered alike, make
// the same requests (method, path and body); another seed makes others.
func TestPlanDeterministic(t *testing.T) {
	run := func(seed uint64, runID string) []string {
		cfg := testPlanConfig(seed)
		cfg.RunID = runID
		cfg.Speedup = 20 // plenty of violations, deposits and withdrawals
		cfg.Incidents = testIncidents
		return lines(drive(t, mustPlan(t, cfg), newFakeBook(), 300))
	}
	a, b := run(1, "run-a"), run(1, "run-b")
	if len(a) < 300 {
		t.Fatalf("only %d requests in 300 ticks", len(a))
	}
	if i := firstDiff(a, b); i >= 0 {
		t.Fatalf("same seed, request %d differs:\n%s\n%s", i, at(a, i), at(b, i))
	}
	c := run(2, "run-a")
	if firstDiff(a, c) < 0 {
		t.Fatal("seeds 1 and 2 made the same requests")
	}
}

func firstDiff(a, b []string) int {
	for i := range max(len(a), len(b)) {
		if i >= len(a) || i >= len(b) || a[i] != b[i] {
			return i
		}
	}
	return -1
}

func at(s []string, i int) string {
	if i < len(s) {
		return s[i]
	}
	return "<none>"
}

// TestPlanIsAccepted: whatever the seed, nothing the plan sends is rejected;
// in particular no withdrawal exceeds bonded stake, even with violations
// slashing stake by amounts only the service knows.
func TestPlanIsAccepted(t *testing.T) {
	for seed := uint64(1); seed <= 5; seed++ {
		cfg := testPlanConfig(seed)
		cfg.Speedup = 300
		cfg.Incidents = testIncidents
		b := newFakeBook()
		calls := drive(t, mustPlan(t, cfg), b, 400)
		if len(b.rejected) > 0 {
			t.Fatalf("seed %d: %d requests rejected, first: %s", seed, len(b.rejected), b.rejected[0])
		}
		withdrawals := 0
		for _, c := range calls {
			if c.req.Kind == KindWithdrawal {
				withdrawals++
			}
		}
		if withdrawals < 20 {
			t.Fatalf("seed %d: only %d withdrawals; the test needs many", seed, withdrawals)
		}
	}
}

func TestPlanSetup(t *testing.T) {
	cfg := testPlanConfig(7)
	cfg.NoPayoutShare = 0.25
	p := mustPlan(t, cfg)
	b := newFakeBook()
	calls := drive(t, p, b, 0)
	if len(b.nodes) != 20 {
		t.Fatalf("%d nodes registered, want 20", len(b.nodes))
	}
	noPayout := 0
	for _, n := range b.nodes {
		if n.payout == "" {
			noPayout++
		}
		if n.deposited < minInitialStake || n.deposited > maxInitialStake {
			t.Errorf("%s: initial stake %d outside [%d, %d]", n.id, n.deposited, minInitialStake, maxInitialStake)
		}
	}
	if noPayout != 5 {
		t.Errorf("%d nodes without payout address, want 25%% of 20 = 5", noPayout)
	}
	var low, high int
	for _, n := range b.nodes {
		switch {
		case n.score < 0.7:
			low++
		case n.score >= 0.9:
			high++
		}
	}
	if low < 2 || high < 8 {
		t.Errorf("after warm-up %d nodes are below 0.7 and %d at or above 0.9; want a spread network", low, high)
	}
	for _, c := range calls {
		if c.req.Kind == KindDeposit && !strings.HasPrefix(c.req.IdempotencyKey, "sim-7-"+c.req.NodeID) {
			t.Errorf("initial deposit key %q is not derived from seed and node", c.req.IdempotencyKey)
		}
	}
}

// TestPlanRerun: a second run against the same service registers nothing,
// deposits no second initial stake, and restores payout addresses an
// incident cleared.
func TestPlanRerun(t *testing.T) {
	cfg := testPlanConfig(1)
	cfg.Incidents = []Incident{{PayoutsFailing, "node-05", 0}}
	b := newFakeBook()
	drive(t, mustPlan(t, cfg), b, 3)
	if b.nodes["node-05"].payout != "" {
		t.Fatal("payouts-failing did not clear node-05's address")
	}
	stake := map[string]uint64{}
	for id, n := range b.nodes {
		stake[id] = n.deposited
	}

	cfg.Incidents, cfg.RunID = nil, "second"
	calls := drive(t, mustPlan(t, cfg), b, 0)
	for _, c := range calls {
		switch c.req.Kind {
		case KindRegister, KindDeposit:
			t.Errorf("re-run made %s", c.line())
		}
	}
	for id, n := range b.nodes {
		if n.deposited != stake[id] {
			t.Errorf("%s: deposited %d after the re-run, %d before", id, n.deposited, stake[id])
		}
	}
	if b.nodes["node-05"].payout == "" {
		t.Error("the re-run did not restore node-05's payout address")
	}
	if len(b.rejected) > 0 {
		t.Errorf("rejected: %v", b.rejected)
	}
}

// TestPlanReregistersRemovedNode: a node removed behind the simulator's back
// costs one rejected batch; the next tick registers it again and deposits
// its initial stake.
func TestPlanReregistersRemovedNode(t *testing.T) {
	p := mustPlan(t, testPlanConfig(3))
	b := newFakeBook()
	drive(t, p, b, 2)
	delete(b.nodes, "node-04")
	var calls []call
	for range 3 {
		st := p.Tick()
		for i := range st.Requests {
			resp := b.answer(st.Requests[i])
			p.Observe(&st.Requests[i], resp)
			calls = append(calls, call{0, st.Requests[i], resp})
		}
	}
	if len(b.rejected) != 1 || !strings.Contains(b.rejected[0], "node_not_found") {
		t.Fatalf("want one rejected batch, got %v", b.rejected)
	}
	n := b.nodes["node-04"]
	if n == nil || n.deposited == 0 {
		t.Fatalf("node-04 not registered and funded again: %+v", n)
	}
	if n.events["block_validated"]+n.events["vote_cast"]+n.events["heartbeat"] == 0 {
		t.Error("node-04 gets no events after it came back")
	}
}

func TestPlanRateAndEpochs(t *testing.T) {
	cfg := testPlanConfig(4)
	cfg.Rate, cfg.Tick, cfg.EpochEvery = 7.5, 200*time.Millisecond, 2*time.Second
	p := mustPlan(t, cfg)
	b := newFakeBook()
	calls := drive(t, p, b, 100) // 20 s
	events, epochs := 0, 0
	perTick := map[int]int{}
	for _, c := range calls {
		switch {
		case c.tick < 0:
		case c.req.Kind == KindBatch:
			events += c.req.Events
			perTick[c.tick] += c.req.Events
		case c.req.Kind == KindEpoch:
			epochs++
			if c.tick%10 != 0 {
				t.Errorf("epoch at tick %d, want every 10th", c.tick)
			}
		}
	}
	if events != 150 {
		t.Errorf("%d events in 20 s at 7.5/s, want 150", events)
	}
	for k, n := range perTick {
		if n < 1 || n > 2 {
			t.Errorf("tick %d carries %d events, want 1 or 2 (7.5/s × 0.2 s)", k, n)
		}
	}
	if epochs != 9 {
		t.Errorf("%d epochs in ticks 0–99 every 2 s, want 9", epochs)
	}
	if len(b.rejected) > 0 {
		t.Errorf("rejected: %v", b.rejected)
	}
}

// TestPlanEveryTypeAndSpread: over time every event type and every
// violation type is reported, and the scores spread out with some nodes
// below the reliability threshold.
func TestPlanEveryTypeAndSpread(t *testing.T) {
	cfg := testPlanConfig(5)
	cfg.Nodes = 50
	cfg.Speedup = 10
	p := mustPlan(t, cfg)
	b := newFakeBook()
	drive(t, p, b, 600)
	events, violations := map[string]uint64{}, map[string]uint64{}
	below := 0
	for _, n := range b.nodes {
		for k, v := range n.events {
			events[k] += v
		}
		for k, v := range n.violations {
			violations[k] += v
		}
		if n.score < 0.7 {
			below++
		}
	}
	for _, e := range reputation.EventTypes {
		if events[string(e)] == 0 {
			t.Errorf("no %s events", e)
		}
	}
	for _, v := range reputation.ViolationTypes {
		if violations[string(v)] == 0 {
			t.Errorf("no %s violations", v)
		}
	}
	if below < 3 || below > 30 {
		t.Errorf("%d of 50 nodes below 0.7; want some, not most", below)
	}
	if events["block_proposed"] > events["block_validated"]/4 {
		t.Errorf("block_proposed (%d) should be occasional next to block_validated (%d)", events["block_proposed"], events["block_validated"])
	}
}

func TestPlanIncidents(t *testing.T) {
	cfg := testPlanConfig(6)
	cfg.Incidents = testIncidents
	p := mustPlan(t, cfg)
	b := newFakeBook()
	calls := drive(t, p, b, 90)
	if len(b.rejected) > 0 {
		t.Fatalf("rejected: %v", b.rejected)
	}
	tickOf := func(d time.Duration) int { return int(d / cfg.Tick) }

	t.Run("double-sign", func(t *testing.T) {
		var got []call
		for _, c := range calls {
			if c.req.Kind == KindViolation {
				got = append(got, c)
			}
		}
		if len(got) != 1 || got[0].req.Path != "/api/v1/nodes/node-03/violations" || got[0].tick != tickOf(20*time.Second) {
			t.Fatalf("want one violation request for node-03 at tick 20, got %d: %v", len(got), got)
		}
		var body violationBody
		mustDecode(got[0].req.Body, &body)
		if body.Type != "double_sign" || body.Evidence == "" {
			t.Fatalf("body %s: want double_sign with evidence", got[0].req.Body)
		}
		if b.nodes["node-03"].violations["double_sign"] != 1 {
			t.Fatal("node-03 has no double_sign")
		}
	})

	t.Run("node-silent", func(t *testing.T) {
		before := 0
		for _, c := range calls {
			if c.req.Kind != KindBatch || !strings.Contains(string(c.req.Body), `"node-09"`) {
				continue
			}
			if c.tick >= tickOf(30*time.Second) {
				t.Fatalf("tick %d reports node-09 after it went silent: %s", c.tick, c.req.Body)
			}
			before++
		}
		if before == 0 {
			t.Fatal("node-09 had no events before it went silent")
		}
	})

	t.Run("reputation-collapse", func(t *testing.T) {
		n := b.nodes["node-11"]
		if n.score >= CollapseScore {
			t.Fatalf("node-11 score %v, want < %v", n.score, CollapseScore)
		}
		if p.nodes[10].mode != modeCollapsed {
			t.Fatalf("node-11 is in mode %d, want collapsed", p.nodes[10].mode)
		}
		downtimeAfter := false
		for _, c := range calls {
			if c.req.Kind != KindBatch || c.tick < tickOf(50*time.Second) {
				continue
			}
			var body batchBody
			mustDecode(c.req.Body, &body)
			for _, e := range body.Events {
				if e.NodeID == "node-11" && reputation.EventType(e.Type).Live() {
					t.Fatalf("tick %d: collapsing node-11 reports %s", c.tick, e.Type)
				}
			}
			for _, v := range body.Violations {
				if v.NodeID == "node-11" && v.Type == "downtime" && c.tick > tickOf(60*time.Second) {
					downtimeAfter = true
				}
			}
		}
		if downtimeAfter {
			t.Error("node-11 still gets downtime violations 10 s after its score collapsed")
		}
		if n.events["missed_block"] < 20 {
			t.Errorf("node-11 has only %d missed blocks", n.events["missed_block"])
		}
	})

	t.Run("mass-withdrawal", func(t *testing.T) {
		var nodes []string
		for _, n := range b.nodes {
			for _, w := range n.withdrawals {
				if !w.incident {
					continue
				}
				nodes = append(nodes, n.id)
				if w.amount < mulPPM(w.bondedBefore, 850_000) || w.amount > mulPPM(w.bondedBefore, 950_000) {
					t.Errorf("%s: withdrew %d of %d bonded, want ~90%%", n.id, w.amount, w.bondedBefore)
				}
			}
		}
		if !slices.Contains(nodes, "node-07") || len(nodes) != 11 {
			t.Fatalf("mass withdrawal from %v, want node-07 and 10 others", nodes)
		}
	})

	t.Run("payouts-failing", func(t *testing.T) {
		var cleared []string
		epochAfter := false
		for _, c := range calls {
			if c.req.Incident == nil || c.req.Incident.Kind != PayoutsFailing {
				continue
			}
			switch c.req.Kind {
			case KindUpdateNode:
				var body map[string]any
				if err := json.Unmarshal(c.req.Body, &body); err != nil || body["payout_address"] != "" {
					t.Fatalf("PATCH body %s, want an empty payout_address", c.req.Body)
				}
				cleared = append(cleared, c.req.NodeID)
			case KindEpoch:
				epochAfter = len(cleared) > 0
			}
		}
		if !slices.Contains(cleared, "node-05") || len(cleared) != 5 {
			t.Fatalf("cleared %v, want node-05 and 4 others (20%% of 20)", cleared)
		}
		if !epochAfter {
			t.Fatal("no epoch after the addresses were cleared")
		}
		if b.nodes["node-05"].payout != "" {
			t.Fatal("node-05 still has a payout address")
		}
	})
}

func TestPlanConfigValidate(t *testing.T) {
	good := testPlanConfig(1)
	tests := []struct {
		name string
		edit func(*PlanConfig)
	}{
		{"no nodes", func(c *PlanConfig) { c.Nodes = 0 }},
		{"negative rate", func(c *PlanConfig) { c.Rate = -1 }},
		{"zero tick", func(c *PlanConfig) { c.Tick = 0 }},
		{"negative epoch period", func(c *PlanConfig) { c.EpochEvery = -time.Second }},
		{"share above 1", func(c *PlanConfig) { c.NoPayoutShare = 1.5 }},
		{"negative speedup", func(c *PlanConfig) { c.Speedup = -1 }},
	}
	if _, err := NewPlan(good); err != nil {
		t.Fatalf("good config rejected: %v", err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := good
			tt.edit(&c)
			if _, err := NewPlan(c); err == nil {
				t.Fatal("accepted")
			}
		})
	}
}

func TestMulPPM(t *testing.T) {
	tests := []struct {
		amount uint64
		ppm    uint32
		want   uint64
	}{
		{1000, 900_000, 900},
		{999, 500_000, 499},
		{1 << 62, 900_000, 4150517416584649113}, // floor(2⁶²·0.9)
		{7, 1_000_000, 7},
		{7, 0, 0},
	}
	for _, tt := range tests {
		if got := mulPPM(tt.amount, tt.ppm); got != tt.want {
			t.Errorf("mulPPM(%d, %d) = %d, want %d", tt.amount, tt.ppm, got, tt.want)
		}
	}
}

func TestBatchNode(t *testing.T) {
	b := &batchBody{Events: []batchEvent{{NodeID: "a"}, {NodeID: "b"}}, Violations: []batchViolation{{NodeID: "c"}}}
	tests := map[string]string{
		"events[1].node_id": "b", "violations[0].node_id": "c", "events[2].node_id": "",
		"events": "", "events[x].node_id": "", "": "",
	}
	for field, want := range tests {
		if got := batchNode(b, field); got != want {
			t.Errorf("batchNode(%q) = %q, want %q", field, got, want)
		}
	}
}
