package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cretoai/monitor/service/internal/api"
	"github.com/cretoai/monitor/service/internal/ledger"
	"github.com/cretoai/monitor/service/internal/reputation"
	"github.com/cretoai/monitor/service/internal/stake"
	"github.com/cretoai/monitor/service/internal/store"
)

const token = "test-token"

// fixedNow is the ledger clock in these tests, so that every timestamp in a
// response (and the whole body of GET /api/v1/summary) is deterministic.
var fixedNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// setup is what a test may change before the harness starts.
type setup struct {
	cfg  ledger.Config
	opts api.Options
}

// harness is a real store, a real ledger with its committer running and the
// API behind a real HTTP server.
type harness struct {
	t      testing.TB
	srv    *httptest.Server
	client *http.Client
	l      *ledger.Ledger
}

func newHarness(t testing.TB, mods ...func(*setup)) *harness {
	t.Helper()
	s := setup{cfg: ledger.DefaultConfig(), opts: api.Options{Token: token}}
	for _, m := range mods {
		m(&s)
	}
	log := slog.New(slog.DiscardHandler)
	st, err := store.Open(t.TempDir())
	if err != nil {
		t.Fatalf("store.Open: %v", err)
	}
	t.Cleanup(func() {
		if err := st.Close(); err != nil {
			t.Errorf("store.Close: %v", err)
		}
	})
	l, err := ledger.Open(s.cfg, st, log, ledger.Options{Now: func() time.Time { return fixedNow }})
	if err != nil {
		t.Fatalf("ledger.Open: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		l.Run(ctx)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	srv := httptest.NewServer(api.New(l, log, s.opts))
	t.Cleanup(srv.Close)
	tr := srv.Client().Transport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 64
	client := &http.Client{
		Transport: tr,
		// Show redirects instead of following them: the API never redirects.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Timeout:       30 * time.Second,
	}
	t.Cleanup(tr.CloseIdleConnections)
	return &harness{t: t, srv: srv, client: client, l: l}
}

// response is a fully read HTTP response.
type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) String() string {
	return http.StatusText(r.status) + " " + strings.TrimSpace(string(r.body))
}

// do sends one request. Writes (anything but GET) carry the bearer token and a
// non-empty body carries Content-Type: application/json; hdr is key, value
// pairs that override these (an empty value removes the header).
func (h *harness) do(method, path, body string, hdr ...string) response {
	h.t.Helper()
	r, err := h.try(method, path, body, hdr...)
	if err != nil {
		h.t.Fatalf("%s %s: %v", method, path, err)
	}
	return r
}

// try is do that returns transport errors instead of failing the test; it
// is safe to call from any goroutine.
func (h *harness) try(method, path, body string, hdr ...string) (response, error) {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, h.srv.URL+path, rd)
	if err != nil {
		return response{}, err
	}
	if method != http.MethodGet {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if len(hdr)%2 != 0 {
		return response{}, errors.New("hdr needs key, value pairs")
	}
	for i := 0; i < len(hdr); i += 2 {
		if hdr[i+1] == "" {
			req.Header.Del(hdr[i])
		} else {
			req.Header.Set(hdr[i], hdr[i+1])
		}
	}
	resp, err := h.client.Do(req)
	if err != nil {
		return response{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return response{}, err
	}
	return response{status: resp.StatusCode, header: resp.Header, body: b}, nil
}

// ok sends a request that must succeed with want.
func (h *harness) ok(want int, method, path, body string, hdr ...string) response {
	h.t.Helper()
	r := h.do(method, path, body, hdr...)
	if r.status != want {
		h.t.Fatalf("%s %s %s: got %d %s, want %d", method, path, body, r.status, r.body, want)
	}
	if want != http.StatusNoContent {
		if ct := r.header.Get("Content-Type"); ct != "application/json" {
			h.t.Fatalf("%s %s: Content-Type %q, want application/json", method, path, ct)
		}
	}
	return r
}

func (h *harness) register(id, payout string) {
	h.t.Helper()
	b, _ := json.Marshal(map[string]string{"node_id": id, "payout_address": payout})
	h.ok(http.StatusCreated, http.MethodPost, "/api/v1/nodes", string(b))
}

func (h *harness) node(id string) api.NodeView {
	h.t.Helper()
	return decode[api.NodeView](h.t, h.ok(http.StatusOK, http.MethodGet, "/api/v1/nodes/"+id, ""))
}

func (h *harness) summary() ledger.Summary {
	h.t.Helper()
	return decode[ledger.Summary](h.t, h.ok(http.StatusOK, http.MethodGet, "/api/v1/summary", ""))
}

type nodeList struct {
	Count int            `json:"count"`
	Nodes []api.NodeView `json:"nodes"`
}

func (h *harness) list() nodeList {
	h.t.Helper()
	return decode[nodeList](h.t, h.ok(http.StatusOK, http.MethodGet, "/api/v1/nodes", ""))
}

// state is everything a client can read about the book. With the fixed clock
// it is byte-identical as long as nothing is applied.
func (h *harness) state() string {
	h.t.Helper()
	return string(h.ok(http.StatusOK, http.MethodGet, "/api/v1/nodes", "").body) +
		string(h.ok(http.StatusOK, http.MethodGet, "/api/v1/summary", "").body)
}

// decode strictly decodes a JSON response body: a field the test type does
// not know is a failure, so the checks below see the whole response.
func decode[T any](t testing.TB, r response) T {
	t.Helper()
	var v T
	dec := json.NewDecoder(bytes.NewReader(r.body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("decode %T from %s: %v", v, r.body, err)
	}
	if dec.More() {
		t.Fatalf("decode %T: trailing data in %s", v, r.body)
	}
	return v
}

// keys returns the sorted top-level keys of a JSON object.
func keys(t testing.TB, b []byte) []string {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("not a JSON object: %s: %v", b, err)
	}
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

func wantKeys(t testing.TB, b []byte, want ...string) {
	t.Helper()
	slices.Sort(want)
	if got := keys(t, b); !slices.Equal(got, want) {
		t.Errorf("keys of %s = %v, want %v", b, got, want)
	}
}

// wantError checks an error response: status, JSON content type and an
// {"error": {"code", "message", "field"}} body with the given code and field.
func wantError(t testing.TB, r response, status int, code, field string) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d (%s), want %d %s", r.status, r.body, status, code)
	}
	if ct := r.header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q, want application/json", ct)
	}
	e := decode[api.ErrorBody](t, r)
	if e.Error.Code != code || e.Error.Field != field {
		t.Errorf("error code %q field %q (%s), want code %q field %q", e.Error.Code, e.Error.Field, e.Error.Message, code, field)
	}
	if e.Error.Message == "" {
		t.Errorf("error %q has no message", e.Error.Code)
	}
}

func equal[T any](t testing.TB, what string, got, want T) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s:\n got %+v\nwant %+v", what, got, want)
	}
}

// freshNode is a newly registered node as the API shows it.
func freshNode(id, payout string) api.NodeView {
	return api.NodeView{
		NodeID:        id,
		PayoutAddress: payout,
		RegisteredAt:  fixedNow,
		Reputation:    api.ReputationView{Score: 0.5},
		Stake:         api.StakeView{UnbondingQueue: []stake.Unbonding{}},
	}
}

func TestRegisterNode(t *testing.T) {
	h := newHarness(t)
	r := h.ok(http.StatusCreated, http.MethodPost, "/api/v1/nodes", `{"node_id":"n1","payout_address":"addr-1"}`)
	if loc := r.header.Get("Location"); loc != "/api/v1/nodes/n1" {
		t.Errorf("Location %q, want /api/v1/nodes/n1", loc)
	}
	wantKeys(t, r.body, "node_id", "payout_address", "registered_at", "reputation", "stake", "rewards")
	equal(t, "registered node", decode[api.NodeView](t, r), freshNode("n1", "addr-1"))

	// Every known event and violation type is there at 0, the unbonding queue
	// is [] and not null.
	var raw struct {
		Reputation struct {
			Events     map[string]uint64 `json:"events"`
			Violations map[string]uint64 `json:"violations"`
		} `json:"reputation"`
		Stake struct {
			Queue json.RawMessage `json:"unbonding_queue"`
		} `json:"stake"`
	}
	if err := json.Unmarshal(r.body, &raw); err != nil {
		t.Fatal(err)
	}
	for _, et := range reputation.EventTypes {
		if v, ok := raw.Reputation.Events[string(et)]; !ok || v != 0 {
			t.Errorf("events[%q] = %d, %v; want 0, true", et, v, ok)
		}
	}
	for _, vt := range reputation.ViolationTypes {
		if v, ok := raw.Reputation.Violations[string(vt)]; !ok || v != 0 {
			t.Errorf("violations[%q] = %d, %v; want 0, true", vt, v, ok)
		}
	}
	if string(raw.Stake.Queue) != "[]" {
		t.Errorf("unbonding_queue = %s, want []", raw.Stake.Queue)
	}

	// The Location is where the node is.
	equal(t, "GET Location", decode[api.NodeView](t, h.ok(http.StatusOK, http.MethodGet, r.header.Get("Location"), "")), freshNode("n1", "addr-1"))

	// payout_address is optional; ids use the whole alphabet, up to 64 bytes.
	for _, id := range []string{"a.b_c:d-E9", strings.Repeat("x", 64), "0", "...", ".", ".."} {
		r := h.ok(http.StatusCreated, http.MethodPost, "/api/v1/nodes", `{"node_id":"`+id+`"}`)
		if loc := r.header.Get("Location"); loc != "/api/v1/nodes/"+id {
			t.Errorf("Location %q, want /api/v1/nodes/%s", loc, id)
		}
		equal(t, "node "+id, decode[api.NodeView](t, r), freshNode(id, ""))
		// The node is reachable at its Location, ids made of dots included.
		equal(t, "GET "+id, h.node(id), freshNode(id, ""))
	}

	wantError(t, h.do(http.MethodPost, "/api/v1/nodes", `{"node_id":"n1"}`), http.StatusConflict, "node_exists", "node_id")
	if got := h.list().Count; got != 7 {
		t.Errorf("count %d, want 7", got)
	}
}

func TestListAndGetNodes(t *testing.T) {
	h := newHarness(t)
	empty := h.ok(http.StatusOK, http.MethodGet, "/api/v1/nodes", "")
	if got := strings.TrimSpace(string(empty.body)); got != `{"count":0,"nodes":[]}` {
		t.Errorf("empty list = %s", got)
	}
	h.register("n2", "")
	h.register("n1", "addr-1")
	equal(t, "list", h.list(), nodeList{Count: 2, Nodes: []api.NodeView{freshNode("n1", "addr-1"), freshNode("n2", "")}})
	equal(t, "GET n2", h.node("n2"), freshNode("n2", ""))
	wantError(t, h.do(http.MethodGet, "/api/v1/nodes/n3", ""), http.StatusNotFound, "node_not_found", "node_id")
}

func TestUpdateNode(t *testing.T) {
	h := newHarness(t)
	h.register("n1", "addr-1")
	r := h.ok(http.StatusOK, http.MethodPatch, "/api/v1/nodes/n1", `{"payout_address":"addr-2"}`)
	equal(t, "PATCH", decode[api.NodeView](t, r), freshNode("n1", "addr-2"))
	equal(t, "GET after PATCH", h.node("n1"), freshNode("n1", "addr-2"))
	// "" clears the address.
	h.ok(http.StatusOK, http.MethodPatch, "/api/v1/nodes/n1", `{"payout_address":""}`)
	equal(t, "GET after clear", h.node("n1"), freshNode("n1", ""))

	before := h.state()
	wantError(t, h.do(http.MethodPatch, "/api/v1/nodes/n1", `{}`), http.StatusBadRequest, "missing_field", "payout_address")
	wantError(t, h.do(http.MethodPatch, "/api/v1/nodes/n1", `{"payout_address":"a b"}`), http.StatusBadRequest, "invalid_payout_address", "payout_address")
	wantError(t, h.do(http.MethodPatch, "/api/v1/nodes/n9", `{"payout_address":"x"}`), http.StatusNotFound, "node_not_found", "node_id")
	if after := h.state(); after != before {
		t.Errorf("rejected PATCH changed the book:\n%s\n%s", before, after)
	}
}

func TestRemoveNode(t *testing.T) {
	h := newHarness(t)
	h.register("n1", "")
	h.register("n2", "")
	r := h.ok(http.StatusNoContent, http.MethodDelete, "/api/v1/nodes/n1", "")
	if len(r.body) != 0 {
		t.Errorf("204 with body %q", r.body)
	}
	wantError(t, h.do(http.MethodGet, "/api/v1/nodes/n1", ""), http.StatusNotFound, "node_not_found", "node_id")
	wantError(t, h.do(http.MethodDelete, "/api/v1/nodes/n1", ""), http.StatusNotFound, "node_not_found", "node_id")
	equal(t, "list after DELETE", h.list(), nodeList{Count: 1, Nodes: []api.NodeView{freshNode("n2", "")}})

	// A node holding stake is removed only with force; its stake then counts
	// as withdrawn.
	h.ok(http.StatusOK, http.MethodPost, "/api/v1/nodes/n2/deposits", `{"amount":700}`)
	before := h.state()
	wantError(t, h.do(http.MethodDelete, "/api/v1/nodes/n2", ""), http.StatusConflict, "node_holds_stake", "node_id")
	wantError(t, h.do(http.MethodDelete, "/api/v1/nodes/n2?force=maybe", ""), http.StatusBadRequest, "invalid_query", "force")
	if after := h.state(); after != before {
		t.Errorf("rejected DELETE changed the book:\n%s\n%s", before, after)
	}
	h.ok(http.StatusNoContent, http.MethodDelete, "/api/v1/nodes/n2?force=true", "")
	wantError(t, h.do(http.MethodGet, "/api/v1/nodes/n2", ""), http.StatusNotFound, "node_not_found", "node_id")
	s := h.summary()
	equal(t, "stake after forced removal", s.Stake, ledger.StakeSummary{Deposited: 700, Withdrawn: 700})
	if s.Nodes.Total != 0 {
		t.Errorf("nodes.total %d, want 0", s.Nodes.Total)
	}
}

func TestEvents(t *testing.T) {
	h := newHarness(t)
	h.register("n1", "")
	p := reputation.DefaultParams()

	r := h.ok(http.StatusOK, http.MethodPost, "/api/v1/nodes/n1/events", `{"type":"block_proposed","count":3}`)
	wantKeys(t, r.body, "node_id", "type", "count", "score", "reliable")
	score := p.ApplyEvent(0.5, reputation.BlockProposed, 3)
	equal(t, "event", decode[ledger.EventResult](t, r), ledger.EventResult{NodeID: "n1", Type: reputation.BlockProposed, Count: 3, Score: score})

	// count is optional and defaults to 1.
	r = h.ok(http.StatusOK, http.MethodPost, "/api/v1/nodes/n1/events", `{"type":"missed_block"}`)
	score = p.ApplyEvent(score, reputation.MissedBlock, 1)
	equal(t, "event without count", decode[ledger.EventResult](t, r), ledger.EventResult{NodeID: "n1", Type: reputation.MissedBlock, Count: 1, Score: score})

	// The upper bound of count is accepted.
	r = h.ok(http.StatusOK, http.MethodPost, "/api/v1/nodes/n1/events", `{"type":"heartbeat","count":10000}`)
	score = p.ApplyEvent(score, reputation.Heartbeat, 10000)
	equal(t, "event count 10000", decode[ledger.EventResult](t, r), ledger.EventResult{NodeID: "n1", Type: reputation.Heartbeat, Count: 10000, Score: score, Reliable: score >= p.Threshold})

	n := h.node("n1")
	want := freshNode("n1", "")
	want.Reputation = api.ReputationView{
		Score: score, Reliable: score >= p.Threshold, LastEventAt: fixedNow,
		EpochUptime: float64(10003) / float64(10004),
		Events:      ledger.EventCounts{3, 0, 0, 10000, 1, 0},
	}
	equal(t, "node after events", n, want)
	wantError(t, h.do(http.MethodPost, "/api/v1/nodes/n9/events", `{"type":"heartbeat"}`), http.StatusNotFound, "node_not_found", "node_id")
}

// stakedNode registers n1 with addr-1, deposits 1000 and withdraws 400.
func stakedNode(h *harness) {
	h.t.Helper()
	h.register("n1", "addr-1")
	h.ok(http.StatusOK, http.MethodPost, "/api/v1/nodes/n1/deposits", `{"amount":1000}`)
	h.ok(http.StatusOK, http.MethodPost, "/api/v1/nodes/n1/withdrawals", `{"amount":400}`)
}

func TestDepositsAndWithdrawals(t *testing.T) {
	h := newHarness(t)
	h.register("n1", "")
	r := h.ok(http.StatusOK, http.MethodPost, "/api/v1/nodes/n1/deposits", `{"amount":1000}`)
	wantKeys(t, r.body, "node_id", "amount", "bonded", "unbonding")
	equal(t, "deposit", decode[ledger.StakeResult](t, r), ledger.StakeResult{NodeID: "n1", Amount: 1000, Bonded: 1000})
	r = h.ok(http.StatusOK, http.MethodPost, "/api/v1/nodes/n1/deposits", `{"amount":500}`, "Content-Type", "application/json; charset=utf-8")
	equal(t, "second deposit", decode[ledger.StakeResult](t, r), ledger.StakeResult{NodeID: "n1", Amount: 500, Bonded: 1500})

	release := fixedNow.Add(ledger.DefaultConfig().UnbondingPeriod)
	r = h.ok(http.StatusOK, http.MethodPost, "/api/v1/nodes/n1/withdrawals", `{"amount":400}`)
	wantKeys(t, r.body, "node_id", "amount", "bonded", "unbonding", "release_at")
	equal(t, "withdrawal", decode[ledger.StakeResult](t, r), ledger.StakeResult{NodeID: "n1", Amount: 400, Bonded: 1100, Unbonding: 400, ReleaseAt: release})
	// Withdrawing everything that is bonded is allowed.
	r = h.ok(http.StatusOK, http.MethodPost, "/api/v1/nodes/n1/withdrawals", `{"amount":1100}`)
	equal(t, "full withdrawal", decode[ledger.StakeResult](t, r), ledger.StakeResult{NodeID: "n1", Amount: 1100, Unbonding: 1500, ReleaseAt: release})

	want := freshNode("n1", "")
	want.Stake = api.StakeView{Unbonding: 1500, Deposited: 1500,
		UnbondingQueue: []stake.Unbonding{{Amount: 400, ReleaseAt: release}, {Amount: 1100, ReleaseAt: release}}}
	equal(t, "node", h.node("n1"), want)

	// The largest amount is accepted.
	h.register("big", "")
	r = h.ok(http.StatusOK, http.MethodPost, "/api/v1/nodes/big/deposits", `{"amount":9223372036854774307}`)
	equal(t, "max deposit", decode[ledger.StakeResult](t, r).Bonded, stake.MaxAmount-1500)
}

func TestViolations(t *testing.T) {
	h := newHarness(t)
	stakedNode(h) // bonded 600, unbonding 400
	r := h.ok(http.StatusOK, http.MethodPost, "/api/v1/nodes/n1/violations", `{"type":"double_sign","evidence":"block 7 signed twice"}`)
	wantKeys(t, r.body, "node_id", "type", "score", "reliable", "slashed", "bonded", "unbonding")
	// 5% of 600 bonded and of 400 unbonding.
	equal(t, "violation", decode[ledger.ViolationResult](t, r), ledger.ViolationResult{
		NodeID: "n1", Type: reputation.DoubleSign, Score: 0, Slashed: 50, Bonded: 570, Unbonding: 380})

	n := h.node("n1")
	equal(t, "last violation", n.Reputation.LastViolation,
		&ledger.ViolationRecord{Type: reputation.DoubleSign, At: fixedNow, Evidence: "block 7 signed twice", Slashed: 50})
	equal(t, "violation counters", n.Reputation.Violations, ledger.ViolationCounts{1, 0, 0, 0, 0, 0})
	equal(t, "stake", [4]uint64{n.Stake.Bonded, n.Stake.Unbonding, n.Stake.Deposited, n.Stake.Slashed}, [4]uint64{570, 380, 1000, 50})

	// evidence is optional.
	r = h.ok(http.StatusOK, http.MethodPost, "/api/v1/nodes/n1/violations", `{"type":"downtime"}`)
	equal(t, "violation without evidence", decode[ledger.ViolationResult](t, r), ledger.ViolationResult{
		NodeID: "n1", Type: reputation.Downtime, Score: 0, Slashed: 0, Bonded: 570, Unbonding: 380})
	wantError(t, h.do(http.MethodPost, "/api/v1/nodes/n9/violations", `{"type":"downtime"}`), http.StatusNotFound, "node_not_found", "node_id")
}

func TestBatch(t *testing.T) {
	h := newHarness(t)
	h.register("n1", "")
	h.register("n2", "")
	h.ok(http.StatusOK, http.MethodPost, "/api/v1/nodes/n2/deposits", `{"amount":10000}`)
	r := h.ok(http.StatusOK, http.MethodPost, "/api/v1/batch", `{
		"events": [
			{"node_id": "n1", "type": "heartbeat", "count": 2},
			{"node_id": "n2", "type": "vote_cast"},
			{"node_id": "n1", "type": "heartbeat"}
		],
		"violations": [{"node_id": "n2", "type": "invalid_block", "evidence": "bad root"}]
	}`)
	equal(t, "batch", decode[ledger.BatchResult](t, r), ledger.BatchResult{Events: 3, Violations: 1, Slashed: 100})
	n1, n2 := h.node("n1"), h.node("n2")
	equal(t, "n1 events", n1.Reputation.Events, ledger.EventCounts{0, 0, 0, 3, 0, 0})
	equal(t, "n2 events", n2.Reputation.Events, ledger.EventCounts{0, 0, 1, 0, 0, 0})
	equal(t, "n2 violations", n2.Reputation.Violations, ledger.ViolationCounts{0, 0, 1, 0, 0, 0})
	equal(t, "n2 bonded", n2.Stake.Bonded, uint64(9900))

	// Events only, and violations only.
	h.ok(http.StatusOK, http.MethodPost, "/api/v1/batch", `{"events":[{"node_id":"n1","type":"block_proposed"}]}`)
	h.ok(http.StatusOK, http.MethodPost, "/api/v1/batch", `{"violations":[{"node_id":"n1","type":"censorship"}]}`)
	equal(t, "n1 after batches", h.node("n1").Reputation.Violations, ledger.ViolationCounts{0, 0, 0, 0, 1, 0})
}

func TestEpochs(t *testing.T) {
	h := newHarness(t)
	p := reputation.DefaultParams()
	// n1 is eligible (bonded and reliable) with full uptime and a payout
	// address; n2 is not eligible (no stake).
	h.register("n1", "addr-1")
	h.register("n2", "")
	h.ok(http.StatusOK, http.MethodPost, "/api/v1/nodes/n1/deposits", `{"amount":1000}`)
	h.ok(http.StatusOK, http.MethodPost, "/api/v1/nodes/n1/events", `{"type":"block_proposed","count":30}`)
	if s := p.ApplyEvent(0.5, reputation.BlockProposed, 30); s < p.Threshold {
		t.Fatalf("set-up: score %v is below the threshold", s)
	}

	// Without a body: the configured pool, 10% of it as uptime bonus.
	r := h.ok(http.StatusOK, http.MethodPost, "/api/v1/epochs", "", "Content-Type", "")
	e1 := ledger.EpochResult{Number: 1, At: fixedNow, Pool: 1_000_000, Allocated: 1_000_000, BaseAmount: 900_000, Bonus: 100_000,
		Recipients: 1, UptimeBonuses: 1, Paid: 1_000_000, PaidFromPool: 1_000_000, Efficiency: 1}
	equal(t, "epoch without body", decode[ledger.EpochResult](t, r), e1)

	// With a pool. Uptime was reset by the last epoch: no bonus.
	r = h.ok(http.StatusOK, http.MethodPost, "/api/v1/epochs", `{"pool":5000}`)
	e2 := ledger.EpochResult{Number: 2, At: fixedNow, Pool: 5000, Allocated: 5000, BaseAmount: 5000,
		Recipients: 1, Paid: 5000, PaidFromPool: 5000, Efficiency: 1}
	equal(t, "epoch with pool", decode[ledger.EpochResult](t, r), e2)

	// An empty object and a null pool mean the configured pool.
	r = h.ok(http.StatusOK, http.MethodPost, "/api/v1/epochs", `{}`)
	equal(t, "epoch {}", decode[ledger.EpochResult](t, r).Pool, uint64(1_000_000))
	r = h.ok(http.StatusOK, http.MethodPost, "/api/v1/epochs", `{"pool":null}`)
	e4 := decode[ledger.EpochResult](t, r)
	equal(t, "epoch null pool", [2]uint64{e4.Number, e4.Pool}, [2]uint64{4, 1_000_000})

	n1 := h.node("n1")
	equal(t, "n1 rewards", n1.Rewards, ledger.Rewards{Earned: 3_005_000, Paid: 3_005_000, LastPaidAt: fixedNow, LastRewardAt: fixedNow})
	equal(t, "n2 rewards", h.node("n2").Rewards, ledger.Rewards{})
	s := h.summary()
	equal(t, "rewards summary", s.Rewards, ledger.RewardsSummary{Epoch: 4, Paid: 3_005_000, Allocated: 3_005_000, LastEpoch: &e4})

	// A node without a payout address: its payout fails and stays pending
	// until it has one.
	h.ok(http.StatusNoContent, http.MethodDelete, "/api/v1/nodes/n1?force=true", "")
	h.ok(http.StatusOK, http.MethodPost, "/api/v1/nodes/n2/deposits", `{"amount":10}`)
	h.ok(http.StatusOK, http.MethodPost, "/api/v1/nodes/n2/events", `{"type":"block_proposed","count":30}`)
	r = h.ok(http.StatusOK, http.MethodPost, "/api/v1/epochs", `{"pool":300}`)
	equal(t, "epoch with failed payout", decode[ledger.EpochResult](t, r), ledger.EpochResult{Number: 5, At: fixedNow, Pool: 300,
		Allocated: 300, BaseAmount: 270, Bonus: 30, Recipients: 1, UptimeBonuses: 1, FailedPayouts: 1})
	equal(t, "n2 pending", h.node("n2").Rewards, ledger.Rewards{Earned: 300, Pending: 300, FailedPayouts: 1,
		LastFailure: ledger.FailureNoPayoutAddress, LastRewardAt: fixedNow})
	h.ok(http.StatusOK, http.MethodPatch, "/api/v1/nodes/n2", `{"payout_address":"addr-2"}`)
	h.ok(http.StatusOK, http.MethodPost, "/api/v1/epochs", `{"pool":1}`)
	equal(t, "n2 paid", h.node("n2").Rewards, ledger.Rewards{Earned: 301, Paid: 301, FailedPayouts: 1, LastPaidAt: fixedNow, LastRewardAt: fixedNow})
}

func TestSummary(t *testing.T) {
	h := newHarness(t)
	r := h.ok(http.StatusOK, http.MethodGet, "/api/v1/summary", "")
	wantKeys(t, r.body, "at", "nodes", "reputation", "stake", "rewards")
	equal(t, "empty summary", decode[ledger.Summary](t, r), ledger.Summary{At: fixedNow,
		Reputation: ledger.ScoreSummary{Threshold: 0.7}})

	stakedNode(h) // n1: bonded 600, unbonding 400
	h.register("n2", "")
	h.ok(http.StatusOK, http.MethodPost, "/api/v1/nodes/n1/violations", `{"type":"double_sign"}`)
	equal(t, "summary", h.summary(), ledger.Summary{
		At:    fixedNow,
		Nodes: ledger.NodeCounts{Total: 2, Unreliable: 2},
		Reputation: ledger.ScoreSummary{
			ScoreStats: ledger.ScoreStats{Count: 2, Mean: 0.25, Median: 0.25, Highest: 0.5, Lowest: 0},
			Threshold:  0.7,
		},
		Stake: ledger.StakeSummary{Bonded: 570, Unbonding: 380, PendingWithdrawals: 1, Average: 285,
			Deposited: 1000, Slashed: 50},
	})
}

func TestHealthAndReadiness(t *testing.T) {
	h := newHarness(t)
	equal(t, "healthz", strings.TrimSpace(string(h.ok(http.StatusOK, http.MethodGet, "/healthz", "").body)), `{"status":"ok"}`)
	equal(t, "readyz (no Ready func)", strings.TrimSpace(string(h.ok(http.StatusOK, http.MethodGet, "/readyz", "").body)), `{"status":"ready"}`)

	var notReady error
	h = newHarness(t, func(s *setup) { s.opts.Ready = func() error { return notReady } })
	equal(t, "readyz", strings.TrimSpace(string(h.ok(http.StatusOK, http.MethodGet, "/readyz", "").body)), `{"status":"ready"}`)
	notReady = errors.New("store is not readable")
	r := h.do(http.MethodGet, "/readyz", "")
	if r.status != http.StatusServiceUnavailable || r.header.Get("Content-Type") != "application/json" {
		t.Fatalf("readyz when not ready: %d %q", r.status, r.header.Get("Content-Type"))
	}
	equal(t, "readyz body", decode[map[string]string](t, r), map[string]string{"status": "not ready", "reason": "store is not readable"})
	// Liveness does not depend on readiness.
	h.ok(http.StatusOK, http.MethodGet, "/healthz", "")
}

func TestMetricsRouteAndInstrument(t *testing.T) {
	// Without a Metrics handler the route does not exist.
	h := newHarness(t)
	wantError(t, h.do(http.MethodGet, "/metrics", ""), http.StatusNotFound, "route_not_found", "")

	var seen []string
	h = newHarness(t, func(s *setup) {
		s.opts.Metrics = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "# metrics\n") })
		s.opts.Instrument = func(route string, next http.Handler) http.Handler {
			seen = append(seen, route) // at construction only
			return next
		}
	})
	r := h.do(http.MethodGet, "/metrics", "")
	if r.status != http.StatusOK || string(r.body) != "# metrics\n" {
		t.Errorf("GET /metrics = %d %q", r.status, r.body)
	}
	// Instrument sees route templates, never raw paths.
	for _, want := range []string{"/api/v1/nodes", "/api/v1/nodes/{node_id}", "/api/v1/nodes/{node_id}/events",
		"/api/v1/nodes/{node_id}/violations", "/api/v1/nodes/{node_id}/deposits", "/api/v1/nodes/{node_id}/withdrawals",
		"/api/v1/batch", "/api/v1/epochs", "/api/v1/summary", "/healthz", "/readyz", "/metrics", "unmatched"} {
		if !slices.Contains(seen, want) {
			t.Errorf("Instrument never saw route %q (saw %v)", want, seen)
		}
	}
}

// TestIdempotency: deposits, withdrawals and epochs retried with the same
// Idempotency-Key are applied once and answered with the first answer.
func TestIdempotency(t *testing.T) {
	h := newHarness(t)
	h.register("n1", "addr-1")

	retry := func(path, body, key string) response {
		t.Helper()
		first := h.ok(http.StatusOK, http.MethodPost, path, body, "Idempotency-Key", key)
		if v := first.header.Get("Idempotent-Replayed"); v != "" {
			t.Errorf("first %s has Idempotent-Replayed %q", path, v)
		}
		for range 3 {
			again := h.ok(http.StatusOK, http.MethodPost, path, body, "Idempotency-Key", key)
			if v := again.header.Get("Idempotent-Replayed"); v != "true" {
				t.Errorf("retried %s: Idempotent-Replayed %q, want true", path, v)
			}
			if !bytes.Equal(again.body, first.body) {
				t.Errorf("retried %s: body %s, want %s", path, again.body, first.body)
			}
		}
		return first
	}

	retry("/api/v1/nodes/n1/deposits", `{"amount":1000}`, "dep-1")
	if n := h.node("n1"); n.Stake.Bonded != 1000 || n.Stake.ActiveDeposits != 1 {
		t.Errorf("after retried deposit: bonded %d, deposits %d; want 1000, 1", n.Stake.Bonded, n.Stake.ActiveDeposits)
	}
	retry("/api/v1/nodes/n1/withdrawals", `{"amount":300}`, "wd-1")
	if n := h.node("n1"); n.Stake.Bonded != 700 || n.Stake.Unbonding != 300 || len(n.Stake.UnbondingQueue) != 1 {
		t.Errorf("after retried withdrawal: bonded %d, unbonding %d in %d; want 700, 300 in 1", n.Stake.Bonded, n.Stake.Unbonding, len(n.Stake.UnbondingQueue))
	}
	retry("/api/v1/epochs", "", "ep-1")
	retry("/api/v1/epochs", `{"pool":500}`, "ep-2")
	if s := h.summary(); s.Rewards.Epoch != 2 || s.Stake.Deposited != 1000 {
		t.Errorf("after retried epochs: epoch %d, deposited %d; want 2, 1000", s.Rewards.Epoch, s.Stake.Deposited)
	}

	// The same key with another body or on another route is refused; nothing
	// is applied.
	before := h.state()
	for _, c := range []struct{ path, body, key string }{
		{"/api/v1/nodes/n1/deposits", `{"amount":1001}`, "dep-1"},
		{"/api/v1/nodes/n1/deposits", `{"amount": 1000}`, "dep-1"}, // other bytes
		{"/api/v1/nodes/n1/withdrawals", `{"amount":1000}`, "dep-1"},
		{"/api/v1/nodes/n1/deposits", `{"amount":300}`, "wd-1"},
		{"/api/v1/epochs", `{"pool":1}`, "ep-1"},
		{"/api/v1/epochs", "", "ep-2"},
	} {
		wantError(t, h.do(http.MethodPost, c.path, c.body, "Idempotency-Key", c.key), http.StatusConflict, "idempotency_key_reused", "Idempotency-Key")
	}
	// Invalid keys.
	for _, key := range []string{strings.Repeat("k", 256), "a b", "ключ", "tab\tkey"} {
		for _, c := range []struct{ path, body string }{
			{"/api/v1/nodes/n1/deposits", `{"amount":1}`},
			{"/api/v1/nodes/n1/withdrawals", `{"amount":1}`},
			{"/api/v1/epochs", ""},
		} {
			wantError(t, h.do(http.MethodPost, c.path, c.body, "Idempotency-Key", key), http.StatusBadRequest, "invalid_idempotency_key", "Idempotency-Key")
		}
	}
	if after := h.state(); after != before {
		t.Errorf("refused requests changed the book:\n%s\n%s", before, after)
	}

	// 255 printable characters are a valid key.
	retry("/api/v1/nodes/n1/deposits", `{"amount":5}`, strings.Repeat("~", 255))

	// A request that failed was not applied, so its key is not spent: the
	// retry applies once it can.
	wantError(t, h.do(http.MethodPost, "/api/v1/nodes/n1/withdrawals", `{"amount":900}`, "Idempotency-Key", "wd-2"),
		http.StatusUnprocessableEntity, "insufficient_stake", "amount")
	h.ok(http.StatusOK, http.MethodPost, "/api/v1/nodes/n1/deposits", `{"amount":200}`)
	retry("/api/v1/nodes/n1/withdrawals", `{"amount":900}`, "wd-2")
	if n := h.node("n1"); n.Stake.Bonded != 5 || n.Stake.Unbonding != 1200 {
		t.Errorf("bonded %d, unbonding %d; want 5, 1200", n.Stake.Bonded, n.Stake.Unbonding)
	}
}

// TestUnknownNodeReadsCreateNothing is R10: reads of never-registered ids
// are 404 and leave no trace.
func TestUnknownNodeReadsCreateNothing(t *testing.T) {
	h := newHarness(t)
	for i := range 500 {
		id := "ghost-" + strings.Repeat("x", i%40) + "-" + string(rune('a'+i%26)) + "-" + strconv.Itoa(i)
		wantError(t, h.do(http.MethodGet, "/api/v1/nodes/"+id, ""), http.StatusNotFound, "node_not_found", "node_id")
	}
	for _, path := range []string{"/api/v1/nodes/ghost/events", "/api/v1/nodes/ghost/violations", "/api/v1/nodes/ghost/deposits", "/api/v1/nodes/ghost/withdrawals"} {
		body := `{"amount":1}`
		if strings.HasSuffix(path, "events") {
			body = `{"type":"heartbeat"}`
		} else if strings.HasSuffix(path, "violations") {
			body = `{"type":"downtime"}`
		}
		wantError(t, h.do(http.MethodPost, path, body), http.StatusNotFound, "node_not_found", "node_id")
	}
	wantError(t, h.do(http.MethodPatch, "/api/v1/nodes/ghost", `{"payout_address":"x"}`), http.StatusNotFound, "node_not_found", "node_id")
	wantError(t, h.do(http.MethodDelete, "/api/v1/nodes/ghost", ""), http.StatusNotFound, "node_not_found", "node_id")
	wantError(t, h.do(http.MethodPost, "/api/v1/batch", `{"events":[{"node_id":"ghost","type":"heartbeat"}]}`), http.StatusNotFound, "node_not_found", "events[0].node_id")
	if got := h.list(); got.Count != 0 || len(got.Nodes) != 0 {
		t.Errorf("list after unknown-node requests: %+v", got)
	}
	if s := h.summary(); s.Nodes.Total != 0 {
		t.Errorf("summary nodes.total %d, want 0", s.Nodes.Total)
	}
	if n := h.l.NodeCount(); n != 0 {
		t.Errorf("ledger tracks %d nodes, want 0", n)
	}
}

// TestNodeIDsAreCaseSensitive is R12: ids that differ only in case are
// different nodes, each with its own state, never merged.
func TestNodeIDsAreCaseSensitive(t *testing.T) {
	h := newHarness(t)
	h.register("Node-A", "")
	h.register("node-a", "")
	wantError(t, h.do(http.MethodPost, "/api/v1/nodes", `{"node_id":"Node-A"}`), http.StatusConflict, "node_exists", "node_id")
	h.ok(http.StatusOK, http.MethodPost, "/api/v1/nodes/Node-A/deposits", `{"amount":100}`)
	l := h.list()
	if l.Count != 2 || len(l.Nodes) != 2 || l.Nodes[0].NodeID != "Node-A" || l.Nodes[1].NodeID != "node-a" {
		t.Fatalf("list = %+v, want Node-A and node-a", l)
	}
	if a, b := h.node("Node-A").Stake.Bonded, h.node("node-a").Stake.Bonded; a != 100 || b != 0 {
		t.Errorf("bonded Node-A %d, node-a %d; want 100, 0", a, b)
	}
	h.ok(http.StatusNoContent, http.MethodDelete, "/api/v1/nodes/node-a", "")
	wantError(t, h.do(http.MethodGet, "/api/v1/nodes/node-a", ""), http.StatusNotFound, "node_not_found", "node_id")
	equal(t, "Node-A after removing node-a", h.node("Node-A").Stake.Bonded, uint64(100))
}
