package rewards

import (
	"math"
	"math/big"
	"math/rand/v2"
	"reflect"
	"testing"
)

func ints(ws ...int64) []*big.Int {
	out := make([]*big.Int, len(ws))
	for i, w := range ws {
		out[i] = big.NewInt(w)
	}
	return out
}

func TestSplitHandChecked(t *testing.T) {
	tests := []struct {
		name    string
		amount  uint64
		weights []*big.Int
		want    []uint64
	}{
		{"exact proportions", 7, ints(1, 2, 4), []uint64{1, 2, 4}},
		{"no remainder", 10, ints(1, 2, 2), []uint64{2, 4, 4}},
		{"one leftover, equal remainders, lowest index", 10, ints(1, 1, 1), []uint64{4, 3, 3}},
		{"one leftover of a hundred", 100, ints(1, 1, 1), []uint64{34, 33, 33}},
		{"two leftovers, equal remainders, two lowest indexes", 2, ints(1, 1, 1), []uint64{1, 1, 0}},
		// 5·3/10 = 1 r5, 5·3/10 = 1 r5, 5·4/10 = 2 r0: the tie at r5 goes to index 0.
		{"tie between largest remainders goes to lower index", 5, ints(3, 3, 4), []uint64{2, 1, 2}},
		// 11·w/10: remainders 1, 2, 3, 4 — the unit goes to the last.
		{"largest remainder wins over lower index", 11, ints(1, 2, 3, 4), []uint64{1, 2, 3, 5}},
		// 3·5/10 = 1 r5, 0 r0, 1 r5: tie between 0 and 2 goes to 0.
		{"zero weight skipped by tie", 3, ints(5, 0, 5), []uint64{2, 0, 1}},
		// 7·w/12: 0 r7, 1 r2, 2 r4, 2 r11 → given 5, two left: r11 (idx 3) then r7 (idx 0).
		{"two leftovers by remainder order", 7, ints(1, 2, 4, 5), []uint64{1, 1, 2, 3}},
		{"zero weights get nothing", 2, ints(0, 1, 1, 0), []uint64{0, 1, 1, 0}},
		{"single weight takes all", 12345, ints(9), []uint64{12345}},
		{"all zero weights split evenly", 7, ints(0, 0, 0), []uint64{3, 2, 2}},
		{"all zero weights, fewer units than parts", 2, ints(0, 0, 0, 0), []uint64{1, 1, 0, 0}},
		{"amount zero", 0, ints(1, 2, 3), []uint64{0, 0, 0}},
		{"no weights", 100, nil, []uint64{}},
		{"max amount one weight", math.MaxUint64, ints(1), []uint64{math.MaxUint64}},
		{"max amount two equal weights", math.MaxUint64, ints(1, 1), []uint64{1 << 63, 1<<63 - 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Split(tt.amount, tt.weights)
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("Split(%d, %v) = %v, want %v", tt.amount, tt.weights, got, tt.want)
			}
		})
	}
}

// TestSplitRandom checks on many random weight sets that the parts sum
// exactly to the amount and that each part is floor(amount·w/Σw) or one more.
func TestSplitRandom(t *testing.T) {
	r := rand.New(rand.NewPCG(2024, 42))
	for i := range 5_000 {
		n := 1 + r.IntN(40)
		weights := make([]*big.Int, n)
		total := new(big.Int)
		for j := range weights {
			var w *big.Int
			switch r.IntN(5) {
			case 0:
				w = new(big.Int) // zero
			case 1:
				w = big.NewInt(int64(r.IntN(10))) // small, many ties
			case 2:
				// bonded × score-scale products, as Allocate builds them
				w = new(big.Int).Mul(new(big.Int).SetUint64(r.Uint64N(1<<63)), big.NewInt(int64(r.IntN(1_000_001))))
			default:
				w = new(big.Int).SetUint64(r.Uint64())
			}
			weights[j] = w
			total.Add(total, w)
		}
		var amount uint64
		switch r.IntN(3) {
		case 0:
			amount = r.Uint64N(100)
		case 1:
			amount = r.Uint64N(10_000_000)
		default:
			amount = r.Uint64()
		}
		parts := Split(amount, weights)
		if len(parts) != n {
			t.Fatalf("case %d: %d parts for %d weights", i, len(parts), n)
		}
		sum := new(big.Int)
		for j, p := range parts {
			sum.Add(sum, new(big.Int).SetUint64(p))
			var floor *big.Int
			if total.Sign() == 0 {
				floor = new(big.Int).SetUint64(amount / uint64(n))
			} else {
				floor = new(big.Int).Mul(new(big.Int).SetUint64(amount), weights[j])
				floor.Quo(floor, total)
			}
			d := new(big.Int).Sub(new(big.Int).SetUint64(p), floor)
			if d.Sign() < 0 || d.Cmp(big.NewInt(1)) > 0 {
				t.Fatalf("case %d: part %d = %d, want %s or one more (amount %d, weights %v)", i, j, p, floor, amount, weights)
			}
		}
		if sum.Cmp(new(big.Int).SetUint64(amount)) != 0 {
			t.Fatalf("case %d: parts sum to %s, want %d (weights %v)", i, sum, amount, weights)
		}
	}
}

func TestUptime(t *testing.T) {
	tests := []struct {
		live, missed uint64
		want         float64
	}{
		{0, 0, 0},
		{0, 5, 0},
		{5, 0, 1},
		{3, 1, 0.75},
		{19, 1, 0.95},
	}
	for _, tt := range tests {
		if got := Uptime(tt.live, tt.missed); got != tt.want {
			t.Errorf("Uptime(%d, %d) = %v, want %v", tt.live, tt.missed, got, tt.want)
		}
	}
}

func TestAllocate(t *testing.T) {
	params := Params{BonusPPM: 100_000, UptimeThreshold: 0.95}
	tests := []struct {
		name   string
		params Params
		pool   uint64
		cands  []Candidate
		want   []Allocation
	}{
		{
			name:   "only eligible nodes, bonus only to high uptime",
			params: params,
			pool:   1_000_000,
			cands: []Candidate{
				{NodeID: "d-unreliable", Bonded: 5_000, Score: 0.6, Reliable: false, Uptime: 1},
				{NodeID: "b", Bonded: 3_000, Score: 0.8, Reliable: true, Uptime: 0.5},
				{NodeID: "c-no-stake", Bonded: 0, Score: 0.9, Reliable: true, Uptime: 1},
				{NodeID: "a", Bonded: 1_000, Score: 0.8, Reliable: true, Uptime: 1},
			},
			// base 900_000 split 1:3, bonus 100_000 to a alone.
			want: []Allocation{{"a", 225_000, 100_000}, {"b", 675_000, 0}},
		},
		{
			name:   "bonus folds into base when no node qualifies",
			params: params,
			pool:   1_000_000,
			cands: []Candidate{
				{NodeID: "a", Bonded: 1_000, Score: 0.8, Reliable: true, Uptime: 0.94},
				{NodeID: "b", Bonded: 3_000, Score: 0.8, Reliable: true, Uptime: 0},
			},
			want: []Allocation{{"a", 250_000, 0}, {"b", 750_000, 0}},
		},
		{
			name:   "uptime exactly at threshold qualifies",
			params: params,
			pool:   1_000,
			cands: []Candidate{
				{NodeID: "a", Bonded: 10, Score: 0.9, Reliable: true, Uptime: 0.95},
				{NodeID: "b", Bonded: 10, Score: 0.9, Reliable: true, Uptime: 0.9499999},
			},
			want: []Allocation{{"a", 450, 100}, {"b", 450, 0}},
		},
		{
			name:   "weight is bonded times score",
			params: Params{BonusPPM: 0, UptimeThreshold: 0.95},
			pool:   1_100,
			cands: []Candidate{
				{NodeID: "x", Bonded: 1_000, Score: 0.9, Reliable: true, Uptime: 1},
				{NodeID: "y", Bonded: 1_000, Score: 0.75, Reliable: true, Uptime: 1},
			},
			want: []Allocation{{"x", 600, 0}, {"y", 500, 0}},
		},
		{
			name:   "bonus split among qualifiers by weight",
			params: Params{BonusPPM: 500_000, UptimeThreshold: 0.9},
			pool:   1_000,
			cands: []Candidate{
				{NodeID: "n1", Bonded: 100, Score: 1, Reliable: true, Uptime: 1},
				{NodeID: "n2", Bonded: 300, Score: 1, Reliable: true, Uptime: 0.9},
				{NodeID: "n3", Bonded: 600, Score: 1, Reliable: true, Uptime: 0.1},
			},
			// base 500 split 1:3:6 = 50, 150, 300; bonus 500 split 1:3 = 125, 375.
			want: []Allocation{{"n1", 50, 125}, {"n2", 150, 375}, {"n3", 300, 0}},
		},
		{
			name:   "whole pool as bonus",
			params: Params{BonusPPM: PPM, UptimeThreshold: 0.5},
			pool:   10,
			cands: []Candidate{
				{NodeID: "a", Bonded: 1, Score: 1, Reliable: true, Uptime: 0.4},
				{NodeID: "b", Bonded: 1, Score: 1, Reliable: true, Uptime: 0.6},
			},
			want: []Allocation{{"a", 0, 0}, {"b", 0, 10}},
		},
		{
			name:   "remainder unit to lower node id on a tie",
			params: Params{BonusPPM: 0},
			pool:   3,
			cands: []Candidate{
				{NodeID: "b", Bonded: 1, Score: 0.8, Reliable: true},
				{NodeID: "a", Bonded: 1, Score: 0.8, Reliable: true},
			},
			want: []Allocation{{"a", 2, 0}, {"b", 1, 0}},
		},
		{
			name:   "nobody eligible",
			params: params,
			pool:   1_000,
			cands: []Candidate{
				{NodeID: "a", Bonded: 0, Score: 1, Reliable: true, Uptime: 1},
				{NodeID: "b", Bonded: 100, Score: 0.1, Reliable: false, Uptime: 1},
			},
			want: nil,
		},
		{name: "no candidates", params: params, pool: 1_000, cands: nil, want: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Allocate(tt.params, tt.pool, tt.cands)
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("Allocate = %+v, want %+v", got, tt.want)
			}
		})
	}
}

// TestAllocateRandom checks the rules on random candidate sets: only eligible
// nodes in NodeID order, bonus only for qualifiers, totals equal to the pool.
func TestAllocateRandom(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for i := range 2_000 {
		p := Params{BonusPPM: r.Uint32N(PPM + 1), UptimeThreshold: r.Float64()}
		pool := 1 + r.Uint64N(1<<62)
		n := r.IntN(30)
		cands := make([]Candidate, n)
		byID := map[string]Candidate{}
		anyQualifies := false
		for j := range cands {
			c := Candidate{
				NodeID:   string(rune('A' + r.IntN(26))),
				Bonded:   r.Uint64N(3) * r.Uint64N(1<<40),
				Score:    r.Float64(),
				Reliable: r.IntN(3) > 0,
				Uptime:   r.Float64(),
			}
			c.NodeID += string(rune('a'+j%26)) + string(rune('0'+j/26))
			cands[j] = c
			byID[c.NodeID] = c
			if c.Eligible() && c.Uptime >= p.UptimeThreshold {
				anyQualifies = true
			}
		}
		got := Allocate(p, pool, cands)
		var eligible int
		for _, c := range cands {
			if c.Eligible() {
				eligible++
			}
		}
		if eligible == 0 {
			if got != nil {
				t.Fatalf("case %d: nobody eligible, got %+v", i, got)
			}
			continue
		}
		if len(got) != eligible {
			t.Fatalf("case %d: %d allocations for %d eligible", i, len(got), eligible)
		}
		var total, bonus uint64
		for k, a := range got {
			c, ok := byID[a.NodeID]
			if !ok || !c.Eligible() {
				t.Fatalf("case %d: allocation to ineligible %q", i, a.NodeID)
			}
			if k > 0 && got[k-1].NodeID >= a.NodeID {
				t.Fatalf("case %d: allocations not in NodeID order", i)
			}
			if a.Bonus > 0 && c.Uptime < p.UptimeThreshold {
				t.Fatalf("case %d: bonus %d to %q with uptime %v < %v", i, a.Bonus, a.NodeID, c.Uptime, p.UptimeThreshold)
			}
			total += a.Total()
			bonus += a.Bonus
		}
		if total != pool {
			t.Fatalf("case %d: totals %d, want pool %d", i, total, pool)
		}
		wantBonus := uint64(0)
		if anyQualifies {
			wantBonus = new(big.Int).Div(new(big.Int).Mul(new(big.Int).SetUint64(pool), big.NewInt(int64(p.BonusPPM))), big.NewInt(PPM)).Uint64()
		}
		if bonus != wantBonus {
			t.Fatalf("case %d: bonus total %d, want %d", i, bonus, wantBonus)
		}
	}
}

func TestEligible(t *testing.T) {
	tests := []struct {
		c    Candidate
		want bool
	}{
		{Candidate{Bonded: 1, Reliable: true}, true},
		{Candidate{Bonded: 0, Reliable: true}, false},
		{Candidate{Bonded: 1, Reliable: false}, false},
	}
	for _, tt := range tests {
		if got := tt.c.Eligible(); got != tt.want {
			t.Errorf("%+v.Eligible() = %v, want %v", tt.c, got, tt.want)
		}
	}
}
