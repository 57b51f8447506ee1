package simulator

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cretoai/monitor/service/internal/api"
	"github.com/cretoai/monitor/service/internal/jobs"
	"github.com/cretoai/monitor/service/internal/ledger"
	"github.com/cretoai/monitor/service/internal/reputation"
	"github.com/cretoai/monitor/service/internal/store"
)

const testToken = "t"

// startService runs the real service in process: store, ledger, jobs and
// API, with a short unbonding period. wrap, if not nil, wraps the handler.
func startService(t *testing.T, wrap func(http.Handler) http.Handler) string {
	t.Helper()
	st, err := store.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.DiscardHandler)
	cfg := ledger.DefaultConfig()
	cfg.UnbondingPeriod = 2 * time.Second
	l, err := ledger.Open(cfg, st, log, ledger.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); l.Run(ctx) }()
	runner := jobs.New(l, jobs.Periods{Decay: time.Minute, Release: 200 * time.Millisecond, EpochCheck: time.Hour, Prune: time.Hour}, log)
	go func() { defer wg.Done(); runner.Run(ctx) }()
	var h http.Handler = api.New(l, log, api.Options{Token: testToken})
	if wrap != nil {
		h = wrap(h)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(func() {
		srv.Close()
		cancel()
		wg.Wait()
		st.Close()
	})
	return srv.URL
}

// logBuffer collects log lines of a simulator.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func getJSON(t *testing.T, url string, v any) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s", url, resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
}

// TestSimulatorAgainstService runs the simulator against the real service for
// about three seconds with every incident and checks the book it leaves.
func TestSimulatorAgainstService(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the service for seconds")
	}
	base := startService(t, nil)
	var out, logs logBuffer
	cfg := Config{
		PlanConfig: PlanConfig{
			Nodes: 20, Seed: 1, RunID: "it", Rate: 400, Tick: 100 * time.Millisecond,
			EpochEvery: 500 * time.Millisecond, NoPayoutShare: 0.1,
			// A minute of violations, deposits and withdrawals per 60 ms,
			// so that three seconds show several kinds of each.
			Speedup: 1000,
			Incidents: []Incident{
				{DoubleSign, "node-03", 300 * time.Millisecond},
				{PayoutsFailing, "node-05", time.Second},
				{MassWithdrawal, "node-07", 1200 * time.Millisecond},
				{NodeSilent, "node-09", 800 * time.Millisecond},
				{ReputationCollapse, "node-11", 500 * time.Millisecond},
			},
		},
		URL: base, Token: testToken, Duration: 3 * time.Second, ReportEvery: time.Second,
	}
	sim, err := New(cfg, slog.New(slog.NewTextHandler(&logs, nil)), &out)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- sim.Run(context.Background()) }()

	// Read node-09 as soon as it went silent: it must not change after.
	var silentAt nodeView
	deadline := time.Now().Add(10 * time.Second)
	for !slices.ContainsFunc(sim.Stats().Fired, func(in Incident) bool { return in.Kind == NodeSilent }) {
		if time.Now().After(deadline) {
			t.Fatal("node-silent did not fire in 10 s")
		}
		time.Sleep(5 * time.Millisecond)
	}
	getJSON(t, base+"/api/v1/nodes/node-09", &silentAt)

	if err := <-done; err != nil {
		t.Fatalf("Run: %v\nlogs:\n%s", err, logs.String())
	}
	st := sim.Stats()
	if st.RequestsFailed != 0 || strings.Contains(logs.String(), "level=ERROR") {
		t.Errorf("%d requests failed; logs:\n%s", st.RequestsFailed, logs.String())
	}
	if st.IncidentsFired != 5 {
		t.Errorf("%d incidents fired, want 5", st.IncidentsFired)
	}

	var sum Summary
	getJSON(t, base+"/api/v1/summary", &sum)
	var list nodeList
	getJSON(t, base+"/api/v1/nodes", &list)
	nodes := map[string]nodeView{}
	events, violations := map[string]uint64{}, map[string]uint64{}
	for _, n := range list.Nodes {
		nodes[n.NodeID] = n
		for k, v := range n.Reputation.Events {
			events[k] += v
		}
		for k, v := range n.Reputation.Violations {
			violations[k] += v
		}
		if held := n.Stake.Bonded + n.Stake.Unbonding; n.Stake.Deposited-n.Stake.Withdrawn-n.Stake.Slashed != held {
			t.Errorf("%s: stake invariant broken: %+v", n.NodeID, n.Stake)
		}
	}
	if len(nodes) != 20 || sum.Nodes.Total != 20 {
		t.Fatalf("%d nodes listed, summary says %d; want 20", len(nodes), sum.Nodes.Total)
	}

	t.Run("every event type", func(t *testing.T) {
		for _, e := range reputation.EventTypes {
			if events[string(e)] == 0 {
				t.Errorf("no %s events recorded", e)
			}
		}
	})
	t.Run("several violation types", func(t *testing.T) {
		kinds := 0
		for _, v := range violations {
			if v > 0 {
				kinds++
			}
		}
		if kinds < 3 {
			t.Errorf("violations %v: want at least 3 types", violations)
		}
	})
	t.Run("double-sign", func(t *testing.T) {
		n := nodes["node-03"]
		if n.Reputation.Violations["double_sign"] != 1 || n.Stake.Slashed == 0 {
			t.Errorf("node-03: violations %v, slashed %d; want one double_sign and slashed stake", n.Reputation.Violations, n.Stake.Slashed)
		}
	})
	t.Run("payouts-failing", func(t *testing.T) {
		n := nodes["node-05"]
		if n.Rewards.FailedPayouts == 0 || n.Rewards.LastFailure != "no_payout_address" || n.PayoutAddress != "" {
			t.Errorf("node-05: payout address %q, rewards %+v; want failed payouts for no_payout_address", n.PayoutAddress, n.Rewards)
		}
	})
	t.Run("mass-withdrawal", func(t *testing.T) {
		n := nodes["node-07"]
		if out := n.Stake.Unbonding + n.Stake.Withdrawn; out < n.Stake.Deposited/2 {
			t.Errorf("node-07: %+v; want most of its stake withdrawn", n.Stake)
		}
		if sum.Stake.Unbonding+sum.Stake.Withdrawn == 0 || st.Withdrawals < 11 {
			t.Errorf("summary stake %+v, %d withdrawals; want withdrawals from half the network", sum.Stake, st.Withdrawals)
		}
	})
	t.Run("epochs", func(t *testing.T) {
		if sum.Rewards.Epoch == 0 || st.Epochs == 0 {
			t.Errorf("epoch %d, %d epochs run; want some", sum.Rewards.Epoch, st.Epochs)
		}
	})
	t.Run("node-silent", func(t *testing.T) {
		now := nodes["node-09"]
		if !mapsEqual(silentAt.Reputation.Events, now.Reputation.Events) {
			t.Errorf("node-09 events grew after it went silent: %v then %v", silentAt.Reputation.Events, now.Reputation.Events)
		}
		total := uint64(0)
		for _, v := range now.Reputation.Events {
			total += v
		}
		if total == 0 {
			t.Error("node-09 never had events")
		}
	})
	t.Run("reputation-collapse", func(t *testing.T) {
		if s := nodes["node-11"].Reputation.Score; s >= CollapseScore {
			t.Errorf("node-11 score %v, want < %v", s, CollapseScore)
		}
	})
	t.Run("stake invariant", func(t *testing.T) {
		s := sum.Stake
		if s.Deposited-s.Withdrawn-s.Slashed != s.Bonded+s.Unbonding {
			t.Errorf("deposited %d − withdrawn %d − slashed %d ≠ bonded %d + unbonding %d",
				s.Deposited, s.Withdrawn, s.Slashed, s.Bonded, s.Unbonding)
		}
		if s.Slashed == 0 {
			t.Error("nothing slashed")
		}
	})
	t.Run("output", func(t *testing.T) {
		o := out.String()
		for _, want := range []string{"cretoai-sim: url=" + base, "setup: 20 nodes ready", "incident double-sign:node-03 fired",
			"requests ok=", "summary: ran", "network: 20 nodes"} {
			if !strings.Contains(o, want) {
				t.Errorf("output lacks %q:\n%s", want, o)
			}
		}
	})
}

func mapsEqual(a, b map[string]uint64) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// TestSimulatorSurvivesFlakyService: a service that fails one request in
// three with 503 (before applying it) costs retries, never the run.
func TestSimulatorSurvivesFlakyService(t *testing.T) {
	var n atomic.Int64
	base := startService(t, func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if n.Add(1)%3 == 0 {
				http.Error(w, `{"error":{"code":"unavailable","message":"flaky"}}`, http.StatusServiceUnavailable)
				return
			}
			h.ServeHTTP(w, r)
		})
	})
	cfg := Config{
		PlanConfig: PlanConfig{Nodes: 5, Seed: 2, RunID: "flaky", Rate: 50, Tick: 50 * time.Millisecond,
			EpochEvery: 200 * time.Millisecond, Speedup: 1},
		URL: base, Token: testToken, Duration: time.Second,
		Retry: RetryPolicy{Initial: time.Millisecond, Max: 10 * time.Millisecond, GiveUpAfter: 5 * time.Second},
	}
	var logs logBuffer
	sim, err := New(cfg, slog.New(slog.NewTextHandler(&logs, nil)), &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	if err := sim.Run(context.Background()); err != nil {
		t.Fatalf("Run: %v", err)
	}
	st := sim.Stats()
	if st.Retries == 0 || st.RequestsFailed != 0 || st.Events == 0 {
		t.Fatalf("stats %+v; want retries, no failures, events sent\nlogs:\n%s", st, logs.String())
	}
}

func TestSimulatorRejectedToken(t *testing.T) {
	base := startService(t, nil)
	cfg := Config{
		PlanConfig: PlanConfig{Nodes: 3, Seed: 1, Rate: 10, Tick: 50 * time.Millisecond, Speedup: 1},
		URL:        base, Token: "wrong", Duration: time.Second,
	}
	sim, err := New(cfg, discard(), &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	if err := sim.Run(context.Background()); !errors.Is(err, ErrUnauthorized) {
		t.Fatalf("Run = %v, want ErrUnauthorized", err)
	}
}

func TestSimulatorNotReady(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, `{"status":"not ready"}`, http.StatusServiceUnavailable)
	}))
	defer srv.Close()
	cfg := Config{
		PlanConfig: PlanConfig{Nodes: 3, Seed: 1, Rate: 10, Tick: 50 * time.Millisecond, Speedup: 1},
		URL:        srv.URL, Token: testToken, ReadyTimeout: 200 * time.Millisecond,
	}
	sim, err := New(cfg, discard(), &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	if err := sim.Run(context.Background()); err == nil || !strings.Contains(err.Error(), "not ready after") {
		t.Fatalf("Run = %v, want a not-ready error", err)
	}
}

// TestSimulatorStopsOnCancel: ending the context is a normal end with a
// summary.
func TestSimulatorStopsOnCancel(t *testing.T) {
	base := startService(t, nil)
	var out logBuffer
	cfg := Config{
		PlanConfig: PlanConfig{Nodes: 3, Seed: 1, Rate: 10, Tick: 50 * time.Millisecond, Speedup: 1},
		URL:        base, Token: testToken,
	}
	sim, err := New(cfg, discard(), &out)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	if err := sim.Run(ctx); err != nil {
		t.Fatalf("Run = %v, want nil on cancel", err)
	}
	if !strings.Contains(out.String(), "summary: ran") {
		t.Fatalf("no summary:\n%s", out.String())
	}
}
