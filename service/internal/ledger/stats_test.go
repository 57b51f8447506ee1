package ledger_test

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/cretoai/monitor/service/internal/ledger"
)

// refStats is the obvious sort-based computation Stats must agree with.
func refStats(scores []float64) ledger.ScoreStats {
	n := len(scores)
	if n == 0 {
		return ledger.ScoreStats{}
	}
	sum := 0.0
	for _, s := range scores { // same order as Stats, so the same rounding
		sum += s
	}
	sorted := slices.Clone(scores)
	slices.Sort(sorted)
	median := sorted[n/2]
	if n%2 == 0 {
		median = (sorted[n/2-1] + sorted[n/2]) / 2
	}
	return ledger.ScoreStats{Count: n, Mean: sum / float64(n), Median: median, Highest: sorted[n-1], Lowest: sorted[0]}
}

func TestStats(t *testing.T) {
	tests := []struct {
		name   string
		scores []float64
		want   ledger.ScoreStats
	}{
		{"empty", nil, ledger.ScoreStats{}},
		{"empty non-nil", []float64{}, ledger.ScoreStats{}},
		{"one", []float64{0.3}, ledger.ScoreStats{Count: 1, Mean: 0.3, Median: 0.3, Highest: 0.3, Lowest: 0.3}},
		{"two", []float64{0.8, 0.2}, ledger.ScoreStats{Count: 2, Mean: 0.5, Median: 0.5, Highest: 0.8, Lowest: 0.2}},
		{"odd", []float64{0.9, 0.1, 0.5, 0.7, 0.3}, ledger.ScoreStats{Count: 5, Mean: 0.5, Median: 0.5, Highest: 0.9, Lowest: 0.1}},
		{"odd unsorted skewed", []float64{1, 0, 0, 0.25, 0}, ledger.ScoreStats{Count: 5, Mean: 0.25, Median: 0, Highest: 1, Lowest: 0}},
		{"even", []float64{0.75, 0, 1, 0.25}, ledger.ScoreStats{Count: 4, Mean: 0.5, Median: 0.5, Highest: 1, Lowest: 0}},
		{"even with middle pair apart", []float64{1, 0.25, 0.5, 0, 0.75, 0.5}, ledger.ScoreStats{Count: 6, Mean: 0.5, Median: 0.5, Highest: 1, Lowest: 0}},
		{"even middle values differ", []float64{0.125, 1, 0.375, 0}, ledger.ScoreStats{Count: 4, Mean: 0.375, Median: 0.25, Highest: 1, Lowest: 0}},
		{"duplicates", []float64{0.5, 0.5, 0.5, 0.5}, ledger.ScoreStats{Count: 4, Mean: 0.5, Median: 0.5, Highest: 0.5, Lowest: 0.5}},
		{"duplicates around the middle", []float64{0.5, 1, 0.5, 0, 0.5, 0.5, 1}, ledger.ScoreStats{Count: 7, Mean: 4.0 / 7, Median: 0.5, Highest: 1, Lowest: 0}},
		{"even with duplicate upper middle", []float64{0, 1, 1, 1}, ledger.ScoreStats{Count: 4, Mean: 0.75, Median: 1, Highest: 1, Lowest: 0}},
		{"even with duplicate lower middle", []float64{0, 0, 0, 1}, ledger.ScoreStats{Count: 4, Mean: 0.25, Median: 0, Highest: 1, Lowest: 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ledger.Stats(slices.Clone(tt.scores))
			if got.Count != tt.want.Count || !near(got.Mean, tt.want.Mean) || got.Median != tt.want.Median ||
				got.Highest != tt.want.Highest || got.Lowest != tt.want.Lowest {
				t.Fatalf("Stats(%v) = %+v, want %+v", tt.scores, got, tt.want)
			}
			for _, v := range []float64{got.Mean, got.Median, got.Highest, got.Lowest} {
				if math.IsNaN(v) || math.IsInf(v, 0) {
					t.Fatalf("Stats(%v) = %+v has a non-finite field", tt.scores, got)
				}
			}
		})
	}
}

func TestStatsAgainstSort(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 13))
	gens := []struct {
		name string
		gen  func(n int) []float64
	}{
		{"uniform", func(n int) []float64 {
			xs := make([]float64, n)
			for i := range xs {
				xs[i] = r.Float64()
			}
			return xs
		}},
		{"few distinct values", func(n int) []float64 {
			xs := make([]float64, n)
			for i := range xs {
				xs[i] = float64(r.IntN(4)) / 4
			}
			return xs
		}},
		{"two values", func(n int) []float64 {
			xs := make([]float64, n)
			for i := range xs {
				xs[i] = float64(r.IntN(2))
			}
			return xs
		}},
		{"all equal", func(n int) []float64 {
			xs := make([]float64, n)
			v := r.Float64()
			for i := range xs {
				xs[i] = v
			}
			return xs
		}},
		{"sorted", func(n int) []float64 {
			xs := make([]float64, n)
			for i := range xs {
				xs[i] = r.Float64()
			}
			slices.Sort(xs)
			return xs
		}},
		{"reverse sorted", func(n int) []float64 {
			xs := make([]float64, n)
			for i := range xs {
				xs[i] = r.Float64()
			}
			slices.Sort(xs)
			slices.Reverse(xs)
			return xs
		}},
		{"organ pipe", func(n int) []float64 {
			xs := make([]float64, n)
			for i := range xs {
				xs[i] = float64(min(i, n-1-i)) / float64(n)
			}
			return xs
		}},
	}
	for _, g := range gens {
		t.Run(g.name, func(t *testing.T) {
			for i := range 2_000 {
				n := 1 + r.IntN(60)
				if i%100 == 0 {
					n = 1 + r.IntN(3_000)
				}
				xs := g.gen(n)
				want := refStats(xs)
				got := ledger.Stats(slices.Clone(xs))
				if got != want {
					t.Fatalf("case %d: Stats(%v) = %+v, want %+v", i, xs, got, want)
				}
			}
		})
	}
}

func TestStatsKeepsValues(t *testing.T) {
	// Stats may reorder its input but must not lose or change values.
	xs := []float64{0.9, 0.1, 0.5, 0.5, 0.3, 0.7}
	in := slices.Clone(xs)
	ledger.Stats(in)
	slices.Sort(in)
	slices.Sort(xs)
	if !slices.Equal(in, xs) {
		t.Fatalf("Stats changed the values: %v, want a permutation of %v", in, xs)
	}
}
