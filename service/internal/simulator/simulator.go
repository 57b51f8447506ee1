// Package simulator drives a running CretoAI Monitor service through its
// public HTTP API as a realistic validator network, so that dashboards and
// alerts have live data: nodes register and bond stake, report a steady
// stream of events in one batch per tick, break rules now and then, top up
// and withdraw stake, and reward epochs run; scripted incidents (a double
// sign, a reputation collapse, a mass withdrawal, failing payouts, a silent
// node) make alerts fire on cue.
//
// The decisions live in Plan, which is pure and seeded: the same seed and the
// same answers give the same requests (method, path and body). Client makes
// requests, retrying transient failures. Simulator runs a Plan against a
// Client on a ticker and reports progress.
//
// Choices worth knowing:
//
//   - Re-running against the same service continues the network rather than
//     inflating it: registration answers 409 node_exists, which is fine; a
//     node that already holds deposits gets no second initial stake; payout
//     addresses an earlier run's incident cleared are restored. A retried
//     initial deposit is applied once thanks to its Idempotency-Key, derived
//     from seed, node and registration time (so a node removed and registered
//     again within the service's key TTL is funded again, not answered from
//     its earlier self). Other deposits, withdrawals and epochs carry keys
//     unique to the run (PlanConfig.RunID), so a second run is never answered
//     with the first run's results.
//   - Against a fresh service the same seed gives the same requests. Against
//     a service with history the plan adapts to what it reads back (scores,
//     bonded stake), so the requests differ.
//   - Batches have no idempotency in the API: a batch retried after an
//     answer was lost may be applied twice. Connection refused and 5xx
//     answers from the service apply nothing, so this needs a lost answer.
//   - A withdrawal never exceeds bonded stake: it is computed at the start of
//     a tick from a bonded amount the service answered and nothing has
//     changed since; a node whose stake a batch violation slashed is read
//     back first.
//   - Scores spread as in a real network: 60% of nodes are excellent (score
//     near 1, uptime bonus), 25% fair and 15% chronically poor hover around
//     a target score (the poor below the 0.7 threshold) by steering their
//     miss share; after setup a warm-up batch moves each node to its target
//     so dashboards are populated at once. Nodes named in an incident behave
//     excellently and get no random violations, so the incident stands out.
//   - Simulated time advances one Tick per step; incident delays and epoch
//     periods count steps, so a slow service delays them rather than
//     bunching them up.
package simulator

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cretoai/monitor/service/internal/reputation"
)

// Config is the whole simulator configuration.
type Config struct {
	PlanConfig
	// URL is the service's base URL, e.g. http://localhost:8080.
	URL string
	// Token is the bearer token for writes.
	Token string
	// Duration is how long to simulate after setup; 0 runs until ctx ends.
	Duration time.Duration
	// ReportEvery is the period of the progress line; 10s when 0.
	ReportEvery time.Duration
	// ReadyTimeout bounds the wait for GET /readyz to answer 200.
	ReadyTimeout time.Duration
	// RequestTimeout bounds each attempt of a request.
	RequestTimeout time.Duration
	// Retry is the retry policy for transient failures; DefaultRetry when
	// zero.
	Retry RetryPolicy
}

// Defaults of the settings that have one.
const (
	DefaultReportEvery    = 10 * time.Second
	DefaultReadyTimeout   = 60 * time.Second
	DefaultRequestTimeout = 10 * time.Second
)

// Stats are the simulator's counters. Only answered, accepted requests
// count toward events, violations, deposits, withdrawals and epochs.
type Stats struct {
	Ticks            int64
	RequestsOK       int64
	RequestsFailed   int64
	Retries          int64
	Registered       int64
	Events           int64
	Violations       int64
	ViolationsByType map[reputation.ViolationType]int64
	Deposits         int64
	DepositAmount    int64
	Withdrawals      int64
	WithdrawalAmount int64
	Epochs           int64
	IncidentsFired   int64
	Incidents        int
	// Fired lists the incidents fired so far, in order.
	Fired []Incident
}

type counters struct {
	ticks, ok, failed, registered           atomic.Int64
	events, violations, deposits, depositAm atomic.Int64
	withdrawals, withdrawAm, epochs, fired  atomic.Int64
	byType                                  []atomic.Int64 // by reputation.ViolationTypes index
}

// Simulator runs a Plan against the service.
type Simulator struct {
	cfg    Config
	plan   *Plan
	client *Client
	log    *slog.Logger
	out    *lockedWriter
	c      counters

	firedMu sync.Mutex
	fired   []Incident
}

// ErrUnauthorized is returned when the service rejects the API token.
var ErrUnauthorized = errors.New("the service rejected the API token")

// New checks cfg and builds the simulator. Progress goes to out, problems
// to log.
func New(cfg Config, log *slog.Logger, out io.Writer) (*Simulator, error) {
	if cfg.ReportEvery == 0 {
		cfg.ReportEvery = DefaultReportEvery
	}
	if cfg.ReadyTimeout == 0 {
		cfg.ReadyTimeout = DefaultReadyTimeout
	}
	if cfg.RequestTimeout == 0 {
		cfg.RequestTimeout = DefaultRequestTimeout
	}
	if cfg.Retry == (RetryPolicy{}) {
		cfg.Retry = DefaultRetry
	}
	switch {
	case cfg.Token == "":
		return nil, errors.New("an API token is required for writes")
	case cfg.Duration < 0:
		return nil, errors.New("duration must not be negative")
	case cfg.ReportEvery < 0, cfg.ReadyTimeout < 0, cfg.RequestTimeout < 0:
		return nil, errors.New("report, ready and request timeouts must be positive")
	}
	plan, err := NewPlan(cfg.PlanConfig)
	if err != nil {
		return nil, err
	}
	client, err := NewClient(cfg.URL, cfg.Token, cfg.RequestTimeout, cfg.Retry, log)
	if err != nil {
		return nil, err
	}
	s := &Simulator{cfg: cfg, plan: plan, client: client, log: log, out: &lockedWriter{w: out}}
	s.c.byType = make([]atomic.Int64, len(reputation.ViolationTypes))
	return s, nil
}

// Stats returns a copy of the counters; it is safe to call while Run runs.
func (s *Simulator) Stats() Stats {
	st := Stats{
		Ticks: s.c.ticks.Load(), RequestsOK: s.c.ok.Load(), RequestsFailed: s.c.failed.Load(),
		Retries: s.client.Retries(), Registered: s.c.registered.Load(),
		Events: s.c.events.Load(), Violations: s.c.violations.Load(),
		Deposits: s.c.deposits.Load(), DepositAmount: s.c.depositAm.Load(),
		Withdrawals: s.c.withdrawals.Load(), WithdrawalAmount: s.c.withdrawAm.Load(),
		Epochs: s.c.epochs.Load(), IncidentsFired: s.c.fired.Load(), Incidents: len(s.cfg.Incidents),
		ViolationsByType: map[reputation.ViolationType]int64{},
	}
	for i, t := range reputation.ViolationTypes {
		if v := s.c.byType[i].Load(); v > 0 {
			st.ViolationsByType[t] = v
		}
	}
	s.firedMu.Lock()
	st.Fired = append([]Incident(nil), s.fired...)
	s.firedMu.Unlock()
	return st
}

// Run waits for the service, sets the network up and simulates until
// Duration has passed or ctx ends; both are a normal end. It returns an
// error when the service never becomes ready, rejects the token, or rejects
// the setup.
func (s *Simulator) Run(ctx context.Context) error {
	s.printStart()
	if err := s.client.WaitReady(ctx, s.cfg.ReadyTimeout, 500*time.Millisecond); err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return err
	}
	setupStart := time.Now()
	if err := s.setup(ctx); err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return err
	}
	st := s.Stats()
	s.out.printf("setup: %d nodes ready in %s (registered %d, initial deposits %d, warm-up events %d)\n",
		s.cfg.Nodes, round(time.Since(setupStart)), st.Registered, st.Deposits, st.Events)

	runCtx, cancel := ctx, context.CancelFunc(func() {})
	if s.cfg.Duration > 0 {
		runCtx, cancel = context.WithTimeout(ctx, s.cfg.Duration)
	}
	defer cancel()
	start := time.Now()
	var wg sync.WaitGroup
	reportCtx, stopReports := context.WithCancel(runCtx)
	wg.Add(1)
	go func() {
		defer wg.Done()
		s.report(reportCtx, start)
	}()
	err := s.loop(runCtx)
	stopReports()
	wg.Wait()
	s.printSummary(time.Since(start))
	return err
}

// setup runs the plan's setup rounds. Transient failures repeat a round; a
// rejected request ends the run, as it would fail the same way again.
func (s *Simulator) setup(ctx context.Context) error {
	for {
		reqs := s.plan.Setup()
		if reqs == nil {
			return nil
		}
		retry := false
		for i := range reqs {
			res, err := s.do(ctx, &reqs[i])
			if err != nil {
				return err
			}
			switch {
			case ctx.Err() != nil:
				return ctx.Err()
			case res.Status == 0 || res.Status >= 500 || res.Status == http.StatusTooManyRequests:
				retry = true
			case !res.OK() && !expected(&reqs[i], res.Response):
				return fmt.Errorf("setup: %s %s: the service answered %d: %s", reqs[i].Method, reqs[i].Path, res.Status, strings.TrimSpace(string(res.Body)))
			}
		}
		if retry {
			s.log.Warn("setup round failed; repeating it")
			t := time.NewTimer(time.Second)
			select {
			case <-ctx.Done():
				t.Stop()
				return ctx.Err()
			case <-t.C:
			}
		}
	}
}

// loop makes one plan step per tick until ctx ends.
func (s *Simulator) loop(ctx context.Context) error {
	t := time.NewTicker(s.cfg.Tick)
	defer t.Stop()
	for {
		step := s.plan.Tick()
		s.c.ticks.Add(1)
		for _, in := range step.Fired {
			s.firedMu.Lock()
			s.fired = append(s.fired, in)
			s.firedMu.Unlock()
			s.c.fired.Add(1)
			s.out.printf("t=%s incident %s:%s fired\n", round(step.Elapsed), in.Kind, in.NodeID)
		}
		for i := range step.Requests {
			if ctx.Err() != nil {
				return nil
			}
			if _, err := s.do(ctx, &step.Requests[i]); err != nil {
				return err
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// do makes one request, reports the answer to the plan, counts it and logs
// what went wrong. Its error is fatal: the token was rejected.
func (s *Simulator) do(ctx context.Context, r *Request) (Result, error) {
	res := s.client.Do(ctx, *r)
	if ctx.Err() != nil {
		return res, nil // cut short by the end of the run: neither success nor failure
	}
	s.plan.Observe(r, res.Response)
	switch {
	case res.OK():
		s.c.ok.Add(1)
		s.count(r, res.Response)
	case expected(r, res.Response):
		s.c.ok.Add(1)
	case res.Status == http.StatusUnauthorized:
		s.c.failed.Add(1)
		return res, fmt.Errorf("%w (401 on %s %s); pass the service's token with --api-token or CRETOAI_API_TOKEN", ErrUnauthorized, r.Method, r.Path)
	case res.Status == http.StatusNotFound && errorCode(res.Body) == "node_not_found":
		s.c.failed.Add(1)
		s.log.Warn("a simulated node is no longer registered (removed by someone else?); registering it again",
			"method", r.Method, "path", r.Path, "body", truncate(res.Body, 512))
	case res.Status >= 400 && res.Status < 500 && res.Status != http.StatusTooManyRequests:
		s.c.failed.Add(1)
		s.log.Error("the service rejected a request (a simulator bug or a service rule the simulator does not know)",
			"method", r.Method, "path", r.Path, "status", res.Status, "body", truncate(res.Body, 1024))
	default:
		s.c.failed.Add(1)
		attrs := []any{"method", r.Method, "path", r.Path, "attempts", res.Attempts}
		if res.Err != nil {
			attrs = append(attrs, "err", res.Err)
		} else {
			attrs = append(attrs, "status", res.Status, "body", truncate(res.Body, 512))
		}
		s.log.Warn("request failed after retries; going on", attrs...)
	}
	return res, nil
}

// expected reports a non-2xx answer that is part of normal operation: a node
// that is already registered.
func expected(r *Request, resp Response) bool {
	return r.Kind == KindRegister && resp.Status == http.StatusConflict && errorCode(resp.Body) == "node_exists"
}

func errorCode(body []byte) string {
	code, _, _ := apiError(body)
	return code
}

// count adds an accepted request to the counters.
func (s *Simulator) count(r *Request, resp Response) {
	switch r.Kind {
	case KindRegister:
		s.c.registered.Add(1)
	case KindBatch:
		s.c.events.Add(int64(r.Events))
	case KindDeposit:
		if !resp.Replayed {
			s.c.deposits.Add(1)
			s.c.depositAm.Add(int64(r.Amount))
		}
	case KindWithdrawal:
		if !resp.Replayed {
			s.c.withdrawals.Add(1)
			s.c.withdrawAm.Add(int64(r.Amount))
		}
	case KindEpoch:
		if !resp.Replayed {
			s.c.epochs.Add(1)
		}
	}
	for _, v := range r.Violations {
		s.c.violations.Add(1)
		if i := v.Index(); i >= 0 {
			s.c.byType[i].Add(1)
		}
	}
}

func (s *Simulator) report(ctx context.Context, start time.Time) {
	t := time.NewTicker(s.cfg.ReportEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			st := s.Stats()
			s.out.printf("t=%s requests ok=%d failed=%d retries=%d | events=%d violations=%d deposits=%d withdrawals=%d epochs=%d | incidents fired %d/%d\n",
				round(time.Since(start)), st.RequestsOK, st.RequestsFailed, st.Retries,
				st.Events, st.Violations, st.Deposits, st.Withdrawals, st.Epochs, st.IncidentsFired, st.Incidents)
		}
	}
}

func (s *Simulator) printStart() {
	c := s.cfg
	dur := "until interrupted"
	if c.Duration > 0 {
		dur = c.Duration.String()
	}
	epochs := "service schedule"
	if c.EpochEvery > 0 {
		epochs = c.EpochEvery.String()
	}
	incidents := "none"
	if in := s.plan.Incidents(); len(in) > 0 {
		parts := make([]string, len(in))
		for i, x := range in {
			parts[i] = x.String()
		}
		incidents = strings.Join(parts, ",")
	}
	ids := s.plan.NodeIDs()
	s.out.printf("cretoai-sim: url=%s nodes=%d (%s…%s) seed=%d rate=%g/s tick=%s duration=%s epoch-every=%s no-payout-share=%g speedup=%g incidents=%s\n",
		c.URL, c.Nodes, ids[0], ids[len(ids)-1], c.Seed, c.Rate, c.Tick, dur, epochs, c.NoPayoutShare, c.Speedup, incidents)
}

func (s *Simulator) printSummary(ran time.Duration) {
	st := s.Stats()
	var byType []string
	for _, t := range reputation.ViolationTypes {
		if v := st.ViolationsByType[t]; v > 0 {
			byType = append(byType, fmt.Sprintf("%s=%d", t, v))
		}
	}
	types := ""
	if len(byType) > 0 {
		types = " (" + strings.Join(byType, " ") + ")"
	}
	s.out.printf("summary: ran %s (%d ticks); requests ok=%d failed=%d retries=%d; events=%d; violations=%d%s; deposits=%d (%d units); withdrawals=%d (%d units); epochs=%d; incidents fired %d/%d\n",
		round(ran), st.Ticks, st.RequestsOK, st.RequestsFailed, st.Retries, st.Events, st.Violations, types,
		st.Deposits, st.DepositAmount, st.Withdrawals, st.WithdrawalAmount, st.Epochs, st.IncidentsFired, st.Incidents)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	sum, err := s.client.Summary(ctx)
	if err != nil {
		s.log.Warn("could not read the network summary", "err", err)
		return
	}
	s.out.printf("network: %d nodes, %d reliable (threshold %g); score mean %.3f median %.3f lowest %.3f; stake bonded=%d unbonding=%d slashed=%d; rewards epoch=%d paid=%d pending=%d\n",
		sum.Nodes.Total, sum.Nodes.Reliable, sum.Reputation.Threshold, sum.Reputation.Mean, sum.Reputation.Median, sum.Reputation.Lowest,
		sum.Stake.Bonded, sum.Stake.Unbonding, sum.Stake.Slashed, sum.Rewards.Epoch, sum.Rewards.Paid, sum.Rewards.Pending)
}

// round shortens a duration for people: whole seconds past a minute,
// tenths past a second, milliseconds below.
func round(d time.Duration) time.Duration {
	switch {
	case d >= time.Minute:
		return d.Round(time.Second)
	case d >= time.Second:
		return d.Round(100 * time.Millisecond)
	}
	return d.Round(time.Millisecond)
}

func truncate(b []byte, n int) string {
	s := strings.TrimSpace(string(b))
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

// lockedWriter serialises the lines of the run loop and the reporter.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) printf(format string, a ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	fmt.Fprintf(l.w, format, a...)
}
