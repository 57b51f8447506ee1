package ledger

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/cretoai/monitor/service/internal/reputation"
	"github.com/cretoai/monitor/service/internal/rewards"
	"github.com/cretoai/monitor/service/internal/stake"
)

// Every operation validates its input completely before it changes anything,
// so a rejected operation leaves the book exactly as it was.

// Register adds a node with the initial score. payout may be empty.
func (l *Ledger) Register(ctx context.Context, id, payout string) (Node, error) {
	if err := checkNodeID(id); err != nil {
		return Node{}, err
	}
	if payout != "" && !ValidPayoutAddress(payout) {
		return Node{}, invalid("invalid_payout_address", "payout_address", "payout_address must be 1-%d characters of [A-Za-z0-9._:-]", MaxPayoutAddressLen)
	}
	return do(ctx, l, func(s *state) (Node, error) {
		if s.node(id) != nil {
			return Node{}, conflict("node_exists", "node_id", "node %q is already registered", id)
		}
		if len(s.nodes) >= l.cfg.MaxNodes {
			return Node{}, conflict("node_limit_reached", "node_id", "the book tracks %d nodes and its limit (CRETOAI_MAX_NODES) is %d", len(s.nodes), l.cfg.MaxNodes)
		}
		now := l.now()
		n := &Node{ID: id, PayoutAddress: payout, RegisteredAt: now,
			Reputation: Reputation{Score: l.cfg.Reputation.Initial, DecayedAt: now}}
		s.nodes[id] = n
		s.touch(id)
		s.net.NodesRegistered++
		s.touchNet()
		s.emit(Effect{Kind: EffectNodeRegistered, NodeID: id})
		return n.clone(), nil
	})
}

// SetPayoutAddress sets or (with "") clears a node's payout address.
func (l *Ledger) SetPayoutAddress(ctx context.Context, id, payout string) (Node, error) {
	if err := checkNodeID(id); err != nil {
		return Node{}, err
	}
	if payout != "" && !ValidPayoutAddress(payout) {
		return Node{}, invalid("invalid_payout_address", "payout_address", "payout_address must be empty or 1-%d characters of [A-Za-z0-9._:-]", MaxPayoutAddressLen)
	}
	return do(ctx, l, func(s *state) (Node, error) {
		n := s.node(id)
		if n == nil {
			return Node{}, notFound(id)
		}
		n.PayoutAddress = payout
		s.touch(id)
		return n.clone(), nil
	})
}

// Remove deletes a node. A node that still holds bonded or unbonding stake or
// pending rewards is removed only with force: its stake then counts as
// withdrawn and its pending rewards as forfeited in the network totals.
func (l *Ledger) Remove(ctx context.Context, id string, force bool) error {
	if err := checkNodeID(id); err != nil {
		return err
	}
	_, err := do(ctx, l, func(s *state) (struct{}, error) {
		n := s.node(id)
		if n == nil {
			return struct{}{}, notFound(id)
		}
		held := n.Stake.Bonded + n.Stake.UnbondingTotal()
		if !force && (held > 0 || n.Rewards.Pending > 0) {
			return struct{}{}, conflict("node_holds_stake", "node_id",
				"node %q holds %d stake and %d pending rewards; withdraw first or remove with ?force=true", id, held, n.Rewards.Pending)
		}
		s.net.Withdrawn += held
		s.net.RewardsForfeited += n.Rewards.Pending
		s.net.NodesRemoved++
		s.touchNet()
		s.forget(id)
		s.emit(Effect{Kind: EffectNodeRemoved, NodeID: id})
		return struct{}{}, nil
	})
	return err
}

// EventResult is the outcome of an event report.
type EventResult struct {
	NodeID   string               `json:"node_id"`
	Type     reputation.EventType `json:"type"`
	Count    uint32               `json:"count"`
	Score    float64              `json:"score"`
	Reliable bool                 `json:"reliable"`
}

// RecordEvent applies an event report. A zero Count means 1.
func (l *Ledger) RecordEvent(ctx context.Context, ev Event) (EventResult, error) {
	if ev.Count == 0 {
		ev.Count = 1
	}
	if err := ev.check(""); err != nil {
		return EventResult{}, err
	}
	return do(ctx, l, func(s *state) (EventResult, error) {
		n := s.node(ev.NodeID)
		if n == nil {
			return EventResult{}, notFound(ev.NodeID)
		}
		l.applyEvent(s, n, ev, l.now())
		return EventResult{NodeID: n.ID, Type: ev.Type, Count: ev.Count, Score: n.Reputation.Score,
			Reliable: l.cfg.Reputation.Reliable(n.Reputation.Score)}, nil
	})
}

func (l *Ledger) applyEvent(s *state, n *Node, ev Event, now time.Time) {
	r := &n.Reputation
	r.Events[ev.Type.Index()] += uint64(ev.Count)
	if ev.Type.Live() {
		r.EpochLive += uint64(ev.Count)
	} else {
		r.EpochMissed += uint64(ev.Count)
	}
	r.Score = l.cfg.Reputation.ApplyEvent(r.Score, ev.Type, ev.Count)
	r.LastEventAt = now
	s.touch(n.ID)
	s.emit(Effect{Kind: EffectEvent, NodeID: n.ID, Type: string(ev.Type), Count: uint64(ev.Count)})
}

// ViolationResult is the outcome of a violation report.
type ViolationResult struct {
	NodeID    string                   `json:"node_id"`
	Type      reputation.ViolationType `json:"type"`
	Score     float64                  `json:"score"`
	Reliable  bool                     `json:"reliable"`
	Slashed   uint64                   `json:"slashed"`
	Bonded    uint64                   `json:"bonded"`
	Unbonding uint64                   `json:"unbonding"`
}

// RecordViolation applies a violation: the penalty to the score and the slash
// to bonded and unbonding stake.
func (l *Ledger) RecordViolation(ctx context.Context, v Violation) (ViolationResult, error) {
	if err := v.check(""); err != nil {
		return ViolationResult{}, err
	}
	return do(ctx, l, func(s *state) (ViolationResult, error) {
		n := s.node(v.NodeID)
		if n == nil {
			return ViolationResult{}, notFound(v.NodeID)
		}
		taken := l.applyViolation(s, n, v, l.now())
		return ViolationResult{NodeID: n.ID, Type: v.Type, Score: n.Reputation.Score,
			Reliable: l.cfg.Reputation.Reliable(n.Reputation.Score), Slashed: taken,
			Bonded: n.Stake.Bonded, Unbonding: n.Stake.UnbondingTotal()}, nil
	})
}

func (l *Ledger) applyViolation(s *state, n *Node, v Violation, now time.Time) uint64 {
	i := v.Type.Index()
	r := &n.Reputation
	r.Violations[i]++
	r.Score = l.cfg.Reputation.ApplyViolation(r.Score, v.Type)
	taken := n.Stake.Slash(l.cfg.SlashPPM[v.Type])
	r.LastViolation = &ViolationRecord{Type: v.Type, At: now, Evidence: v.Evidence, Slashed: taken}
	s.net.Slashed += taken
	s.net.SlashedByType[i] += taken
	s.touch(n.ID)
	s.touchNet()
	s.emit(Effect{Kind: EffectViolation, NodeID: n.ID, Type: string(v.Type), Count: 1})
	if taken > 0 {
		s.emit(Effect{Kind: EffectSlash, NodeID: n.ID, Type: string(v.Type), Amount: taken})
	}
	return taken
}

// BatchResult is the outcome of a batch.
type BatchResult struct {
	Events     int    `json:"events"`
	Violations int    `json:"violations"`
	Slashed    uint64 `json:"slashed"`
}

// Batch applies many events and violations as one all-or-nothing change:
// every item is checked first, and one bad item rejects the whole batch.
// Events are applied before violations, each list in order.
func (l *Ledger) Batch(ctx context.Context, events []Event, violations []Violation) (BatchResult, error) {
	if len(events)+len(violations) == 0 {
		return BatchResult{}, invalid("empty_batch", "events", "a batch needs at least one event or violation")
	}
	if len(events)+len(violations) > MaxBatchItems {
		return BatchResult{}, invalid("batch_too_large", "events", "a batch holds at most %d items", MaxBatchItems)
	}
	for i := range events {
		if events[i].Count == 0 {
			events[i].Count = 1
		}
		if err := events[i].check(fmt.Sprintf("events[%d].", i)); err != nil {
			return BatchResult{}, err
		}
	}
	for i, v := range violations {
		if err := v.check(fmt.Sprintf("violations[%d].", i)); err != nil {
			return BatchResult{}, err
		}
	}
	return do(ctx, l, func(s *state) (BatchResult, error) {
		for i, ev := range events {
			if s.node(ev.NodeID) == nil {
				e := notFound(ev.NodeID)
				e.Field = fmt.Sprintf("events[%d].node_id", i)
				return BatchResult{}, e
			}
		}
		for i, v := range violations {
			if s.node(v.NodeID) == nil {
				e := notFound(v.NodeID)
				e.Field = fmt.Sprintf("violations[%d].node_id", i)
				return BatchResult{}, e
			}
		}
		now := l.now()
		res := BatchResult{Events: len(events), Violations: len(violations)}
		for _, ev := range events {
			l.applyEvent(s, s.node(ev.NodeID), ev, now)
		}
		for _, v := range violations {
			res.Slashed += l.applyViolation(s, s.node(v.NodeID), v, now)
		}
		return res, nil
	})
}

// StakeResult is the outcome of a deposit or withdrawal request.
type StakeResult struct {
	NodeID    string    `json:"node_id"`
	Amount    uint64    `json:"amount"`
	Bonded    uint64    `json:"bonded"`
	Unbonding uint64    `json:"unbonding"`
	ReleaseAt time.Time `json:"release_at,omitzero"`
}

// Deposit bonds amount for a node.
func (l *Ledger) Deposit(ctx context.Context, id string, amount uint64, idem *Idem) (StakeResult, bool, error) {
	if err := checkNodeID(id); err != nil {
		return StakeResult{}, false, err
	}
	if err := checkAmount("amount", amount); err != nil {
		return StakeResult{}, false, err
	}
	return doIdem(ctx, l, idem, func(s *state) (StakeResult, error) {
		n := s.node(id)
		if n == nil {
			return StakeResult{}, notFound(id)
		}
		if s.net.Deposited > stake.MaxAmount-amount {
			return StakeResult{}, unprocessable("amount_overflow", "amount", stake.ErrOverflow)
		}
		if err := n.Stake.Deposit(amount); err != nil {
			return StakeResult{}, unprocessable("amount_overflow", "amount", err)
		}
		s.net.Deposited += amount
		s.net.Deposits++
		s.touch(id)
		s.touchNet()
		s.emit(Effect{Kind: EffectDeposit, NodeID: id, Amount: amount})
		return StakeResult{NodeID: id, Amount: amount, Bonded: n.Stake.Bonded, Unbonding: n.Stake.UnbondingTotal()}, nil
	})
}

// Withdraw moves amount of a node's bonded stake to unbonding; it is released
// after the unbonding period.
func (l *Ledger) Withdraw(ctx context.Context, id string, amount uint64, idem *Idem) (StakeResult, bool, error) {
	if err := checkNodeID(id); err != nil {
		return StakeResult{}, false, err
	}
	if err := checkAmount("amount", amount); err != nil {
		return StakeResult{}, false, err
	}
	return doIdem(ctx, l, idem, func(s *state) (StakeResult, error) {
		n := s.node(id)
		if n == nil {
			return StakeResult{}, notFound(id)
		}
		releaseAt := l.now().Add(l.cfg.UnbondingPeriod)
		if err := n.Stake.RequestWithdrawal(amount, releaseAt); err != nil {
			return StakeResult{}, unprocessable("insufficient_stake", "amount", err)
		}
		s.net.WithdrawalRequests++
		s.touch(id)
		s.touchNet()
		s.emit(Effect{Kind: EffectWithdrawalRequested, NodeID: id, Amount: amount})
		return StakeResult{NodeID: id, Amount: amount, Bonded: n.Stake.Bonded, Unbonding: n.Stake.UnbondingTotal(), ReleaseAt: releaseAt}, nil
	})
}

// ReleaseResult is the outcome of a release run.
type ReleaseResult struct {
	Withdrawals int    `json:"withdrawals"`
	Amount      uint64 `json:"amount"`
}

// ReleaseUnbonding completes every withdrawal whose release time has come.
func (l *Ledger) ReleaseUnbonding(ctx context.Context) (ReleaseResult, error) {
	return do(ctx, l, func(s *state) (ReleaseResult, error) {
		now := l.now()
		var res ReleaseResult
		for id, n := range s.nodes {
			if len(n.Stake.Unbonding) == 0 {
				continue
			}
			for _, a := range n.Stake.Release(now) {
				res.Withdrawals++
				res.Amount += a
				s.net.Withdrawn += a
				s.net.WithdrawalsCompleted++
				s.touch(id)
				s.touchNet()
				s.emit(Effect{Kind: EffectWithdrawalReleased, NodeID: id, Amount: a})
			}
		}
		return res, nil
	})
}

// DecayResult is the outcome of a decay run.
type DecayResult struct {
	Nodes int `json:"nodes"`
}

// Decay moves the score of every node idle for at least DecayIdle toward the
// initial score, for the time since its last activity or last decay.
func (l *Ledger) Decay(ctx context.Context) (DecayResult, error) {
	return do(ctx, l, func(s *state) (DecayResult, error) {
		now := l.now()
		var res DecayResult
		for id, n := range s.nodes {
			act := n.lastActivity()
			if now.Sub(act) < l.cfg.DecayIdle {
				continue
			}
			from := n.Reputation.DecayedAt
			if act.After(from) {
				from = act
			}
			if !now.After(from) {
				continue
			}
			score := l.cfg.Reputation.Decay(n.Reputation.Score, now.Sub(from))
			if score == n.Reputation.Score {
				continue
			}
			n.Reputation.Score = score
			n.Reputation.DecayedAt = now
			s.touch(id)
			s.emit(Effect{Kind: EffectDecay, NodeID: id, Seconds: now.Sub(act).Seconds()})
			res.Nodes++
		}
		s.net.LastDecayAt = now
		s.touchNet()
		return res, nil
	})
}

// RunEpoch runs a reward epoch now with pool (0: the configured pool).
func (l *Ledger) RunEpoch(ctx context.Context, pool uint64, idem *Idem) (EpochResult, bool, error) {
	if pool == 0 {
		pool = l.cfg.EpochPool
	}
	if err := checkAmount("pool", pool); err != nil {
		return EpochResult{}, false, err
	}
	return doIdem(ctx, l, idem, func(s *state) (EpochResult, error) {
		return l.epoch(s, pool, l.now(), false)
	})
}

// RunDueEpochs runs every scheduled epoch that has fallen due, at most
// MaxEpochCatchUp of them; older missed epochs are skipped and logged. It
// returns how many ran.
func (l *Ledger) RunDueEpochs(ctx context.Context) (int, error) {
	return do(ctx, l, func(s *state) (int, error) {
		now := l.now()
		period := l.cfg.EpochPeriod
		if s.net.NextEpochAt.IsZero() {
			s.net.NextEpochAt = now.Add(period)
			s.touchNet()
			return 0, nil
		}
		if s.net.NextEpochAt.After(now.Add(period)) {
			// The period was shortened since the schedule was written.
			s.net.NextEpochAt = now.Add(period)
			s.touchNet()
		}
		if s.net.NextEpochAt.After(now) {
			return 0, nil
		}
		ran := 0
		for !s.net.NextEpochAt.After(now) && ran < l.cfg.MaxEpochCatchUp {
			if _, err := l.epoch(s, l.cfg.EpochPool, s.net.NextEpochAt, true); err != nil {
				// Epochs already run in this call stay (each is whole); the
				// failed one stays due, and the job reports the failure.
				return ran, fmt.Errorf("scheduled epoch due %s: %w", s.net.NextEpochAt.Format(time.RFC3339), err)
			}
			s.net.NextEpochAt = s.net.NextEpochAt.Add(period)
			ran++
		}
		if !s.net.NextEpochAt.After(now) {
			missed := int(now.Sub(s.net.NextEpochAt)/period) + 1
			l.log.Warn("skipping missed epochs beyond the catch-up limit", "skipped", missed, "limit", l.cfg.MaxEpochCatchUp)
			s.net.NextEpochAt = now.Add(period)
		}
		s.touchNet()
		return ran, nil
	})
}

// epoch allocates pool and pays out pending rewards. It checks every total
// for overflow before it changes anything.
func (l *Ledger) epoch(s *state, pool uint64, at time.Time, scheduled bool) (EpochResult, error) {
	cands := make([]rewards.Candidate, 0, len(s.nodes))
	for _, n := range s.nodes {
		cands = append(cands, rewards.Candidate{
			NodeID:   n.ID,
			Bonded:   n.Stake.Bonded,
			Score:    n.Reputation.Score,
			Reliable: l.cfg.Reputation.Reliable(n.Reputation.Score),
			Uptime:   rewards.Uptime(n.Reputation.EpochLive, n.Reputation.EpochMissed),
		})
	}
	allocs := rewards.Allocate(l.cfg.Rewards, pool, cands)
	if s.net.RewardsAllocated > stake.MaxAmount-pool {
		return EpochResult{}, unprocessable("amount_overflow", "pool", stake.ErrOverflow)
	}
	for _, a := range allocs {
		if s.nodes[a.NodeID].Rewards.Earned > stake.MaxAmount-a.Total() {
			return EpochResult{}, unprocessable("amount_overflow", "pool", stake.ErrOverflow)
		}
	}

	res := EpochResult{Number: s.net.Epoch + 1, At: at, Pool: pool, Scheduled: scheduled}
	fromPool := make(map[string]uint64, len(allocs))
	for _, a := range allocs {
		n := s.nodes[a.NodeID]
		t := a.Total()
		if t == 0 {
			continue
		}
		n.Rewards.Pending += t
		n.Rewards.Earned += t
		n.Rewards.LastRewardAt = at
		fromPool[a.NodeID] = t
		s.net.RewardsAllocated += t
		res.Allocated += t
		res.BaseAmount += a.Base
		res.Bonus += a.Bonus
		res.Recipients++
		if a.Base > 0 {
			s.net.Distributions[string(RewardBase)]++
			s.emit(Effect{Kind: EffectRewardAllocated, NodeID: a.NodeID, Type: string(RewardBase), Amount: a.Base})
		}
		if a.Bonus > 0 {
			res.UptimeBonuses++
			s.net.UptimeBonuses++
			s.net.Distributions[string(RewardUptime)]++
			s.emit(Effect{Kind: EffectRewardAllocated, NodeID: a.NodeID, Type: string(RewardUptime), Amount: a.Bonus})
		}
	}

	ids := make([]string, 0, len(s.nodes))
	for id := range s.nodes {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		n := s.nodes[id]
		if p := n.Rewards.Pending; p > 0 {
			if n.PayoutAddress != "" {
				n.Rewards.Paid += p
				n.Rewards.Pending = 0
				n.Rewards.LastPaidAt = at
				n.Rewards.LastFailure = ""
				s.net.RewardsPaid += p
				s.net.Payouts++
				res.Paid += p
				res.PaidFromPool += fromPool[id]
				s.emit(Effect{Kind: EffectPayout, NodeID: id, Amount: p})
			} else {
				n.Rewards.FailedPayouts++
				n.Rewards.LastFailure = FailureNoPayoutAddress
				s.net.FailedPayouts[FailureNoPayoutAddress]++
				res.FailedPayouts++
				s.emit(Effect{Kind: EffectPayoutFailed, NodeID: id, Type: FailureNoPayoutAddress, Amount: p})
			}
		}
		n.Reputation.EpochLive, n.Reputation.EpochMissed = 0, 0
		s.touch(id)
	}
	res.Efficiency = float64(res.PaidFromPool) / float64(pool)
	s.net.Epoch = res.Number
	s.net.LastEpoch = &res
	s.touchNet()
	s.emit(Effect{Kind: EffectEpoch, Amount: pool, Count: res.Number})
	return res, nil
}

// PruneIdempotency forgets idempotency keys older than the configured TTL.
// Keys live in the store only; pruning is one store transaction beside the
// committer's, and touches only keys far older than any in flight.
func (l *Ledger) PruneIdempotency(ctx context.Context) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	cutoff := l.now().Add(-l.cfg.IdempotencyTTL)
	return l.store.PruneIdem(func(b []byte) bool {
		var r idemRecord
		if err := json.Unmarshal(b, &r); err != nil {
			return true // unreadable: drop it rather than keep it forever
		}
		return r.At.Before(cutoff)
	})
}
