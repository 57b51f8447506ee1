// Package ledger is the book the service keeps: nodes with their reputation,
// stake and rewards, changed only through its operations and persisted by one
// committer goroutine that applies queued operations in order and commits
// them to the store in groups (group commit). An operation returns only after
// its change is on disk; readers see only committed state.
package ledger

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cretoai/monitor/service/internal/store"
)

// maxGroup caps how many queued operations one commit takes.
const maxGroup = 512

// Effect is one thing that happened in a committed operation, for observers
// such as metrics. Effects of an operation are delivered only after it is
// committed.
type Effect struct {
	Kind   EffectKind
	NodeID string
	// Type is the event type, violation type, reward type or failure reason.
	Type   string
	Count  uint64
	Amount uint64
	// Seconds is the idle time of a decayed node.
	Seconds float64
}

// EffectKind names an Effect.
type EffectKind int

// The effect kinds.
const (
	EffectNodeRegistered EffectKind = iota + 1
	EffectNodeRemoved
	EffectEvent
	EffectViolation
	EffectDeposit
	EffectWithdrawalRequested
	EffectWithdrawalReleased
	EffectSlash
	EffectRewardAllocated
	EffectPayout
	EffectPayoutFailed
	EffectDecay
	EffectEpoch
)

// Observer receives the effects of each commit, in order, from the committer
// goroutine. It must be fast and must not call back into the ledger.
type Observer interface {
	Observe(effects []Effect)
	// Committed reports one store commit: its duration, how many operations
	// it carried and whether it failed.
	Committed(d time.Duration, ops int, err error)
}

// Ledger is the book. Create it with Open, start its committer with Run.
type Ledger struct {
	cfg      Config
	store    *store.Store
	log      *slog.Logger
	now      func() time.Time
	observer Observer

	mu sync.RWMutex // guards st; held for writing while a group is applied and committed
	st *state

	submitMu sync.RWMutex // guards stopped against concurrent submits
	stopped  bool
	ops      chan *op
	quit     chan struct{}
	done     chan struct{}

	runMu   sync.Mutex // orders Run and Close
	closed  bool
	running atomic.Bool
	healthy atomic.Bool

	// failed is closed when memory can no longer be brought back in line
	// with the store; the book then rejects every operation and the owner
	// should exit, so that a restart rebuilds the state from disk.
	failed    chan struct{}
	failedErr error
}

type op struct {
	fn   func(*state) (any, error)
	done chan result
}

type result struct {
	v   any
	err error
}

// Options are optional Open parameters.
type Options struct {
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// Observer receives committed effects; none when nil.
	Observer Observer
}

// Open loads the book from st. The ledger takes no ownership of st.
func Open(cfg Config, st *store.Store, log *slog.Logger, opts Options) (*Ledger, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("ledger: config: %w", err)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	l := &Ledger{
		cfg:      cfg,
		store:    st,
		log:      log,
		now:      opts.Now,
		observer: opts.Observer,
		ops:      make(chan *op, maxGroup),
		quit:     make(chan struct{}),
		done:     make(chan struct{}),
		failed:   make(chan struct{}),
	}
	s, err := l.load()
	if err != nil {
		return nil, err
	}
	l.st = s
	l.healthy.Store(true)
	if n := len(s.nodes); n > cfg.MaxNodes {
		log.Warn("the book tracks more nodes than the configured limit; registrations are refused until nodes are removed",
			"nodes", n, "max_nodes", cfg.MaxNodes)
	}
	return l, nil
}

// Config returns the book's configuration.
func (l *Ledger) Config() Config { return l.cfg }

// Now returns the ledger clock's time.
func (l *Ledger) Now() time.Time { return l.now() }

func (l *Ledger) load() (*state, error) {
	c, err := l.store.Load()
	if err != nil {
		return nil, fmt.Errorf("ledger: %w", err)
	}
	s := newState()
	if c.Network != nil {
		if err := json.Unmarshal(c.Network, &s.net); err != nil {
			return nil, fmt.Errorf("ledger: decode network record: %w", err)
		}
	}
	if s.net.Distributions == nil {
		s.net.Distributions = map[string]uint64{}
	}
	if s.net.FailedPayouts == nil {
		s.net.FailedPayouts = map[string]uint64{}
	}
	for id, b := range c.Nodes {
		n := new(Node)
		if err := json.Unmarshal(b, n); err != nil {
			return nil, fmt.Errorf("ledger: decode node %q: %w", id, err)
		}
		s.nodes[id] = n
	}
	return s, nil
}

// Run applies and commits submitted operations until ctx is done or Close is
// called, then finishes the operations already queued and returns.
func (l *Ledger) Run(ctx context.Context) {
	l.runMu.Lock()
	if l.closed {
		l.runMu.Unlock()
		return
	}
	l.running.Store(true)
	l.runMu.Unlock()
	defer func() {
		l.running.Store(false)
		close(l.done)
	}()
	group := make([]*op, 0, maxGroup)
	for {
		var first *op
		select {
		case first = <-l.ops:
		case <-ctx.Done():
			l.refuseAndSettle()
			return
		case <-l.quit:
			l.refuseAndSettle()
			return
		}
		group = append(group[:0], first)
	fill:
		for len(group) < maxGroup {
			select {
			case o := <-l.ops:
				group = append(group, o)
			default:
				break fill
			}
		}
		l.process(group)
	}
}

// Close stops the committer after the queued operations and waits for it.
// Operations submitted after Close fail with ErrClosed.
func (l *Ledger) Close() {
	l.runMu.Lock()
	if l.closed {
		l.runMu.Unlock()
		return
	}
	l.closed = true
	wasRunning := l.running.Load()
	l.runMu.Unlock()
	close(l.quit)
	if wasRunning {
		<-l.done
		return
	}
	// Run never started: settle the queued operations here.
	l.refuseAndSettle()
}

// refuseAndSettle makes later submits fail with ErrClosed, then applies
// the operations already queued. Once submitMu is held no submit is
// half-way, so the queue cannot grow after it is emptied.
func (l *Ledger) refuseAndSettle() {
	l.submitMu.Lock()
	l.stopped = true
	l.submitMu.Unlock()
	for {
		select {
		case o := <-l.ops:
			l.process([]*op{o})
		default:
			return
		}
	}
}

// Failed is closed when the book could not be brought back in line with the
// store after a failed commit; Err then says why. The service must exit.
func (l *Ledger) Failed() <-chan struct{} { return l.failed }

// Err returns the error that closed Failed, or nil.
func (l *Ledger) Err() error {
	select {
	case <-l.failed:
		return l.failedErr
	default:
		return nil
	}
}

// Ready reports whether the committer runs and the last commit succeeded.
func (l *Ledger) Ready() bool { return l.running.Load() && l.healthy.Load() }

func (l *Ledger) process(group []*op) {
	results := make([]result, len(group))
	l.mu.Lock()
	if l.Err() != nil {
		l.mu.Unlock()
		for _, o := range group {
			o.done <- result{err: &Error{Kind: KindUnavailable, Code: "store_unavailable", Message: "the book is failed; the service must restart", Err: l.failedErr}}
		}
		return
	}
	for i, o := range group {
		results[i].v, results[i].err = o.fn(l.st)
	}
	changes, effects, err := l.st.takeChanges()
	if err == nil {
		start := time.Now()
		err = l.store.Commit(changes)
		if l.observer != nil {
			l.observer.Committed(time.Since(start), len(group), err)
		}
	}
	if err != nil {
		// Nothing of this group is on disk: go back to what is.
		l.log.Error("commit failed; reloading the book from the store", "err", err, "ops", len(group))
		if s, lerr := l.load(); lerr != nil {
			// Memory now holds changes the store does not: stop serving
			// it. A restart rebuilds the book from what is on disk.
			l.log.Error("reload failed; the book stops and the service must restart", "err", lerr)
			l.healthy.Store(false)
			l.failedErr = fmt.Errorf("ledger: commit failed (%v) and reload failed: %w", err, lerr)
			close(l.failed)
		} else {
			l.st = s
			l.healthy.Store(true)
		}
		for i := range results {
			if results[i].err == nil {
				results[i] = result{err: &Error{Kind: KindUnavailable, Code: "store_unavailable", Message: "the change could not be stored", Err: err}}
			}
		}
		effects = nil
	} else {
		l.healthy.Store(true)
	}
	l.mu.Unlock()
	if len(effects) > 0 && l.observer != nil {
		l.observer.Observe(effects)
	}
	for i, o := range group {
		o.done <- results[i]
	}
}

// submit queues fn and waits until it is applied and committed.
func (l *Ledger) submit(ctx context.Context, fn func(*state) (any, error)) (any, error) {
	o := &op{fn: fn, done: make(chan result, 1)}
	l.submitMu.RLock()
	if l.stopped {
		l.submitMu.RUnlock()
		return nil, ErrClosed
	}
	select {
	case l.ops <- o:
	case <-ctx.Done():
		l.submitMu.RUnlock()
		return nil, ctx.Err()
	}
	l.submitMu.RUnlock()
	// Once queued the operation will be applied; wait for its outcome even
	// if the caller gives up, so that the answer matches what happened.
	r := <-o.done
	return r.v, r.err
}

// do runs fn through the committer and converts its result to T.
func do[T any](ctx context.Context, l *Ledger, fn func(*state) (T, error)) (T, error) {
	v, err := l.submit(ctx, func(s *state) (any, error) { return fn(s) })
	if err != nil {
		var zero T
		return zero, err
	}
	return v.(T), nil
}

// Idem identifies a request for idempotent replay: Key is the client's
// Idempotency-Key, Fingerprint a digest of the request it came with.
type Idem struct {
	Key         string
	Fingerprint string
}

type idemRecord struct {
	Fingerprint string          `json:"fingerprint"`
	At          time.Time       `json:"at"`
	Result      json.RawMessage `json:"result"`
}

// idemRecord finds key among the keys of the group being applied, then in
// the store. It runs in the committer, before the group's write transaction.
func (l *Ledger) idemRecord(s *state, key string) (idemRecord, bool, error) {
	if r, ok := s.idemPut[key]; ok {
		return r, true, nil
	}
	b, ok, err := l.store.GetIdem(key)
	if err != nil || !ok {
		return idemRecord{}, false, err
	}
	var r idemRecord
	if err := json.Unmarshal(b, &r); err != nil {
		return idemRecord{}, false, fmt.Errorf("ledger: decode idempotency record %q: %w", key, err)
	}
	return r, true, nil
}

// doIdem is do with idempotency: when idem names a key seen before with the
// same fingerprint the first result is returned with replayed true and fn does
// not run; with another fingerprint the call is rejected. The key is stored in
// the same commit as fn's change.
func doIdem[T any](ctx context.Context, l *Ledger, idem *Idem, fn func(*state) (T, error)) (res T, replayed bool, err error) {
	type out struct {
		v        T
		replayed bool
	}
	o, err := do(ctx, l, func(s *state) (out, error) {
		if idem != nil {
			rec, ok, err := l.idemRecord(s, idem.Key)
			if err != nil {
				return out{}, &Error{Kind: KindUnavailable, Code: "store_unavailable", Message: "the idempotency key could not be checked", Err: err}
			}
			if ok {
				if rec.Fingerprint != idem.Fingerprint {
					return out{}, conflict("idempotency_key_reused", "Idempotency-Key",
						"idempotency key %q was used for a different request", idem.Key)
				}
				var v T
				if err := json.Unmarshal(rec.Result, &v); err != nil {
					return out{}, fmt.Errorf("ledger: decode stored result: %w", err)
				}
				return out{v: v, replayed: true}, nil
			}
		}
		v, err := fn(s)
		if err != nil {
			return out{}, err
		}
		if idem != nil {
			b, err := json.Marshal(v)
			if err != nil {
				return out{}, fmt.Errorf("ledger: encode result: %w", err)
			}
			s.putIdem(idem.Key, idemRecord{Fingerprint: idem.Fingerprint, At: l.now(), Result: b})
		}
		return out{v: v}, nil
	})
	return o.v, o.replayed, err
}
