package metrics_test

import (
	"bytes"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/cretoai/monitor/service/catalog"
	"github.com/cretoai/monitor/service/internal/ledger"
	"github.com/cretoai/monitor/service/internal/metrics"
	"github.com/cretoai/monitor/service/internal/reputation"
)

const acceptOpenMetrics = "application/openmetrics-text; version=1.0.0"

// sampleNames returns the names of the samples of an exposition (text or
// OpenMetrics), without *_created.
func sampleNames(body []byte) map[string]bool {
	out := map[string]bool{}
	for _, line := range strings.Split(string(body), "\n") {
		if line == "" || line[0] == '#' {
			continue
		}
		name := line[:strings.IndexAny(line, "{ ")]
		if !strings.HasSuffix(name, "_created") {
			out[name] = true
		}
	}
	return out
}

// typeLines returns family name → type from the # TYPE lines.
func typeLines(body []byte) map[string]string {
	out := map[string]string{}
	for _, line := range strings.Split(string(body), "\n") {
		if rest, ok := strings.CutPrefix(line, "# TYPE "); ok {
			name, typ, _ := strings.Cut(rest, " ")
			out[name] = typ
		}
	}
	return out
}

// TestNegotiation (R13, R14): gzip exactly once and only when asked for; the
// text format without "# EOF"; OpenMetrics with its content type and a
// final "# EOF"; the same samples in both; counters named right in both.
func TestNegotiation(t *testing.T) {
	e := newEnv(t, ledger.DefaultConfig(), metrics.Options{})
	observeEverything(t, e)

	t.Run("gzip", func(t *testing.T) {
		for _, ae := range []string{"gzip", "gzip, deflate, br", "br;q=1.0, gzip;q=0.8", "GZIP"} {
			r := scrape(t, e.handler, "Accept-Encoding", ae)
			if r.status != http.StatusOK {
				t.Fatalf("%q: status %d", ae, r.status)
			}
			if got := r.header.Get("Content-Encoding"); got != "gzip" {
				t.Fatalf("Accept-Encoding %q: Content-Encoding %q, want gzip", ae, got)
			}
			if !strings.Contains(r.header.Get("Vary"), "Accept-Encoding") {
				t.Errorf("Vary = %q, want Accept-Encoding", r.header.Get("Vary"))
			}
			plain := gunzip(t, r.body)
			if !bytes.HasPrefix(plain, []byte("# HELP ")) {
				t.Fatalf("Accept-Encoding %q: one gunzip gives %q, want text starting with # HELP", ae, head(plain))
			}
			parseText(t, plain)
		}
	})
	t.Run("identity", func(t *testing.T) {
		for _, ae := range []string{"", "identity", "gzip;q=0", "deflate"} {
			r := scrape(t, e.handler, "Accept-Encoding", ae)
			if got := r.header.Get("Content-Encoding"); got != "" {
				t.Errorf("Accept-Encoding %q: Content-Encoding %q, want none", ae, got)
			}
			if !bytes.HasPrefix(r.body, []byte("# HELP ")) {
				t.Errorf("Accept-Encoding %q: body starts %q, want # HELP", ae, head(r.body))
			}
		}
	})
	t.Run("go client", func(t *testing.T) {
		// The stock client asks for gzip and decompresses transparently:
		// what it reads must parse (no second layer of gzip).
		srv := httptest.NewServer(e.handler)
		defer srv.Close()
		r := scrapeURL(t, srv.Client(), srv.URL+"/metrics")
		parseText(t, r.body)
	})

	text := scrape(t, e.handler, "Accept", "text/plain")
	om := scrape(t, e.handler, "Accept", acceptOpenMetrics)
	omGzip := scrape(t, e.handler, "Accept", acceptOpenMetrics, "Accept-Encoding", "gzip")
	t.Run("text", func(t *testing.T) {
		if ct := text.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
			t.Errorf("Content-Type %q, want text/plain", ct)
		}
		if bytes.Contains(text.body, []byte("# EOF")) {
			t.Error("text format contains # EOF")
		}
		parseText(t, text.body)
	})
	t.Run("openmetrics", func(t *testing.T) {
		for _, r := range []response{om, {status: omGzip.status, header: omGzip.header, body: gunzip(t, omGzip.body)}} {
			if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/openmetrics-text") {
				t.Errorf("Content-Type %q, want application/openmetrics-text", ct)
			}
			if !bytes.HasSuffix(r.body, []byte("\n# EOF\n")) {
				t.Errorf("OpenMetrics body ends %q, want # EOF", r.body[max(0, len(r.body)-40):])
			}
			if n := bytes.Count(r.body, []byte("# EOF")); n != 1 {
				t.Errorf("%d # EOF lines, want 1", n)
			}
		}
	})
	t.Run("same samples", func(t *testing.T) {
		ts, oms := sampleNames(text.body), sampleNames(om.body)
		if !maps.Equal(ts, oms) {
			for n := range ts {
				if !oms[n] {
					t.Errorf("%s only in the text format", n)
				}
			}
			for n := range oms {
				if !ts[n] {
					t.Errorf("%s only in OpenMetrics", n)
				}
			}
		}
		for _, m := range catalog.All() {
			if m.Type != catalog.Histogram && !ts[m.Name] {
				t.Errorf("no %s sample", m.Name)
			}
		}
	})
	t.Run("counter names", func(t *testing.T) {
		for name, typ := range typeLines(text.body) {
			switch {
			case typ == "counter" && (!strings.HasSuffix(name, "_total") || strings.Count(name, "_total") != 1):
				t.Errorf("text: counter %s does not end in _total exactly once", name)
			case typ != "counter" && strings.HasSuffix(name, "_total"):
				t.Errorf("text: %s %s ends in _total", typ, name)
			}
		}
		// OpenMetrics: a counter family is named without _total and each of
		// its samples with it, exactly once.
		order, blks := blocks(t, om.body)
		for _, name := range order {
			blk := blks[name]
			header, _, _ := strings.Cut(strings.TrimPrefix(blk, "# HELP "), " ")
			typ := typeLines([]byte(blk))[header]
			if typ == "counter" && strings.HasSuffix(header, "_total") {
				t.Errorf("OpenMetrics: counter family %s keeps _total in its name", header)
			}
			for sample := range sampleNames([]byte(blk)) {
				if typ == "counter" && (sample != header+"_total" || strings.Count(sample, "_total") != 1) {
					t.Errorf("OpenMetrics: sample %s of counter %s does not end in _total exactly once", sample, header)
				}
				if typ != "counter" && strings.HasSuffix(sample, "_total") {
					t.Errorf("OpenMetrics: sample %s of %s %s ends in _total", sample, typ, header)
				}
			}
		}
	})
}

// TestInstrument: requests are counted and timed under the route template,
// never the raw path; unknown methods collapse to one label value.
func TestInstrument(t *testing.T) {
	e := newEnv(t, ledger.DefaultConfig(), metrics.Options{})
	const route = "/api/v1/nodes/{node_id}"
	mux := http.NewServeMux()
	mux.Handle(route, e.m.Instrument(route, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.PathValue("node_id") == "missing" {
			http.NotFound(w, r)
			return
		}
		w.WriteHeader(http.StatusOK)
	})))
	srv := httptest.NewServer(mux)
	defer srv.Close()
	for _, c := range []struct{ method, path string }{
		{http.MethodGet, "/api/v1/nodes/abc"},
		{http.MethodGet, "/api/v1/nodes/def"},
		{http.MethodGet, "/api/v1/nodes/missing"},
		{"BREW", "/api/v1/nodes/abc"},
	} {
		req, _ := http.NewRequest(c.method, srv.URL+c.path, nil)
		res, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
	}

	mfs := e.families()
	want := []struct {
		method, code string
		n            float64
	}{{"get", "200", 2}, {"get", "404", 1}, {"unknown", "200", 1}}
	for _, w := range want {
		m, ok := find(mfs, catalog.ServiceHTTPRequests, map[string]string{"route": route, "method": w.method, "code": w.code})
		if !ok {
			t.Errorf("no %s{route=%q,method=%q,code=%q}", catalog.ServiceHTTPRequests, route, w.method, w.code)
			continue
		}
		if got := value(m); got != w.n {
			t.Errorf("%s{method=%q,code=%q} = %v, want %v", catalog.ServiceHTTPRequests, w.method, w.code, got, w.n)
		}
	}
	if n := len(mfs[catalog.ServiceHTTPRequests].GetMetric()); n != len(want) {
		t.Errorf("%d request series, want %d", n, len(want))
	}
	dur, ok := find(mfs, catalog.ServiceHTTPRequestDuration, map[string]string{"route": route, "method": "get"})
	if !ok || dur.GetHistogram().GetSampleCount() != 3 {
		t.Errorf("duration histogram for GET %s: %v", route, dur)
	}
	for name, mf := range mfs {
		for _, m := range mf.GetMetric() {
			for _, lp := range m.GetLabel() {
				if strings.Contains(lp.GetValue(), "/api/v1/nodes/") && lp.GetValue() != route {
					t.Errorf("%s has a raw path label %s=%q", name, lp.GetName(), lp.GetValue())
				}
			}
		}
	}
}

// TestUnknownIDsCreateNoSeries (R10): operations on ids that were never
// registered create no series.
func TestUnknownIDsCreateNoSeries(t *testing.T) {
	e := newEnv(t, ledger.DefaultConfig(), metrics.Options{})
	e.register("n1", "")
	before := e.text()
	for i := range 50 {
		id := "ghost-" + string(rune('a'+i%26)) + strings.Repeat("x", i)
		if _, err := e.book.RecordEvent(e.ctx, ledger.Event{NodeID: id, Type: reputation.Heartbeat}); err == nil {
			t.Fatalf("event for unregistered %s accepted", id)
		}
		if _, _, err := e.book.Deposit(e.ctx, id, 10, nil); err == nil {
			t.Fatalf("deposit for unregistered %s accepted", id)
		}
		if _, err := e.book.RecordViolation(e.ctx, ledger.Violation{NodeID: id, Type: reputation.Downtime}); err == nil {
			t.Fatalf("violation for unregistered %s accepted", id)
		}
	}
	after := e.text()
	b, a := parseText(t, before), parseText(t, after)
	for _, m := range catalog.Domain {
		if m.PerNode && len(a[m.Name].GetMetric()) != len(b[m.Name].GetMetric()) {
			t.Errorf("%s: %d series before, %d after", m.Name, len(b[m.Name].GetMetric()), len(a[m.Name].GetMetric()))
		}
	}
	if bytes.Contains(after, []byte("ghost-")) {
		t.Error("an unregistered id appears in /metrics")
	}
	if ids := slices.Collect(maps.Keys(nodeIDs(a))); !slices.Equal(ids, []string{"n1"}) {
		t.Errorf("node ids in /metrics: %v, want [n1]", ids)
	}
}

// nodeIDs collects every node_id label value in mfs.
func nodeIDs(mfs map[string]*dto.MetricFamily) map[string]bool {
	out := map[string]bool{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			if id, ok := labelsOf(m)[catalog.LabelNodeID]; ok {
				out[id] = true
			}
		}
	}
	return out
}

// dupCollector emits the same series twice, the R12 failure.
type dupCollector struct{ desc *prometheus.Desc }

func (c dupCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }
func (c dupCollector) Collect(ch chan<- prometheus.Metric) {
	for range 2 {
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, 1, "x")
	}
}

// TestGatherErrorFailsScrape (R12): when the registry cannot be gathered
// the scrape fails with 500, like promhttp's HTTPErrorOnError, instead of
// serving a partial exposition in which series silently vanish.
func TestGatherErrorFailsScrape(t *testing.T) {
	e := newEnv(t, ledger.DefaultConfig(), metrics.Options{})
	e.register("n1", "")
	e.reg.MustRegister(dupCollector{prometheus.NewDesc("cretoai_test_duplicate", "Duplicate.", []string{"k"}, nil)})
	for _, ae := range []string{"", "gzip"} {
		r := scrape(t, e.handler, "Accept-Encoding", ae)
		if r.status != http.StatusInternalServerError {
			t.Errorf("Accept-Encoding %q: status %d, want 500", ae, r.status)
		}
		if r.header.Get("Content-Encoding") != "" {
			t.Errorf("Accept-Encoding %q: error response has Content-Encoding %q", ae, r.header.Get("Content-Encoding"))
		}
		if !bytes.Contains(r.body, []byte("collected before with the same name and label values")) {
			t.Errorf("error body %q does not name the duplicate", r.body)
		}
	}
}
