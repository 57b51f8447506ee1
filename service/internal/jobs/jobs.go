// Package jobs runs the book's scheduled work inside the service: score decay,
// release of matured withdrawals, scheduled reward epochs and pruning of old
// idempotency keys. Every job runs once at start, so work that fell due while
// the service was down is done before it serves traffic, and then on its own
// period.
package jobs

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cretoai/monitor/service/internal/ledger"
)

// Periods are how often each job runs.
type Periods struct {
	Decay      time.Duration
	Release    time.Duration
	EpochCheck time.Duration
	Prune      time.Duration
}

// DefaultPeriods returns the documented defaults.
func DefaultPeriods() Periods {
	return Periods{Decay: time.Minute, Release: 10 * time.Second, EpochCheck: time.Second, Prune: time.Hour}
}

// Runner runs the jobs.
type Runner struct {
	ledger  *ledger.Ledger
	periods Periods
	log     *slog.Logger
	started atomic.Bool
	// OnRun, when set, is told of every run of a job and its outcome.
	OnRun func(job string, err error)
}

// New returns a Runner for l.
func New(l *ledger.Ledger, p Periods, log *slog.Logger) *Runner {
	return &Runner{ledger: l, periods: p, log: log}
}

type job struct {
	name   string
	period time.Duration
	run    func(context.Context) error
}

func (r *Runner) jobs() []job {
	l := r.ledger
	return []job{
		{"release", r.periods.Release, func(ctx context.Context) error {
			res, err := l.ReleaseUnbonding(ctx)
			if err == nil && res.Withdrawals > 0 {
				r.log.Info("withdrawals released", "count", res.Withdrawals, "amount", res.Amount)
			}
			return err
		}},
		{"decay", r.periods.Decay, func(ctx context.Context) error {
			_, err := l.Decay(ctx)
			return err
		}},
		{"epoch", r.periods.EpochCheck, func(ctx context.Context) error {
			n, err := l.RunDueEpochs(ctx)
			if err == nil && n > 0 {
				r.log.Info("scheduled epochs run", "count", n)
			}
			return err
		}},
		{"prune", r.periods.Prune, func(ctx context.Context) error {
			_, err := l.PruneIdempotency(ctx)
			return err
		}},
	}
}

// CatchUp runs every job once. Call it before serving traffic.
func (r *Runner) CatchUp(ctx context.Context) error {
	for _, j := range r.jobs() {
		if err := r.runOne(ctx, j); err != nil {
			return fmt.Errorf("job %s: %w", j.name, err)
		}
	}
	return nil
}

// Run runs every job on its period until ctx is done.
func (r *Runner) Run(ctx context.Context) {
	var wg sync.WaitGroup
	for _, j := range r.jobs() {
		wg.Add(1)
		go func() {
			defer wg.Done()
			t := time.NewTicker(j.period)
			defer t.Stop()
			for {
				select {
				case <-ctx.Done():
					return
				case <-t.C:
					if err := r.runOne(ctx, j); err != nil && ctx.Err() == nil {
						r.log.Error("scheduled job failed", "job", j.name, "err", err)
					}
				}
			}
		}()
	}
	r.started.Store(true)
	wg.Wait()
	r.started.Store(false)
}

func (r *Runner) runOne(ctx context.Context, j job) error {
	err := j.run(ctx)
	if r.OnRun != nil && ctx.Err() == nil {
		r.OnRun(j.name, err)
	}
	return err
}

// Running reports whether the job loops are running.
func (r *Runner) Running() bool { return r.started.Load() }
