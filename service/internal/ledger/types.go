package ledger

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/cretoai/monitor/service/internal/reputation"
	"github.com/cretoai/monitor/service/internal/stake"
)

// EventCounts are per-type event counters in reputation.EventTypes order. In
// JSON they are an object keyed by type name.
type EventCounts [6]uint64

// ViolationCounts are per-type counters in reputation.ViolationTypes order.
type ViolationCounts [6]uint64

func init() {
	if len(reputation.EventTypes) != len(EventCounts{}) || len(reputation.ViolationTypes) != len(ViolationCounts{}) {
		panic("ledger: counter arrays do not match the reputation type lists")
	}
}

// MarshalJSON writes {"type": count, …}.
func (c EventCounts) MarshalJSON() ([]byte, error) {
	m := make(map[string]uint64, len(c))
	for i, t := range reputation.EventTypes {
		m[string(t)] = c[i]
	}
	return json.Marshal(m)
}

// UnmarshalJSON reads {"type": count, …}; unknown types are an error.
func (c *EventCounts) UnmarshalJSON(b []byte) error {
	var m map[string]uint64
	if err := json.Unmarshal(b, &m); err != nil {
		return err
	}
	*c = EventCounts{}
	for k, v := range m {
		i := reputation.EventType(k).Index()
		if i < 0 {
			return fmt.Errorf("unknown event type %q", k)
		}
		c[i] = v
	}
	return nil
}

// MarshalJSON writes {"type": count, …}.
func (c ViolationCounts) MarshalJSON() ([]byte, error) {
	m := make(map[string]uint64, len(c))
	for i, t := range reputation.ViolationTypes {
		m[string(t)] = c[i]
	}
	return json.Marshal(m)
}

// UnmarshalJSON reads {"type": count, …}; unknown types are an error.
func (c *ViolationCounts) UnmarshalJSON(b []byte) error {
	var m map[string]uint64
	if err := json.Unmarshal(b, &m); err != nil {
		return err
	}
	*c = ViolationCounts{}
	for k, v := range m {
		i := reputation.ViolationType(k).Index()
		if i < 0 {
			return fmt.Errorf("unknown violation type %q", k)
		}
		c[i] = v
	}
	return nil
}

// ViolationRecord is the last violation reported for a node.
type ViolationRecord struct {
	Type     reputation.ViolationType `json:"type"`
	At       time.Time                `json:"at"`
	Evidence string                   `json:"evidence,omitempty"`
	Slashed  uint64                   `json:"slashed"`
}

// Reputation is a node's reputation book.
type Reputation struct {
	Score       float64   `json:"score"`
	LastEventAt time.Time `json:"last_event_at"`
	// DecayedAt is when decay was last applied.
	DecayedAt     time.Time        `json:"decayed_at"`
	Events        EventCounts      `json:"events"`
	Violations    ViolationCounts  `json:"violations"`
	LastViolation *ViolationRecord `json:"last_violation,omitempty"`
	// EpochLive and EpochMissed count live and missed events since the last
	// epoch; they give the node's uptime for the uptime bonus.
	EpochLive   uint64 `json:"epoch_live"`
	EpochMissed uint64 `json:"epoch_missed"`
}

// Rewards is a node's reward book.
type Rewards struct {
	// Earned is every reward ever allocated to the node.
	Earned uint64 `json:"earned"`
	// Pending is allocated but not yet paid out.
	Pending uint64 `json:"pending"`
	// Paid is what payouts delivered.
	Paid          uint64    `json:"paid"`
	LastPaidAt    time.Time `json:"last_paid_at"`
	FailedPayouts uint64    `json:"failed_payouts"`
	LastFailure   string    `json:"last_failure,omitempty"`
	LastRewardAt  time.Time `json:"last_reward_at"`
}

// Node is the full state of one node; it is also the stored record.
type Node struct {
	ID            string        `json:"node_id"`
	PayoutAddress string        `json:"payout_address,omitempty"`
	RegisteredAt  time.Time     `json:"registered_at"`
	Reputation    Reputation    `json:"reputation"`
	Stake         stake.Account `json:"stake"`
	Rewards       Rewards       `json:"rewards"`
}

func (n *Node) clone() Node {
	c := *n
	if n.Stake.Unbonding != nil {
		c.Stake.Unbonding = append([]stake.Unbonding(nil), n.Stake.Unbonding...)
	}
	if n.Reputation.LastViolation != nil {
		v := *n.Reputation.LastViolation
		c.Reputation.LastViolation = &v
	}
	return c
}

// lastActivity is when the node last showed activity: its last event, or its
// registration.
func (n *Node) lastActivity() time.Time {
	if n.Reputation.LastEventAt.After(n.RegisteredAt) {
		return n.Reputation.LastEventAt
	}
	return n.RegisteredAt
}

// RewardType labels the two parts of an epoch allocation.
type RewardType string

// The reward types.
const (
	RewardBase   RewardType = "base"
	RewardUptime RewardType = "uptime_bonus"
)

// RewardTypes lists every reward type.
var RewardTypes = []RewardType{RewardBase, RewardUptime}

// FailureNoPayoutAddress is the payout failure reason of a node without a
// payout address; its pending rewards wait for the next epoch.
const FailureNoPayoutAddress = "no_payout_address"

// FailureReasons lists every payout failure reason.
var FailureReasons = []string{FailureNoPayoutAddress}

// EpochResult describes one reward epoch.
type EpochResult struct {
	Number uint64    `json:"number"`
	At     time.Time `json:"at"`
	Pool   uint64    `json:"pool"`
	// Allocated is the part of the pool credited to nodes (base + bonus): the
	// whole pool when any node was eligible, else 0.
	Allocated  uint64 `json:"allocated"`
	BaseAmount uint64 `json:"base_amount"`
	Bonus      uint64 `json:"bonus_amount"`
	// Recipients is the number of nodes credited in this epoch.
	Recipients    int `json:"recipients"`
	UptimeBonuses int `json:"uptime_bonuses"`
	// Paid is every amount paid out in this epoch, including retried pending
	// rewards of earlier epochs.
	Paid uint64 `json:"paid"`
	// PaidFromPool is the part of this epoch's pool paid out in this epoch.
	PaidFromPool uint64 `json:"paid_from_pool"`
	// FailedPayouts is the number of nodes whose payout failed.
	FailedPayouts int `json:"failed_payouts"`
	// Efficiency is PaidFromPool / Pool.
	Efficiency float64 `json:"efficiency"`
	// Scheduled is false for epochs run through the API.
	Scheduled bool `json:"scheduled"`
}

// Network is the book's network-wide record. Cumulative totals include nodes
// that have since been removed.
type Network struct {
	Epoch       uint64       `json:"epoch"`
	LastEpoch   *EpochResult `json:"last_epoch,omitempty"`
	NextEpochAt time.Time    `json:"next_epoch_at"`
	LastDecayAt time.Time    `json:"last_decay_at"`

	Deposited            uint64 `json:"deposited"`
	Withdrawn            uint64 `json:"withdrawn"`
	Slashed              uint64 `json:"slashed"`
	Deposits             uint64 `json:"deposits"`
	WithdrawalRequests   uint64 `json:"withdrawal_requests"`
	WithdrawalsCompleted uint64 `json:"withdrawals_completed"`
	// SlashedByType is the amount slashed per violation type, in
	// reputation.ViolationTypes order.
	SlashedByType ViolationCounts `json:"slashed_by_type"`

	RewardsAllocated uint64 `json:"rewards_allocated"`
	RewardsPaid      uint64 `json:"rewards_paid"`
	// Payouts counts successful payouts (one per node and epoch).
	Payouts uint64 `json:"payouts"`
	// RewardsForfeited is pending rewards of nodes removed before payout.
	RewardsForfeited uint64            `json:"rewards_forfeited"`
	Distributions    map[string]uint64 `json:"distributions"`
	UptimeBonuses    uint64            `json:"uptime_bonuses"`
	FailedPayouts    map[string]uint64 `json:"failed_payouts"`

	NodesRegistered uint64 `json:"nodes_registered"`
	NodesRemoved    uint64 `json:"nodes_removed"`
}

func (n *Network) clone() Network {
	c := *n
	if n.LastEpoch != nil {
		e := *n.LastEpoch
		c.LastEpoch = &e
	}
	c.Distributions = cloneMap(n.Distributions)
	c.FailedPayouts = cloneMap(n.FailedPayouts)
	return c
}

func cloneMap(m map[string]uint64) map[string]uint64 {
	c := make(map[string]uint64, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}
