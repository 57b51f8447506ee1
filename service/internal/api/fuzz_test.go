package api_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/cretoai/monitor/service/internal/api"
	"github.com/cretoai/monitor/service/internal/ledger"
	"github.com/cretoai/monitor/service/internal/store"
)

// fuzzRoute is a write route the fuzzer sends its body to.
type fuzzRoute struct {
	name, method, path string
	idem               bool // send an Idempotency-Key
}

var fuzzRoutes = []fuzzRoute{
	{"register", http.MethodPost, "/api/v1/nodes", false},
	{"update", http.MethodPatch, "/api/v1/nodes/n2", false},
	{"events", http.MethodPost, "/api/v1/nodes/n1/events", false},
	{"violations", http.MethodPost, "/api/v1/nodes/n2/violations", false},
	{"deposits", http.MethodPost, "/api/v1/nodes/n1/deposits", true},
	{"withdrawals", http.MethodPost, "/api/v1/nodes/n1/withdrawals", true},
	{"batch", http.MethodPost, "/api/v1/batch", false},
	{"epochs", http.MethodPost, "/api/v1/epochs", true},
}

// fuzzSeeds are valid bodies for every route and bodies that have broken
// JSON APIs before. More live in testdata/fuzz/FuzzDecodeRequests.
var fuzzSeeds = []string{
	// valid
	`{"node_id":"n3","payout_address":"addr-3"}`,
	`{"node_id":"Node-A"}`,
	`{"payout_address":"addr-2"}`,
	`{"payout_address":""}`,
	`{"type":"block_proposed","count":3}`,
	`{"type":"heartbeat","count":10000}`,
	`{"type":"double_sign","evidence":"block 7"}`,
	`{"amount":1}`,
	`{"amount":9223372036854775807}`,
	`{"pool":5000}`,
	`{"pool":null}`,
	`{"events":[{"node_id":"n1","type":"heartbeat","count":2}],"violations":[{"node_id":"n2","type":"downtime"}]}`,
	`{}`,
	``,
	// nasty
	` `,
	`null`,
	`[]`,
	`1`,
	`"x"`,
	`{"type":""}`,
	`{"type":"heartbeat","count":1.5}`,
	`{"type":"heartbeat","count":-1}`,
	`{"type":"heartbeat","count":18446744073709551616}`,
	`{"amount":0}`,
	`{"amount":-5}`,
	`{"amount":1e3}`,
	`{"amount":"100"}`,
	`{"amount":"NaN"}`,
	`{"amount":NaN}`,
	`{"amount":1e400}`,
	`{"amount":9223372036854775808}`,
	`{"amount":18446744073709551616}`,
	`{"amount":null}`,
	`{"amount":1}{"amount":1}`,
	`{"amount":1} x`,
	`{"amount":1,"amount":2}`,
	`{"AMOUNT":3}`,
	`{"amount":1,"extra":1}`,
	`{"amount":[[[[[[]]]]]]}`,
	`{"amount":` + strings.Repeat("[", 10001) + `}`,
	`{"node_id":"n\u00e9"}`,
	"{\"node_id\":\"n\xff\"}",
	`{"node_id":"` + strings.Repeat("a", 65) + `"}`,
	`{"events":null}`,
	`{"events":[null]}`,
	`{"events":[{}]}`,
	`{"events":[{"node_id":"n1","type":"heartbeat","count":0}]}`,
	`{"violations":[{"node_id":"n1","type":"double_sign","evidence":"` + strings.Repeat("e", 1025) + `"}]}`,
	`{"pool":0}`,
	`{"pool":-1}`,
	"\x00",
	"\xef\xbb\xbf{}", // BOM
}

// FuzzDecodeRequests sends arbitrary bytes as the body of every write route
// through the real handler and a real ledger. Whatever the body: no panic, no
// 5xx, every answer is JSON, every refusal is an error body with a code, and
// the book keeps its invariants.
func FuzzDecodeRequests(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s))
	}
	h, l, cfg := fuzzTarget(f)
	replies := map[string][]byte{} // first answer per Idempotency-Key

	f.Fuzz(func(t *testing.T, body []byte) {
		sum := sha256.Sum256(body)
		for _, rt := range fuzzRoutes {
			req := httptest.NewRequest(rt.method, rt.path, bytes.NewReader(body))
			req.Header.Set("Authorization", "Bearer "+token)
			req.Header.Set("Content-Type", "application/json")
			key := ""
			if rt.idem {
				key = rt.name + "-" + hex.EncodeToString(sum[:8])
				req.Header.Set("Idempotency-Key", key)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			checkFuzzAnswer(t, rt, body, rec)
			if key != "" && rec.Code == http.StatusOK {
				if first, ok := replies[key]; ok {
					if rec.Header().Get("Idempotent-Replayed") != "true" || !bytes.Equal(first, rec.Body.Bytes()) {
						t.Fatalf("%s %q: retried key %q answered %q (replayed %q), first answer %q",
							rt.name, body, key, rec.Body.Bytes(), rec.Header().Get("Idempotent-Replayed"), first)
					}
				} else if len(replies) < 10_000 {
					replies[key] = bytes.Clone(rec.Body.Bytes())
				}
			}
			checkBook(t, l, cfg)
		}
	})
}

// fuzzTarget is a real ledger on a real store with n1 (payout address,
// stake, reliable) and n2 registered, and the API handler in front of it.
func fuzzTarget(f *testing.F) (http.Handler, *ledger.Ledger, ledger.Config) {
	log := slog.New(slog.DiscardHandler)
	st, err := store.Open(f.TempDir())
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { st.Close() })
	cfg := ledger.DefaultConfig()
	cfg.MaxNodes = 16 // keeps the book small however many ids the fuzzer invents
	l, err := ledger.Open(cfg, st, log, ledger.Options{})
	if err != nil {
		f.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		l.Run(ctx)
	}()
	f.Cleanup(func() {
		cancel()
		<-done
	})
	h := api.New(l, log, api.Options{Token: token})
	for _, c := range []struct{ method, path, body string }{
		{http.MethodPost, "/api/v1/nodes", `{"node_id":"n1","payout_address":"addr-1"}`},
		{http.MethodPost, "/api/v1/nodes", `{"node_id":"n2"}`},
		{http.MethodPost, "/api/v1/nodes/n1/deposits", `{"amount":1000000}`},
		{http.MethodPost, "/api/v1/nodes/n2/deposits", `{"amount":1000000}`},
		{http.MethodPost, "/api/v1/nodes/n1/events", `{"type":"block_proposed","count":40}`},
	} {
		req := httptest.NewRequest(c.method, c.path, strings.NewReader(c.body))
		req.Header.Set("Authorization", "Bearer "+token)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code/100 != 2 {
			f.Fatalf("set-up %s %s: %d %s", c.method, c.path, rec.Code, rec.Body)
		}
	}
	return h, l, cfg
}

// checkFuzzAnswer checks one response whatever the request was.
func checkFuzzAnswer(t *testing.T, rt fuzzRoute, body []byte, rec *httptest.ResponseRecorder) {
	t.Helper()
	got := rec.Body.Bytes()
	if rec.Code >= 500 || rec.Code < 200 {
		t.Fatalf("%s %q: status %d: %s", rt.name, body, rec.Code, got)
	}
	if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
		t.Fatalf("%s %q: status %d with Content-Type %q", rt.name, body, rec.Code, ct)
	}
	if !json.Valid(got) {
		t.Fatalf("%s %q: status %d with a body that is not JSON: %q", rt.name, body, rec.Code, got)
	}
	if rec.Code/100 == 2 {
		if rec.Header().Get("Idempotent-Replayed") != "" && !rt.idem {
			t.Fatalf("%s %q: replayed without a key", rt.name, body)
		}
		return
	}
	var e api.ErrorBody
	dec := json.NewDecoder(bytes.NewReader(got))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&e); err != nil || e.Error.Code == "" || e.Error.Message == "" {
		t.Fatalf("%s %q: status %d with a body that is not an error body (%v): %s", rt.name, body, rec.Code, err, got)
	}
	if rec.Code == http.StatusInternalServerError || e.Error.Code == "internal" {
		t.Fatalf("%s %q: internal error: %s", rt.name, body, got)
	}
}

// checkBook checks the invariants of the whole book.
func checkBook(t *testing.T, l *ledger.Ledger, cfg ledger.Config) {
	t.Helper()
	sn := l.Snapshot()
	if len(sn.Nodes) > cfg.MaxNodes {
		t.Fatalf("%d nodes tracked, limit %d", len(sn.Nodes), cfg.MaxNodes)
	}
	var held, pending uint64
	for i := range sn.Nodes {
		n := &sn.Nodes[i]
		if !ledger.ValidNodeID(n.ID) {
			t.Fatalf("node id %q is not valid", n.ID)
		}
		if n.PayoutAddress != "" && !ledger.ValidPayoutAddress(n.PayoutAddress) {
			t.Fatalf("%s: payout address %q is not valid", n.ID, n.PayoutAddress)
		}
		if err := n.Stake.Check(); err != nil {
			t.Fatalf("%s: %v", n.ID, err)
		}
		if s := n.Reputation.Score; math.IsNaN(s) || s < 0 || s > 1 {
			t.Fatalf("%s: score %v", n.ID, s)
		}
		if u := n.Uptime(); math.IsNaN(u) || u < 0 || u > 1 {
			t.Fatalf("%s: uptime %v", n.ID, u)
		}
		if n.Rewards.Earned != n.Rewards.Paid+n.Rewards.Pending {
			dump, _ := json.Marshal(sn)
			t.Fatalf("%s: earned %d != paid %d + pending %d; book %s", n.ID, n.Rewards.Earned, n.Rewards.Paid, n.Rewards.Pending, dump)
		}
		held += n.Stake.Bonded + n.Stake.UnbondingTotal()
		pending += n.Rewards.Pending
	}
	net := sn.Network
	if net.Withdrawn+net.Slashed > net.Deposited || net.Deposited-net.Withdrawn-net.Slashed != held {
		t.Fatalf("network: deposited %d - withdrawn %d - slashed %d != bonded + unbonding %d", net.Deposited, net.Withdrawn, net.Slashed, held)
	}
	if net.RewardsAllocated != net.RewardsPaid+pending+net.RewardsForfeited {
		t.Fatalf("network: allocated %d != paid %d + pending %d + forfeited %d", net.RewardsAllocated, net.RewardsPaid, pending, net.RewardsForfeited)
	}
	s := l.Summarize(sn)
	for _, v := range []float64{s.Reputation.Mean, s.Reputation.Median, s.Reputation.Highest, s.Reputation.Lowest, s.Stake.Average} {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			t.Fatalf("summary has a non-finite value: %+v", s)
		}
	}
	if e := net.LastEpoch; e != nil && (math.IsNaN(e.Efficiency) || e.Efficiency < 0 || e.Efficiency > 1) {
		t.Fatalf("epoch efficiency %v", e.Efficiency)
	}
}
