// Package metrics is the service's Prometheus instrumentation and the only
// package that imports client_golang. State metrics (scores, totals, per-node
// stake, the book's counters…) are computed at scrape time from one snapshot
// of the book and written by a fast exposition path; event metrics
// (histograms) are observed by the Recorder where the event happens; service
// health metrics instrument HTTP, the store and the jobs.
package metrics

import (
	"context"
	"fmt"
	"iter"
	"log/slog"
	"net/http"
	"runtime"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/cretoai/monitor/service/catalog"
	"github.com/cretoai/monitor/service/internal/ledger"
)

// Options configure the metrics.
type Options struct {
	Version, Revision string
	// DisabledFamilies are per-node families not to expose.
	DisabledFamilies []string
	Log              *slog.Logger
}

// Metrics is everything the service registers on its registry.
type Metrics struct {
	*Recorder
	reg      *prometheus.Registry
	fams     []stateFamily
	log      *slog.Logger
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	jobRuns  *prometheus.CounterVec
	jobLast  *prometheus.GaugeVec
	scrape   prometheus.Histogram

	once    sync.Once
	handler http.Handler
}

// New creates the service's metrics and registers them on reg. It returns an
// error, never panics, when reg already holds them.
func New(reg *prometheus.Registry, opts Options) (*Metrics, error) {
	fams, err := selectFamilies(opts.DisabledFamilies)
	if err != nil {
		return nil, err
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	req, dur := mustLookup(catalog.ServiceHTTPRequests), mustLookup(catalog.ServiceHTTPRequestDuration)
	runs, last := mustLookup(catalog.ServiceJobRuns), mustLookup(catalog.ServiceJobLastSuccess)
	build := mustLookup(catalog.ServiceBuildInfo)
	m := &Metrics{
		Recorder: newRecorder(),
		reg:      reg,
		fams:     fams,
		log:      opts.Log,
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: req.Name, Help: req.Help}, []string{"route", "method", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: dur.Name, Help: dur.Help, Buckets: prometheus.DefBuckets}, []string{"route", "method"}),
		jobRuns:  prometheus.NewCounterVec(prometheus.CounterOpts{Name: runs.Name, Help: runs.Help}, []string{"task", "result"}),
		jobLast:  prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: last.Name, Help: last.Help}, []string{"task"}),
		scrape:   histogram(catalog.ServiceScrapeDuration, ScrapeBuckets),
	}
	buildInfo := prometheus.NewGauge(prometheus.GaugeOpts{Name: build.Name, Help: build.Help,
		ConstLabels: prometheus.Labels{"version": opts.Version, "revision": opts.Revision, "goversion": runtime.Version()}})
	buildInfo.Set(1)
	cs := append(m.Recorder.collectors(),
		m.requests, m.duration, m.jobRuns, m.jobLast, m.scrape, buildInfo, stateNames{},
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	for _, c := range cs {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("metrics: register: %w", err)
		}
	}
	return m, nil
}

// stateNames reserves the names of the state families on the registry: it
// describes them but collects nothing, since the handler writes them itself.
// Without it the registry would accept a second definition of a state family
// and /metrics would carry that name twice, which breaks the scrape (R03).
type stateNames struct{}

func (stateNames) Describe(ch chan<- *prometheus.Desc) {
	for _, f := range stateFamilies {
		ch <- prometheus.NewDesc(f.Name, f.Help, f.Labels, nil)
	}
}

func (stateNames) Collect(chan<- prometheus.Metric) {}

// Handler returns the /metrics handler over book. It is built once; later
// calls return the same handler.
func (m *Metrics) Handler(book *ledger.Ledger) http.Handler {
	m.once.Do(func() { m.handler = newHandler(m.reg, book, m.fams, m.log, m.scrape) })
	return m.handler
}

// Instrument wraps h to count and time its requests under the route
// template, never the raw path, so ids in paths cannot create series.
func (m *Metrics) Instrument(route string, h http.Handler) http.Handler {
	labels := prometheus.Labels{"route": route}
	return promhttp.InstrumentHandlerDuration(m.duration.MustCurryWith(labels),
		promhttp.InstrumentHandlerCounter(m.requests.MustCurryWith(labels), h))
}

// JobRan records one run of a scheduled job.
func (m *Metrics) JobRan(job string, err error) {
	if err != nil {
		m.jobRuns.WithLabelValues(job, "failure").Inc()
		return
	}
	m.jobRuns.WithLabelValues(job, "success").Inc()
	m.jobLast.WithLabelValues(job).SetToCurrentTime()
}

// SampleScores observes every node's score into the score distribution
// histogram once per period until ctx is done, so that its buckets count
// node-samples: increase over a window is the distribution of scores across
// nodes in that window, whatever the event rate.
func (m *Metrics) SampleScores(ctx context.Context, book *ledger.Ledger, period time.Duration) {
	t := time.NewTicker(period)
	defer t.Stop()
	for {
		m.sampleOnce(book)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (m *Metrics) sampleOnce(book *ledger.Ledger) {
	book.View(func(nodes iter.Seq[*ledger.Node], _ int, _ *ledger.Network) {
		for n := range nodes {
			m.RecordScore(n.Reputation.Score)
		}
	})
}
