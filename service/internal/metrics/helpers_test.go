package metrics_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/cretoai/monitor/service/catalog"
	"github.com/cretoai/monitor/service/internal/ledger"
	"github.com/cretoai/monitor/service/internal/metrics"
	"github.com/cretoai/monitor/service/internal/reputation"
	"github.com/cretoai/monitor/service/internal/store"
)

// epoch0 is where every manual clock starts.
var epoch0 = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

// clock is a clock the test advances by hand; the committer reads it
// concurrently.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// env is a running ledger on a real store with the metrics as its Observer,
// and the /metrics handler over it.
type env struct {
	t       testing.TB
	ctx     context.Context
	reg     *prometheus.Registry
	m       *metrics.Metrics
	book    *ledger.Ledger
	clock   *clock
	handler http.Handler
}

// newEnv opens a store in a test directory, a ledger on it with a fresh
// registry's metrics as Observer, and starts the committer. Everything is
// shut down by t.Cleanup.
func newEnv(t testing.TB, cfg ledger.Config, opts metrics.Options) *env {
	t.Helper()
	e, stop := startEnv(t, t.TempDir(), cfg, opts)
	t.Cleanup(func() {
		if err := stop(); err != nil {
			t.Errorf("stop: %v", err)
		}
	})
	return e
}

// startEnv is newEnv in dir, with the shutdown left to the caller.
func startEnv(t testing.TB, dir string, cfg ledger.Config, opts metrics.Options) (*env, func() error) {
	t.Helper()
	reg := prometheus.NewRegistry()
	m, err := metrics.New(reg, opts)
	if err != nil {
		t.Fatalf("metrics.New: %v", err)
	}
	st, err := store.Open(dir)
	if err != nil {
		t.Fatalf("store.Open: %v", err)
	}
	clk := &clock{now: epoch0}
	l, err := ledger.Open(cfg, st, slog.New(slog.DiscardHandler), ledger.Options{Observer: m, Now: clk.Now})
	if err != nil {
		st.Close()
		t.Fatalf("ledger.Open: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ran := make(chan struct{})
	go func() {
		defer close(ran)
		l.Run(ctx)
	}()
	for !l.Ready() {
		select {
		case <-ran:
			t.Fatal("ledger Run returned at once")
		default:
			time.Sleep(time.Millisecond)
		}
	}
	stop := func() error {
		l.Close()
		cancel()
		<-ran
		return st.Close()
	}
	return &env{t: t, ctx: ctx, reg: reg, m: m, book: l, clock: clk, handler: m.Handler(l)}, stop
}

func (e *env) register(id, payout string) {
	e.t.Helper()
	if _, err := e.book.Register(e.ctx, id, payout); err != nil {
		e.t.Fatalf("Register(%q): %v", id, err)
	}
}

func (e *env) event(id string, typ reputation.EventType, count uint32) {
	e.t.Helper()
	if _, err := e.book.RecordEvent(e.ctx, ledger.Event{NodeID: id, Type: typ, Count: count}); err != nil {
		e.t.Fatalf("RecordEvent(%q, %s): %v", id, typ, err)
	}
}

func (e *env) violation(id string, typ reputation.ViolationType) {
	e.t.Helper()
	if _, err := e.book.RecordViolation(e.ctx, ledger.Violation{NodeID: id, Type: typ}); err != nil {
		e.t.Fatalf("RecordViolation(%q, %s): %v", id, typ, err)
	}
}

func (e *env) deposit(id string, amount uint64) {
	e.t.Helper()
	if _, _, err := e.book.Deposit(e.ctx, id, amount, nil); err != nil {
		e.t.Fatalf("Deposit(%q, %d): %v", id, amount, err)
	}
}

func (e *env) withdraw(id string, amount uint64) {
	e.t.Helper()
	if _, _, err := e.book.Withdraw(e.ctx, id, amount, nil); err != nil {
		e.t.Fatalf("Withdraw(%q, %d): %v", id, amount, err)
	}
}

func (e *env) epoch(pool uint64) ledger.EpochResult {
	e.t.Helper()
	r, _, err := e.book.RunEpoch(e.ctx, pool, nil)
	if err != nil {
		e.t.Fatalf("RunEpoch(%d): %v", pool, err)
	}
	return r
}

// response is one scrape.
type response struct {
	status int
	header http.Header
	body   []byte // as received: possibly gzipped
}

// scrape serves one GET /metrics with the given request headers (pairs of
// name, value) through a real HTTP round trip, with transparent
// decompression off so that the body is exactly what was sent.
func scrape(t testing.TB, h http.Handler, headers ...string) response {
	t.Helper()
	srv := httptest.NewServer(h)
	defer srv.Close()
	return scrapeURL(t, &http.Client{Transport: &http.Transport{DisableCompression: true}}, srv.URL+"/metrics", headers...)
}

func scrapeURL(t testing.TB, c *http.Client, url string, headers ...string) response {
	t.Helper()
	r, err := scrapeErr(c, url, headers...)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// scrapeErr is scrapeURL for goroutines other than the test's.
func scrapeErr(c *http.Client, url string, headers ...string) (response, error) {
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		return response{}, err
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	res, err := c.Do(req)
	if err != nil {
		return response{}, fmt.Errorf("GET /metrics: %w", err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		return response{}, fmt.Errorf("read /metrics body: %w", err)
	}
	return response{status: res.StatusCode, header: res.Header, body: body}, nil
}

// text scrapes the plain text format and fails unless it is a 200.
func (e *env) text() []byte {
	e.t.Helper()
	r := scrape(e.t, e.handler)
	if r.status != http.StatusOK {
		e.t.Fatalf("GET /metrics: status %d: %s", r.status, r.body)
	}
	return r.body
}

// families scrapes the text format and parses it.
func (e *env) families() map[string]*dto.MetricFamily {
	e.t.Helper()
	return parseText(e.t, e.text())
}

// parseText parses a text exposition into families.
func parseText(t testing.TB, body []byte) map[string]*dto.MetricFamily {
	t.Helper()
	mfs, err := parseTextErr(body)
	if err != nil {
		t.Fatal(err)
	}
	return mfs
}

func parseTextErr(body []byte) (map[string]*dto.MetricFamily, error) {
	p := expfmt.NewTextParser(model.UTF8Validation)
	mfs, err := p.TextToMetricFamilies(bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("parse exposition: %w\n%s", err, head(body))
	}
	return mfs, nil
}

// consistency describes what breaks the identities of one scrape, or "".
// It does not use testing.T, so scraper goroutines can call it.
func consistency(mfs map[string]*dto.MetricFamily) string {
	scalar := func(name string) float64 {
		if mf := mfs[name]; mf != nil && len(mf.GetMetric()) == 1 {
			return value(mf.GetMetric()[0])
		}
		return math.NaN()
	}
	var msgs []string
	total := scalar(catalog.ReputationTotalNodes)
	scores := mfs[catalog.ReputationScore].GetMetric()
	if float64(len(scores)) != total {
		msgs = append(msgs, fmt.Sprintf("%s = %v but %d score series", catalog.ReputationTotalNodes, total, len(scores)))
	}
	if a, b := scalar(catalog.ReputationNodesAbove), scalar(catalog.ReputationNodesBelow); a+b != total {
		msgs = append(msgs, fmt.Sprintf("above %v + below %v != total %v", a, b, total))
	}
	for _, c := range [][2]string{{catalog.StakeBondedAmount, catalog.StakePerNode}, {catalog.RewardsPendingAmount, catalog.RewardsPendingPerNode}} {
		sum := 0.0
		for _, m := range mfs[c[1]].GetMetric() {
			sum += value(m)
		}
		if got := scalar(c[0]); got != sum {
			msgs = append(msgs, fmt.Sprintf("%s = %v but Σ %s = %v", c[0], got, c[1], sum))
		}
	}
	ids := map[string]bool{}
	for _, m := range scores {
		ids[labelsOf(m)[catalog.LabelNodeID]] = true
	}
	for _, cm := range catalog.Domain {
		if !cm.PerNode {
			continue
		}
		per := 1
		switch cm.Name {
		case catalog.ReputationEvents:
			per = len(reputation.EventTypes)
		case catalog.ReputationViolations:
			per = len(reputation.ViolationTypes)
		}
		got := mfs[cm.Name].GetMetric()
		if len(got) != per*len(ids) {
			msgs = append(msgs, fmt.Sprintf("%s: %d series for %d nodes", cm.Name, len(got), len(ids)))
		}
		for _, m := range got {
			if id := labelsOf(m)[catalog.LabelNodeID]; !ids[id] {
				msgs = append(msgs, fmt.Sprintf("%s has node %q, %s has not", cm.Name, id, catalog.ReputationScore))
				break
			}
		}
	}
	return strings.Join(msgs, "; ")
}

// gathererOf wraps parsed families as a Gatherer, sorted by name.
func gathererOf(mfs map[string]*dto.MetricFamily) prometheus.Gatherer {
	return prometheus.GathererFunc(func() ([]*dto.MetricFamily, error) {
		out := make([]*dto.MetricFamily, 0, len(mfs))
		for _, mf := range mfs {
			out = append(out, mf)
		}
		sort.Slice(out, func(i, j int) bool { return out[i].GetName() < out[j].GetName() })
		return out, nil
	})
}

func gunzip(t testing.TB, b []byte) []byte {
	t.Helper()
	out, err := gunzipErr(b)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func gunzipErr(b []byte) ([]byte, error) {
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("gunzip: %w", err)
	}
	out, err := io.ReadAll(zr)
	if err != nil {
		return nil, fmt.Errorf("gunzip: %w", err)
	}
	return out, nil
}

func head(b []byte) string {
	if len(b) > 400 {
		return string(b[:400]) + "…"
	}
	return string(b)
}

// labelsOf returns a metric's labels as a map.
func labelsOf(m *dto.Metric) map[string]string {
	out := map[string]string{}
	for _, lp := range m.GetLabel() {
		out[lp.GetName()] = lp.GetValue()
	}
	return out
}

// value is the value of a gauge, counter or untyped sample.
func value(m *dto.Metric) float64 {
	switch {
	case m.Gauge != nil:
		return m.GetGauge().GetValue()
	case m.Counter != nil:
		return m.GetCounter().GetValue()
	case m.Untyped != nil:
		return m.GetUntyped().GetValue()
	}
	return math.NaN()
}

// scalarValue returns the single sample of an unlabelled family.
func scalarValue(t testing.TB, mfs map[string]*dto.MetricFamily, name string) float64 {
	t.Helper()
	mf, ok := mfs[name]
	if !ok {
		t.Fatalf("family %s missing", name)
	}
	if len(mf.GetMetric()) != 1 {
		t.Fatalf("family %s: %d samples, want 1", name, len(mf.GetMetric()))
	}
	return value(mf.GetMetric()[0])
}

// find returns the sample of family name whose labels include want.
func find(mfs map[string]*dto.MetricFamily, name string, want map[string]string) (*dto.Metric, bool) {
	for _, m := range mfs[name].GetMetric() {
		ls := labelsOf(m)
		ok := true
		for k, v := range want {
			if ls[k] != v {
				ok = false
				break
			}
		}
		if ok {
			return m, true
		}
	}
	return nil, false
}

// stateNames are the families the handler computes from the book.
func stateNames() map[string]bool {
	out := map[string]bool{}
	for _, m := range catalog.Domain {
		if m.Type != catalog.Histogram {
			out[m.Name] = true
		}
	}
	return out
}

// blocks splits an exposition into its families: name → the family's text
// (from "# HELP" to the last sample line), in order of appearance. For
// OpenMetrics counters the name is the sample name (with _total).
func blocks(t testing.TB, body []byte) (order []string, text map[string]string) {
	t.Helper()
	text = map[string]string{}
	s := string(body)
	s = strings.TrimSuffix(s, "# EOF\n")
	for s != "" {
		if !strings.HasPrefix(s, "# HELP ") {
			t.Fatalf("family does not start with # HELP: %q", head([]byte(s)))
		}
		next := strings.Index(s[1:], "\n# HELP ")
		var blk string
		if next < 0 {
			blk, s = s, ""
		} else {
			blk, s = s[:next+2], s[next+2:]
		}
		name, _, _ := strings.Cut(strings.TrimPrefix(blk, "# HELP "), " ")
		if typ := "\n# TYPE " + name + " counter\n"; strings.Contains(blk, typ) && !strings.HasSuffix(name, "_total") {
			name += "_total" // OpenMetrics counter header
		}
		if _, dup := text[name]; dup {
			t.Fatalf("family %s appears twice", name)
		}
		order = append(order, name)
		text[name] = blk
	}
	return order, text
}

// exactConfig is the default configuration with dyadic score deltas, so
// that every score and aggregate of a small book is exact in binary, and no
// uptime bonus, so that an epoch splits its pool by stake × score only.
func exactConfig() ledger.Config {
	cfg := ledger.DefaultConfig()
	cfg.Reputation.Initial = 0.5
	cfg.Reputation.Threshold = 0.75
	cfg.Reputation.EventDeltas = map[reputation.EventType]float64{
		reputation.BlockProposed:  0.125,
		reputation.BlockValidated: 0.0625,
		reputation.VoteCast:       0.25,
		reputation.Heartbeat:      0.03125,
		reputation.MissedBlock:    -0.125,
		reputation.LateResponse:   -0.0625,
	}
	cfg.Reputation.Penalties = map[reputation.ViolationType]float64{
		reputation.DoubleSign:        0.5,
		reputation.Equivocation:      0.25,
		reputation.InvalidBlock:      0.125,
		reputation.Downtime:          0.0625,
		reputation.Censorship:        0.375,
		reputation.ProtocolViolation: 0.1875,
	}
	cfg.Rewards.BonusPPM = 0
	return cfg
}

// populate registers n nodes named prefix-00000… through the ledger with
// varied state: a deposit (except every 7th node), a batch of events that
// spreads the scores, a violation on every 5th node and a withdrawal on every
// 3rd. Many writers run at once so that group commit keeps fsyncs few.
func populate(t testing.TB, ctx context.Context, l *ledger.Ledger, prefix string, n int) []string {
	t.Helper()
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("%s-%06d", prefix, i)
	}
	const writers = 128
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n; i += writers {
				if err := populateOne(ctx, l, ids[i], i); err != nil {
					errs <- fmt.Errorf("%s: %w", ids[i], err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	return ids
}

func populateOne(ctx context.Context, l *ledger.Ledger, id string, i int) error {
	payout := ""
	if i%2 == 0 {
		payout = "payout-" + id
	}
	if _, err := l.Register(ctx, id, payout); err != nil {
		return err
	}
	if i%7 != 0 {
		if _, _, err := l.Deposit(ctx, id, uint64(1000+i*37), nil); err != nil {
			return err
		}
	}
	events := []ledger.Event{
		{NodeID: id, Type: reputation.BlockProposed, Count: uint32(i % 41)},
		{NodeID: id, Type: reputation.Heartbeat, Count: uint32(1 + i%13)},
		{NodeID: id, Type: reputation.MissedBlock, Count: uint32(i % 5)},
	}
	var violations []ledger.Violation
	if i%5 == 0 {
		violations = append(violations, ledger.Violation{NodeID: id, Type: reputation.ViolationTypes[i%len(reputation.ViolationTypes)]})
	}
	if _, err := l.Batch(ctx, events, violations); err != nil {
		return err
	}
	if i%3 == 0 && i%7 != 0 {
		if _, _, err := l.Withdraw(ctx, id, 100, nil); err != nil {
			return err
		}
	}
	return nil
}
