package ledger

// Benchmarks for the performance targets in BENCHMARKS.md: applying one event
// in memory (≤ 2 µs) and memory per tracked node (≤ 4 KB at 10,000 nodes).

import (
	"context"
	"fmt"
	"log/slog"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/cretoai/monitor/service/internal/reputation"
	"github.com/cretoai/monitor/service/internal/store"
)

const benchNodes = 10_000

// benchState is a book of n nodes in memory, without a store.
func benchState(n int) (*Ledger, *state, []string) {
	l := &Ledger{cfg: DefaultConfig(), now: time.Now}
	s := newState()
	ids := make([]string, n)
	now := time.Now()
	for i := range ids {
		ids[i] = fmt.Sprintf("validator-%05d", i)
		s.nodes[ids[i]] = &Node{ID: ids[i], RegisteredAt: now,
			Reputation: Reputation{Score: l.cfg.Reputation.Initial, DecayedAt: now}}
	}
	return l, s, ids
}

// BenchmarkApplyEvent measures the in-memory part of an event report on a
// book of 10,000 nodes: no queue, no encoding, no store commit. Every
// maxGroup events the pending changes are dropped, as a commit would.
func BenchmarkApplyEvent(b *testing.B) {
	types := reputation.EventTypes
	b.Run("apply", func(b *testing.B) {
		l, s, ids := benchState(benchNodes)
		now := time.Now()
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			ev := Event{NodeID: ids[i%len(ids)], Type: types[i%len(types)], Count: 1}
			l.applyEvent(s, s.nodes[ev.NodeID], ev, now)
			if i++; i%maxGroup == 0 {
				s.effects = s.effects[:0]
				clear(s.dirty)
			}
		}
	})
	// What RecordEvent's operation does inside the committer: check the
	// event, look the node up, apply, read the clock and build the result.
	b.Run("check+lookup+apply", func(b *testing.B) {
		l, s, ids := benchState(benchNodes)
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			ev := Event{NodeID: ids[i%len(ids)], Type: types[i%len(types)], Count: 1}
			if err := ev.check(""); err != nil {
				b.Fatal(err)
			}
			n := s.node(ev.NodeID)
			l.applyEvent(s, n, ev, l.now())
			_ = EventResult{NodeID: n.ID, Type: ev.Type, Count: ev.Count, Score: n.Reputation.Score,
				Reliable: l.cfg.Reputation.Reliable(n.Reputation.Score)}
			if i++; i%maxGroup == 0 {
				s.effects = s.effects[:0]
				clear(s.dirty)
			}
		}
	})
}

// BenchmarkMemoryPerNode fills a durable book with 10,000 nodes through the
// public operations (registration, one deposit with an idempotency key, a
// batch of events per node) and reports the live heap it holds per node,
// measured after GC against the heap before the store was opened.
func BenchmarkMemoryPerNode(b *testing.B) {
	var inuse, alloc float64
	for b.Loop() {
		i, a := benchMemoryPerNode(b, benchNodes)
		inuse += i
		alloc += a
	}
	b.ReportMetric(inuse/float64(b.N), "heap-inuse-B/node")
	b.ReportMetric(alloc/float64(b.N), "heap-alloc-B/node")
}

func benchMemoryPerNode(b *testing.B, nodes int) (inusePerNode, allocPerNode float64) {
	b.Helper()
	var before, after runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&before)

	st, err := store.Open(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	l, err := Open(DefaultConfig(), st, slog.New(slog.DiscardHandler), Options{})
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go l.Run(ctx)
	defer l.Close()

	// Many concurrent writers so that group commit keeps the fsyncs few.
	const writers = 64
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < nodes; i += writers {
				id := fmt.Sprintf("validator-%05d", i)
				if _, err := l.Register(ctx, id, "payout-"+id); err != nil {
					errs <- err
					return
				}
				idem := &Idem{Key: "deposit-" + id, Fingerprint: fmt.Sprintf("%064x", i)}
				if _, _, err := l.Deposit(ctx, id, uint64(1000+i), idem); err != nil {
					errs <- err
					return
				}
				events := make([]Event, 0, len(reputation.EventTypes))
				for j, t := range reputation.EventTypes {
					events = append(events, Event{NodeID: id, Type: t, Count: uint32(j + 1)})
				}
				if _, err := l.Batch(ctx, events, []Violation{{NodeID: id, Type: reputation.Downtime, Evidence: "missed 3 slots"}}); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		b.Fatal(err)
	}
	if got := l.NodeCount(); got != nodes {
		b.Fatalf("book holds %d nodes, want %d", got, nodes)
	}

	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&after)
	runtime.KeepAlive(l)
	runtime.KeepAlive(st)
	return float64(int64(after.HeapInuse)-int64(before.HeapInuse)) / float64(nodes),
		float64(int64(after.HeapAlloc)-int64(before.HeapAlloc)) / float64(nodes)
}

// BenchmarkMemoryPerIdempotencyKey reports the live heap one remembered
// Idempotency-Key holds. Keys are kept for the idempotency TTL (24h by
// default) in the store only, so the heap must not grow with them.
func BenchmarkMemoryPerIdempotencyKey(b *testing.B) {
	const keys = 20_000
	var perKey float64
	for b.Loop() {
		st, err := store.Open(b.TempDir())
		if err != nil {
			b.Fatal(err)
		}
		l, err := Open(DefaultConfig(), st, slog.New(slog.DiscardHandler), Options{})
		if err != nil {
			b.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		go l.Run(ctx)
		if _, err := l.Register(ctx, "validator-00000", ""); err != nil {
			b.Fatal(err)
		}
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		const writers = 64
		var wg sync.WaitGroup
		for w := range writers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := w; i < keys; i += writers {
					// A UUID-shaped key and a SHA-256-sized fingerprint, as the API stores them.
					idem := &Idem{Key: fmt.Sprintf("%08x-0000-4000-8000-%012x", i, i), Fingerprint: fmt.Sprintf("%064x", i)}
					if _, _, err := l.Deposit(ctx, "validator-00000", 1, idem); err != nil {
						b.Error(err)
						return
					}
				}
			}()
		}
		wg.Wait()
		runtime.GC()
		runtime.ReadMemStats(&after)
		perKey += float64(int64(after.HeapAlloc)-int64(before.HeapAlloc)) / keys
		l.Close()
		cancel()
		st.Close()
	}
	b.ReportMetric(perKey/float64(b.N), "heap-alloc-B/key")
}
