package ledger_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"math"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cretoai/monitor/service/internal/ledger"
	"github.com/cretoai/monitor/service/internal/reputation"
	"github.com/cretoai/monitor/service/internal/store"
)

// epoch0 is where every manual clock starts.
var epoch0 = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

// manualClock is a clock the test advances by hand. The committer goroutine
// reads it concurrently.
type manualClock struct {
	mu  sync.Mutex
	now time.Time
}

func newManualClock() *manualClock { return &manualClock{now: epoch0} }

func (c *manualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *manualClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// book is a running ledger on a real store in a test directory.
type book struct {
	*ledger.Ledger
	clock *manualClock
	dir   string
	stop  func() // closes the ledger, stops Run and closes the store; idempotent
}

// openBook opens a store in dir and a ledger on it, starts the committer and
// registers the shutdown with t.Cleanup.
func openBook(t testing.TB, cfg ledger.Config, dir string, clock *manualClock) *book {
	t.Helper()
	st, err := store.Open(dir)
	if err != nil {
		t.Fatalf("store.Open: %v", err)
	}
	l, err := ledger.Open(cfg, st, slog.New(slog.DiscardHandler), ledger.Options{Now: clock.Now})
	if err != nil {
		st.Close()
		t.Fatalf("ledger.Open: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ran := make(chan struct{})
	go func() {
		defer close(ran)
		l.Run(ctx)
	}()
	// Close only waits for a committer that has started: wait for it.
	for !l.Ready() {
		select {
		case <-ran:
			t.Fatal("ledger Run returned at once")
		default:
			time.Sleep(time.Millisecond)
		}
	}
	var once sync.Once
	stop := func() {
		once.Do(func() {
			l.Close()
			cancel()
			<-ran
			if err := st.Close(); err != nil {
				t.Errorf("store.Close: %v", err)
			}
		})
	}
	t.Cleanup(stop)
	return &book{Ledger: l, clock: clock, dir: dir, stop: stop}
}

func newBook(t testing.TB, cfg ledger.Config) *book {
	t.Helper()
	return openBook(t, cfg, t.TempDir(), newManualClock())
}

// testConfig is DefaultConfig with short periods.
func testConfig() ledger.Config {
	cfg := ledger.DefaultConfig()
	cfg.UnbondingPeriod = time.Hour
	cfg.DecayIdle = 10 * time.Minute
	cfg.Reputation.HalfLife = time.Hour
	cfg.EpochPeriod = time.Hour
	cfg.EpochPool = 1_000
	return cfg
}

func wantErrKind(t *testing.T, err error, kind ledger.Kind, code string) *ledger.Error {
	t.Helper()
	if err == nil {
		t.Fatalf("error = nil, want kind %d code %q", kind, code)
	}
	e, ok := ledger.AsError(err)
	if !ok {
		t.Fatalf("error %v (%T) is not a *ledger.Error", err, err)
	}
	if e.Kind != kind || e.Code != code {
		t.Fatalf("error = kind %d code %q (%v), want kind %d code %q", e.Kind, e.Code, e, kind, code)
	}
	return e
}

func mustNode(t *testing.T, b *book, id string) ledger.Node {
	t.Helper()
	n, ok := b.Node(id)
	if !ok {
		t.Fatalf("node %q not found", id)
	}
	return n
}

// bookJSON encodes the nodes and network of a snapshot, the state that must
// survive a restart and that a rejected operation must not change.
func bookJSON(t *testing.T, sn ledger.Snapshot) string {
	t.Helper()
	b, err := json.Marshal(struct {
		Nodes   []ledger.Node
		Network ledger.Network
	}{sn.Nodes, sn.Network})
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func register(t *testing.T, b *book, id, payout string) {
	t.Helper()
	if _, err := b.Register(context.Background(), id, payout); err != nil {
		t.Fatalf("Register(%q): %v", id, err)
	}
}

func deposit(t *testing.T, b *book, id string, amount uint64) ledger.StakeResult {
	t.Helper()
	res, replayed, err := b.Deposit(context.Background(), id, amount, nil)
	if err != nil || replayed {
		t.Fatalf("Deposit(%q, %d) = replayed %v, err %v", id, amount, replayed, err)
	}
	return res
}

func event(t *testing.T, b *book, id string, typ reputation.EventType, count uint32) ledger.EventResult {
	t.Helper()
	res, err := b.RecordEvent(context.Background(), ledger.Event{NodeID: id, Type: typ, Count: count})
	if err != nil {
		t.Fatalf("RecordEvent(%q, %s, %d): %v", id, typ, count, err)
	}
	return res
}

func near(a, b float64) bool { return math.Abs(a-b) <= 1e-12 }

func TestRegister(t *testing.T) {
	ctx := context.Background()
	t.Run("new node starts at the initial score", func(t *testing.T) {
		b := newBook(t, testConfig())
		n, err := b.Register(ctx, "node-1", "addr:1")
		if err != nil {
			t.Fatal(err)
		}
		want := ledger.Node{ID: "node-1", PayoutAddress: "addr:1", RegisteredAt: epoch0,
			Reputation: ledger.Reputation{Score: 0.5, DecayedAt: epoch0}}
		if !reflect.DeepEqual(n, want) {
			t.Fatalf("Register = %+v, want %+v", n, want)
		}
		if got := mustNode(t, b, "node-1"); !reflect.DeepEqual(got, want) {
			t.Fatalf("Node = %+v, want %+v", got, want)
		}
		if got := b.Snapshot().Network.NodesRegistered; got != 1 {
			t.Fatalf("NodesRegistered = %d, want 1", got)
		}
	})
	t.Run("duplicate is a conflict", func(t *testing.T) {
		b := newBook(t, testConfig())
		register(t, b, "n1", "")
		_, err := b.Register(ctx, "n1", "other")
		wantErrKind(t, err, ledger.KindConflict, "node_exists")
		if n := mustNode(t, b, "n1"); n.PayoutAddress != "" {
			t.Fatalf("duplicate registration changed the node: %+v", n)
		}
		if got := b.Snapshot().Network.NodesRegistered; got != 1 {
			t.Fatalf("NodesRegistered = %d, want 1", got)
		}
	})
	t.Run("node limit", func(t *testing.T) {
		cfg := testConfig()
		cfg.MaxNodes = 2
		b := newBook(t, cfg)
		register(t, b, "a", "")
		register(t, b, "b", "")
		_, err := b.Register(ctx, "c", "")
		wantErrKind(t, err, ledger.KindConflict, "node_limit_reached")
		if b.NodeCount() != 2 {
			t.Fatalf("NodeCount = %d, want 2", b.NodeCount())
		}
		if err := b.Remove(ctx, "a", false); err != nil {
			t.Fatal(err)
		}
		register(t, b, "c", "")
		if b.NodeCount() != 2 {
			t.Fatalf("NodeCount = %d, want 2", b.NodeCount())
		}
	})
	t.Run("invalid input", func(t *testing.T) {
		b := newBook(t, testConfig())
		tests := []struct {
			name, id, payout, code string
		}{
			{"empty id", "", "", "invalid_node_id"},
			{"id with space", "node 1", "", "invalid_node_id"},
			{"id with slash", "a/b", "", "invalid_node_id"},
			{"id too long", string(make([]byte, 65)), "", "invalid_node_id"},
			{"bad payout", "ok", "no spaces", "invalid_payout_address"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				_, err := b.Register(ctx, tt.id, tt.payout)
				wantErrKind(t, err, ledger.KindInvalid, tt.code)
			})
		}
		if b.NodeCount() != 0 {
			t.Fatalf("NodeCount = %d after rejected registrations", b.NodeCount())
		}
	})
}

func TestEventsMoveScore(t *testing.T) {
	ctx := context.Background()
	cfg := testConfig()
	b := newBook(t, cfg)
	register(t, b, "n1", "")
	p := cfg.Reputation
	steps := []struct {
		typ      reputation.EventType
		count    uint32
		want     float64
		reliable bool
	}{
		{reputation.BlockProposed, 5, 0.55, false},
		{reputation.MissedBlock, 1, 0.53, false},
		{reputation.LateResponse, 2, 0.52, false},
		{reputation.BlockValidated, 40, 0.72, true},
		{reputation.Heartbeat, 10_000, 1, true},
		{reputation.MissedBlock, 10_000, 0, false},
	}
	score := p.Initial
	for i, s := range steps {
		b.clock.Advance(time.Second)
		res := event(t, b, "n1", s.typ, s.count)
		score = p.ApplyEvent(score, s.typ, s.count)
		if !near(res.Score, s.want) || res.Score != score || res.Reliable != s.reliable {
			t.Fatalf("step %d: %s×%d → score %.17g reliable %v, want %v reliable %v", i, s.typ, s.count, res.Score, res.Reliable, s.want, s.reliable)
		}
		n := mustNode(t, b, "n1")
		if n.Reputation.Score != res.Score || !n.Reputation.LastEventAt.Equal(b.clock.Now()) {
			t.Fatalf("step %d: node score %v last event %v, want %v at %v", i, n.Reputation.Score, n.Reputation.LastEventAt, res.Score, b.clock.Now())
		}
	}
	n := mustNode(t, b, "n1")
	wantEvents := ledger.EventCounts{5, 40, 0, 10_000, 10_001, 2}
	if n.Reputation.Events != wantEvents {
		t.Fatalf("events = %v, want %v", n.Reputation.Events, wantEvents)
	}
	if n.Reputation.EpochLive != 10_045 || n.Reputation.EpochMissed != 10_003 {
		t.Fatalf("epoch live/missed = %d/%d, want 10045/10003", n.Reputation.EpochLive, n.Reputation.EpochMissed)
	}

	t.Run("zero count means one", func(t *testing.T) {
		res, err := b.RecordEvent(ctx, ledger.Event{NodeID: "n1", Type: reputation.BlockProposed})
		if err != nil || res.Count != 1 || !near(res.Score, 0.01) {
			t.Fatalf("RecordEvent without count = %+v, %v; want count 1 score 0.01", res, err)
		}
	})
	t.Run("rejections", func(t *testing.T) {
		before := bookJSON(t, b.Snapshot())
		_, err := b.RecordEvent(ctx, ledger.Event{NodeID: "ghost", Type: reputation.Heartbeat})
		wantErrKind(t, err, ledger.KindNotFound, "node_not_found")
		_, err = b.RecordEvent(ctx, ledger.Event{NodeID: "n1", Type: "teleport"})
		wantErrKind(t, err, ledger.KindInvalid, "unknown_event_type")
		_, err = b.RecordEvent(ctx, ledger.Event{NodeID: "n1", Type: reputation.Heartbeat, Count: ledger.MaxEventCount + 1})
		wantErrKind(t, err, ledger.KindInvalid, "invalid_count")
		if after := bookJSON(t, b.Snapshot()); after != before {
			t.Fatalf("rejected events changed the book:\n%s\n%s", before, after)
		}
	})
}

func TestViolationSlashes(t *testing.T) {
	ctx := context.Background()
	b := newBook(t, testConfig())
	register(t, b, "n1", "")
	register(t, b, "bystander", "")
	deposit(t, b, "n1", 1_000_000)
	deposit(t, b, "bystander", 500)
	if _, _, err := b.Withdraw(ctx, "n1", 200_000, nil); err != nil {
		t.Fatal(err)
	}
	event(t, b, "n1", reputation.BlockProposed, 40) // 0.9

	steps := []struct {
		typ           reputation.ViolationType
		evidence      string
		wantSlashed   uint64
		wantBonded    uint64
		wantUnbonding uint64
		wantScore     float64
	}{
		// 5% of 800_000 bonded and of 200_000 unbonding.
		{reputation.DoubleSign, "block 17 signed twice", 50_000, 760_000, 190_000, 0.4},
		// 0.1%: 760 + 190.
		{reputation.Downtime, "", 950, 759_240, 189_810, 0.3},
		// 1%: floor(7592.4) + floor(1898.1).
		{reputation.InvalidBlock, "", 7_592 + 1_898, 751_648, 187_912, 0.1},
	}
	var total uint64
	var byType ledger.ViolationCounts
	for i, s := range steps {
		res, err := b.RecordViolation(ctx, ledger.Violation{NodeID: "n1", Type: s.typ, Evidence: s.evidence})
		if err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		total += s.wantSlashed
		byType[s.typ.Index()] += s.wantSlashed
		if res.Slashed != s.wantSlashed || res.Bonded != s.wantBonded || res.Unbonding != s.wantUnbonding || !near(res.Score, s.wantScore) || res.Reliable {
			t.Fatalf("step %d: %s → %+v, want slashed %d bonded %d unbonding %d score %v", i, s.typ, res, s.wantSlashed, s.wantBonded, s.wantUnbonding, s.wantScore)
		}
		n := mustNode(t, b, "n1")
		if n.Stake.Bonded != s.wantBonded || n.Stake.UnbondingTotal() != s.wantUnbonding || n.Stake.Slashed != total {
			t.Fatalf("step %d: node stake %+v", i, n.Stake)
		}
		if err := n.Stake.Check(); err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		want := &ledger.ViolationRecord{Type: s.typ, At: epoch0, Evidence: s.evidence, Slashed: s.wantSlashed}
		if !reflect.DeepEqual(n.Reputation.LastViolation, want) {
			t.Fatalf("step %d: last violation %+v, want %+v", i, n.Reputation.LastViolation, want)
		}
		net := b.Snapshot().Network
		if net.Slashed != total || net.SlashedByType != byType {
			t.Fatalf("step %d: network slashed %d by type %v, want %d %v", i, net.Slashed, net.SlashedByType, total, byType)
		}
	}
	n := mustNode(t, b, "n1")
	if want := (ledger.ViolationCounts{1, 0, 1, 1, 0, 0}); n.Reputation.Violations != want {
		t.Fatalf("violation counts %v, want %v", n.Reputation.Violations, want)
	}
	if by := mustNode(t, b, "bystander"); by.Stake.Bonded != 500 || by.Stake.Slashed != 0 {
		t.Fatalf("bystander was slashed: %+v", by.Stake)
	}
	checkInvariants(t, b.Snapshot())

	t.Run("rejections", func(t *testing.T) {
		before := bookJSON(t, b.Snapshot())
		_, err := b.RecordViolation(ctx, ledger.Violation{NodeID: "ghost", Type: reputation.DoubleSign})
		wantErrKind(t, err, ledger.KindNotFound, "node_not_found")
		_, err = b.RecordViolation(ctx, ledger.Violation{NodeID: "n1", Type: "jaywalking"})
		wantErrKind(t, err, ledger.KindInvalid, "unknown_violation_type")
		_, err = b.RecordViolation(ctx, ledger.Violation{NodeID: "n1", Type: reputation.DoubleSign, Evidence: "\xff"})
		wantErrKind(t, err, ledger.KindInvalid, "invalid_evidence")
		if after := bookJSON(t, b.Snapshot()); after != before {
			t.Fatalf("rejected violations changed the book")
		}
	})
}

func TestWithdrawBeyondBonded(t *testing.T) {
	ctx := context.Background()
	b := newBook(t, testConfig())
	register(t, b, "n1", "")
	deposit(t, b, "n1", 1_000)
	if _, _, err := b.Withdraw(ctx, "n1", 300, nil); err != nil {
		t.Fatal(err)
	}
	before := bookJSON(t, b.Snapshot())
	tests := []struct {
		name   string
		amount uint64
	}{
		{"one more than bonded", 701},
		{"bonded plus unbonding", 1_000},
		{"MaxAmount", math.MaxInt64},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := b.Withdraw(ctx, "n1", tt.amount, nil)
			e := wantErrKind(t, err, ledger.KindUnprocessable, "insufficient_stake")
			if e.Field != "amount" {
				t.Fatalf("field = %q, want amount", e.Field)
			}
			if after := bookJSON(t, b.Snapshot()); after != before {
				t.Fatalf("rejected withdrawal changed the book:\n%s\n%s", before, after)
			}
		})
	}
	t.Run("invalid amounts", func(t *testing.T) {
		_, _, err := b.Withdraw(ctx, "n1", 0, nil)
		wantErrKind(t, err, ledger.KindInvalid, "invalid_amount")
		_, _, err = b.Withdraw(ctx, "n1", math.MaxUint64, nil)
		wantErrKind(t, err, ledger.KindInvalid, "invalid_amount")
		_, _, err = b.Withdraw(ctx, "ghost", 1, nil)
		wantErrKind(t, err, ledger.KindNotFound, "node_not_found")
	})
	t.Run("exactly bonded succeeds", func(t *testing.T) {
		res, _, err := b.Withdraw(ctx, "n1", 700, nil)
		if err != nil || res.Bonded != 0 || res.Unbonding != 1_000 {
			t.Fatalf("Withdraw(700) = %+v, %v", res, err)
		}
		if n := mustNode(t, b, "n1"); n.Stake.ActiveDeposits != 0 {
			t.Fatalf("active deposits %d after withdrawing everything", n.Stake.ActiveDeposits)
		}
	})
}

func TestDepositOverflow(t *testing.T) {
	b := newBook(t, testConfig())
	register(t, b, "a", "")
	register(t, b, "b", "")
	deposit(t, b, "a", math.MaxInt64-10)
	before := bookJSON(t, b.Snapshot())
	// b's own total would fit, the network total would not.
	_, _, err := b.Deposit(context.Background(), "b", 11, nil)
	wantErrKind(t, err, ledger.KindUnprocessable, "amount_overflow")
	if after := bookJSON(t, b.Snapshot()); after != before {
		t.Fatalf("rejected deposit changed the book")
	}
	deposit(t, b, "b", 10)
	if got := b.Snapshot().Network.Deposited; got != math.MaxInt64 {
		t.Fatalf("network deposited = %d, want MaxInt64", got)
	}
}

func TestReleaseUnbonding(t *testing.T) {
	ctx := context.Background()
	cfg := testConfig() // unbonding period 1h
	b := newBook(t, cfg)
	register(t, b, "n1", "")
	deposit(t, b, "n1", 1_000)
	res, _, err := b.Withdraw(ctx, "n1", 400, nil)
	if err != nil {
		t.Fatal(err)
	}
	if want := epoch0.Add(time.Hour); !res.ReleaseAt.Equal(want) {
		t.Fatalf("ReleaseAt = %v, want %v", res.ReleaseAt, want)
	}
	b.clock.Advance(30 * time.Minute)
	if _, _, err := b.Withdraw(ctx, "n1", 100, nil); err != nil { // releases at 1h30m
		t.Fatal(err)
	}

	steps := []struct {
		name          string
		advanceTo     time.Duration // since epoch0
		wantReleased  int
		wantAmount    uint64
		wantUnbonding uint64
		wantWithdrawn uint64
	}{
		{"one nanosecond before", time.Hour - time.Nanosecond, 0, 0, 500, 0},
		{"exactly at release time", time.Hour, 1, 400, 100, 400},
		{"nothing more until the second", time.Hour + 29*time.Minute, 0, 0, 100, 400},
		{"after the second", 2 * time.Hour, 1, 100, 0, 500},
		{"nothing left", 3 * time.Hour, 0, 0, 0, 500},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			b.clock.Advance(epoch0.Add(s.advanceTo).Sub(b.clock.Now()))
			got, err := b.ReleaseUnbonding(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if got.Withdrawals != s.wantReleased || got.Amount != s.wantAmount {
				t.Fatalf("ReleaseUnbonding = %+v, want %d withdrawals of %d", got, s.wantReleased, s.wantAmount)
			}
			n := mustNode(t, b, "n1")
			if n.Stake.UnbondingTotal() != s.wantUnbonding || n.Stake.Withdrawn != s.wantWithdrawn || n.Stake.Bonded != 500 {
				t.Fatalf("stake = %+v", n.Stake)
			}
			net := b.Snapshot().Network
			if net.Withdrawn != s.wantWithdrawn {
				t.Fatalf("network withdrawn = %d, want %d", net.Withdrawn, s.wantWithdrawn)
			}
			checkInvariants(t, b.Snapshot())
		})
	}
	if net := b.Snapshot().Network; net.WithdrawalRequests != 2 || net.WithdrawalsCompleted != 2 {
		t.Fatalf("requests/completed = %d/%d, want 2/2", net.WithdrawalRequests, net.WithdrawalsCompleted)
	}
}

// makeReliable raises a node from 0.5 to 0.8 with live events only.
func makeReliable(t *testing.T, b *book, id string) {
	t.Helper()
	if res := event(t, b, id, reputation.BlockProposed, 30); !res.Reliable {
		t.Fatalf("%s not reliable at %v", id, res.Score)
	}
}

func TestPayoutFailureAndRetry(t *testing.T) {
	ctx := context.Background()
	cfg := testConfig()
	cfg.Rewards.BonusPPM = 0
	cfg.EpochPool = 1_000
	b := newBook(t, cfg)
	register(t, b, "a", "addr-a")
	register(t, b, "b", "") // no payout address
	for _, id := range []string{"a", "b"} {
		deposit(t, b, id, 1_000)
		makeReliable(t, b, id)
	}

	b.clock.Advance(time.Minute)
	res1, replayed, err := b.RunEpoch(ctx, 0, nil)
	if err != nil || replayed {
		t.Fatalf("RunEpoch: %v, replayed %v", err, replayed)
	}
	want1 := ledger.EpochResult{Number: 1, At: b.clock.Now(), Pool: 1_000, Allocated: 1_000, BaseAmount: 1_000,
		Recipients: 2, Paid: 500, PaidFromPool: 500, FailedPayouts: 1, Efficiency: 0.5}
	if !reflect.DeepEqual(res1, want1) {
		t.Fatalf("epoch 1 = %+v, want %+v", res1, want1)
	}
	a, bn := mustNode(t, b, "a"), mustNode(t, b, "b")
	if a.Rewards.Paid != 500 || a.Rewards.Pending != 0 || a.Rewards.FailedPayouts != 0 {
		t.Fatalf("a rewards = %+v", a.Rewards)
	}
	if bn.Rewards.Pending != 500 || bn.Rewards.Paid != 0 || bn.Rewards.Earned != 500 ||
		bn.Rewards.FailedPayouts != 1 || bn.Rewards.LastFailure != "no_payout_address" {
		t.Fatalf("b rewards = %+v", bn.Rewards)
	}
	net := b.Snapshot().Network
	if net.FailedPayouts["no_payout_address"] != 1 || net.RewardsPaid != 500 || net.RewardsAllocated != 1_000 {
		t.Fatalf("network after epoch 1: failed %v paid %d allocated %d", net.FailedPayouts, net.RewardsPaid, net.RewardsAllocated)
	}
	checkInvariants(t, b.Snapshot())

	if _, err := b.SetPayoutAddress(ctx, "b", "addr-b"); err != nil {
		t.Fatal(err)
	}
	b.clock.Advance(time.Minute)
	res2, _, err := b.RunEpoch(ctx, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	want2 := ledger.EpochResult{Number: 2, At: b.clock.Now(), Pool: 1_000, Allocated: 1_000, BaseAmount: 1_000,
		Recipients: 2, Paid: 1_500, PaidFromPool: 1_000, FailedPayouts: 0, Efficiency: 1}
	if !reflect.DeepEqual(res2, want2) {
		t.Fatalf("epoch 2 = %+v, want %+v", res2, want2)
	}
	bn = mustNode(t, b, "b")
	if bn.Rewards.Paid != 1_000 || bn.Rewards.Pending != 0 || bn.Rewards.FailedPayouts != 1 || bn.Rewards.LastFailure != "" ||
		!bn.Rewards.LastPaidAt.Equal(b.clock.Now()) {
		t.Fatalf("b rewards after retry = %+v", bn.Rewards)
	}
	net = b.Snapshot().Network
	if net.FailedPayouts["no_payout_address"] != 1 || net.RewardsPaid != 2_000 || net.RewardsAllocated != 2_000 {
		t.Fatalf("network after epoch 2: failed %v paid %d allocated %d", net.FailedPayouts, net.RewardsPaid, net.RewardsAllocated)
	}
	if !reflect.DeepEqual(net.LastEpoch, &want2) || net.Epoch != 2 {
		t.Fatalf("last epoch %+v (epoch %d), want %+v", net.LastEpoch, net.Epoch, want2)
	}
	checkInvariants(t, b.Snapshot())
}

func TestEpochEfficiency(t *testing.T) {
	ctx := context.Background()
	cfg := testConfig()
	cfg.Rewards.BonusPPM = 0
	tests := []struct {
		name         string
		pool         uint64
		paidAddrs    []bool // per node a, b, c: has a payout address
		wantFromPool uint64
	}{
		// weights 1:2:4 of 7_001: 1_000 r1, 2_000 r2, 4_000 r4 → +1 to c.
		{"everyone paid", 7_001, []bool{true, true, true}, 7_001},
		{"c unpaid", 7_001, []bool{true, true, false}, 3_000},
		{"only a paid", 7_001, []bool{true, false, false}, 1_000},
		{"nobody paid", 7_001, []bool{false, false, false}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := newBook(t, cfg)
			for i, id := range []string{"a", "b", "c"} {
				addr := ""
				if tt.paidAddrs[i] {
					addr = "pay-" + id
				}
				register(t, b, id, addr)
				deposit(t, b, id, 1_000<<i)
				makeReliable(t, b, id)
			}
			res, _, err := b.RunEpoch(ctx, tt.pool, nil)
			if err != nil {
				t.Fatal(err)
			}
			if res.Allocated != tt.pool || res.PaidFromPool != tt.wantFromPool || res.Paid != tt.wantFromPool {
				t.Fatalf("epoch = %+v, want paid from pool %d", res, tt.wantFromPool)
			}
			if want := float64(tt.wantFromPool) / float64(tt.pool); res.Efficiency != want {
				t.Fatalf("efficiency = %v, want %v", res.Efficiency, want)
			}
		})
	}
	t.Run("nobody eligible", func(t *testing.T) {
		b := newBook(t, cfg)
		register(t, b, "poor", "addr")
		makeReliable(t, b, "poor") // reliable but no stake
		register(t, b, "shaky", "addr")
		deposit(t, b, "shaky", 100) // stake but initial score
		res, _, err := b.RunEpoch(ctx, 500, nil)
		if err != nil {
			t.Fatal(err)
		}
		want := ledger.EpochResult{Number: 1, At: epoch0, Pool: 500}
		if !reflect.DeepEqual(res, want) {
			t.Fatalf("epoch = %+v, want %+v", res, want)
		}
		if net := b.Snapshot().Network; net.RewardsAllocated != 0 || net.Epoch != 1 {
			t.Fatalf("network allocated %d epoch %d", net.RewardsAllocated, net.Epoch)
		}
	})
}

func TestUptimeBonus(t *testing.T) {
	ctx := context.Background()
	cfg := testConfig()
	cfg.Rewards.BonusPPM = 100_000
	cfg.Rewards.UptimeThreshold = 0.95
	cfg.EpochPool = 1_000_000
	b := newBook(t, cfg)
	for _, id := range []string{"hi", "lo", "edge"} {
		register(t, b, id, "addr-"+id)
		deposit(t, b, id, 1_000)
	}
	event(t, b, "hi", reputation.BlockProposed, 30)    // 0.8, uptime 1
	event(t, b, "lo", reputation.BlockProposed, 36)    // 0.86
	event(t, b, "lo", reputation.MissedBlock, 3)       // 0.8, uptime 36/39 < 0.95
	event(t, b, "edge", reputation.BlockProposed, 34)  // 0.84
	event(t, b, "edge", reputation.LateResponse, 4)    // 0.82
	event(t, b, "edge", reputation.BlockValidated, 42) // 1.03 clamps to 1
	// edge: uptime 76/80 = 0.95, exactly the threshold.
	n := mustNode(t, b, "edge")
	if n.Uptime() != 0.95 || n.Reputation.Score != 1 {
		t.Fatalf("edge uptime %v score %v, want 0.95 and 1", n.Uptime(), n.Reputation.Score)
	}

	res, _, err := b.RunEpoch(ctx, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	// weights hi 0.8, lo 0.8, edge 1 (×1_000 bonded) = 4:4:5 of 900_000 base:
	// 276_923.07…, 276_923.07…, 346_153.84… → floors 276_923, 276_923, 346_153,
	// one unit left to the largest remainder (edge, .846).
	// bonus 100_000 to hi and edge 4:5: 44_444.4…, 55_555.5… → +1 to edge.
	want := map[string]struct{ base, bonus uint64 }{
		"hi":   {276_923, 44_444},
		"lo":   {276_923, 0},
		"edge": {346_154, 55_556},
	}
	for id, w := range want {
		n := mustNode(t, b, id)
		if n.Rewards.Earned != w.base+w.bonus || n.Rewards.Paid != w.base+w.bonus {
			t.Fatalf("%s earned %d paid %d, want %d", id, n.Rewards.Earned, n.Rewards.Paid, w.base+w.bonus)
		}
		if n.Reputation.EpochLive != 0 || n.Reputation.EpochMissed != 0 {
			t.Fatalf("%s epoch counters not reset: %d/%d", id, n.Reputation.EpochLive, n.Reputation.EpochMissed)
		}
	}
	if res.BaseAmount != 900_000 || res.Bonus != 100_000 || res.UptimeBonuses != 2 || res.Recipients != 3 || res.Efficiency != 1 {
		t.Fatalf("epoch = %+v", res)
	}
	net := b.Snapshot().Network
	if net.UptimeBonuses != 2 || net.Distributions["base"] != 3 || net.Distributions["uptime_bonus"] != 2 {
		t.Fatalf("network bonuses %d distributions %v", net.UptimeBonuses, net.Distributions)
	}

	t.Run("next epoch without events has no bonus", func(t *testing.T) {
		// Uptime is per epoch; with no events in it nobody reaches 0.95.
		res, _, err := b.RunEpoch(ctx, 0, nil)
		if err != nil {
			t.Fatal(err)
		}
		if res.Bonus != 0 || res.UptimeBonuses != 0 || res.BaseAmount != 1_000_000 {
			t.Fatalf("epoch = %+v, want no bonus", res)
		}
	})
}

func TestRunDueEpochsCatchUp(t *testing.T) {
	ctx := context.Background()
	cfg := testConfig()
	cfg.EpochPeriod = time.Hour
	cfg.MaxEpochCatchUp = 3
	cfg.EpochPool = 1_000
	b := newBook(t, cfg)
	register(t, b, "n1", "addr")
	deposit(t, b, "n1", 1_000)
	makeReliable(t, b, "n1")

	run := func(wantRan int, wantEpoch uint64, wantNext time.Time) {
		t.Helper()
		ran, err := b.RunDueEpochs(ctx)
		if err != nil {
			t.Fatal(err)
		}
		net := b.Snapshot().Network
		if ran != wantRan || net.Epoch != wantEpoch || !net.NextEpochAt.Equal(wantNext) {
			t.Fatalf("at %v: ran %d epoch %d next %v, want %d %d %v", b.clock.Now().Sub(epoch0), ran, net.Epoch, net.NextEpochAt, wantRan, wantEpoch, wantNext)
		}
		if net.RewardsAllocated != 1_000*wantEpoch {
			t.Fatalf("allocated %d, want %d", net.RewardsAllocated, 1_000*wantEpoch)
		}
	}
	h := func(d time.Duration) time.Time { return epoch0.Add(d) }

	run(0, 0, h(time.Hour)) // first call schedules
	b.clock.Advance(59 * time.Minute)
	run(0, 0, h(time.Hour))
	b.clock.Advance(time.Minute) // exactly due
	run(1, 1, h(2*time.Hour))
	b.clock.Advance(2*time.Hour + 30*time.Minute) // at 3h30m: 2h and 3h due
	run(2, 3, h(4*time.Hour))
	if le := b.Snapshot().Network.LastEpoch; le == nil || !le.Scheduled || !le.At.Equal(h(3*time.Hour)) || le.Number != 3 {
		t.Fatalf("last epoch = %+v, want scheduled number 3 at 3h", le)
	}
	b.clock.Advance(6*time.Hour + 30*time.Minute) // at 10h: 4h…10h due (7), cap 3
	run(3, 6, h(11*time.Hour))
	if le := b.Snapshot().Network.LastEpoch; le == nil || !le.At.Equal(h(6*time.Hour)) {
		t.Fatalf("last epoch = %+v, want the third catch-up epoch at 6h", le)
	}
	run(0, 6, h(11*time.Hour))
	n := mustNode(t, b, "n1")
	if n.Rewards.Paid != 6_000 {
		t.Fatalf("paid %d, want 6000", n.Rewards.Paid)
	}
}

func TestDecay(t *testing.T) {
	ctx := context.Background()
	cfg := testConfig() // DecayIdle 10m, HalfLife 1h
	p := cfg.Reputation
	b := newBook(t, cfg)
	register(t, b, "idle", "")
	register(t, b, "busy", "")
	register(t, b, "fresh", "")
	event(t, b, "idle", reputation.BlockProposed, 30) // 0.8 at 0
	b.clock.Advance(50 * time.Minute)
	event(t, b, "busy", reputation.BlockProposed, 30) // 0.8 at 50m
	idle0, busy0 := mustNode(t, b, "idle").Reputation.Score, mustNode(t, b, "busy").Reputation.Score

	b.clock.Advance(5 * time.Minute) // 55m: idle idle 55m, busy idle 5m
	res, err := b.Decay(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if res.Nodes != 1 {
		t.Fatalf("decayed %d nodes, want 1", res.Nodes)
	}
	idle1 := mustNode(t, b, "idle").Reputation.Score
	if want := p.Decay(idle0, 55*time.Minute); idle1 != want || !near(idle1, 0.5+0.3*math.Exp2(-55.0/60)) {
		t.Fatalf("idle score %.17g, want %.17g", idle1, want)
	}
	if got := mustNode(t, b, "busy").Reputation.Score; got != busy0 {
		t.Fatalf("busy node decayed: %v → %v", busy0, got)
	}
	if got := mustNode(t, b, "fresh").Reputation.Score; got != 0.5 {
		t.Fatalf("fresh node score %v, want 0.5", got)
	}
	if got := b.Snapshot().Network.LastDecayAt; !got.Equal(epoch0.Add(55 * time.Minute)) {
		t.Fatalf("LastDecayAt = %v", got)
	}

	b.clock.Advance(65 * time.Minute) // 2h
	res, err = b.Decay(ctx)
	if err != nil || res.Nodes != 2 {
		t.Fatalf("Decay = %+v, %v; want 2 nodes", res, err)
	}
	// Decaying in two runs equals decaying once over the whole idle time.
	if got := mustNode(t, b, "idle").Reputation.Score; !near(got, p.Decay(idle0, 2*time.Hour)) || !near(got, 0.575) {
		t.Fatalf("idle score after 2h %.17g, want 0.575", got)
	}
	if got := mustNode(t, b, "busy").Reputation.Score; !near(got, p.Decay(busy0, 70*time.Minute)) {
		t.Fatalf("busy score %.17g, want %.17g", got, p.Decay(busy0, 70*time.Minute))
	}

	t.Run("a new event restarts the idle time", func(t *testing.T) {
		r := event(t, b, "idle", reputation.Heartbeat, 1)
		b.clock.Advance(10*time.Minute - time.Nanosecond)
		res, err := b.Decay(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if got := mustNode(t, b, "idle").Reputation.Score; got != r.Score {
			t.Fatalf("idle decayed before DecayIdle: %v → %v", r.Score, got)
		}
		if res.Nodes != 1 { // busy only
			t.Fatalf("decayed %d nodes, want 1 (busy)", res.Nodes)
		}
		b.clock.Advance(time.Nanosecond)
		if _, err := b.Decay(ctx); err != nil {
			t.Fatal(err)
		}
		if got := mustNode(t, b, "idle").Reputation.Score; got != p.Decay(r.Score, 10*time.Minute) {
			t.Fatalf("idle score %.17g, want %.17g", got, p.Decay(r.Score, 10*time.Minute))
		}
	})
}

func TestIdempotency(t *testing.T) {
	ctx := context.Background()
	b := newBook(t, testConfig())
	register(t, b, "n1", "addr")
	k1 := &ledger.Idem{Key: "k1", Fingerprint: "deposit n1 100"}

	first, replayed, err := b.Deposit(ctx, "n1", 100, k1)
	if err != nil || replayed {
		t.Fatalf("first deposit: %v replayed %v", err, replayed)
	}
	for i := range 3 {
		again, replayed, err := b.Deposit(ctx, "n1", 100, k1)
		if err != nil || !replayed || !reflect.DeepEqual(again, first) {
			t.Fatalf("replay %d = %+v replayed %v err %v, want %+v replayed", i, again, replayed, err, first)
		}
	}
	n := mustNode(t, b, "n1")
	if n.Stake.Bonded != 100 || n.Stake.Deposited != 100 || n.Stake.ActiveDeposits != 1 {
		t.Fatalf("replays were applied: %+v", n.Stake)
	}
	if net := b.Snapshot().Network; net.Deposits != 1 || net.Deposited != 100 {
		t.Fatalf("network deposits %d deposited %d, want 1 and 100", net.Deposits, net.Deposited)
	}

	t.Run("same key, other fingerprint", func(t *testing.T) {
		before := bookJSON(t, b.Snapshot())
		_, _, err := b.Deposit(ctx, "n1", 200, &ledger.Idem{Key: "k1", Fingerprint: "deposit n1 200"})
		wantErrKind(t, err, ledger.KindConflict, "idempotency_key_reused")
		if after := bookJSON(t, b.Snapshot()); after != before {
			t.Fatal("conflicting key changed the book")
		}
	})
	t.Run("a rejected request does not use up its key", func(t *testing.T) {
		k2 := &ledger.Idem{Key: "k2", Fingerprint: "withdraw n1 150"}
		_, _, err := b.Withdraw(ctx, "n1", 150, k2)
		wantErrKind(t, err, ledger.KindUnprocessable, "insufficient_stake")
		deposit(t, b, "n1", 100)
		res, replayed, err := b.Withdraw(ctx, "n1", 150, k2)
		if err != nil || replayed || res.Bonded != 50 || res.Unbonding != 150 {
			t.Fatalf("withdraw after deposit = %+v replayed %v err %v", res, replayed, err)
		}
		res2, replayed, err := b.Withdraw(ctx, "n1", 150, k2)
		if err != nil || !replayed || !reflect.DeepEqual(res2, res) {
			t.Fatalf("withdraw replay = %+v replayed %v err %v, want %+v", res2, replayed, err, res)
		}
		if n := mustNode(t, b, "n1"); n.Stake.Bonded != 50 || n.Stake.UnbondingTotal() != 150 {
			t.Fatalf("stake after replay %+v", n.Stake)
		}
	})
	t.Run("epochs", func(t *testing.T) {
		makeReliable(t, b, "n1")
		k := &ledger.Idem{Key: "epoch-1", Fingerprint: "pool 300"}
		first, replayed, err := b.RunEpoch(ctx, 300, k)
		if err != nil || replayed || first.Number != 1 || first.Allocated != 300 {
			t.Fatalf("first epoch %+v replayed %v err %v", first, replayed, err)
		}
		b.clock.Advance(time.Minute)
		again, replayed, err := b.RunEpoch(ctx, 300, k)
		if err != nil || !replayed || !reflect.DeepEqual(again, first) {
			t.Fatalf("epoch replay %+v replayed %v err %v, want %+v", again, replayed, err, first)
		}
		if net := b.Snapshot().Network; net.Epoch != 1 || net.RewardsAllocated != 300 {
			t.Fatalf("replayed epoch ran: epoch %d allocated %d", net.Epoch, net.RewardsAllocated)
		}
	})
	t.Run("pruned keys can be used again", func(t *testing.T) {
		b.clock.Advance(b.Config().IdempotencyTTL + time.Minute)
		pruned, err := b.PruneIdempotency(ctx)
		if err != nil || pruned != 3 {
			t.Fatalf("PruneIdempotency = %d, %v; want 3", pruned, err)
		}
		_, replayed, err := b.Deposit(ctx, "n1", 100, k1)
		if err != nil || replayed {
			t.Fatalf("deposit with pruned key: replayed %v err %v", replayed, err)
		}
	})
}

func TestBatchAllOrNothing(t *testing.T) {
	ctx := context.Background()
	b := newBook(t, testConfig())
	for _, id := range []string{"a", "b"} {
		register(t, b, id, "")
		deposit(t, b, id, 10_000)
	}
	good := func() ([]ledger.Event, []ledger.Violation) {
		return []ledger.Event{
				{NodeID: "a", Type: reputation.BlockProposed, Count: 100},
				{NodeID: "b", Type: reputation.Heartbeat, Count: 2},
				{NodeID: "a", Type: reputation.VoteCast},
			}, []ledger.Violation{
				{NodeID: "a", Type: reputation.DoubleSign, Evidence: "x"},
				{NodeID: "b", Type: reputation.Downtime},
			}
	}
	tests := []struct {
		name  string
		spoil func(ev []ledger.Event, vi []ledger.Violation) ([]ledger.Event, []ledger.Violation)
		kind  ledger.Kind
		code  string
		field string
	}{
		{"unknown node in last violation", func(ev []ledger.Event, vi []ledger.Violation) ([]ledger.Event, []ledger.Violation) {
			vi[1].NodeID = "ghost"
			return ev, vi
		}, ledger.KindNotFound, "node_not_found", "violations[1].node_id"},
		{"unknown node in middle event", func(ev []ledger.Event, vi []ledger.Violation) ([]ledger.Event, []ledger.Violation) {
			ev[1].NodeID = "ghost"
			return ev, vi
		}, ledger.KindNotFound, "node_not_found", "events[1].node_id"},
		{"bad event type", func(ev []ledger.Event, vi []ledger.Violation) ([]ledger.Event, []ledger.Violation) {
			ev[2].Type = "nap"
			return ev, vi
		}, ledger.KindInvalid, "unknown_event_type", "events[2].type"},
		{"bad violation type", func(ev []ledger.Event, vi []ledger.Violation) ([]ledger.Event, []ledger.Violation) {
			vi[0].Type = "nap"
			return ev, vi
		}, ledger.KindInvalid, "unknown_violation_type", "violations[0].type"},
		{"bad count", func(ev []ledger.Event, vi []ledger.Violation) ([]ledger.Event, []ledger.Violation) {
			ev[0].Count = ledger.MaxEventCount + 1
			return ev, vi
		}, ledger.KindInvalid, "invalid_count", "events[0].count"},
		{"bad node id", func(ev []ledger.Event, vi []ledger.Violation) ([]ledger.Event, []ledger.Violation) {
			vi[1].NodeID = "b b"
			return ev, vi
		}, ledger.KindInvalid, "invalid_node_id", "violations[1].node_id"},
		{"empty", func([]ledger.Event, []ledger.Violation) ([]ledger.Event, []ledger.Violation) {
			return nil, nil
		}, ledger.KindInvalid, "empty_batch", "events"},
		{"too large", func([]ledger.Event, []ledger.Violation) ([]ledger.Event, []ledger.Violation) {
			ev := make([]ledger.Event, ledger.MaxBatchItems+1)
			for i := range ev {
				ev[i] = ledger.Event{NodeID: "a", Type: reputation.Heartbeat, Count: 1}
			}
			return ev, nil
		}, ledger.KindInvalid, "batch_too_large", "events"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := bookJSON(t, b.Snapshot())
			ev, vi := tt.spoil(good())
			_, err := b.Batch(ctx, ev, vi)
			e := wantErrKind(t, err, tt.kind, tt.code)
			if e.Field != tt.field {
				t.Fatalf("field = %q, want %q", e.Field, tt.field)
			}
			if after := bookJSON(t, b.Snapshot()); after != before {
				t.Fatalf("rejected batch changed the book:\n%s\n%s", before, after)
			}
		})
	}
	t.Run("good batch applies everything, events first", func(t *testing.T) {
		ev, vi := good()
		res, err := b.Batch(ctx, ev, vi)
		if err != nil {
			t.Fatal(err)
		}
		// a: 5% of 10_000; b: 0.1% of 10_000.
		if want := (ledger.BatchResult{Events: 3, Violations: 2, Slashed: 510}); res != want {
			t.Fatalf("Batch = %+v, want %+v", res, want)
		}
		a, bn := mustNode(t, b, "a"), mustNode(t, b, "b")
		// a: 0.5 + 1.0 clamps to 1, +0.002 stays 1, − 0.5 = 0.5. Violations
		// first would give 0 → 1.
		if !near(a.Reputation.Score, 0.5) || a.Stake.Bonded != 9_500 || a.Reputation.Events[0] != 100 || a.Reputation.Events[2] != 1 {
			t.Fatalf("a = %+v", a)
		}
		if !near(bn.Reputation.Score, 0.402) || bn.Stake.Bonded != 9_990 || bn.Reputation.Events[3] != 2 {
			t.Fatalf("b = %+v", bn)
		}
		checkInvariants(t, b.Snapshot())
	})
}

func TestRemove(t *testing.T) {
	ctx := context.Background()
	cfg := testConfig()
	cfg.Rewards.BonusPPM = 0
	b := newBook(t, cfg)
	register(t, b, "holder", "")
	register(t, b, "other", "addr")
	register(t, b, "empty", "")
	deposit(t, b, "holder", 1_000)
	deposit(t, b, "other", 1_000)
	makeReliable(t, b, "holder")
	makeReliable(t, b, "other")
	// holder earns but cannot be paid (no payout address).
	if _, _, err := b.RunEpoch(ctx, 1_000, nil); err != nil {
		t.Fatal(err)
	}
	if _, _, err := b.Withdraw(ctx, "holder", 300, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := b.RecordViolation(ctx, ledger.Violation{NodeID: "holder", Type: reputation.DoubleSign}); err != nil {
		t.Fatal(err) // 35 + 15 slashed: bonded 665, unbonding 285
	}
	holder := mustNode(t, b, "holder")
	if holder.Stake.Bonded != 665 || holder.Stake.UnbondingTotal() != 285 || holder.Rewards.Pending == 0 {
		t.Fatalf("holder before removal: %+v %+v", holder.Stake, holder.Rewards)
	}

	t.Run("refused while holding stake", func(t *testing.T) {
		before := bookJSON(t, b.Snapshot())
		err := b.Remove(ctx, "holder", false)
		wantErrKind(t, err, ledger.KindConflict, "node_holds_stake")
		if after := bookJSON(t, b.Snapshot()); after != before {
			t.Fatal("refused removal changed the book")
		}
	})
	t.Run("unknown node", func(t *testing.T) {
		wantErrKind(t, b.Remove(ctx, "ghost", true), ledger.KindNotFound, "node_not_found")
	})
	t.Run("empty node without force", func(t *testing.T) {
		if err := b.Remove(ctx, "empty", false); err != nil {
			t.Fatal(err)
		}
		if _, ok := b.Node("empty"); ok {
			t.Fatal("empty node still there")
		}
	})
	t.Run("force counts stake as withdrawn", func(t *testing.T) {
		before := b.Snapshot().Network
		if err := b.Remove(ctx, "holder", true); err != nil {
			t.Fatal(err)
		}
		if _, ok := b.Node("holder"); ok {
			t.Fatal("holder still there")
		}
		net := b.Snapshot().Network
		if net.Withdrawn != before.Withdrawn+950 {
			t.Fatalf("withdrawn %d, want %d", net.Withdrawn, before.Withdrawn+950)
		}
		if net.RewardsForfeited != holder.Rewards.Pending {
			t.Fatalf("forfeited %d, want %d", net.RewardsForfeited, holder.Rewards.Pending)
		}
		if net.NodesRemoved != 2 || net.Deposited != 2_000 || net.Slashed != 50 {
			t.Fatalf("network = %+v", net)
		}
		// 2_000 − 950 − 50 = other's 1_000.
		checkInvariants(t, b.Snapshot())
		if b.NodeCount() != 1 {
			t.Fatalf("NodeCount = %d, want 1", b.NodeCount())
		}
	})
	t.Run("the id can be registered again from scratch", func(t *testing.T) {
		register(t, b, "holder", "")
		n := mustNode(t, b, "holder")
		if n.Stake.Deposited != 0 || n.Rewards.Earned != 0 || n.Reputation.Score != 0.5 {
			t.Fatalf("re-registered node carries old state: %+v", n)
		}
	})
}

func TestReopenSameState(t *testing.T) {
	ctx := context.Background()
	cfg := testConfig()
	dir := t.TempDir()
	clock := newManualClock()
	b := openBook(t, cfg, dir, clock)

	register(t, b, "a", "addr-a")
	register(t, b, "b", "")
	register(t, b, "c", "addr-c")
	deposit(t, b, "a", 5_000)
	deposit(t, b, "b", 3_000)
	makeReliable(t, b, "a")
	makeReliable(t, b, "b")
	event(t, b, "c", reputation.MissedBlock, 3)
	clock.Advance(7 * time.Minute)
	if _, _, err := b.Withdraw(ctx, "a", 1_234, &ledger.Idem{Key: "w1", Fingerprint: "f"}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.RecordViolation(ctx, ledger.Violation{NodeID: "b", Type: reputation.Censorship, Evidence: "tx 9 dropped"}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.RunDueEpochs(ctx); err != nil {
		t.Fatal(err)
	}
	if _, _, err := b.RunEpoch(ctx, 777, nil); err != nil {
		t.Fatal(err)
	}
	clock.Advance(30 * time.Minute)
	if _, err := b.Decay(ctx); err != nil {
		t.Fatal(err)
	}
	if err := b.Remove(ctx, "c", false); err != nil {
		t.Fatal(err)
	}
	clock.Advance(2 * time.Hour)
	if _, err := b.ReleaseUnbonding(ctx); err != nil {
		t.Fatal(err)
	}
	if _, _, err := b.Withdraw(ctx, "a", 1, nil); err != nil { // still unbonding at reopen
		t.Fatal(err)
	}

	before := b.Snapshot()
	b.stop()

	b2 := openBook(t, cfg, dir, clock)
	after := b2.Snapshot()
	if !reflect.DeepEqual(after.Nodes, before.Nodes) {
		t.Errorf("nodes differ after reopen:\n%+v\n%+v", before.Nodes, after.Nodes)
	}
	if !reflect.DeepEqual(after.Network, before.Network) {
		t.Errorf("network differs after reopen:\n%+v\n%+v", before.Network, after.Network)
	}
	if bj, aj := bookJSON(t, before), bookJSON(t, after); bj != aj {
		t.Errorf("JSON differs after reopen:\n%s\n%s", bj, aj)
	}
	if len(after.Nodes) != 2 || after.Network.Epoch != 1 {
		t.Fatalf("reopened book has %d nodes, epoch %d", len(after.Nodes), after.Network.Epoch)
	}
	// Idempotency keys survive too.
	res, replayed, err := b2.Withdraw(ctx, "a", 1_234, &ledger.Idem{Key: "w1", Fingerprint: "f"})
	if err != nil || !replayed || res.Amount != 1_234 {
		t.Fatalf("replay after reopen = %+v replayed %v err %v", res, replayed, err)
	}
	checkInvariants(t, b2.Snapshot())
}

func TestClosedLedgerRejects(t *testing.T) {
	b := newBook(t, testConfig())
	register(t, b, "n1", "")
	b.Close()
	_, err := b.Register(context.Background(), "n2", "")
	wantErrKind(t, err, ledger.KindUnavailable, "shutting_down")
	if b.Ready() {
		t.Fatal("Ready() after Close")
	}
}

func TestSummarize(t *testing.T) {
	b := newBook(t, testConfig())
	register(t, b, "a", "")
	register(t, b, "b", "")
	register(t, b, "c", "")
	deposit(t, b, "a", 300)
	deposit(t, b, "b", 600)
	makeReliable(t, b, "a")
	if _, _, err := b.Withdraw(context.Background(), "b", 100, nil); err != nil {
		t.Fatal(err)
	}
	s := b.Summarize(b.Snapshot())
	if s.Nodes != (ledger.NodeCounts{Total: 3, Reliable: 1, Unreliable: 2}) {
		t.Fatalf("node counts %+v", s.Nodes)
	}
	if s.Stake.Bonded != 800 || s.Stake.Unbonding != 100 || s.Stake.PendingWithdrawals != 1 || s.Stake.Deposited != 900 {
		t.Fatalf("stake %+v", s.Stake)
	}
	if !near(s.Stake.Average, 800.0/3) {
		t.Fatalf("average %v", s.Stake.Average)
	}
	if !near(s.Reputation.Median, 0.5) || !near(s.Reputation.Highest, 0.8) || !near(s.Reputation.Lowest, 0.5) || !near(s.Reputation.Mean, 0.6) || s.Reputation.Threshold != 0.7 {
		t.Fatalf("reputation %+v", s.Reputation)
	}
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name    string
		mutate  func(*ledger.Config)
		wantErr string // substring; "" means valid
	}{
		{"defaults", func(*ledger.Config) {}, ""},
		{"boundaries", func(c *ledger.Config) {
			c.SlashPPM[reputation.DoubleSign] = 1_000_000
			c.UnbondingPeriod, c.DecayIdle = 0, 0
			c.Rewards.BonusPPM, c.Rewards.UptimeThreshold = 1_000_000, 1
			c.EpochPool, c.MaxEpochCatchUp, c.MaxNodes = math.MaxInt64, 1, 1
		}, ""},
		{"bad reputation params", func(c *ledger.Config) { c.Reputation.Threshold = 2 }, "reputation: reliability threshold"},
		{"slash fraction missing", func(c *ledger.Config) { delete(c.SlashPPM, reputation.Censorship) }, `slash fraction for "censorship" is missing`},
		{"slash fraction above 1", func(c *ledger.Config) { c.SlashPPM[reputation.Downtime] = 1_000_001 }, `slash fraction for "downtime" exceeds 1`},
		{"negative unbonding period", func(c *ledger.Config) { c.UnbondingPeriod = -1 }, "unbonding period"},
		{"negative decay idle", func(c *ledger.Config) { c.DecayIdle = -1 }, "decay idle"},
		{"bonus share above 1", func(c *ledger.Config) { c.Rewards.BonusPPM = 1_000_001 }, "uptime bonus share"},
		{"uptime threshold below 0", func(c *ledger.Config) { c.Rewards.UptimeThreshold = -0.1 }, "uptime threshold"},
		{"uptime threshold above 1", func(c *ledger.Config) { c.Rewards.UptimeThreshold = 1.1 }, "uptime threshold"},
		{"uptime threshold NaN", func(c *ledger.Config) { c.Rewards.UptimeThreshold = math.NaN() }, "uptime threshold"},
		{"zero pool", func(c *ledger.Config) { c.EpochPool = 0 }, "epoch pool"},
		{"pool above MaxAmount", func(c *ledger.Config) { c.EpochPool = math.MaxInt64 + 1 }, "epoch pool"},
		{"zero epoch period", func(c *ledger.Config) { c.EpochPeriod = 0 }, "epoch period"},
		{"zero catch-up", func(c *ledger.Config) { c.MaxEpochCatchUp = 0 }, "catch-up"},
		{"zero node limit", func(c *ledger.Config) { c.MaxNodes = 0 }, "node limit"},
		{"zero idempotency TTL", func(c *ledger.Config) { c.IdempotencyTTL = 0 }, "idempotency TTL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := ledger.DefaultConfig()
			tt.mutate(&c)
			err := c.Validate()
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("Validate() = %v, want nil", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("Validate() = %v, want error containing %q", err, tt.wantErr)
			}
			if tt.wantErr != "" {
				if _, err := ledger.Open(c, nil, slog.New(slog.DiscardHandler), ledger.Options{}); err == nil {
					t.Fatal("Open accepted an invalid config")
				}
			}
		})
	}
}
