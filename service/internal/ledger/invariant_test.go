package ledger_test

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/cretoai/monitor/service/internal/ledger"
	"github.com/cretoai/monitor/service/internal/reputation"
)

// checkInvariants fails the test when the book breaks one of its invariants:
// per node and in total deposited − withdrawn − slashed = bonded + unbonding,
// allocated rewards = paid + pending + forfeited, and every score is finite
// and inside [0, 1].
func checkInvariants(t testing.TB, sn ledger.Snapshot) {
	t.Helper()
	var held, pending uint64
	for _, n := range sn.Nodes {
		if err := n.Stake.Check(); err != nil {
			t.Fatalf("node %q: %v", n.ID, err)
		}
		held += n.Stake.Bonded + n.Stake.UnbondingTotal()
		pending += n.Rewards.Pending
		if s := n.Reputation.Score; math.IsNaN(s) || math.IsInf(s, 0) || s < 0 || s > 1 {
			t.Fatalf("node %q: score %v outside [0, 1]", n.ID, s)
		}
		if r := n.Rewards; r.Earned != r.Paid+r.Pending {
			t.Fatalf("node %q: earned %d != paid %d + pending %d", n.ID, r.Earned, r.Paid, r.Pending)
		}
	}
	net := sn.Network
	if net.Withdrawn+net.Slashed > net.Deposited || net.Deposited-net.Withdrawn-net.Slashed != held {
		t.Fatalf("network stake invariant broken: deposited %d - withdrawn %d - slashed %d != held %d",
			net.Deposited, net.Withdrawn, net.Slashed, held)
	}
	var byType uint64
	for _, v := range net.SlashedByType {
		byType += v
	}
	if byType != net.Slashed {
		t.Fatalf("slashed by type sums to %d, slashed is %d", byType, net.Slashed)
	}
	if net.RewardsAllocated != net.RewardsPaid+pending+net.RewardsForfeited {
		t.Fatalf("rewards invariant broken: allocated %d != paid %d + pending %d + forfeited %d",
			net.RewardsAllocated, net.RewardsPaid, pending, net.RewardsForfeited)
	}
	if got, want := uint64(len(sn.Nodes)), net.NodesRegistered-net.NodesRemoved; got != want {
		t.Fatalf("%d nodes, registered − removed = %d", got, want)
	}
}

// TestRandomOperationsKeepInvariants drives a real ledger through long random
// operation sequences and checks every invariant after each operation, that
// a rejected operation leaves the book unchanged, and, now and then, that a
// reopened book equals the one closed.
func TestRandomOperationsKeepInvariants(t *testing.T) {
	const ops = 1_000
	var (
		mu        sync.Mutex
		forfeited uint64
	)
	t.Run("seeds", func(t *testing.T) {
		for _, seed := range []uint64{1, 2, 3, 4} {
			t.Run(fmt.Sprint(seed), func(t *testing.T) {
				t.Parallel()
				net := runRandomOps(t, seed, ops)
				mu.Lock()
				forfeited += net.RewardsForfeited
				mu.Unlock()
			})
		}
	})
	// Forfeiting needs a forced removal of an unpaid node: rarer, so it is
	// required of the seeds together rather than of each one.
	if !t.Failed() && forfeited == 0 {
		t.Fatal("no seed forfeited rewards by a forced removal")
	}
}

func runRandomOps(t *testing.T, seed uint64, ops int) ledger.Network {
	ctx := context.Background()
	r := rand.New(rand.NewPCG(seed, 0xC0FFEE))
	cfg := ledger.DefaultConfig()
	cfg.MaxNodes = 10
	cfg.UnbondingPeriod = time.Hour
	cfg.DecayIdle = 10 * time.Minute
	cfg.Reputation.HalfLife = 45 * time.Minute
	cfg.EpochPeriod = 30 * time.Minute
	cfg.MaxEpochCatchUp = 3
	cfg.EpochPool = 100_000
	cfg.Rewards.UptimeThreshold = 0.9
	cfg.IdempotencyTTL = 3 * time.Hour
	dir := t.TempDir()
	clock := newManualClock()
	b := openBook(t, cfg, dir, clock)

	ids := make([]string, 14)
	for i := range ids {
		ids[i] = fmt.Sprintf("node-%02d", i)
	}
	anyID := func() string {
		if r.IntN(40) == 0 {
			return "ghost"
		}
		return ids[r.IntN(len(ids))]
	}
	idem := func(what string) *ledger.Idem {
		if r.IntN(3) > 0 {
			return nil
		}
		// A small key space makes replays and conflicts common.
		return &ledger.Idem{Key: fmt.Sprint("key-", r.IntN(8)), Fingerprint: what}
	}
	eventTypes, violationTypes := reputation.EventTypes, reputation.ViolationTypes

	counts := map[string]int{}
	for i := range ops {
		before := b.Snapshot()
		var (
			name string
			err  error
		)
		switch k := r.IntN(100); {
		case k < 8:
			name = "register"
			payout := ""
			if r.IntN(2) == 0 {
				payout = "pay-" + fmt.Sprint(r.IntN(100))
			}
			_, err = b.Register(ctx, anyID(), payout)
		case k < 11:
			name = "remove"
			err = b.Remove(ctx, anyID(), r.IntN(4) > 0)
		case k < 33:
			name = "event"
			_, err = b.RecordEvent(ctx, ledger.Event{NodeID: anyID(), Type: eventTypes[r.IntN(len(eventTypes))], Count: uint32(r.IntN(60))})
		case k < 38:
			name = "violation"
			_, err = b.RecordViolation(ctx, ledger.Violation{NodeID: anyID(), Type: violationTypes[r.IntN(len(violationTypes))]})
		case k < 41:
			name = "batch"
			var evs []ledger.Event
			var vis []ledger.Violation
			for range r.IntN(6) {
				evs = append(evs, ledger.Event{NodeID: anyID(), Type: eventTypes[r.IntN(len(eventTypes))], Count: uint32(1 + r.IntN(20))})
			}
			for range r.IntN(3) {
				vis = append(vis, ledger.Violation{NodeID: anyID(), Type: violationTypes[r.IntN(len(violationTypes))]})
			}
			_, err = b.Batch(ctx, evs, vis)
		case k < 56:
			name = "deposit"
			id, amount := anyID(), 1+r.Uint64N(1_000_000_000)
			_, _, err = b.Deposit(ctx, id, amount, idem(fmt.Sprint("deposit ", id, amount)))
		case k < 66:
			name = "withdraw"
			id := anyID()
			var bonded uint64
			if n, ok := b.Node(id); ok {
				bonded = n.Stake.Bonded
			}
			amount := 1 + r.Uint64N(bonded+bonded/8+1)
			_, _, err = b.Withdraw(ctx, id, amount, idem(fmt.Sprint("withdraw ", id, amount)))
		case k < 76:
			name = "release"
			clock.Advance(time.Duration(r.IntN(40)) * time.Minute)
			_, err = b.ReleaseUnbonding(ctx)
		case k < 82:
			name = "decay"
			clock.Advance(time.Duration(r.IntN(20)) * time.Minute)
			_, err = b.Decay(ctx)
		case k < 86:
			name = "epoch"
			pool := uint64(0)
			if r.IntN(2) == 0 {
				pool = 1 + r.Uint64N(10_000_000)
			}
			_, _, err = b.RunEpoch(ctx, pool, idem(fmt.Sprint("epoch ", pool)))
		case k < 91:
			name = "due epochs"
			clock.Advance(time.Duration(r.IntN(120)) * time.Minute)
			_, err = b.RunDueEpochs(ctx)
		case k < 97:
			name = "payout address"
			payout := ""
			if r.IntN(3) > 0 {
				payout = "pay-" + fmt.Sprint(r.IntN(100))
			}
			_, err = b.SetPayoutAddress(ctx, anyID(), payout)
		case k < 99:
			name = "prune"
			clock.Advance(time.Duration(r.IntN(60)) * time.Minute)
			_, err = b.PruneIdempotency(ctx)
		default:
			name = "reopen"
			want := bookJSON(t, b.Snapshot())
			b.stop()
			b = openBook(t, cfg, dir, clock)
			if got := bookJSON(t, b.Snapshot()); got != want {
				t.Fatalf("op %d: reopened book differs:\n%s\n%s", i, want, got)
			}
		}
		if err != nil {
			e, ok := ledger.AsError(err)
			if !ok || e.Kind == ledger.KindUnavailable {
				t.Fatalf("op %d (%s): unexpected error %v", i, name, err)
			}
			if got, want := bookJSON(t, b.Snapshot()), bookJSON(t, before); got != want {
				t.Fatalf("op %d (%s): rejected (%v) but the book changed:\n%s\n%s", i, name, err, want, got)
			}
			counts[name+" rejected"]++
		} else {
			counts[name]++
		}
		checkInvariants(t, b.Snapshot())
	}

	// The sequence must have exercised the book, not just bounced off it.
	sn := b.Snapshot()
	net := sn.Network
	if net.Deposits == 0 || net.WithdrawalsCompleted == 0 || net.Slashed == 0 || net.RewardsPaid == 0 ||
		net.FailedPayouts[ledger.FailureNoPayoutAddress] == 0 || net.NodesRemoved == 0 {
		t.Fatalf("random sequence too shallow: %+v (ops %v)", net, counts)
	}
	for _, c := range []string{"register", "remove", "event", "violation", "batch", "deposit", "withdraw", "withdraw rejected", "epoch", "due epochs", "deposit rejected"} {
		if counts[c] == 0 {
			t.Fatalf("no successful %q in the sequence (ops %v)", c, counts)
		}
	}
	t.Logf("seed %d: %v; network %+v", seed, counts, net)
	return net
}
