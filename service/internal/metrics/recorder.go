package metrics

import (
	"math"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/cretoai/monitor/service/catalog"
	"github.com/cretoai/monitor/service/internal/ledger"
)

// Bucket layouts. Amount histograms span token amounts in base units from 1
// to 10^15 in steps of about ×3; none of them uses the default latency
// buckets.
var (
	AmountBuckets = func() []float64 {
		var b []float64
		for v := 1.0; v <= 1e15; v *= 10 {
			b = append(b, v, 3*v)
		}
		return b[:len(b)-1] // up to 1e15
	}()
	ScoreBuckets = []float64{0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1}
	// DecayBuckets span idle times from a minute to two weeks.
	DecayBuckets = []float64{60, 300, 600, 1800, 3600, 7200, 14400, 28800, 43200, 86400, 172800, 345600, 604800, 1209600}
	// CommitBuckets span fsynced commits from 100 µs to 1 s.
	CommitBuckets    = []float64{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1}
	CommitOpsBuckets = []float64{1, 2, 4, 8, 16, 32, 64, 128, 256, 512}
	ScrapeBuckets    = []float64{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}
)

func histogram(name string, buckets []float64) prometheus.Histogram {
	m := mustLookup(name)
	return prometheus.NewHistogram(prometheus.HistogramOpts{Name: m.Name, Help: m.Help, Buckets: buckets})
}

// Recorder holds the event metrics: histograms observed where the event
// happens. It is the ledger's Observer: the ledger hands it the effects of
// each commit once they are on disk. Counters of the book (events,
// violations, deposits, slashes, payouts…) are not here: they are the book's
// own persisted counts, exposed at scrape time, so they never reset.
type Recorder struct {
	decay        prometheus.Histogram
	scores       prometheus.Histogram
	deposit      prometheus.Histogram
	slashing     prometheus.Histogram
	withdrawal   prometheus.Histogram
	distribution *prometheus.HistogramVec
	byReward     map[string]prometheus.Observer
	commitTime   prometheus.Histogram
	commitOps    prometheus.Histogram
	commitFails  prometheus.Counter
}

func newRecorder() *Recorder {
	dist := mustLookup(catalog.RewardsDistributionAmount)
	fails := mustLookup(catalog.ServiceStoreCommitFailures)
	r := &Recorder{
		decay:      histogram(catalog.ReputationDecaySeconds, DecayBuckets),
		scores:     histogram(catalog.ReputationScoreDistribution, ScoreBuckets),
		deposit:    histogram(catalog.StakeDepositAmount, AmountBuckets),
		slashing:   histogram(catalog.StakeSlashingAmount, AmountBuckets),
		withdrawal: histogram(catalog.StakeWithdrawalAmount, AmountBuckets),
		distribution: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: dist.Name, Help: dist.Help, Buckets: AmountBuckets}, dist.Labels),
		commitTime:  histogram(catalog.ServiceStoreCommitDuration, CommitBuckets),
		commitOps:   histogram(catalog.ServiceStoreCommitOps, CommitOpsBuckets),
		commitFails: prometheus.NewCounter(prometheus.CounterOpts{Name: fails.Name, Help: fails.Help}),
		byReward:    map[string]prometheus.Observer{},
	}
	// Every reward type exists from the start, at zero.
	for _, t := range ledger.RewardTypes {
		r.byReward[string(t)] = r.distribution.WithLabelValues(string(t))
	}
	return r
}

func (r *Recorder) collectors() []prometheus.Collector {
	return []prometheus.Collector{r.decay, r.scores, r.deposit, r.slashing, r.withdrawal, r.distribution,
		r.commitTime, r.commitOps, r.commitFails}
}

// RecordDecay records that decay moved a node idle for idle (seed:
// record_reputation_decay).
func (r *Recorder) RecordDecay(idle time.Duration) { r.decay.Observe(idle.Seconds()) }

// RecordScore records one node's score in the score distribution.
func (r *Recorder) RecordScore(score float64) { observeFinite(r.scores, score) }

// observeFinite observes v unless it is NaN or infinite: one such value
// would leave the histogram's _sum NaN or infinite for the life of the
// process (R07). Amounts are integers and always finite.
func observeFinite(o prometheus.Observer, v float64) {
	if !math.IsNaN(v) && !math.IsInf(v, 0) {
		o.Observe(v)
	}
}

// RecordDeposit records a deposit amount (seed: record_stake_deposit).
func (r *Recorder) RecordDeposit(amount uint64) { r.deposit.Observe(float64(amount)) }

// RecordSlashing records the amount a slash took (seed: record_stake_slashing).
func (r *Recorder) RecordSlashing(amount uint64) { r.slashing.Observe(float64(amount)) }

// RecordWithdrawal records a withdrawal request amount (seed:
// record_stake_withdrawal).
func (r *Recorder) RecordWithdrawal(amount uint64) { r.withdrawal.Observe(float64(amount)) }

// RecordRewardDistribution records a reward allocation of one type (seed:
// record_reward_distribution, and record_uptime_bonus for
// reward_type="uptime_bonus"). Unknown types are ignored, never a panic.
func (r *Recorder) RecordRewardDistribution(rewardType string, amount uint64) {
	if o, ok := r.byReward[rewardType]; ok {
		o.Observe(float64(amount))
	}
}

// Observe implements ledger.Observer.
func (r *Recorder) Observe(effects []ledger.Effect) {
	for i := range effects {
		e := &effects[i]
		switch e.Kind {
		case ledger.EffectDeposit:
			r.RecordDeposit(e.Amount)
		case ledger.EffectWithdrawalRequested:
			r.RecordWithdrawal(e.Amount)
		case ledger.EffectSlash:
			r.RecordSlashing(e.Amount)
		case ledger.EffectRewardAllocated:
			r.RecordRewardDistribution(e.Type, e.Amount)
		case ledger.EffectDecay:
			observeFinite(r.decay, e.Seconds)
		}
	}
}

// Committed implements ledger.Observer.
func (r *Recorder) Committed(d time.Duration, ops int, err error) {
	if err != nil {
		r.commitFails.Inc()
		return
	}
	r.commitTime.Observe(d.Seconds())
	r.commitOps.Observe(float64(ops))
}
