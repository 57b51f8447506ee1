package simulator

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cretoai/monitor/service/internal/reputation"
)

// fakeBook is a small in-memory stand-in for the service, enough to answer a
// plan's requests the way the API does. It rejects what the service would
// reject (unknown nodes, duplicate registrations, withdrawals beyond bonded
// stake, reused idempotency keys) and records every rejection.
type fakeBook struct {
	params   reputation.Params
	clock    time.Time
	nodes    map[string]*fakeNode
	idem     map[string]fakeIdem
	rejected []string
	epochs   int
}

type fakeNode struct {
	id, payout        string
	registeredAt      time.Time
	score             float64
	bonded, deposited uint64
	events            map[string]uint64
	violations        map[string]uint64
	// bondedAt records the bonded stake before each withdrawal request.
	withdrawals []fakeWithdrawal
}

type fakeWithdrawal struct {
	amount, bondedBefore uint64
	incident             bool
}

type fakeIdem struct {
	fingerprint string
	resp        Response
}

var fakeSlashPPM = map[string]uint32{
	"double_sign": 50_000, "equivocation": 50_000, "invalid_block": 10_000,
	"downtime": 1_000, "censorship": 20_000, "protocol_violation": 10_000,
}

func newFakeBook() *fakeBook {
	return &fakeBook{params: reputation.DefaultParams(), clock: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), nodes: map[string]*fakeNode{}, idem: map[string]fakeIdem{}}
}

func (b *fakeBook) answer(r Request) Response {
	resp := b.route(r)
	if !resp.OK() && !(r.Kind == KindRegister && resp.Status == http.StatusConflict) {
		b.rejected = append(b.rejected, fmt.Sprintf("%s %s %s -> %d %s", r.Method, r.Path, r.Body, resp.Status, resp.Body))
	}
	return resp
}

func fakeError(status int, code, field string) Response {
	var e errorBody
	e.Error.Code, e.Error.Field, e.Error.Message = code, field, code
	return Response{Status: status, Body: mustJSON(e)}
}

func (b *fakeBook) route(r Request) Response {
	const nodes = "/api/v1/nodes"
	switch {
	case r.Method == http.MethodGet && r.Path == nodes:
		l := nodeList{Nodes: []nodeView{}}
		ids := make([]string, 0, len(b.nodes))
		for id := range b.nodes {
			ids = append(ids, id)
		}
		slices.Sort(ids)
		for _, id := range ids {
			l.Nodes = append(l.Nodes, b.view(b.nodes[id]))
		}
		l.Count = len(l.Nodes)
		return Response{Status: http.StatusOK, Body: mustJSON(l)}
	case r.Method == http.MethodPost && r.Path == nodes:
		var req registerBody
		mustDecode(r.Body, &req)
		if b.nodes[req.NodeID] != nil {
			return fakeError(http.StatusConflict, "node_exists", "node_id")
		}
		b.clock = b.clock.Add(time.Millisecond)
		n := &fakeNode{id: req.NodeID, payout: req.PayoutAddress, score: b.params.Initial, registeredAt: b.clock,
			events: map[string]uint64{}, violations: map[string]uint64{}}
		b.nodes[n.id] = n
		return Response{Status: http.StatusCreated, Body: mustJSON(b.view(n))}
	case r.Method == http.MethodPost && r.Path == "/api/v1/batch":
		return b.batch(r)
	case r.Method == http.MethodPost && r.Path == "/api/v1/epochs":
		return b.idempotent(r, func() Response {
			b.epochs++
			return Response{Status: http.StatusOK, Body: []byte(fmt.Sprintf(`{"number":%d}`, b.epochs))}
		})
	case strings.HasPrefix(r.Path, nodes+"/"):
		id, sub, _ := strings.Cut(strings.TrimPrefix(r.Path, nodes+"/"), "/")
		n := b.nodes[id]
		if n == nil {
			return fakeError(http.StatusNotFound, "node_not_found", "node_id")
		}
		return b.node(r, n, sub)
	}
	return fakeError(http.StatusNotFound, "route_not_found", "")
}

func (b *fakeBook) node(r Request, n *fakeNode, sub string) Response {
	switch {
	case r.Method == http.MethodGet && sub == "":
		return Response{Status: http.StatusOK, Body: mustJSON(b.view(n))}
	case r.Method == http.MethodPatch && sub == "":
		var req updateBody
		mustDecode(r.Body, &req)
		n.payout = req.PayoutAddress
		return Response{Status: http.StatusOK, Body: mustJSON(b.view(n))}
	case r.Method == http.MethodDelete && sub == "":
		delete(b.nodes, n.id)
		return Response{Status: http.StatusNoContent}
	case r.Method == http.MethodPost && sub == "violations":
		var req violationBody
		mustDecode(r.Body, &req)
		slashed := b.violate(n, req.Type)
		return Response{Status: http.StatusOK, Body: mustJSON(violationResult{Score: n.score, Slashed: slashed, Bonded: n.bonded})}
	case r.Method == http.MethodPost && sub == "deposits":
		var req amountBody
		mustDecode(r.Body, &req)
		return b.idempotent(r, func() Response {
			n.bonded += req.Amount
			n.deposited += req.Amount
			return Response{Status: http.StatusOK, Body: mustJSON(stakeResult{Amount: req.Amount, Bonded: n.bonded})}
		})
	case r.Method == http.MethodPost && sub == "withdrawals":
		var req amountBody
		mustDecode(r.Body, &req)
		return b.idempotent(r, func() Response {
			if req.Amount > n.bonded {
				return fakeError(http.StatusUnprocessableEntity, "insufficient_stake", "amount")
			}
			n.withdrawals = append(n.withdrawals, fakeWithdrawal{amount: req.Amount, bondedBefore: n.bonded, incident: r.Incident != nil})
			n.bonded -= req.Amount
			return Response{Status: http.StatusOK, Body: mustJSON(stakeResult{Amount: req.Amount, Bonded: n.bonded})}
		})
	}
	return fakeError(http.StatusMethodNotAllowed, "method_not_allowed", "")
}

func (b *fakeBook) idempotent(r Request, apply func() Response) Response {
	if r.IdempotencyKey == "" {
		return apply()
	}
	fp := r.Method + " " + r.Path + " " + string(r.Body)
	if rec, ok := b.idem[r.IdempotencyKey]; ok {
		if rec.fingerprint != fp {
			return fakeError(http.StatusConflict, "idempotency_key_reused", "Idempotency-Key")
		}
		resp := rec.resp
		resp.Replayed = true
		return resp
	}
	resp := apply()
	if resp.OK() {
		b.idem[r.IdempotencyKey] = fakeIdem{fingerprint: fp, resp: resp}
	}
	return resp
}

func (b *fakeBook) batch(r Request) Response {
	var req batchBody
	mustDecode(r.Body, &req)
	if len(req.Events)+len(req.Violations) == 0 || len(req.Events)+len(req.Violations) > 10_000 {
		return fakeError(http.StatusBadRequest, "invalid_batch", "events")
	}
	for i, e := range req.Events {
		if b.nodes[e.NodeID] == nil {
			return fakeError(http.StatusNotFound, "node_not_found", fmt.Sprintf("events[%d].node_id", i))
		}
		if reputation.EventType(e.Type).Index() < 0 || e.Count < 1 || e.Count > 10_000 {
			return fakeError(http.StatusBadRequest, "invalid_event", fmt.Sprintf("events[%d]", i))
		}
	}
	for i, v := range req.Violations {
		if b.nodes[v.NodeID] == nil {
			return fakeError(http.StatusNotFound, "node_not_found", fmt.Sprintf("violations[%d].node_id", i))
		}
		if reputation.ViolationType(v.Type).Index() < 0 {
			return fakeError(http.StatusBadRequest, "unknown_violation_type", fmt.Sprintf("violations[%d].type", i))
		}
	}
	for _, e := range req.Events {
		n := b.nodes[e.NodeID]
		n.events[e.Type] += uint64(e.Count)
		n.score = b.params.ApplyEvent(n.score, reputation.EventType(e.Type), e.Count)
	}
	for _, v := range req.Violations {
		b.violate(b.nodes[v.NodeID], v.Type)
	}
	return Response{Status: http.StatusOK, Body: []byte(`{}`)}
}

func (b *fakeBook) violate(n *fakeNode, typ string) uint64 {
	n.violations[typ]++
	n.score = b.params.ApplyViolation(n.score, reputation.ViolationType(typ))
	taken := mulPPM(n.bonded, fakeSlashPPM[typ])
	n.bonded -= taken
	return taken
}

func (b *fakeBook) view(n *fakeNode) nodeView {
	var v nodeView
	v.NodeID, v.PayoutAddress, v.RegisteredAt = n.id, n.payout, n.registeredAt
	v.Reputation.Score = n.score
	v.Reputation.Events, v.Reputation.Violations = n.events, n.violations
	v.Stake.Bonded, v.Stake.Deposited = n.bonded, n.deposited
	return v
}

func mustDecode(b []byte, v any) {
	if err := json.Unmarshal(b, v); err != nil {
		panic(fmt.Sprintf("fake book: decode %s: %v", b, err))
	}
}

// call is one request the plan made and the fake's answer.
type call struct {
	tick int // -1 during setup
	req  Request
	resp Response
}

// line is the part of a call that must be reproducible.
func (c call) line() string { return c.req.Method + " " + c.req.Path + " " + string(c.req.Body) }

// drive runs p's setup and then ticks ticks against b, as the simulator
// does: every request is answered and observed before the next.
func drive(t *testing.T, p *Plan, b *fakeBook, ticks int) []call {
	t.Helper()
	var calls []call
	do := func(tick int, reqs []Request) {
		for i := range reqs {
			resp := b.answer(reqs[i])
			p.Observe(&reqs[i], resp)
			calls = append(calls, call{tick, reqs[i], resp})
		}
	}
	for round := 0; !p.Ready(); round++ {
		if round > 20 {
			t.Fatal("setup did not finish in 20 rounds")
		}
		do(-1, p.Setup())
	}
	for k := 0; k < ticks; k++ {
		st := p.Tick()
		if st.Elapsed != time.Duration(k)*p.cfg.Tick {
			t.Fatalf("tick %d has elapsed %v", k, st.Elapsed)
		}
		do(k, st.Requests)
	}
	return calls
}

func testPlanConfig(seed uint64) PlanConfig {
	return PlanConfig{
		Nodes: 20, Seed: seed, RunID: "test", Rate: 40, Tick: time.Second,
		EpochEvery: 30 * time.Second, NoPayoutShare: 0.1, Speedup: 1,
	}
}
