package metrics

import (
	"compress/gzip"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"

	"github.com/cretoai/monitor/service/internal/ledger"
)

// handler serves /metrics: the registry's families through expfmt, then the
// state families of one book snapshot through the fast writer. It negotiates
// the text format or OpenMetrics like promhttp and compresses with gzip
// exactly once, when the client asks for it.
type handler struct {
	gatherer prometheus.Gatherer
	book     *ledger.Ledger
	fams     []stateFamily
	log      *slog.Logger
	duration prometheus.Histogram

	snapshots sync.Pool // *snapshot, reused so a warm scrape allocates little
	gzips     sync.Pool // *gzip.Writer
}

func newHandler(g prometheus.Gatherer, book *ledger.Ledger, fams []stateFamily, log *slog.Logger, d prometheus.Histogram) *handler {
	h := &handler{gatherer: g, book: book, fams: fams, log: log, duration: d}
	h.snapshots.New = func() any { return new(snapshot) }
	return h
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	mfs, err := h.gatherer.Gather()
	if err != nil {
		// Like promhttp's HTTPErrorOnError: a partial exposition would make
		// series silently disappear, so fail the scrape loudly.
		h.log.Error("gathering metrics failed", "err", err)
		http.Error(w, "error gathering metrics: "+err.Error(), http.StatusInternalServerError)
		return
	}
	s := h.snapshots.Get().(*snapshot)
	defer h.snapshots.Put(s)
	s.fill(h.book)

	format := expfmt.NegotiateIncludingOpenMetrics(r.Header)
	om := format.FormatType() == expfmt.TypeOpenMetrics
	header := w.Header()
	header.Set("Content-Type", string(format))
	header.Add("Vary", "Accept-Encoding")

	var out io.Writer = w
	if acceptsGzip(r.Header.Get("Accept-Encoding")) {
		header.Set("Content-Encoding", "gzip")
		gz, _ := h.gzips.Get().(*gzip.Writer)
		if gz == nil {
			gz, _ = gzip.NewWriterLevel(w, gzip.BestSpeed)
		} else {
			gz.Reset(w)
		}
		defer func() {
			if err := gz.Close(); err != nil {
				h.log.Debug("closing gzip stream failed", "err", err)
			}
			h.gzips.Put(gz)
		}()
		out = gz
	}

	wr := &writer{out: out, buf: s.out[:0]}
	defer func() { s.out = wr.buf[:0] }()
	enc := expfmt.NewEncoder(writerFunc(func(p []byte) (int, error) {
		wr.buf = append(wr.buf, p...)
		wr.flushIfFull()
		return len(p), wr.err
	}), format)
	for _, mf := range mfs {
		if err := enc.Encode(mf); err != nil {
			h.log.Error("encoding metric family failed", "family", mf.GetName(), "err", err)
			return
		}
	}
	writeFamilies(wr, h.fams, s, om)
	if c, ok := enc.(expfmt.Closer); ok {
		// OpenMetrics ends with "# EOF".
		if err := c.Close(); err != nil {
			h.log.Error("closing exposition failed", "err", err)
		}
	}
	wr.flush()
	if wr.err != nil {
		h.log.Debug("writing /metrics response failed", "err", wr.err)
	}
	h.duration.Observe(time.Since(start).Seconds())
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// acceptsGzip reports whether an Accept-Encoding header allows gzip with a
// non-zero quality.
func acceptsGzip(h string) bool {
	for _, part := range strings.Split(h, ",") {
		coding, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if !strings.EqualFold(strings.TrimSpace(coding), "gzip") {
			continue
		}
		if q, ok := strings.CutPrefix(strings.TrimSpace(params), "q="); ok {
			if v, err := strconv.ParseFloat(q, 64); err == nil && v == 0 {
				return false
			}
		}
		return true
	}
	return false
}
