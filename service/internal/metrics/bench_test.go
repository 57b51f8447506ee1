package metrics_test

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/cretoai/monitor/service/internal/ledger"
	"github.com/cretoai/monitor/service/internal/metrics"
)

// benchEnvs are the populated books of the scrape benchmarks, built once per
// size and shared by every -count round; TestMain shuts them down.
var (
	benchMu    sync.Mutex
	benchEnvs  = map[int]*benchEnv{}
	benchStops []func()
)

func TestMain(m *testing.M) {
	code := m.Run()
	for _, stop := range benchStops {
		stop()
	}
	os.Exit(code)
}

type benchEnv struct {
	*env
	// stock serves the same series through client_golang: the registry of
	// the service (histograms, health, go_*, process_*) and a registry
	// holding the reference StateCollector, through promhttp.
	stock  http.Handler
	series int // sample lines of one scrape
}

// benchEnvOf returns the book of n nodes, populating it through the ledger
// on first use.
func benchEnvOf(b *testing.B, n int) *benchEnv {
	b.Helper()
	benchMu.Lock()
	defer benchMu.Unlock()
	if be, ok := benchEnvs[n]; ok {
		return be
	}
	dir, err := os.MkdirTemp("", "metrics-bench-")
	if err != nil {
		b.Fatal(err)
	}
	cfg := ledger.DefaultConfig()
	cfg.MaxNodes = n + 1000
	e, stop := startEnv(b, dir, cfg, metrics.Options{})
	benchStops = append(benchStops, func() {
		if err := stop(); err != nil {
			fmt.Fprintln(os.Stderr, "stop bench book:", err)
		}
		os.RemoveAll(dir)
	})
	start := time.Now()
	populate(b, e.ctx, e.book, "validator", n)
	if _, _, err := e.book.RunEpoch(e.ctx, 0, nil); err != nil {
		b.Fatal(err)
	}
	b.Logf("populated %d nodes in %v", n, time.Since(start).Round(time.Millisecond))

	stateReg := prometheus.NewRegistry()
	sc, err := metrics.NewStateCollector(e.book, nil)
	if err != nil {
		b.Fatal(err)
	}
	stateReg.MustRegister(sc)
	be := &benchEnv{env: e, stock: promhttp.HandlerFor(prometheus.Gatherers{e.reg, stateReg}, promhttp.HandlerOpts{})}

	// Both paths serve the same series.
	fast, stock := serveOnce(b, e.handler, nil), serveOnce(b, be.stock, nil)
	be.series = bytes.Count(fast, []byte("\n")) - bytes.Count(fast, []byte("# "))
	if s := bytes.Count(stock, []byte("\n")) - bytes.Count(stock, []byte("# ")); s != be.series {
		b.Fatalf("fast path serves %d series, stock path %d", be.series, s)
	}
	benchEnvs[n] = be
	return be
}

// discard is a ResponseWriter that counts and drops the body, so that the
// benchmark measures the handler, not a buffer or a network.
type discard struct {
	header http.Header
	code   int
	n      int64
}

func (d *discard) Header() http.Header         { return d.header }
func (d *discard) WriteHeader(code int)        { d.code = code }
func (d *discard) Write(p []byte) (int, error) { d.n += int64(len(p)); return len(p), nil }

// serveOnce returns one response body through a recorder.
func serveOnce(b *testing.B, h http.Handler, header http.Header) []byte {
	b.Helper()
	req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
	req.Header = header.Clone()
	if req.Header == nil {
		req.Header = http.Header{}
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		b.Fatalf("status %d: %s", rec.Code, head(rec.Body.Bytes()))
	}
	return rec.Body.Bytes()
}

func benchServe(b *testing.B, h http.Handler, header http.Header, series int) {
	req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
	for k, v := range header {
		req.Header[k] = v
	}
	w := &discard{header: http.Header{}}
	h.ServeHTTP(w, req) // warm the handler's pools: measure the steady state
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		clear(w.header)
		w.code, w.n = http.StatusOK, 0
		h.ServeHTTP(w, req)
		if w.code != http.StatusOK {
			b.Fatalf("status %d", w.code)
		}
	}
	b.ReportMetric(float64(series), "series/op")
	b.ReportMetric(float64(w.n), "resp-B/op")
}

// BenchmarkScrape is one full /metrics scrape at 1,000, 10,000 and 100,000
// nodes: the fast path uncompressed and gzipped, and the stock
// client_golang path (promhttp over the StateCollector) for the same series.
// Run with -benchtime=3x or more for the 100k case.
func BenchmarkScrape(b *testing.B) {
	gz := http.Header{"Accept-Encoding": {"gzip"}}
	for _, n := range []int{1_000, 10_000, 100_000} {
		if testing.Short() && n > 10_000 {
			continue
		}
		be := benchEnvOf(b, n)
		b.Run(fmt.Sprintf("nodes=%d/fast", n), func(b *testing.B) { benchServe(b, be.handler, nil, be.series) })
		b.Run(fmt.Sprintf("nodes=%d/fast-gzip", n), func(b *testing.B) { benchServe(b, be.handler, gz, be.series) })
		b.Run(fmt.Sprintf("nodes=%d/stock", n), func(b *testing.B) { benchServe(b, be.stock, nil, be.series) })
	}
}

// BenchmarkObserve is the event-path cost: the Recorder handed the effects
// of one commit holding one typical effect, against an empty commit and an
// effect the Recorder does not observe.
func BenchmarkObserve(b *testing.B) {
	m, err := metrics.New(prometheus.NewRegistry(), metrics.Options{})
	if err != nil {
		b.Fatal(err)
	}
	cases := []struct {
		name    string
		effects []ledger.Effect
	}{
		{"nothing", nil},
		{"event", []ledger.Effect{{Kind: ledger.EffectEvent, NodeID: "n1", Type: "heartbeat", Count: 1}}},
		{"deposit", []ledger.Effect{{Kind: ledger.EffectDeposit, NodeID: "n1", Amount: 250_000}}},
		{"slash", []ledger.Effect{{Kind: ledger.EffectSlash, NodeID: "n1", Type: "double_sign", Amount: 12_500}}},
		{"reward", []ledger.Effect{{Kind: ledger.EffectRewardAllocated, NodeID: "n1", Type: "uptime_bonus", Amount: 4_321}}},
		{"decay", []ledger.Effect{{Kind: ledger.EffectDecay, NodeID: "n1", Seconds: 3600}}},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				m.Observe(c.effects)
			}
		})
	}
}
