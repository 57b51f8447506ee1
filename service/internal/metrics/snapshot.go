package metrics

import (
	"cmp"
	"iter"
	"math"
	"math/bits"
	"slices"

	"github.com/cretoai/monitor/service/internal/ledger"
	"github.com/cretoai/monitor/service/internal/reputation"
)

// snapshot is a columnar copy of what the state metrics need, taken in one
// pass under the book's read lock, so that one scrape is self-consistent
// (total = Σ per-node; above + below = total nodes). Its slices are reused
// from scrape to scrape, so a warm snapshot allocates nothing.
type snapshot struct {
	// per node, in node-id order after sortNodes
	ids        []string
	score      []float64
	lastEvent  []float64
	events     []ledger.EventCounts
	violations []ledger.ViolationCounts
	bonded     []uint64
	active     []uint32
	pending    []uint64
	earned     []uint64
	order      []int
	scratch    []float64
	out        []byte // the exposition writer's buffer, reused

	threshold float64
	agg       aggregates
	net       netTotals
}

type aggregates struct {
	stats              ledger.ScoreStats
	above, below       int
	bonded, unbonding  float64
	average            float64
	pendingWithdrawals int
	pendingRewards     float64
}

type netTotals struct {
	deposits, withdrawalRequests   uint64
	deposited, withdrawn           uint64
	slashedByType                  ledger.ViolationCounts
	paid, allocated, uptimeBonuses uint64
	payouts                        uint64
	distributions                  [2]uint64 // ledger.RewardTypes order
	failed                         []uint64  // ledger.FailureReasons order
	epoch                          uint64
	lastEpochAt, recipients, effic float64
}

// fill takes the snapshot of book.
func (s *snapshot) fill(book *ledger.Ledger) {
	s.threshold = book.Config().Reputation.Threshold
	s.ids, s.score, s.lastEvent = s.ids[:0], s.score[:0], s.lastEvent[:0]
	s.events, s.violations = s.events[:0], s.violations[:0]
	s.bonded, s.active, s.pending, s.earned = s.bonded[:0], s.active[:0], s.pending[:0], s.earned[:0]
	agg := aggregates{}
	// Sums in integers: exact, and independent of the book's (map) iteration
	// order, so an unchanged book always renders the same value.
	var bonded, unbonding, pendingRewards uint64
	book.View(func(nodes iter.Seq[*ledger.Node], _ int, net *ledger.Network) {
		for n := range nodes {
			s.ids = append(s.ids, n.ID)
			s.score = append(s.score, n.Reputation.Score)
			last := n.Reputation.LastEventAt
			if last.Before(n.RegisteredAt) {
				last = n.RegisteredAt
			}
			s.lastEvent = append(s.lastEvent, float64(last.UnixNano())/1e9)
			s.events = append(s.events, n.Reputation.Events)
			s.violations = append(s.violations, n.Reputation.Violations)
			s.bonded = append(s.bonded, n.Stake.Bonded)
			s.active = append(s.active, n.Stake.ActiveDeposits)
			s.pending = append(s.pending, n.Rewards.Pending)
			s.earned = append(s.earned, n.Rewards.Earned)
			bonded = addSat(bonded, n.Stake.Bonded)
			for _, u := range n.Stake.Unbonding {
				unbonding = addSat(unbonding, u.Amount)
			}
			agg.pendingWithdrawals += len(n.Stake.Unbonding)
			pendingRewards = addSat(pendingRewards, n.Rewards.Pending)
			if n.Reputation.Score >= s.threshold {
				agg.above++
			}
		}
		s.net.deposits, s.net.withdrawalRequests = net.Deposits, net.WithdrawalRequests
		s.net.deposited, s.net.withdrawn = net.Deposited, net.Withdrawn
		s.net.slashedByType = net.SlashedByType
		s.net.paid, s.net.allocated, s.net.uptimeBonuses = net.RewardsPaid, net.RewardsAllocated, net.UptimeBonuses
		s.net.payouts = net.Payouts
		for i, t := range ledger.RewardTypes {
			s.net.distributions[i] = net.Distributions[string(t)]
		}
		s.net.failed = s.net.failed[:0]
		for _, r := range ledger.FailureReasons {
			s.net.failed = append(s.net.failed, net.FailedPayouts[r])
		}
		s.net.epoch = net.Epoch
		s.net.lastEpochAt, s.net.recipients, s.net.effic = 0, 0, 0
		if e := net.LastEpoch; e != nil {
			s.net.lastEpochAt = float64(e.At.UnixNano()) / 1e9
			s.net.recipients = float64(e.Recipients)
			s.net.effic = e.Efficiency
		}
	})
	n := len(s.ids)
	agg.bonded, agg.unbonding, agg.pendingRewards = float64(bonded), float64(unbonding), float64(pendingRewards)
	agg.below = n - agg.above
	if n > 0 {
		agg.average = agg.bonded / float64(n)
	}
	s.sortNodes()
	// Scores in node-id order: the mean is a float sum, whose last digit
	// would otherwise change with the map iteration order from scrape to
	// scrape.
	s.scratch = s.scratch[:0]
	for _, i := range s.order {
		s.scratch = append(s.scratch, s.score[i])
	}
	agg.stats = ledger.Stats(s.scratch)
	s.agg = agg
}

// addSat returns a + b, or the largest uint64 when that overflows (a book
// within its limits never gets there).
func addSat(a, b uint64) uint64 {
	if sum, carry := bits.Add64(a, b, 0); carry == 0 {
		return sum
	}
	return math.MaxUint64
}

// sortNodes fills order with the node indexes sorted by id, the order in
// which client_golang emits the series of a family.
func (s *snapshot) sortNodes() {
	s.order = s.order[:0]
	for i := range s.ids {
		s.order = append(s.order, i)
	}
	slices.SortFunc(s.order, func(a, b int) int { return cmp.Compare(s.ids[a], s.ids[b]) })
}

// sortedIndex returns the indexes of names in ascending name order: the order
// client_golang uses for label values.
func sortedIndex[T ~string](names []T) []int {
	idx := make([]int, len(names))
	for i := range idx {
		idx[i] = i
	}
	slices.SortFunc(idx, func(a, b int) int { return cmp.Compare(names[a], names[b]) })
	return idx
}

var (
	eventOrder     = sortedIndex(reputation.EventTypes)
	violationOrder = sortedIndex(reputation.ViolationTypes)
	rewardOrder    = sortedIndex(ledger.RewardTypes)
	reasonOrder    = sortedIndex(ledger.FailureReasons)
)
