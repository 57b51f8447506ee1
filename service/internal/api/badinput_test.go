package api_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/cretoai/monitor/service/internal/api"
	"github.com/cretoai/monitor/service/internal/ledger"
)

// badCase is one request that must be refused with status, code and field.
type badCase struct {
	name   string
	method string
	path   string
	body   string
	hdr    []string
	status int
	code   string
	field  string
}

// runBad sends every case to h and checks the error response and that the
// book a client can read is byte-identical afterwards: nothing was applied.
func runBad(t *testing.T, h *harness, cases []badCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := h.state()
			r := h.do(c.method, c.path, c.body, c.hdr...)
			wantError(t, r, c.status, c.code, c.field)
			if after := h.state(); after != before {
				t.Errorf("a refused request changed the book:\nbefore %s\nafter  %s", before, after)
			}
		})
	}
}

// badHarness has n1 (payout address, bonded 600, unbonding 400) and n2.
func badHarness(t *testing.T) *harness {
	h := newHarness(t)
	stakedNode(h)
	h.register("n2", "")
	return h
}

const (
	post   = http.MethodPost
	deps   = "/api/v1/nodes/n1/deposits"
	wds    = "/api/v1/nodes/n1/withdrawals"
	events = "/api/v1/nodes/n1/events"
	viols  = "/api/v1/nodes/n1/violations"
)

func TestBadEventsAndViolations(t *testing.T) {
	h := badHarness(t)
	runBad(t, h, []badCase{
		{"unknown event type", post, events, `{"type":"block_mined"}`, nil, 400, "unknown_event_type", "type"},
		{"empty event type", post, events, `{"type":""}`, nil, 400, "unknown_event_type", "type"},
		{"missing event type", post, events, `{"count":2}`, nil, 400, "unknown_event_type", "type"},
		{"event type in other case", post, events, `{"type":"Heartbeat"}`, nil, 400, "unknown_event_type", "type"},
		{"violation type as event", post, events, `{"type":"double_sign"}`, nil, 400, "unknown_event_type", "type"},
		{"event type not a string", post, events, `{"type":7}`, nil, 400, "invalid_type", "type"},
		{"count 0", post, events, `{"type":"heartbeat","count":0}`, nil, 400, "invalid_count", "count"},
		{"count -1", post, events, `{"type":"heartbeat","count":-1}`, nil, 400, "invalid_count", "count"},
		{"count 10001", post, events, `{"type":"heartbeat","count":10001}`, nil, 400, "invalid_count", "count"},
		{"count 2^32+1", post, events, `{"type":"heartbeat","count":4294967297}`, nil, 400, "invalid_count", "count"},
		{"count 1.5", post, events, `{"type":"heartbeat","count":1.5}`, nil, 400, "invalid_type", "count"},
		{"count 1e3", post, events, `{"type":"heartbeat","count":1e3}`, nil, 400, "invalid_type", "count"},
		{"count 1e400", post, events, `{"type":"heartbeat","count":1e400}`, nil, 400, "invalid_type", "count"},
		{"count 2^64", post, events, `{"type":"heartbeat","count":18446744073709551616}`, nil, 400, "invalid_type", "count"},
		{"count string", post, events, `{"type":"heartbeat","count":"2"}`, nil, 400, "invalid_type", "count"},

		{"unknown violation type", post, viols, `{"type":"bribery"}`, nil, 400, "unknown_violation_type", "type"},
		{"empty violation type (R04)", post, viols, `{"type":""}`, nil, 400, "unknown_violation_type", "type"},
		{"missing violation type", post, viols, `{"evidence":"x"}`, nil, 400, "unknown_violation_type", "type"},
		{"event type as violation", post, viols, `{"type":"heartbeat"}`, nil, 400, "unknown_violation_type", "type"},
		{"evidence too long", post, viols, `{"type":"downtime","evidence":"` + strings.Repeat("e", ledger.MaxEvidenceLen+1) + `"}`, nil, 400, "invalid_evidence", "evidence"},
		{"evidence not a string", post, viols, `{"type":"downtime","evidence":{}}`, nil, 400, "invalid_type", "evidence"},
	})
}

func TestBadNodeIDs(t *testing.T) {
	h := badHarness(t)
	long := strings.Repeat("a", 65)
	var cases []badCase
	for _, c := range []struct{ name, json, path string }{
		{"space", `"a b"`, "a%20b"},
		{"65 bytes", `"` + long + `"`, long},
		{"unicode", `"nöde"`, "n%C3%B6de"},
		{"slash", `"a/b"`, ""},
		{"percent", `"a%b"`, "a%25b"},
		{"quote", `"a\"b"`, "a%22b"},
		{"NUL", `"a\u0000b"`, "a%00b"},
		{"newline", `"a\nb"`, "a%0Ab"},
	} {
		cases = append(cases, badCase{"register " + c.name, post, "/api/v1/nodes", `{"node_id":` + c.json + `}`, nil, 400, "invalid_node_id", "node_id"})
		if c.path == "" {
			continue
		}
		p := "/api/v1/nodes/" + c.path
		cases = append(cases,
			badCase{"GET " + c.name, http.MethodGet, p, "", nil, 400, "invalid_node_id", "node_id"},
			badCase{"PATCH " + c.name, http.MethodPatch, p, `{"payout_address":"x"}`, nil, 400, "invalid_node_id", "node_id"},
			badCase{"DELETE " + c.name, http.MethodDelete, p, "", nil, 400, "invalid_node_id", "node_id"},
			badCase{"event " + c.name, post, p + "/events", `{"type":"heartbeat"}`, nil, 400, "invalid_node_id", "node_id"},
			badCase{"violation " + c.name, post, p + "/violations", `{"type":"downtime"}`, nil, 400, "invalid_node_id", "node_id"},
			badCase{"deposit " + c.name, post, p + "/deposits", `{"amount":1}`, nil, 400, "invalid_node_id", "node_id"},
			badCase{"withdrawal " + c.name, post, p + "/withdrawals", `{"amount":1}`, nil, 400, "invalid_node_id", "node_id"},
		)
	}
	cases = append(cases,
		badCase{"register empty id", post, "/api/v1/nodes", `{"node_id":""}`, nil, 400, "missing_field", "node_id"},
		badCase{"register missing id", post, "/api/v1/nodes", `{"payout_address":"x"}`, nil, 400, "missing_field", "node_id"},
		badCase{"register null body", post, "/api/v1/nodes", `null`, nil, 400, "missing_field", "node_id"},
		badCase{"register id not a string", post, "/api/v1/nodes", `{"node_id":12}`, nil, 400, "invalid_type", "node_id"},
		badCase{"register bad payout address", post, "/api/v1/nodes", `{"node_id":"n3","payout_address":"a b"}`, nil, 400, "invalid_payout_address", "payout_address"},
		badCase{"register payout address too long", post, "/api/v1/nodes", `{"node_id":"n3","payout_address":"` + strings.Repeat("p", ledger.MaxPayoutAddressLen+1) + `"}`, nil, 400, "invalid_payout_address", "payout_address"},
		// An empty path segment matches no route.
		badCase{"empty id in path", post, "/api/v1/nodes//deposits", `{"amount":1}`, nil, 404, "route_not_found", ""},
		badCase{"encoded slash in path", post, "/api/v1/nodes/a%2Fb/deposits", `{"amount":1}`, nil, 404, "route_not_found", ""},
	)
	runBad(t, h, cases)
}

func TestBadAmounts(t *testing.T) {
	h := badHarness(t)
	var cases []badCase
	for _, route := range []struct{ name, path string }{{"deposit", deps}, {"withdrawal", wds}} {
		for _, a := range []struct{ name, json string }{
			{"0", `0`}, {"-5", `-5`}, {"-0", `-0`}, {"1.5", `1.5`}, {"1.0", `1.0`}, {"1e3", `1e3`}, {"1E3", `1E3`},
			{"string 100", `"100"`}, {"string NaN", `"NaN"`}, {"string Infinity", `"Infinity"`},
			{"1e400", `1e400`}, {"-1e400", `-1e400`},
			{"2^63", `9223372036854775808`}, {"2^64", `18446744073709551616`}, {"2^64+1", `18446744073709551617`},
			{"30 digits", `100000000000000000000000000000`},
			{"true", `true`}, {"array", `[1]`}, {"object", `{"v":1}`},
		} {
			cases = append(cases, badCase{route.name + " amount " + a.name, post, route.path, `{"amount":` + a.json + `}`, nil, 400, "invalid_amount", "amount"})
		}
		cases = append(cases,
			badCase{route.name + " amount null", post, route.path, `{"amount":null}`, nil, 400, "missing_field", "amount"},
			badCase{route.name + " amount missing", post, route.path, `{}`, nil, 400, "missing_field", "amount"},
			badCase{route.name + " body null", post, route.path, `null`, nil, 400, "missing_field", "amount"},
			// NaN and Infinity are not JSON at all.
			badCase{route.name + " amount NaN", post, route.path, `{"amount":NaN}`, nil, 400, "invalid_json", ""},
			badCase{route.name + " amount Infinity", post, route.path, `{"amount":Infinity}`, nil, 400, "invalid_json", ""},
			badCase{route.name + " leading zero", post, route.path, `{"amount":0100}`, nil, 400, "invalid_json", ""},
			badCase{route.name + " hex", post, route.path, `{"amount":0x10}`, nil, 400, "invalid_json", ""},
		)
	}
	cases = append(cases,
		// Well-formed amounts the book cannot apply.
		badCase{"withdrawal beyond bonded", post, wds, `{"amount":601}`, nil, 422, "insufficient_stake", "amount"},
		badCase{"withdrawal of unbonding stake", post, wds, `{"amount":1000}`, nil, 422, "insufficient_stake", "amount"},
		badCase{"withdrawal from empty node", post, "/api/v1/nodes/n2/withdrawals", `{"amount":1}`, nil, 422, "insufficient_stake", "amount"},
		badCase{"deposit overflowing the totals", post, deps, `{"amount":9223372036854775807}`, nil, 422, "amount_overflow", "amount"},
	)
	for _, p := range []struct{ name, json string }{
		{"0", `0`}, {"-1", `-1`}, {"1.5", `1.5`}, {"1e3", `1e3`}, {"string", `"5"`}, {"1e400", `1e400`},
		{"2^63", `9223372036854775808`}, {"2^64", `18446744073709551616`}, {"bool", `false`},
	} {
		cases = append(cases, badCase{"epoch pool " + p.name, post, "/api/v1/epochs", `{"pool":` + p.json + `}`, nil, 400, "invalid_amount", "pool"})
	}
	runBad(t, h, cases)

	// Bonded stake is exactly what it was.
	if n := h.node("n1"); n.Stake.Bonded != 600 || n.Stake.Unbonding != 400 || n.Stake.Deposited != 1000 {
		t.Errorf("n1 stake %+v, want bonded 600, unbonding 400, deposited 1000", n.Stake)
	}
}

func TestBadBodies(t *testing.T) {
	h := badHarness(t)
	type route struct{ method, path, valid string }
	routes := []route{
		{post, "/api/v1/nodes", `{"node_id":"n3"}`},
		{http.MethodPatch, "/api/v1/nodes/n1", `{"payout_address":"addr-9"}`},
		{post, events, `{"type":"heartbeat"}`},
		{post, viols, `{"type":"downtime"}`},
		{post, deps, `{"amount":1}`},
		{post, wds, `{"amount":1}`},
		{post, "/api/v1/batch", `{"events":[{"node_id":"n1","type":"heartbeat"}]}`},
		{post, "/api/v1/epochs", `{"pool":1}`},
	}
	var cases []badCase
	for _, r := range routes {
		obj := strings.TrimSuffix(r.valid, "}")
		name := r.method + " " + r.path + " "
		cases = append(cases,
			badCase{name + "unknown field", r.method, r.path, obj + `,"extra":1}`, nil, 400, "unknown_field", "extra"},
			badCase{name + "trailing garbage", r.method, r.path, r.valid + ` xyz`, nil, 400, "invalid_json", ""},
			badCase{name + "second object", r.method, r.path, r.valid + r.valid, nil, 400, "invalid_json", ""},
			badCase{name + "trailing comma", r.method, r.path, obj + `,}`, nil, 400, "invalid_json", ""},
			badCase{name + "truncated", r.method, r.path, r.valid[:len(r.valid)-1], nil, 400, "invalid_json", ""},
			badCase{name + "not JSON", r.method, r.path, `amount=1`, nil, 400, "invalid_json", ""},
			badCase{name + "array", r.method, r.path, `[` + r.valid + `]`, nil, 400, "invalid_type", ""},
			badCase{name + "string", r.method, r.path, `"x"`, nil, 400, "invalid_type", ""},
			badCase{name + "text/plain", r.method, r.path, r.valid, []string{"Content-Type", "text/plain"}, 415, "unsupported_media_type", ""},
			badCase{name + "form", r.method, r.path, r.valid, []string{"Content-Type", "application/x-www-form-urlencoded"}, 415, "unsupported_media_type", ""},
			badCase{name + "malformed content type", r.method, r.path, r.valid, []string{"Content-Type", "application/json; ="}, 415, "unsupported_media_type", ""},
		)
		if r.path != "/api/v1/epochs" { // its body is optional
			cases = append(cases,
				badCase{name + "empty body", r.method, r.path, "", []string{"Content-Type", "application/json"}, 400, "empty_body", ""},
				badCase{name + "blank body", r.method, r.path, " \n\t", nil, 400, "empty_body", ""},
			)
		}
		limit := api.MaxBodyBytes
		if r.path == "/api/v1/batch" {
			limit = api.MaxBatchBodyBytes
		}
		// A valid object padded past the limit with whitespace.
		cases = append(cases, badCase{name + "over the size limit", r.method, r.path, obj + strings.Repeat(" ", limit) + "}", nil, 413, "body_too_large", ""})
	}
	cases = append(cases,
		badCase{"invalid UTF-8 in a known field", post, "/api/v1/nodes", "{\"node_id\":\"n\xff\"}", nil, 400, "invalid_node_id", "node_id"},
		badCase{"deeply nested", post, deps, `{"amount":` + strings.Repeat("[", 20000) + strings.Repeat("]", 20000) + `}`, nil, 400, "invalid_json", ""},
		badCase{"epoch unknown field", post, "/api/v1/epochs", `{"pool":1,"pool2":2}`, nil, 400, "unknown_field", "pool2"},
	)
	runBad(t, h, cases)

	// Bodies right at the limit are read.
	pad := strings.Repeat(" ", api.MaxBodyBytes-len(`{"amount":1}`))
	h.ok(http.StatusOK, post, deps, `{"amount":1}`+pad)
}

func TestBadBatches(t *testing.T) {
	h := badHarness(t)
	ev := func(id, typ string) string { return fmt.Sprintf(`{"node_id":%q,"type":%q}`, id, typ) }
	vi := ev
	good := []string{ev("n1", "heartbeat"), ev("n2", "vote_cast"), ev("n1", "block_proposed"), ev("n2", "missed_block")}
	batch := func(events, violations []string) string {
		return `{"events":[` + strings.Join(events, ",") + `],"violations":[` + strings.Join(violations, ",") + `]}`
	}
	with := func(list []string, i int, item string) []string {
		c := append([]string(nil), list...)
		c[i] = item
		return c
	}
	goodV := []string{vi("n1", "downtime"), vi("n2", "censorship"), vi("n1", "double_sign")}
	var cases []badCase
	for i := range good {
		cases = append(cases,
			badCase{fmt.Sprintf("unknown event type at %d", i), post, "/api/v1/batch", batch(with(good, i, ev("n1", "nope")), goodV), nil, 400, "unknown_event_type", fmt.Sprintf("events[%d].type", i)},
			badCase{fmt.Sprintf("empty event type at %d", i), post, "/api/v1/batch", batch(with(good, i, ev("n1", "")), goodV), nil, 400, "unknown_event_type", fmt.Sprintf("events[%d].type", i)},
			badCase{fmt.Sprintf("unregistered node at event %d", i), post, "/api/v1/batch", batch(with(good, i, ev("n9", "heartbeat")), goodV), nil, 404, "node_not_found", fmt.Sprintf("events[%d].node_id", i)},
			badCase{fmt.Sprintf("invalid node id at event %d", i), post, "/api/v1/batch", batch(with(good, i, ev("n 1", "heartbeat")), goodV), nil, 400, "invalid_node_id", fmt.Sprintf("events[%d].node_id", i)},
			badCase{fmt.Sprintf("count 0 at event %d", i), post, "/api/v1/batch", batch(with(good, i, `{"node_id":"n1","type":"heartbeat","count":0}`), goodV), nil, 400, "invalid_count", fmt.Sprintf("events[%d].count", i)},
			badCase{fmt.Sprintf("count 10001 at event %d", i), post, "/api/v1/batch", batch(with(good, i, `{"node_id":"n1","type":"heartbeat","count":10001}`), goodV), nil, 400, "invalid_count", fmt.Sprintf("events[%d].count", i)},
		)
	}
	for i := range goodV {
		cases = append(cases,
			badCase{fmt.Sprintf("unknown violation type at %d", i), post, "/api/v1/batch", batch(good, with(goodV, i, vi("n1", "nope"))), nil, 400, "unknown_violation_type", fmt.Sprintf("violations[%d].type", i)},
			badCase{fmt.Sprintf("empty violation type at %d", i), post, "/api/v1/batch", batch(good, with(goodV, i, vi("n1", ""))), nil, 400, "unknown_violation_type", fmt.Sprintf("violations[%d].type", i)},
			badCase{fmt.Sprintf("unregistered node at violation %d", i), post, "/api/v1/batch", batch(good, with(goodV, i, vi("n9", "downtime"))), nil, 404, "node_not_found", fmt.Sprintf("violations[%d].node_id", i)},
			badCase{fmt.Sprintf("missing node id at violation %d", i), post, "/api/v1/batch", batch(good, with(goodV, i, `{"type":"downtime"}`)), nil, 400, "invalid_node_id", fmt.Sprintf("violations[%d].node_id", i)},
		)
	}
	many := make([]string, ledger.MaxBatchItems)
	for i := range many {
		many[i] = ev("n1", "heartbeat")
	}
	cases = append(cases,
		badCase{"count 1.5 in an event", post, "/api/v1/batch", batch(with(good, 2, `{"node_id":"n1","type":"heartbeat","count":1.5}`), goodV), nil, 400, "invalid_type", "events.count"},
		badCase{"unknown field in an item", post, "/api/v1/batch", batch(with(good, 3, `{"node_id":"n1","type":"heartbeat","extra":1}`), goodV), nil, 400, "unknown_field", "extra"},
		badCase{"empty batch", post, "/api/v1/batch", `{}`, nil, 400, "empty_batch", "events"},
		badCase{"empty lists", post, "/api/v1/batch", `{"events":[],"violations":[]}`, nil, 400, "empty_batch", "events"},
		badCase{"too many items", post, "/api/v1/batch", batch(many, []string{vi("n1", "downtime")}), nil, 400, "batch_too_large", "events"},
		badCase{"events not a list", post, "/api/v1/batch", `{"events":{"node_id":"n1","type":"heartbeat"}}`, nil, 400, "invalid_type", "events"},
	)
	runBad(t, h, cases)

	// The same batches without the bad item apply, whole.
	h.ok(http.StatusOK, post, "/api/v1/batch", batch(good, goodV))
	h.ok(http.StatusOK, post, "/api/v1/batch", batch(many, nil))
	n1 := h.node("n1")
	equal(t, "n1 events", n1.Reputation.Events, ledger.EventCounts{1, 0, 0, 1 + ledger.MaxBatchItems, 0, 0})
	equal(t, "n1 violations", n1.Reputation.Violations, ledger.ViolationCounts{1, 0, 0, 1, 0, 0})
}

func TestNodeLimit(t *testing.T) {
	h := newHarness(t, func(s *setup) { s.cfg.MaxNodes = 3 })
	for _, id := range []string{"n1", "n2", "n3"} {
		h.register(id, "")
	}
	runBad(t, h, []badCase{
		{"fourth node", post, "/api/v1/nodes", `{"node_id":"n4"}`, nil, 409, "node_limit_reached", "node_id"},
		{"fifth node", post, "/api/v1/nodes", `{"node_id":"n5","payout_address":"a"}`, nil, 409, "node_limit_reached", "node_id"},
		// An existing id is still a conflict of its own.
		{"existing node", post, "/api/v1/nodes", `{"node_id":"n1"}`, nil, 409, "node_exists", "node_id"},
	})
	if got := h.list().Count; got != 3 {
		t.Errorf("count %d, want 3", got)
	}
	// Removing a node frees its slot.
	h.ok(http.StatusNoContent, http.MethodDelete, "/api/v1/nodes/n2", "")
	h.register("n4", "")
	wantError(t, h.do(post, "/api/v1/nodes", `{"node_id":"n5"}`), 409, "node_limit_reached", "node_id")
	if s := h.summary(); s.Nodes.Total != 3 {
		t.Errorf("nodes.total %d, want 3", s.Nodes.Total)
	}
}

// writeRoutes is every write route with a body it would accept.
var writeRoutes = []struct{ method, path, body string }{
	{post, "/api/v1/nodes", `{"node_id":"n3"}`},
	{http.MethodPatch, "/api/v1/nodes/n1", `{"payout_address":"addr-9"}`},
	{http.MethodDelete, "/api/v1/nodes/n2", ""},
	{http.MethodDelete, "/api/v1/nodes/n1?force=true", ""},
	{post, events, `{"type":"heartbeat"}`},
	{post, viols, `{"type":"double_sign"}`},
	{post, deps, `{"amount":5}`},
	{post, wds, `{"amount":5}`},
	{post, "/api/v1/batch", `{"events":[{"node_id":"n1","type":"heartbeat"}]}`},
	{post, "/api/v1/epochs", ""},
	{post, "/api/v1/epochs", `{"pool":10}`},
}

func TestWritesNeedTheToken(t *testing.T) {
	h := badHarness(t)
	var cases []badCase
	for _, r := range writeRoutes {
		name := r.method + " " + r.path + " "
		for _, a := range []struct{ name, value, code string }{
			{"no Authorization", "", "unauthorized"},
			{"empty bearer", "Bearer ", "unauthorized"},
			{"Basic", "Basic dGVzdC10b2tlbjo=", "unauthorized"},
			{"token without scheme", token, "unauthorized"},
			{"wrong token", "Bearer wrong", "invalid_token"},
			{"token prefix", "Bearer test", "invalid_token"},
			{"token with suffix", "Bearer " + token + "x", "invalid_token"},
		} {
			cases = append(cases, badCase{name + a.name, r.method, r.path, r.body,
				[]string{"Authorization", a.value, "Idempotency-Key", "auth-test"}, 401, a.code, ""})
		}
	}
	runBad(t, h, cases)
	r := h.do(post, deps, `{"amount":1}`, "Authorization", "")
	if got := r.header.Get("WWW-Authenticate"); !strings.HasPrefix(got, "Bearer ") {
		t.Errorf("401 without WWW-Authenticate Bearer challenge: %q", got)
	}
	// The Idempotency-Key of a refused request is not spent.
	h.ok(http.StatusOK, post, deps, `{"amount":5}`, "Idempotency-Key", "auth-test")
	if b := h.node("n1").Stake.Bonded; b != 605 {
		t.Errorf("bonded %d, want 605", b)
	}
}

func TestReadsNeedNoToken(t *testing.T) {
	h := badHarness(t)
	for _, path := range []string{"/api/v1/nodes", "/api/v1/nodes/n1", "/api/v1/summary", "/healthz", "/readyz"} {
		for _, auth := range []string{"", "Bearer wrong"} {
			if r := h.do(http.MethodGet, path, "", "Authorization", auth); r.status != http.StatusOK {
				t.Errorf("GET %s with Authorization %q: %d %s", path, auth, r.status, r.body)
			}
		}
	}
}

func TestUnknownRoutesAndMethods(t *testing.T) {
	h := badHarness(t)
	runBad(t, h, []badCase{
		{"unknown path", http.MethodGet, "/api/v1/nope", "", nil, 404, "route_not_found", ""},
		{"unknown version", http.MethodGet, "/api/v2/nodes", "", nil, 404, "route_not_found", ""},
		{"root", http.MethodGet, "/", "", nil, 404, "route_not_found", ""},
		{"trailing slash", http.MethodGet, "/api/v1/nodes/", "", nil, 404, "route_not_found", ""},
		{"unknown sub-resource", post, "/api/v1/nodes/n1/rewards", `{"amount":1}`, nil, 404, "route_not_found", ""},
		{"R10 reputation path", http.MethodGet, "/api/v1/nodes/n1/reputation", "", nil, 404, "route_not_found", ""},
		{"dot segments", http.MethodGet, "/api/v1/nodes/../summary", "", nil, 404, "route_not_found", ""},
		{"PUT node", http.MethodPut, "/api/v1/nodes/n1", `{"payout_address":"x"}`, nil, 405, "method_not_allowed", ""},
		{"DELETE list", http.MethodDelete, "/api/v1/nodes", "", nil, 405, "method_not_allowed", ""},
		{"GET batch", http.MethodGet, "/api/v1/batch", "", nil, 405, "method_not_allowed", ""},
		{"GET epochs", http.MethodGet, "/api/v1/epochs", "", nil, 405, "method_not_allowed", ""},
		{"GET deposits", http.MethodGet, deps, "", nil, 405, "method_not_allowed", ""},
		{"POST summary", post, "/api/v1/summary", `{}`, nil, 405, "method_not_allowed", ""},
		{"POST healthz", post, "/healthz", "", nil, 405, "method_not_allowed", ""},
		{"DELETE events", http.MethodDelete, events, "", nil, 405, "method_not_allowed", ""},
	})
}
