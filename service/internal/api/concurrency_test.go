package api_test

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/cretoai/monitor/service/internal/api"
	"github.com/cretoai/monitor/service/internal/ledger"
	"github.com/cretoai/monitor/service/internal/reputation"
)

// TestConcurrentWrites sends deposits, events, withdrawals, violations,
// batches, epochs and reads from many goroutines at once over HTTP (run it
// with -race). Every request must get a well-formed answer, every read must
// see a consistent book, and afterwards the totals must account exactly for
// what was acknowledged.
func TestConcurrentWrites(t *testing.T) {
	const (
		workers  = 16
		requests = 200
		nodes    = 8
	)
	h := newHarness(t)
	ids := make([]string, nodes)
	for i := range ids {
		ids[i] = fmt.Sprintf("node-%d", i)
		h.register(ids[i], "addr-"+ids[i])
	}
	nE, nV := len(reputation.EventTypes), len(reputation.ViolationTypes)

	// What the server acknowledged, per node.
	var (
		events      [nodes][6]atomic.Uint64
		violations  [nodes][6]atomic.Uint64
		deposited   [nodes]atomic.Uint64
		withdrawals [nodes]atomic.Uint64 // accepted withdrawal requests
		slashed     atomic.Uint64
		epochs      atomic.Uint64
		eventsSent  atomic.Uint64 // sum of counts of acknowledged events
		sharedFirst atomic.Int32  // shared-key deposits that were not replays
		sharedBody  sync.Map      // response bodies of the shared-key deposit
	)

	// The last node stays reliable so that epochs pay out: it starts with a
	// large stake and a full score, gets only block_proposed events and is
	// never the target of a violation.
	steady := nodes - 1
	h.ok(http.StatusOK, http.MethodPost, "/api/v1/nodes/"+ids[steady]+"/deposits", `{"amount":1000000000}`)
	h.ok(http.StatusOK, http.MethodPost, "/api/v1/nodes/"+ids[steady]+"/events", `{"type":"block_proposed","count":100}`)
	deposited[steady].Add(1_000_000_000)
	events[steady][0].Add(100)
	eventsSent.Add(100)

	fail := func(format string, a ...any) { t.Errorf(format, a...) }
	// expect sends one request and returns its body when the status is one
	// of want.
	expect := func(method, path, body string, want []int, hdr ...string) (response, bool) {
		r, err := h.try(method, path, body, hdr...)
		if err != nil {
			fail("%s %s: %v", method, path, err)
			return r, false
		}
		for _, w := range want {
			if r.status == w {
				return r, true
			}
		}
		fail("%s %s %s: %d %s, want one of %v", method, path, body, r.status, r.body, want)
		return r, false
	}
	ok := []int{http.StatusOK}
	checkStake := func(where string, deposited, withdrawn, slashed, bonded, unbonding uint64) {
		if withdrawn+slashed > deposited || deposited-withdrawn-slashed != bonded+unbonding {
			fail("%s: deposited %d - withdrawn %d - slashed %d != bonded %d + unbonding %d",
				where, deposited, withdrawn, slashed, bonded, unbonding)
		}
	}

	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(w), 42))
			for i := range requests {
				n := rng.IntN(nodes)
				id := ids[n]
				switch {
				case i == requests/2:
					// Every worker retries the same deposit with one key: it
					// is applied once.
					r, good := expect(http.MethodPost, "/api/v1/nodes/node-0/deposits", `{"amount":777}`, ok, "Idempotency-Key", "shared-deposit")
					if !good {
						continue
					}
					if r.header.Get("Idempotent-Replayed") != "true" {
						sharedFirst.Add(1)
						deposited[0].Add(777)
					}
					sharedBody.Store(string(r.body), true)
				case i%50 == 49:
					r, good := expect(http.MethodPost, "/api/v1/epochs", `{"pool":1000}`, ok)
					if good && decodeAsync[ledger.EpochResult](t, r).Pool == 1000 {
						epochs.Add(1)
					}
				default:
					switch rng.IntN(6) {
					case 0: // deposit
						a := 1 + rng.Uint64N(10_000)
						if _, good := expect(http.MethodPost, "/api/v1/nodes/"+id+"/deposits", fmt.Sprintf(`{"amount":%d}`, a), ok); good {
							deposited[n].Add(a)
						}
					case 1: // event
						et, c := rng.IntN(nE), 1+rng.Uint64N(50)
						if n == steady {
							et = 0
						}
						body := fmt.Sprintf(`{"type":%q,"count":%d}`, reputation.EventTypes[et], c)
						if _, good := expect(http.MethodPost, "/api/v1/nodes/"+id+"/events", body, ok); good {
							events[n][et].Add(c)
							eventsSent.Add(c)
						}
					case 2: // withdrawal: may exceed what is bonded
						a := 1 + rng.Uint64N(3_000)
						r, good := expect(http.MethodPost, "/api/v1/nodes/"+id+"/withdrawals", fmt.Sprintf(`{"amount":%d}`, a),
							[]int{http.StatusOK, http.StatusUnprocessableEntity})
						switch {
						case !good:
						case r.status == http.StatusOK:
							withdrawals[n].Add(1)
						default:
							if e := decodeAsync[api.ErrorBody](t, r); e.Error.Code != "insufficient_stake" {
								fail("withdrawal refused with %q", e.Error.Code)
							}
						}
					case 3: // violation
						n, vt := rng.IntN(steady), rng.IntN(nV)
						id := ids[n]
						r, good := expect(http.MethodPost, "/api/v1/nodes/"+id+"/violations", fmt.Sprintf(`{"type":%q}`, reputation.ViolationTypes[vt]), ok)
						if good {
							violations[n][vt].Add(1)
							slashed.Add(decodeAsync[ledger.ViolationResult](t, r).Slashed)
						}
					case 4: // batch of two events and one violation
						m, et, vt := rng.IntN(steady), rng.IntN(nE), rng.IntN(nV)
						if n == steady {
							et = 0
						}
						body := fmt.Sprintf(`{"events":[{"node_id":%q,"type":%q,"count":3},{"node_id":%q,"type":%q}],"violations":[{"node_id":%q,"type":%q}]}`,
							id, reputation.EventTypes[et], ids[m], reputation.EventTypes[et], ids[m], reputation.ViolationTypes[vt])
						r, good := expect(http.MethodPost, "/api/v1/batch", body, ok)
						if good {
							events[n][et].Add(3)
							events[m][et].Add(1)
							eventsSent.Add(4)
							violations[m][vt].Add(1)
							slashed.Add(decodeAsync[ledger.BatchResult](t, r).Slashed)
						}
					default: // reads see a consistent book
						switch rng.IntN(3) {
						case 0:
							if r, good := expect(http.MethodGet, "/api/v1/summary", "", ok); good {
								s := decodeAsync[ledger.Summary](t, r).Stake
								checkStake("summary", s.Deposited, s.Withdrawn, s.Slashed, s.Bonded, s.Unbonding)
							}
						case 1:
							if r, good := expect(http.MethodGet, "/api/v1/nodes/"+id, "", ok); good {
								s := decodeAsync[api.NodeView](t, r).Stake
								checkStake(id, s.Deposited, s.Withdrawn, s.Slashed, s.Bonded, s.Unbonding)
							}
						default:
							if r, good := expect(http.MethodGet, "/api/v1/nodes", "", ok); good {
								if l := decodeAsync[nodeList](t, r); l.Count != nodes {
									fail("list count %d, want %d", l.Count, nodes)
								}
							}
						}
					}
				}
			}
		}()
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}

	if n := sharedFirst.Load(); n != 1 {
		t.Errorf("the shared-key deposit was applied %d times, want 1", n)
	}
	bodies := 0
	sharedBody.Range(func(any, any) bool { bodies++; return true })
	if bodies != 1 {
		t.Errorf("the shared-key deposit got %d different bodies, want 1", bodies)
	}

	// Per node: counters equal what was acknowledged, the stake invariant
	// holds, no withdrawal is lost.
	var sumDeposited, sumEvents, sumWithdrawals uint64
	for i, id := range ids {
		n := h.node(id)
		for j := range nE {
			if got, want := n.Reputation.Events[j], events[i][j].Load(); got != want {
				t.Errorf("%s events[%s] = %d, want %d", id, reputation.EventTypes[j], got, want)
			}
			sumEvents += n.Reputation.Events[j]
		}
		for j := range nV {
			if got, want := n.Reputation.Violations[j], violations[i][j].Load(); got != want {
				t.Errorf("%s violations[%s] = %d, want %d", id, reputation.ViolationTypes[j], got, want)
			}
		}
		if got, want := n.Stake.Deposited, deposited[i].Load(); got != want {
			t.Errorf("%s deposited %d, want %d", id, got, want)
		}
		if got, want := uint64(len(n.Stake.UnbondingQueue)), withdrawals[i].Load(); got != want {
			t.Errorf("%s has %d unbonding entries, want %d", id, got, want)
		}
		if n.Stake.Withdrawn != 0 {
			t.Errorf("%s withdrawn %d before any release", id, n.Stake.Withdrawn)
		}
		if n.Reputation.Score < 0 || n.Reputation.Score > 1 {
			t.Errorf("%s score %v outside [0, 1]", id, n.Reputation.Score)
		}
		checkStake(id, n.Stake.Deposited, n.Stake.Withdrawn, n.Stake.Slashed, n.Stake.Bonded, n.Stake.Unbonding)
		sumDeposited += n.Stake.Deposited
		sumWithdrawals += uint64(len(n.Stake.UnbondingQueue))
	}
	if want := eventsSent.Load(); sumEvents != want {
		t.Errorf("sum of event counters %d, want %d acknowledged", sumEvents, want)
	}

	// Network totals.
	s := h.summary()
	checkStake("summary", s.Stake.Deposited, s.Stake.Withdrawn, s.Stake.Slashed, s.Stake.Bonded, s.Stake.Unbonding)
	if s.Stake.Deposited != sumDeposited {
		t.Errorf("summary deposited %d, want %d", s.Stake.Deposited, sumDeposited)
	}
	if s.Stake.Slashed != slashed.Load() {
		t.Errorf("summary slashed %d, want %d as acknowledged", s.Stake.Slashed, slashed.Load())
	}
	if s.Stake.Withdrawn != 0 {
		t.Errorf("summary withdrawn %d, want 0", s.Stake.Withdrawn)
	}
	if uint64(s.Stake.PendingWithdrawals) != sumWithdrawals {
		t.Errorf("summary pending withdrawals %d, want %d", s.Stake.PendingWithdrawals, sumWithdrawals)
	}
	if s.Rewards.Epoch != epochs.Load() {
		t.Errorf("summary epoch %d, want %d", s.Rewards.Epoch, epochs.Load())
	}
	if s.Rewards.Allocated != s.Rewards.Paid+s.Rewards.Pending+s.Rewards.Forfeited {
		t.Errorf("rewards: allocated %d != paid %d + pending %d + forfeited %d", s.Rewards.Allocated, s.Rewards.Paid, s.Rewards.Pending, s.Rewards.Forfeited)
	}
	if s.Nodes.Total != nodes {
		t.Errorf("summary nodes.total %d, want %d", s.Nodes.Total, nodes)
	}

	// The run exercised every path it accounts for.
	t.Logf("deposited %d, slashed %d, %d withdrawals pending, %d events, %d epochs",
		s.Stake.Deposited, s.Stake.Slashed, s.Stake.PendingWithdrawals, sumEvents, s.Rewards.Epoch)
	if s.Stake.Slashed == 0 || sumWithdrawals == 0 || sumEvents == 0 || s.Rewards.Paid == 0 {
		t.Errorf("the run was too thin to prove anything: %+v", s)
	}

	// The ledger's own check agrees.
	for _, n := range h.l.Snapshot().Nodes {
		if err := n.Stake.Check(); err != nil {
			t.Errorf("%s: %v", n.ID, err)
		}
	}
}

// decodeAsync is decode for worker goroutines: it reports a bad body with
// Errorf (t.Fatal must not be called outside the test goroutine).
func decodeAsync[T any](t *testing.T, r response) T {
	var v T
	if err := json.Unmarshal(r.body, &v); err != nil {
		t.Errorf("decode %T from %s: %v", v, r.body, err)
	}
	return v
}
