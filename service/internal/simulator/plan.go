package simulator

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/bits"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/cretoai/monitor/service/internal/reputation"
)

// PlanConfig is what a Plan needs to decide what to send.
type PlanConfig struct {
	// Nodes is the number of simulated nodes, node-1…node-N zero-padded to
	// the width of N.
	Nodes int
	// Seed drives every random choice: the same seed and the same answers
	// from the service give the same requests.
	Seed uint64
	// RunID makes the Idempotency-Keys of this run's stake changes and
	// epochs unique, so a second run against the same service is not
	// replayed from the first one's keys. It is not part of any body or path.
	RunID string
	// Rate is the number of events per second across the network.
	Rate float64
	// Tick is the simulated time between two steps.
	Tick time.Duration
	// EpochEvery is how often the plan runs a reward epoch; 0 leaves epochs
	// to the service's schedule.
	EpochEvery time.Duration
	// NoPayoutShare is the share of nodes registered without a payout
	// address.
	NoPayoutShare float64
	// Speedup multiplies the per-minute rates of violations, deposits and
	// withdrawals; 1 is the realistic pace.
	Speedup float64
	// SyncEvery is how often the plan reads every node back to correct its
	// view (scores, bonded stake); 10s when 0.
	SyncEvery time.Duration
	// Incidents are the scripted failures.
	Incidents []Incident
}

// DefaultSyncEvery is how often the plan reads all nodes back by default.
const DefaultSyncEvery = 10 * time.Second

// Validate reports the first setting that is out of range.
func (c PlanConfig) Validate() error {
	switch {
	case c.Nodes < 1 || c.Nodes > maxNodes:
		return fmt.Errorf("nodes must be in [1, %d], got %d", maxNodes, c.Nodes)
	case math.IsNaN(c.Rate) || c.Rate < 0 || c.Rate > maxRate:
		return fmt.Errorf("rate must be in [0, %d] events per second, got %v", maxRate, c.Rate)
	case c.Tick <= 0:
		return errors.New("tick must be positive")
	case c.EpochEvery < 0:
		return errors.New("epoch-every must not be negative")
	case math.IsNaN(c.NoPayoutShare) || c.NoPayoutShare < 0 || c.NoPayoutShare > 1:
		return fmt.Errorf("no-payout-share must be in [0, 1], got %v", c.NoPayoutShare)
	case math.IsNaN(c.Speedup) || c.Speedup < 0 || c.Speedup > 1e6:
		return fmt.Errorf("speedup must be in [0, 1e6], got %v", c.Speedup)
	case c.SyncEvery < 0:
		return errors.New("sync interval must not be negative")
	}
	return nil
}

// Limits of a plan.
const (
	maxNodes = 1_000_000
	maxRate  = 10_000_000
	// maxBatchItems is the most items the plan puts in one batch request;
	// the service takes up to 10,000.
	maxBatchItems = 5_000
	// maxEventCount is the largest count of one event item the service
	// takes.
	maxEventCount = 10_000
	// maxNodeReads is the most single-node reads per step; past it the plan
	// reads the whole list instead.
	maxNodeReads = 3
)

// Kind names what a request does.
type Kind int

// The request kinds.
const (
	KindListNodes Kind = iota + 1
	KindGetNode
	KindRegister
	KindUpdateNode
	KindDeposit
	KindWithdrawal
	KindViolation
	KindBatch
	KindEpoch
)

func (k Kind) String() string {
	switch k {
	case KindListNodes:
		return "list-nodes"
	case KindGetNode:
		return "get-node"
	case KindRegister:
		return "register"
	case KindUpdateNode:
		return "update-node"
	case KindDeposit:
		return "deposit"
	case KindWithdrawal:
		return "withdrawal"
	case KindViolation:
		return "violation"
	case KindBatch:
		return "batch"
	case KindEpoch:
		return "epoch"
	}
	return "kind(" + strconv.Itoa(int(k)) + ")"
}

// Request is one API call the plan wants made.
type Request struct {
	Kind   Kind
	Method string
	// Path is the URL path, e.g. /api/v1/nodes/node-03/deposits.
	Path string
	// Body is the JSON body, nil for none.
	Body []byte
	// IdempotencyKey is sent as the Idempotency-Key header when not empty.
	IdempotencyKey string
	// NodeID is the node a single-node request is about.
	NodeID string
	// Events is the number of events the request reports (sum of counts).
	Events int
	// Violations lists the violation types the request reports.
	Violations []reputation.ViolationType
	// Amount is the amount of a deposit or withdrawal.
	Amount uint64
	// Incident is the incident the request is part of, if any.
	Incident *Incident

	node    int // index of NodeID, -1 when the request is about no one node
	initial bool
	batch   *batchBody
}

// Response is the service's answer to a Request.
type Response struct {
	// Status is the HTTP status; 0 when no answer came (the transport failed
	// on every attempt).
	Status int
	Body   []byte
	// Replayed is true when the service answered from an earlier request
	// with the same Idempotency-Key.
	Replayed bool
}

// OK reports a 2xx answer.
func (r Response) OK() bool { return r.Status >= 200 && r.Status < 300 }

// Step is what the plan wants done in one tick.
type Step struct {
	// Elapsed is the simulated time of the step since the first one.
	Elapsed  time.Duration
	Requests []Request
	// Fired are the incidents that start in this step.
	Fired []Incident
}

// nodeState is what the plan knows of a node's registration.
type nodeState int

const (
	stateUnknown    nodeState = iota // not read yet
	stateMissing                     // not registered in the service
	stateRegistered                  // registered
)

// mode is how a node currently behaves.
type mode int

const (
	modeNormal mode = iota
	modeCollapsing
	modeCollapsed
	modeSilent
)

// simNode is one simulated node: its fixed traits and the plan's view of
// its state in the service.
type simNode struct {
	idx          int // position in Plan.nodes
	id           string
	profile      profile
	payout       string // the address it is registered with; "" for none
	initialStake uint64

	state nodeState
	// known is true while bonded, deposited and payoutNow are what the
	// service last answered and nothing with an unknown effect on them
	// (a batch with one of the node's violations, a failed request) was
	// sent since.
	known        bool
	bonded       uint64
	deposited    uint64
	payoutNow    string
	registeredAt time.Time
	score        float64 // the last score read, moved by the expected deltas since
	initialDone  bool
	mode         mode
	// withdrawPPM is a withdrawal waiting for a known bonded stake, as a
	// fraction of it; 0 for none.
	withdrawPPM      uint32
	withdrawIncident *Incident
}

type scheduled struct {
	Incident
	node  int
	fired bool
}

// Plan decides what the simulator sends. It is pure: no clock, no I/O. The
// driver asks it for requests (Setup, then Tick once per tick), makes them
// in order and reports every answer back with Observe before it asks again.
// A Plan is not safe for concurrent use.
type Plan struct {
	cfg       PlanConfig
	model     eventModel
	rng       *rand.Rand
	nodes     []*simNode
	incidents []scheduled

	tick       int
	tickMin    float64
	carry      float64
	cursor     int
	seq        uint64
	epochs     uint64
	epochTicks int
	syncTicks  int

	synced, warmed, ready bool
}

// RNG streams of the seed.
const (
	streamSetup = 1
	streamTick  = 2
	streamNode  = 1 << 32 // + node number
)

// NewPlan builds the network of cfg: every node's profile, payout address
// and initial stake, and the incident schedule.
func NewPlan(cfg PlanConfig) (*Plan, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.SyncEvery == 0 {
		cfg.SyncEvery = DefaultSyncEvery
	}
	p := &Plan{
		cfg:       cfg,
		model:     newEventModel(),
		rng:       rand.New(rand.NewPCG(cfg.Seed, streamTick)),
		tickMin:   cfg.Tick.Minutes(),
		syncTicks: ticks(cfg.SyncEvery, cfg.Tick),
	}
	if cfg.EpochEvery > 0 {
		p.epochTicks = ticks(cfg.EpochEvery, cfg.Tick)
	}
	n := cfg.Nodes
	setup := rand.New(rand.NewPCG(cfg.Seed, streamSetup))
	tiers := make([]tier, n)
	order := setup.Perm(n)
	poor, fair := share(poorShare, n), share(fairShare, n)
	for k, i := range order {
		switch {
		case k < poor:
			tiers[i] = tierPoor
		case k < poor+fair:
			tiers[i] = tierFair
		}
	}
	noPayout := make([]bool, n)
	for _, i := range setup.Perm(n)[:share(cfg.NoPayoutShare, n)] {
		noPayout[i] = true
	}
	p.incidents = make([]scheduled, len(cfg.Incidents))
	named := make([]bool, n)
	for k, in := range cfg.Incidents {
		i, ok := nodeIndex(in.NodeID, n)
		if !ok {
			return nil, fmt.Errorf("incident %s: %q is not a simulated node (%s…%s)", in, in.NodeID, NodeID(0, n), NodeID(n-1, n))
		}
		in.NodeID = NodeID(i, n)
		p.incidents[k] = scheduled{Incident: in, node: i}
		named[i] = true
	}
	p.nodes = make([]*simNode, n)
	for i := range p.nodes {
		// Payout address, initial stake and profile details come from the
		// node's own stream, so they do not shift when --nodes changes.
		r := rand.New(rand.NewPCG(cfg.Seed, streamNode+uint64(i)+1))
		t := tiers[i]
		if named[i] {
			t = tierExcellent
		}
		nd := &simNode{idx: i, id: NodeID(i, n), profile: drawProfile(t, r)}
		if named[i] {
			nd.profile.violations = 0
		}
		nd.payout = fmt.Sprintf("cre1%016x%016x", r.Uint64(), r.Uint64())
		if noPayout[i] {
			nd.payout = ""
		}
		nd.initialStake = logUniform(r, minInitialStake, maxInitialStake)
		p.nodes[i] = nd
	}
	return p, nil
}

// ticks is how many ticks make d, at least 1.
func ticks(d, tick time.Duration) int {
	return max(1, int(math.Round(float64(d)/float64(tick))))
}

// share is round(f·n).
func share(f float64, n int) int { return min(n, int(math.Round(f*float64(n)))) }

// NodeIDs lists the simulated node ids.
func (p *Plan) NodeIDs() []string {
	ids := make([]string, len(p.nodes))
	for i, n := range p.nodes {
		ids[i] = n.id
	}
	return ids
}

// Incidents lists the incident schedule, with node ids in canonical form.
func (p *Plan) Incidents() []Incident {
	out := make([]Incident, len(p.incidents))
	for i, s := range p.incidents {
		out[i] = s.Incident
	}
	return out
}

// Ready reports whether the setup is complete.
func (p *Plan) Ready() bool { return p.ready }

// Setup returns the next requests that bring the service's book to the
// planned network: read the nodes, register the missing ones, restore the
// planned payout addresses, deposit each new node's initial stake, and warm
// scores up toward each node's profile. It returns nil once the network is
// set up. Each call's requests must be made and observed before the next.
func (p *Plan) Setup() []Request {
	if p.ready {
		return nil
	}
	if !p.synced {
		return []Request{p.listRequest()}
	}
	var out []Request
	for _, n := range p.nodes {
		switch {
		case n.state == stateMissing:
			out = append(out, p.registerRequest(n))
		case n.state == stateRegistered && n.known && n.payoutNow != n.payout:
			// A node a previous run left without its address (an incident)
			// gets it back, so every run starts from the planned network.
			out = append(out, p.updateRequest(n, n.payout, nil))
		}
	}
	if len(out) > 0 {
		return out
	}
	for _, n := range p.nodes {
		if n.state != stateRegistered || !n.known {
			return []Request{p.listRequest()}
		}
	}
	out = p.initialDeposits(out)
	if len(out) > 0 {
		return out
	}
	if !p.warmed {
		p.warmed = true
		if out = p.warmUp(); len(out) > 0 {
			return out
		}
	}
	p.ready = true
	return nil
}

// initialDeposits deposits the initial stake of every known node that has
// never held any. A node that already holds deposits (a re-run against the
// same service) gets none: re-running must not inflate the network's stake.
// The key is derived from seed, node and registration time, so a retried
// request is applied once.
func (p *Plan) initialDeposits(out []Request) []Request {
	for i, n := range p.nodes {
		if n.state != stateRegistered || !n.known || n.deposited != 0 || n.initialDone {
			continue
		}
		r := p.depositRequest(i, n.initialStake)
		// The registration time tells a node removed and registered again
		// from its earlier self, whose key the service may still remember.
		r.IdempotencyKey = fmt.Sprintf("sim-%d-%s-initial-deposit-%d", p.cfg.Seed, n.id, n.registeredAt.UnixNano())
		r.initial = true
		out = append(out, r)
	}
	return out
}

// warmUp reports each node's history as one batch: enough live (or missed)
// events to move its score from where it is to its profile's target, so that
// dashboards show a spread network from the first scrape.
func (p *Plan) warmUp() []Request {
	var body batchBody
	live := p.model.liveDelta()
	missed := -p.model.params.EventDeltas[reputation.MissedBlock]
	for _, n := range p.nodes {
		d := n.profile.target - n.score
		if math.Abs(d) < 0.03 {
			continue
		}
		var mix []weighted[reputation.EventType]
		var total float64
		if d > 0 {
			mix, total = liveMix, math.Ceil(d/live)
		} else {
			mix, total = []weighted[reputation.EventType]{{reputation.MissedBlock, 1}}, math.Ceil(-d/missed)
		}
		for _, w := range mix {
			c := uint32(min(maxEventCount, math.Round(total*w.p)))
			if c == 0 {
				continue
			}
			body.Events = append(body.Events, batchEvent{NodeID: n.id, Type: string(w.v), Count: c})
			n.score = p.model.params.ApplyEvent(n.score, w.v, c)
		}
	}
	return p.batchRequests(body)
}

// Tick returns the requests of the next tick. Within a tick the order is
// fixed: withdrawals first (computed from bonded stake the service answered
// at the end of the last tick), then registrations and deposits, incidents,
// the batch of events and violations, the epoch, and reads last (so the next
// tick starts from fresh answers).
func (p *Plan) Tick() Step {
	t := p.tick
	p.tick++
	st := Step{Elapsed: time.Duration(t) * p.cfg.Tick}

	st.Requests = p.withdrawals(st.Requests)
	st.Requests = p.ensure(st.Requests)
	st.Requests = append(st.Requests, p.routineStake()...)
	for k := range p.incidents {
		s := &p.incidents[k]
		if s.fired || s.Delay > st.Elapsed {
			continue
		}
		s.fired = true
		st.Fired = append(st.Fired, s.Incident)
		st.Requests = append(st.Requests, p.fire(s, st.Elapsed)...)
	}
	st.Requests = append(st.Requests, p.batchRequests(p.activity(st.Elapsed))...)
	if p.epochTicks > 0 && t > 0 && t%p.epochTicks == 0 {
		st.Requests = append(st.Requests, p.epochRequest(nil))
	}
	st.Requests = p.reads(st.Requests, t > 0 && t%p.syncTicks == 0)
	return st
}

// active reports whether the node takes part in the network's traffic.
func (n *simNode) active() bool { return n.state == stateRegistered && n.mode != modeSilent }

// routineStake draws this tick's top-ups and withdrawal wishes; a wish is
// made at the start of the next tick.
func (p *Plan) routineStake() []Request {
	var out []Request
	pDep := depositRate * p.tickMin * p.cfg.Speedup
	pWd := withdrawalRate * p.tickMin * p.cfg.Speedup
	for i, n := range p.nodes {
		if !n.active() {
			continue
		}
		if chance(p.rng, pDep) {
			out = append(out, p.depositRequest(i, uniformInt(p.rng, minTopUp, maxTopUp)))
		}
		if chance(p.rng, pWd) && n.withdrawPPM == 0 {
			n.withdrawPPM = uint32(uniformInt(p.rng, minWithdrawPPM, maxWithdrawPPM))
			n.withdrawIncident = nil
		}
	}
	return out
}

// withdrawals makes the waiting withdrawals of nodes whose bonded stake is
// known, so that no withdrawal exceeds it. The others wait for a read.
func (p *Plan) withdrawals(out []Request) []Request {
	for i, n := range p.nodes {
		if n.withdrawPPM == 0 {
			continue
		}
		if n.state == stateMissing {
			n.withdrawPPM = 0
			continue
		}
		if n.state != stateRegistered || !n.known {
			continue
		}
		amount := mulPPM(n.bonded, n.withdrawPPM)
		in := n.withdrawIncident
		n.withdrawPPM, n.withdrawIncident = 0, nil
		if amount == 0 {
			continue
		}
		n.bonded -= amount
		r := p.stakeRequest(KindWithdrawal, i, amount, "withdrawals", "wd")
		r.Incident = in
		out = append(out, r)
	}
	return out
}

// ensure re-registers nodes that disappeared from the service (someone
// removed them) and deposits their initial stake once they are back.
func (p *Plan) ensure(out []Request) []Request {
	for _, n := range p.nodes {
		if n.state == stateMissing {
			out = append(out, p.registerRequest(n))
		}
	}
	return p.initialDeposits(out)
}

// fire starts an incident and returns its requests.
func (p *Plan) fire(s *scheduled, elapsed time.Duration) []Request {
	in := s.Incident
	n := p.nodes[s.node]
	switch in.Kind {
	case DoubleSign:
		ev := fmt.Sprintf("height=%d: two conflicting precommits signed, block hashes %016x and %016x (simulated incident)",
			height(elapsed), p.rng.Uint64(), p.rng.Uint64())
		r := p.request(KindViolation, http.MethodPost, nodePath(n.id)+"/violations",
			violationBody{Type: string(reputation.DoubleSign), Evidence: ev})
		r.NodeID, r.node, r.Incident = n.id, s.node, &in
		r.Violations = []reputation.ViolationType{reputation.DoubleSign}
		n.score = p.model.params.ApplyViolation(n.score, reputation.DoubleSign)
		return []Request{r}
	case ReputationCollapse:
		if n.mode != modeSilent {
			n.mode = modeCollapsing
		}
	case MassWithdrawal:
		n.withdrawPPM = uint32(uniformInt(p.rng, minMassWithdrawPPM, maxMassWithdrawPPM))
		n.withdrawIncident = &in
		for _, i := range p.others(s.node, massWithdrawalShare) {
			p.nodes[i].withdrawPPM = uint32(uniformInt(p.rng, minMassWithdrawPPM, maxMassWithdrawPPM))
			p.nodes[i].withdrawIncident = &in
		}
	case PayoutsFailing:
		out := []Request{p.updateRequest(n, "", &in)}
		for _, i := range p.others(s.node, payoutsFailingShare) {
			out = append(out, p.updateRequest(p.nodes[i], "", &in))
		}
		return append(out, p.epochRequest(&in))
	case NodeSilent:
		n.mode = modeSilent
		n.withdrawPPM, n.withdrawIncident = 0, nil
	}
	return nil
}

// others picks round(f·N) nodes other than node i, in random order.
func (p *Plan) others(i int, f float64) []int {
	idx := make([]int, 0, len(p.nodes)-1)
	for k := range p.nodes {
		if k != i {
			idx = append(idx, k)
		}
	}
	p.rng.Shuffle(len(idx), func(a, b int) { idx[a], idx[b] = idx[b], idx[a] })
	return idx[:min(len(idx), share(f, len(p.nodes)))]
}

// activity draws this tick's events and violations: Rate·Tick events spread
// round-robin over the active nodes, each a live event or a miss by the
// node's miss share; violations by the per-minute rates; bursts of misses
// and downtime for collapsing nodes.
func (p *Plan) activity(elapsed time.Duration) batchBody {
	var active []int
	for i, n := range p.nodes {
		if n.active() {
			active = append(active, i)
		}
	}
	var body batchBody
	if len(active) == 0 {
		return body
	}
	nt := len(reputation.EventTypes)
	counts := make([]uint32, len(p.nodes)*nt) // node i, type t at i·nt+t
	total := p.cfg.Rate*p.cfg.Tick.Seconds() + p.carry
	k := int(total)
	p.carry = total - float64(k)
	for ; k > 0; k-- {
		i := active[p.cursor%len(active)]
		p.cursor++
		n := p.nodes[i]
		var typ reputation.EventType
		switch {
		case n.mode == modeCollapsing || n.mode == modeCollapsed:
			typ = pick(p.rng, collapseMix)
		case chance(p.rng, p.model.missShare(n.profile, n.score)):
			typ = pick(p.rng, missMix)
		default:
			typ = pick(p.rng, liveMix)
		}
		counts[i*nt+typ.Index()]++
		n.score = p.model.params.ApplyEvent(n.score, typ, 1)
	}
	h := height(elapsed)
	for _, i := range active {
		n := p.nodes[i]
		switch n.mode {
		case modeCollapsing:
			burst := uint32(5 + p.rng.IntN(11))
			counts[i*nt+reputation.MissedBlock.Index()] += burst
			n.score = p.model.params.ApplyEvent(n.score, reputation.MissedBlock, burst)
			if chance(p.rng, collapseDowntimeP) {
				body.Violations = append(body.Violations, p.violation(n, reputation.Downtime, h))
			}
		case modeNormal:
			if n.profile.violations == 0 {
				continue
			}
			for _, w := range violationRates {
				rate := w.p
				if w.v != reputation.DoubleSign {
					rate *= n.profile.violations
				}
				if chance(p.rng, rate*p.tickMin*p.cfg.Speedup) {
					body.Violations = append(body.Violations, p.violation(n, w.v, h))
				}
			}
		}
	}
	for k, c := range counts {
		for c > 0 {
			part := min(c, maxEventCount)
			body.Events = append(body.Events, batchEvent{NodeID: p.nodes[k/nt].id, Type: string(reputation.EventTypes[k%nt]), Count: part})
			c -= part
		}
	}
	return body
}

// violation is one violation of n with evidence a reader can follow.
func (p *Plan) violation(n *simNode, v reputation.ViolationType, h uint64) batchViolation {
	var ev string
	switch v {
	case reputation.Downtime:
		ev = fmt.Sprintf("missed %d consecutive slots up to height %d", 20+p.rng.IntN(200), h)
	case reputation.InvalidBlock:
		ev = fmt.Sprintf("height=%d: proposed block failed validation (state root mismatch)", h)
	case reputation.ProtocolViolation:
		ev = fmt.Sprintf("height=%d: malformed consensus message from peer", h)
	case reputation.Censorship:
		ev = fmt.Sprintf("height=%d: excluded %d valid transactions seen by a quorum of peers", h, 1+p.rng.IntN(50))
	case reputation.Equivocation:
		ev = fmt.Sprintf("height=%d: conflicting votes in round %d", h, p.rng.IntN(4))
	case reputation.DoubleSign:
		ev = fmt.Sprintf("height=%d: two conflicting precommits signed, block hashes %016x and %016x", h, p.rng.Uint64(), p.rng.Uint64())
	}
	n.score = p.model.params.ApplyViolation(n.score, v)
	n.known = false // the slash changes bonded stake by an amount only the service knows
	return batchViolation{NodeID: n.id, Type: string(v), Evidence: ev}
}

// height is the simulated block height at elapsed: one block a second.
func height(elapsed time.Duration) uint64 { return 1_000_000 + uint64(elapsed/time.Second) }

// reads reads back what the next tick needs: the score of collapsing nodes,
// the bonded stake of nodes with a waiting withdrawal, and every node once
// per SyncEvery.
func (p *Plan) reads(out []Request, sync bool) []Request {
	var one []int
	for i, n := range p.nodes {
		if n.state != stateRegistered {
			continue
		}
		if n.mode == modeCollapsing || (n.withdrawPPM > 0 && !n.known) {
			one = append(one, i)
		}
	}
	if sync || len(one) > maxNodeReads {
		return append(out, p.listRequest())
	}
	for _, i := range one {
		r := p.request(KindGetNode, http.MethodGet, nodePath(p.nodes[i].id), nil)
		r.NodeID, r.node = p.nodes[i].id, i
		out = append(out, r)
	}
	return out
}

// batchRequests splits body into batch requests of at most maxBatchItems
// items, events first.
func (p *Plan) batchRequests(body batchBody) []Request {
	var out []Request
	ev, vi := body.Events, body.Violations
	for len(ev)+len(vi) > 0 {
		var b batchBody
		ne := min(len(ev), maxBatchItems)
		b.Events, ev = ev[:ne], ev[ne:]
		nv := min(len(vi), maxBatchItems-ne)
		b.Violations, vi = vi[:nv], vi[nv:]
		r := p.request(KindBatch, http.MethodPost, "/api/v1/batch", b)
		for _, e := range b.Events {
			r.Events += int(e.Count)
		}
		for _, v := range b.Violations {
			r.Violations = append(r.Violations, reputation.ViolationType(v.Type))
		}
		r.batch = &b
		out = append(out, r)
	}
	return out
}

func nodePath(id string) string { return "/api/v1/nodes/" + url.PathEscape(id) }

func (p *Plan) request(k Kind, method, path string, body any) Request {
	r := Request{Kind: k, Method: method, Path: path, node: -1}
	if body != nil {
		r.Body = mustJSON(body)
	}
	return r
}

func (p *Plan) listRequest() Request {
	return p.request(KindListNodes, http.MethodGet, "/api/v1/nodes", nil)
}

func (p *Plan) registerRequest(n *simNode) Request {
	r := p.request(KindRegister, http.MethodPost, "/api/v1/nodes", registerBody{NodeID: n.id, PayoutAddress: n.payout})
	r.NodeID, r.node = n.id, n.idx
	return r
}

func (p *Plan) updateRequest(n *simNode, payout string, in *Incident) Request {
	r := p.request(KindUpdateNode, http.MethodPatch, nodePath(n.id), updateBody{PayoutAddress: payout})
	r.NodeID, r.node, r.Incident = n.id, n.idx, in
	return r
}

func (p *Plan) depositRequest(i int, amount uint64) Request {
	n := p.nodes[i]
	n.bonded += amount
	n.deposited += amount
	return p.stakeRequest(KindDeposit, i, amount, "deposits", "dep")
}

func (p *Plan) stakeRequest(k Kind, i int, amount uint64, route, short string) Request {
	n := p.nodes[i]
	p.seq++
	r := p.request(k, http.MethodPost, nodePath(n.id)+"/"+route, amountBody{Amount: amount})
	r.NodeID, r.node, r.Amount = n.id, i, amount
	r.IdempotencyKey = fmt.Sprintf("sim-%d-%s-%s-%d", p.cfg.Seed, p.cfg.RunID, short, p.seq)
	return r
}

// epochRequest runs an epoch with the service's configured pool.
func (p *Plan) epochRequest(in *Incident) Request {
	p.epochs++
	r := p.request(KindEpoch, http.MethodPost, "/api/v1/epochs", nil)
	r.IdempotencyKey = fmt.Sprintf("sim-%d-%s-epoch-%d", p.cfg.Seed, p.cfg.RunID, p.epochs)
	r.Incident = in
	return r
}

// Observe updates the plan's view of the service from the answer to r.
func (p *Plan) Observe(r *Request, resp Response) {
	var n *simNode
	if r.node >= 0 {
		n = p.nodes[r.node]
	}
	var code, field string
	if !resp.OK() {
		code, field, _ = apiError(resp.Body)
	}
	if n != nil && resp.Status == http.StatusNotFound && code == "node_not_found" {
		p.lost(n)
		return
	}
	switch r.Kind {
	case KindListNodes:
		var l nodeList
		if !resp.OK() || json.Unmarshal(resp.Body, &l) != nil {
			return
		}
		seen := make(map[string]*nodeView, len(l.Nodes))
		for i := range l.Nodes {
			seen[l.Nodes[i].NodeID] = &l.Nodes[i]
		}
		for _, n := range p.nodes {
			if v, ok := seen[n.id]; ok {
				p.update(n, v)
			} else {
				p.lost(n)
			}
		}
		p.synced = true
	case KindGetNode, KindRegister:
		var v nodeView
		switch {
		case resp.OK() && json.Unmarshal(resp.Body, &v) == nil:
			p.update(n, &v)
		case resp.Status == http.StatusConflict && code == "node_exists":
			n.state, n.known = stateRegistered, false
		}
	case KindUpdateNode:
		var v nodeView
		if resp.OK() && json.Unmarshal(resp.Body, &v) == nil {
			n.payoutNow = v.PayoutAddress
		}
	case KindDeposit, KindWithdrawal:
		var sr stakeResult
		switch {
		case resp.OK() && json.Unmarshal(resp.Body, &sr) == nil:
			n.bonded = sr.Bonded
			// A replayed answer is the state of an earlier request.
			n.known = !resp.Replayed
			if r.initial {
				n.initialDone = true
			}
		default:
			if r.Kind == KindDeposit && n.deposited >= r.Amount {
				n.deposited -= r.Amount
			}
			n.known = false
		}
	case KindViolation:
		var vr violationResult
		if resp.OK() && json.Unmarshal(resp.Body, &vr) == nil {
			n.bonded, n.score, n.known = vr.Bonded, vr.Score, true
		} else {
			n.known = false
		}
	case KindBatch:
		for _, v := range r.batch.Violations {
			if m := p.byID(v.NodeID); m != nil {
				m.known = false
			}
		}
		if resp.Status == http.StatusNotFound && code == "node_not_found" {
			// One unknown node rejects the whole batch; the field names it.
			if m := p.byID(batchNode(r.batch, field)); m != nil {
				p.lost(m)
			}
		}
	}
}

// update takes a node's state from the service's answer.
func (p *Plan) update(n *simNode, v *nodeView) {
	if n.state != stateRegistered {
		n.initialDone = false
	}
	n.state, n.known = stateRegistered, true
	n.bonded, n.deposited = v.Stake.Bonded, v.Stake.Deposited
	n.payoutNow, n.score = v.PayoutAddress, v.Reputation.Score
	n.registeredAt = v.RegisteredAt
	if n.mode == modeCollapsing && n.score < CollapseScore {
		n.mode = modeCollapsed
	}
}

// lost marks a node the service does not know (any more).
func (p *Plan) lost(n *simNode) {
	n.state, n.known, n.initialDone = stateMissing, false, false
	n.bonded, n.deposited, n.payoutNow, n.registeredAt = 0, 0, "", time.Time{}
	n.score = p.model.params.Initial
}

func (p *Plan) byID(id string) *simNode {
	if i, ok := nodeIndex(id, len(p.nodes)); ok && p.nodes[i].id == id {
		return p.nodes[i]
	}
	return nil
}

// batchNode returns the node id at an error field such as
// "events[3].node_id".
func batchNode(b *batchBody, field string) string {
	list, rest, ok := strings.Cut(field, "[")
	if !ok {
		return ""
	}
	num, _, ok := strings.Cut(rest, "]")
	if !ok {
		return ""
	}
	i, err := strconv.Atoi(num)
	if err != nil || i < 0 {
		return ""
	}
	switch {
	case list == "events" && i < len(b.Events):
		return b.Events[i].NodeID
	case list == "violations" && i < len(b.Violations):
		return b.Violations[i].NodeID
	}
	return ""
}

// mulPPM is floor(amount·ppm/10⁶) without overflow.
func mulPPM(amount uint64, ppm uint32) uint64 {
	if ppm >= 1_000_000 {
		return amount
	}
	hi, lo := bits.Mul64(amount, uint64(ppm))
	q, _ := bits.Div64(hi, lo, 1_000_000)
	return q
}
