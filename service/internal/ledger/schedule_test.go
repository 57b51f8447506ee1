package ledger_test

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/cretoai/monitor/service/internal/ledger"
	"github.com/cretoai/monitor/service/internal/stake"
)

// A scheduled epoch that cannot run is an error the job reports, and it
// stays due instead of being skipped silently.
func TestFailedScheduledEpochIsReported(t *testing.T) {
	ctx := context.Background()
	cfg := testConfig()
	cfg.EpochPeriod = time.Minute
	cfg.EpochPool = 1000
	b := newBook(t, cfg)
	register(t, b, "n1", "addr-1")
	deposit(t, b, "n1", 1_000)
	makeReliable(t, b, "n1")
	if _, err := b.RunDueEpochs(ctx); err != nil { // sets the schedule
		t.Fatal(err)
	}
	// Fill the network's allocated total to its ceiling with one epoch.
	if _, _, err := b.RunEpoch(ctx, stake.MaxAmount-500, nil); err != nil {
		t.Fatal(err)
	}
	due := b.Snapshot().Network.NextEpochAt
	b.clock.Advance(time.Minute)
	ran, err := b.RunDueEpochs(ctx)
	if err == nil {
		t.Fatalf("RunDueEpochs ran %d epochs over the ceiling without an error", ran)
	}
	wantErrKind(t, err, ledger.KindUnprocessable, "amount_overflow")
	if got := b.Snapshot().Network.NextEpochAt; !got.Equal(due) {
		t.Errorf("the failed epoch was skipped: next due %v, want still %v", got, due)
	}
}

// Shortening the epoch period takes effect at once, not after the old,
// longer wait.
func TestShorterEpochPeriodTakesEffect(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	cfg := testConfig()
	cfg.EpochPeriod = time.Hour
	clock := newManualClock()
	b := openBook(t, cfg, dir, clock)
	if _, err := b.RunDueEpochs(ctx); err != nil {
		t.Fatal(err)
	}
	b.stop()
	cfg.EpochPeriod = time.Minute
	b = openBook(t, cfg, dir, clock)
	if _, err := b.RunDueEpochs(ctx); err != nil {
		t.Fatal(err)
	}
	next := b.Snapshot().Network.NextEpochAt
	if d := next.Sub(clock.Now()); d > time.Minute || math.Signbit(float64(d)) {
		t.Errorf("next epoch in %v after shortening the period to 1m", d)
	}
}
