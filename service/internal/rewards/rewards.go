// Package rewards holds the reward arithmetic of an epoch: a pool is split
// among eligible nodes in proportion to bonded stake × reputation score, and a
// share of it goes to nodes with high uptime as a bonus. Splits are exact
// integer arithmetic: the parts always sum to the amount split.
package rewards

import (
	"cmp"
	"math"
	"math/big"
	"slices"
)

// PPM is the denominator of the bonus share.
const PPM = 1_000_000

// scoreScale turns a score in [0, 1] into an integer weight factor.
const scoreScale = 1_000_000

// Candidate is one node as the epoch sees it.
type Candidate struct {
	NodeID string
	Bonded uint64
	Score  float64
	// Reliable is the node's reliability at epoch time.
	Reliable bool
	// Uptime is the share of live events among all events in the epoch.
	Uptime float64
}

// Eligible reports whether the candidate takes part in the split.
func (c Candidate) Eligible() bool { return c.Bonded > 0 && c.Reliable }

// Allocation is what one node receives in an epoch.
type Allocation struct {
	NodeID string
	Base   uint64
	Bonus  uint64
}

// Total is base plus bonus.
func (a Allocation) Total() uint64 { return a.Base + a.Bonus }

// Params are the configured reward rules.
type Params struct {
	// BonusPPM is the share of the pool, in parts per million, reserved for
	// nodes whose uptime reaches UptimeThreshold.
	BonusPPM uint32
	// UptimeThreshold is the uptime at or above which a node earns the bonus.
	UptimeThreshold float64
}

// Uptime is the share of live events among all events, 0 with no events.
func Uptime(live, missed uint64) float64 {
	if live+missed == 0 {
		return 0
	}
	return float64(live) / float64(live+missed)
}

// Allocate splits pool among the eligible candidates. The bonus share goes to
// eligible candidates with uptime at or above the threshold; when none
// qualifies it joins the base split, so the whole pool is allocated whenever
// any node is eligible. The result lists eligible nodes only, in NodeID order,
// and its totals sum exactly to pool (or to 0 when nobody is eligible).
func Allocate(p Params, pool uint64, cands []Candidate) []Allocation {
	var eligible, bonusOK []Candidate
	for _, c := range cands {
		if c.Eligible() {
			eligible = append(eligible, c)
		}
	}
	if len(eligible) == 0 {
		return nil
	}
	slices.SortFunc(eligible, func(a, b Candidate) int { return cmp.Compare(a.NodeID, b.NodeID) })
	for _, c := range eligible {
		if c.Uptime >= p.UptimeThreshold {
			bonusOK = append(bonusOK, c)
		}
	}
	bonus := uint64(0)
	if len(bonusOK) > 0 {
		bonus = mulPPM(pool, p.BonusPPM)
	}
	out := make([]Allocation, len(eligible))
	for i, part := range Split(pool-bonus, weights(eligible)) {
		out[i] = Allocation{NodeID: eligible[i].NodeID, Base: part}
	}
	if bonus > 0 {
		parts := Split(bonus, weights(bonusOK))
		j := 0
		for i := range out {
			if j < len(bonusOK) && out[i].NodeID == bonusOK[j].NodeID {
				out[i].Bonus = parts[j]
				j++
			}
		}
	}
	return out
}

func weights(cs []Candidate) []*big.Int {
	w := make([]*big.Int, len(cs))
	for i, c := range cs {
		s := uint64(math.Round(c.Score * scoreScale))
		w[i] = new(big.Int).Mul(new(big.Int).SetUint64(c.Bonded), new(big.Int).SetUint64(s))
	}
	return w
}

// Split divides amount in proportion to weights by the largest-remainder
// method: each part is floor(amount × w / Σw), and the units left over go one
// each to the parts with the largest remainders (ties to the lower index).
// The parts sum exactly to amount. With all weights zero the amount is split
// evenly the same way.
func Split(amount uint64, weights []*big.Int) []uint64 {
	n := len(weights)
	parts := make([]uint64, n)
	if n == 0 || amount == 0 {
		return parts
	}
	total := new(big.Int)
	for _, w := range weights {
		total.Add(total, w)
	}
	if total.Sign() == 0 {
		even := make([]*big.Int, n)
		for i := range even {
			even[i] = big.NewInt(1)
		}
		return Split(amount, even)
	}
	a := new(big.Int).SetUint64(amount)
	rems := make([]*big.Int, n)
	var given uint64
	for i, w := range weights {
		q, r := new(big.Int).QuoRem(new(big.Int).Mul(a, w), total, new(big.Int))
		parts[i] = q.Uint64()
		rems[i] = r
		given += parts[i]
	}
	order := make([]int, n)
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(x, y int) int { return rems[y].Cmp(rems[x]) })
	for k := 0; given < amount; k++ {
		parts[order[k%n]]++
		given++
	}
	return parts
}

func mulPPM(amount uint64, ppm uint32) uint64 {
	if ppm >= PPM {
		return amount
	}
	return new(big.Int).Div(new(big.Int).Mul(new(big.Int).SetUint64(amount), big.NewInt(int64(ppm))), big.NewInt(PPM)).Uint64()
}
