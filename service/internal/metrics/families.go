package metrics

import (
	"fmt"
	"slices"
	"strings"

	"github.com/cretoai/monitor/service/catalog"
	"github.com/cretoai/monitor/service/internal/ledger"
	"github.com/cretoai/monitor/service/internal/reputation"
)

// emitFunc receives one sample: up to two label values, in the order of the
// family's (sorted) label names, and the value.
type emitFunc func(lv1, lv2 string, v float64)

// stateFamily is a family computed at scrape time from a snapshot.
type stateFamily struct {
	catalog.Metric
	// each emits every sample in the order client_golang would emit it:
	// sorted by label values in sorted-label-name order.
	each func(s *snapshot, emit emitFunc)
}

func scalar(name string, value func(s *snapshot) float64) stateFamily {
	return stateFamily{Metric: mustLookup(name), each: func(s *snapshot, emit emitFunc) { emit("", "", value(s)) }}
}

func perNode(name string, value func(s *snapshot, i int) float64) stateFamily {
	return stateFamily{Metric: mustLookup(name), each: func(s *snapshot, emit emitFunc) {
		for _, i := range s.order {
			emit(s.ids[i], "", value(s, i))
		}
	}}
}

func mustLookup(name string) catalog.Metric {
	m, ok := catalog.Lookup(name)
	if !ok {
		panic("metrics: " + name + " is not in the catalog")
	}
	m.Labels = slices.Sorted(slices.Values(m.Labels))
	return m
}

// stateFamilies are every state family, sorted by name (the order
// client_golang emits families in).
var stateFamilies = func() []stateFamily {
	fs := []stateFamily{
		perNode(catalog.ReputationScore, func(s *snapshot, i int) float64 { return s.score[i] }),
		scalar(catalog.ReputationMean, func(s *snapshot) float64 { return s.agg.stats.Mean }),
		scalar(catalog.ReputationMedian, func(s *snapshot) float64 { return s.agg.stats.Median }),
		scalar(catalog.ReputationHighestScore, func(s *snapshot) float64 { return s.agg.stats.Highest }),
		scalar(catalog.ReputationLowestScore, func(s *snapshot) float64 { return s.agg.stats.Lowest }),
		scalar(catalog.ReputationNodesAbove, func(s *snapshot) float64 { return float64(s.agg.above) }),
		scalar(catalog.ReputationNodesBelow, func(s *snapshot) float64 { return float64(s.agg.below) }),
		scalar(catalog.ReputationTotalNodes, func(s *snapshot) float64 { return float64(len(s.ids)) }),
		scalar(catalog.ReputationThreshold, func(s *snapshot) float64 { return s.threshold }),
		perNode(catalog.ReputationLastEventTimestamp, func(s *snapshot, i int) float64 { return s.lastEvent[i] }),
		{Metric: mustLookup(catalog.ReputationEvents), each: func(s *snapshot, emit emitFunc) {
			// labels: event_type, node_id
			for _, t := range eventOrder {
				name := string(reputation.EventTypes[t])
				for _, i := range s.order {
					emit(name, s.ids[i], float64(s.events[i][t]))
				}
			}
		}},
		{Metric: mustLookup(catalog.ReputationViolations), each: func(s *snapshot, emit emitFunc) {
			// labels: node_id, violation_type
			for _, i := range s.order {
				for _, t := range violationOrder {
					emit(s.ids[i], string(reputation.ViolationTypes[t]), float64(s.violations[i][t]))
				}
			}
		}},

		scalar(catalog.StakeBondedAmount, func(s *snapshot) float64 { return s.agg.bonded }),
		perNode(catalog.StakePerNode, func(s *snapshot, i int) float64 { return float64(s.bonded[i]) }),
		perNode(catalog.StakeActiveDeposits, func(s *snapshot, i int) float64 { return float64(s.active[i]) }),
		scalar(catalog.StakeAverage, func(s *snapshot) float64 { return s.agg.average }),
		scalar(catalog.StakePendingWithdrawal, func(s *snapshot) float64 { return float64(s.agg.pendingWithdrawals) }),
		scalar(catalog.StakeUnbondingAmount, func(s *snapshot) float64 { return s.agg.unbonding }),
		scalar(catalog.StakeDeposits, func(s *snapshot) float64 { return float64(s.net.deposits) }),
		scalar(catalog.StakeWithdrawals, func(s *snapshot) float64 { return float64(s.net.withdrawalRequests) }),
		{Metric: mustLookup(catalog.StakeSlashed), each: func(s *snapshot, emit emitFunc) {
			for _, t := range violationOrder {
				emit(string(reputation.ViolationTypes[t]), "", float64(s.net.slashedByType[t]))
			}
		}},
		scalar(catalog.StakeDepositedValue, func(s *snapshot) float64 { return float64(s.net.deposited) }),
		scalar(catalog.StakeWithdrawnValue, func(s *snapshot) float64 { return float64(s.net.withdrawn) }),

		scalar(catalog.RewardsPendingAmount, func(s *snapshot) float64 { return s.agg.pendingRewards }),
		scalar(catalog.RewardsUniqueRecipients, func(s *snapshot) float64 { return s.net.recipients }),
		scalar(catalog.RewardsDistributionEfficiency, func(s *snapshot) float64 { return s.net.effic }),
		perNode(catalog.RewardsPendingPerNode, func(s *snapshot, i int) float64 { return float64(s.pending[i]) }),
		perNode(catalog.RewardsPerNode, func(s *snapshot, i int) float64 { return float64(s.earned[i]) }),
		scalar(catalog.RewardsDistributedValue, func(s *snapshot) float64 { return float64(s.net.paid) }),
		scalar(catalog.RewardsAllocatedValue, func(s *snapshot) float64 { return float64(s.net.allocated) }),
		scalar(catalog.RewardsUptimeBonuses, func(s *snapshot) float64 { return float64(s.net.uptimeBonuses) }),
		{Metric: mustLookup(catalog.RewardsDistributions), each: func(s *snapshot, emit emitFunc) {
			for _, t := range rewardOrder {
				emit(string(ledger.RewardTypes[t]), "", float64(s.net.distributions[t]))
			}
		}},
		{Metric: mustLookup(catalog.RewardsFailed), each: func(s *snapshot, emit emitFunc) {
			for _, r := range reasonOrder {
				emit(ledger.FailureReasons[r], "", float64(s.net.failed[r]))
			}
		}},
		scalar(catalog.RewardsCurrentEpoch, func(s *snapshot) float64 { return float64(s.net.epoch) }),
		scalar(catalog.RewardsLastDistribution, func(s *snapshot) float64 { return s.net.lastEpochAt }),
		scalar(catalog.RewardsPayouts, func(s *snapshot) float64 { return float64(s.net.payouts) }),
	}
	slices.SortFunc(fs, func(a, b stateFamily) int { return strings.Compare(a.Name, b.Name) })
	return fs
}()

// selectFamilies returns the state families without the disabled per-node
// ones. Only per-node families can be disabled.
func selectFamilies(disabled []string) ([]stateFamily, error) {
	off := map[string]bool{}
	for _, name := range disabled {
		m, ok := catalog.Lookup(name)
		if !ok || !m.PerNode {
			return nil, fmt.Errorf("metrics: %q is not a per-node family; these can be disabled: %s", name, strings.Join(PerNodeFamilies(), ", "))
		}
		off[name] = true
	}
	var out []stateFamily
	for _, f := range stateFamilies {
		if !off[f.Name] {
			out = append(out, f)
		}
	}
	return out, nil
}

// PerNodeFamilies lists the families that carry a node_id label.
func PerNodeFamilies() []string {
	var out []string
	for _, m := range catalog.Domain {
		if m.PerNode {
			out = append(out, m.Name)
		}
	}
	return out
}
