package metrics_test

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/cretoai/monitor/service/catalog"
	"github.com/cretoai/monitor/service/internal/ledger"
	"github.com/cretoai/monitor/service/internal/metrics"
	"github.com/cretoai/monitor/service/internal/reputation"
)

// TestScrapeDuringWrites: scrapes racing heavy writes (events, deposits,
// withdrawals, violations, registrations, removals, epochs) never fail, and
// each one is self-consistent: one snapshot, so the node count equals the
// per-node series, above + below = total, bonded = Σ per-node stake, and
// every per-node family covers the same nodes. Run it with -race.
func TestScrapeDuringWrites(t *testing.T) {
	cfg := ledger.DefaultConfig()
	e := newEnv(t, cfg, metrics.Options{})
	base := populate(t, e.ctx, e.book, "base", 64)

	ops := 60
	if testing.Short() {
		ops = 20
	}
	srv := httptest.NewServer(e.handler)
	defer srv.Close()
	client := &http.Client{Transport: &http.Transport{DisableCompression: true}}

	var (
		writers  sync.WaitGroup
		scrapers sync.WaitGroup
		done     atomic.Bool
		scrapes  atomic.Int64
		errs     = make(chan error, 64)
	)
	fail := func(err error) {
		select {
		case errs <- err:
		default:
		}
	}
	write := func(name string, f func(i int) error) {
		writers.Add(1)
		go func() {
			defer writers.Done()
			for i := range ops {
				if err := f(i); err != nil {
					fail(fmt.Errorf("%s %d: %w", name, i, err))
					return
				}
			}
		}()
	}
	write("events", func(i int) error {
		_, err := e.book.RecordEvent(e.ctx, ledger.Event{NodeID: base[i%len(base)], Type: reputation.EventTypes[i%6], Count: uint32(1 + i%20)})
		return err
	})
	write("deposits", func(i int) error {
		_, _, err := e.book.Deposit(e.ctx, base[(i*7)%len(base)], uint64(100+i), nil)
		return err
	})
	write("violations", func(i int) error {
		_, err := e.book.RecordViolation(e.ctx, ledger.Violation{NodeID: base[(i*3)%len(base)], Type: reputation.ViolationTypes[i%6]})
		return err
	})
	write("batches", func(i int) error {
		evs := make([]ledger.Event, 0, len(base))
		for _, id := range base {
			evs = append(evs, ledger.Event{NodeID: id, Type: reputation.Heartbeat})
		}
		_, err := e.book.Batch(e.ctx, evs, nil)
		return err
	})
	write("churn", func(i int) error {
		id := fmt.Sprintf("churn-%04d", i)
		if _, err := e.book.Register(e.ctx, id, ""); err != nil {
			return err
		}
		if _, _, err := e.book.Deposit(e.ctx, id, 1000, nil); err != nil {
			return err
		}
		if i%2 == 0 {
			if _, _, err := e.book.Withdraw(e.ctx, id, 400, nil); err != nil {
				return err
			}
		}
		if i%3 != 0 {
			return e.book.Remove(e.ctx, id, true)
		}
		return nil
	})
	write("epochs", func(i int) error {
		if i%10 != 0 {
			return nil
		}
		_, _, err := e.book.RunEpoch(e.ctx, 0, nil)
		return err
	})

	headers := [][]string{
		nil,
		{"Accept-Encoding", "gzip"},
		{"Accept", acceptOpenMetrics},
	}
	for s := range 3 {
		scrapers.Add(1)
		go func() {
			defer scrapers.Done()
			for !done.Load() {
				r, err := scrapeErr(client, srv.URL+"/metrics", headers[s]...)
				if err != nil {
					fail(err)
					return
				}
				scrapes.Add(1)
				if r.status != http.StatusOK {
					fail(fmt.Errorf("scrape status %d: %s", r.status, head(r.body)))
					return
				}
				body := r.body
				switch s {
				case 1:
					if body, err = gunzipErr(body); err != nil {
						fail(err)
						return
					}
				case 2:
					if !bytes.HasSuffix(body, []byte("# EOF\n")) {
						fail(fmt.Errorf("OpenMetrics scrape does not end with # EOF"))
					}
					continue // no OpenMetrics parser here; the others check content
				}
				mfs, err := parseTextErr(body)
				if err != nil {
					fail(err)
					return
				}
				if msg := consistency(mfs); msg != "" {
					fail(fmt.Errorf("inconsistent scrape: %s", msg))
					return
				}
			}
		}()
	}
	writers.Wait()
	done.Store(true)
	scrapers.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if scrapes.Load() < 3 {
		t.Errorf("only %d scrapes ran", scrapes.Load())
	}
	t.Logf("%d scrapes during %d writes", scrapes.Load(), 6*ops)

	// At rest: consistent, no duplicates, and the removed nodes are gone.
	mfs := e.families()
	checkConsistent(t, mfs)
	checkNoDuplicateSeries(t, mfs)
	want := float64(len(base) + (ops+2)/3)
	if got := scalarValue(t, mfs, catalog.ReputationTotalNodes); got != want {
		t.Errorf("%s = %v at rest, want %v", catalog.ReputationTotalNodes, got, want)
	}
}
