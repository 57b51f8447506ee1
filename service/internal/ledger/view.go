package ledger

import (
	"cmp"
	"iter"
	"math"
	"slices"
	"time"

	"github.com/cretoai/monitor/service/internal/rewards"
)

// Node returns a copy of one node's committed state.
func (l *Ledger) Node(id string) (Node, bool) {
	l.mu.RLock()
	defer l.mu.RUnlock()
	n, ok := l.st.nodes[id]
	if !ok {
		return Node{}, false
	}
	return n.clone(), true
}

// Get returns a copy of one node's committed state, or the *Error an
// operation on it would give: invalid_node_id or node_not_found.
func (l *Ledger) Get(id string) (Node, error) {
	if err := checkNodeID(id); err != nil {
		return Node{}, err
	}
	n, ok := l.Node(id)
	if !ok {
		return Node{}, notFound(id)
	}
	return n, nil
}

// Snapshot is a consistent copy of the whole book at one instant.
type Snapshot struct {
	At      time.Time
	Nodes   []Node // sorted by ID
	Network Network
}

// Snapshot copies the committed book.
func (l *Ledger) Snapshot() Snapshot {
	l.mu.RLock()
	nodes := make([]Node, 0, len(l.st.nodes))
	for _, n := range l.st.nodes {
		nodes = append(nodes, n.clone())
	}
	net := l.st.net.clone()
	l.mu.RUnlock()
	slices.SortFunc(nodes, func(a, b Node) int { return cmp.Compare(a.ID, b.ID) })
	return Snapshot{At: l.now(), Nodes: nodes, Network: net}
}

// NodeCount is the number of tracked nodes.
func (l *Ledger) NodeCount() int {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return len(l.st.nodes)
}

// Uptime is the node's uptime in the current epoch so far.
func (n *Node) Uptime() float64 {
	return rewards.Uptime(n.Reputation.EpochLive, n.Reputation.EpochMissed)
}

// ScoreStats are the aggregates of a set of scores. With no scores every
// field is 0, never NaN.
type ScoreStats struct {
	Count   int     `json:"count"`
	Mean    float64 `json:"mean"`
	Median  float64 `json:"median"`
	Highest float64 `json:"highest"`
	Lowest  float64 `json:"lowest"`
}

// Stats computes ScoreStats in O(n) expected time. It reorders scores.
func Stats(scores []float64) ScoreStats {
	n := len(scores)
	if n == 0 {
		return ScoreStats{}
	}
	st := ScoreStats{Count: n, Highest: math.Inf(-1), Lowest: math.Inf(1)}
	sum := 0.0
	for _, s := range scores {
		sum += s
		st.Highest = max(st.Highest, s)
		st.Lowest = min(st.Lowest, s)
	}
	st.Mean = sum / float64(n)
	if n%2 == 1 {
		st.Median = selectK(scores, n/2)
	} else {
		hi := selectK(scores, n/2)
		// After selectK the lower half holds the n/2 smallest values; the
		// other middle value is their maximum.
		lo := math.Inf(-1)
		for _, s := range scores[:n/2] {
			lo = max(lo, s)
		}
		st.Median = (lo + hi) / 2
	}
	return st
}

// selectK returns the k-th smallest value (0-based) and partitions xs so that
// xs[:k] ≤ xs[k] ≤ xs[k+1:] (Hoare's quickselect, median-of-three pivot).
func selectK(xs []float64, k int) float64 {
	lo, hi := 0, len(xs)-1
	for lo < hi {
		mid := lo + (hi-lo)/2
		// median of three to xs[mid]
		if xs[mid] < xs[lo] {
			xs[mid], xs[lo] = xs[lo], xs[mid]
		}
		if xs[hi] < xs[lo] {
			xs[hi], xs[lo] = xs[lo], xs[hi]
		}
		if xs[hi] < xs[mid] {
			xs[hi], xs[mid] = xs[mid], xs[hi]
		}
		pivot := xs[mid]
		i, j := lo, hi
		for i <= j {
			for xs[i] < pivot {
				i++
			}
			for xs[j] > pivot {
				j--
			}
			if i <= j {
				xs[i], xs[j] = xs[j], xs[i]
				i++
				j--
			}
		}
		switch {
		case k <= j:
			hi = j
		case k >= i:
			lo = i
		default:
			return xs[k]
		}
	}
	return xs[k]
}

// Summary is the network at a glance.
type Summary struct {
	At         time.Time      `json:"at"`
	Nodes      NodeCounts     `json:"nodes"`
	Reputation ScoreSummary   `json:"reputation"`
	Stake      StakeSummary   `json:"stake"`
	Rewards    RewardsSummary `json:"rewards"`
}

// NodeCounts counts nodes by reliability.
type NodeCounts struct {
	Total      int `json:"total"`
	Reliable   int `json:"reliable"`
	Unreliable int `json:"unreliable"`
}

// ScoreSummary aggregates scores.
type ScoreSummary struct {
	ScoreStats
	Threshold float64 `json:"threshold"`
}

// StakeSummary is the network's stake. Bonded and Unbonding are sums over the
// tracked nodes; the cumulative totals include removed nodes, so
// Deposited − Withdrawn − Slashed = Bonded + Unbonding.
type StakeSummary struct {
	Bonded             uint64  `json:"bonded"`
	Unbonding          uint64  `json:"unbonding"`
	PendingWithdrawals int     `json:"pending_withdrawals"`
	Average            float64 `json:"average_bonded"`
	Deposited          uint64  `json:"deposited"`
	Withdrawn          uint64  `json:"withdrawn"`
	Slashed            uint64  `json:"slashed"`
}

// RewardsSummary is the network's rewards. Allocated = Paid + Pending +
// Forfeited.
type RewardsSummary struct {
	Epoch       uint64       `json:"epoch"`
	NextEpochAt time.Time    `json:"next_epoch_at"`
	Pending     uint64       `json:"pending"`
	Paid        uint64       `json:"paid"`
	Allocated   uint64       `json:"allocated"`
	Forfeited   uint64       `json:"forfeited"`
	LastEpoch   *EpochResult `json:"last_epoch,omitempty"`
}

// Summarize computes the network summary of a snapshot.
func (l *Ledger) Summarize(sn Snapshot) Summary {
	sum := Summary{At: sn.At}
	scores := make([]float64, 0, len(sn.Nodes))
	for i := range sn.Nodes {
		n := &sn.Nodes[i]
		scores = append(scores, n.Reputation.Score)
		if l.cfg.Reputation.Reliable(n.Reputation.Score) {
			sum.Nodes.Reliable++
		}
		sum.Stake.Bonded += n.Stake.Bonded
		sum.Stake.Unbonding += n.Stake.UnbondingTotal()
		sum.Stake.PendingWithdrawals += len(n.Stake.Unbonding)
		sum.Rewards.Pending += n.Rewards.Pending
	}
	sum.Nodes.Total = len(sn.Nodes)
	sum.Nodes.Unreliable = sum.Nodes.Total - sum.Nodes.Reliable
	sum.Reputation = ScoreSummary{ScoreStats: Stats(scores), Threshold: l.cfg.Reputation.Threshold}
	if sum.Nodes.Total > 0 {
		sum.Stake.Average = float64(sum.Stake.Bonded) / float64(sum.Nodes.Total)
	}
	net := sn.Network
	sum.Stake.Deposited, sum.Stake.Withdrawn, sum.Stake.Slashed = net.Deposited, net.Withdrawn, net.Slashed
	sum.Rewards.Epoch = net.Epoch
	sum.Rewards.NextEpochAt = net.NextEpochAt
	sum.Rewards.Paid = net.RewardsPaid
	sum.Rewards.Allocated = net.RewardsAllocated
	sum.Rewards.Forfeited = net.RewardsForfeited
	sum.Rewards.LastEpoch = net.LastEpoch
	return sum
}

// View calls fn with read access to the committed book under the read lock:
// nodes yields every tracked node in no particular order. fn must be quick,
// must not modify or retain what it is given, and must not call into the
// ledger. It lets readers such as the metrics exposition take one consistent
// pass over the book without copying it.
func (l *Ledger) View(fn func(nodes iter.Seq[*Node], count int, net *Network)) {
	l.mu.RLock()
	defer l.mu.RUnlock()
	fn(func(yield func(*Node) bool) {
		for _, n := range l.st.nodes {
			if !yield(n) {
				return
			}
		}
	}, len(l.st.nodes), &l.st.net)
}
