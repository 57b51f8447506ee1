package metrics

import (
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/cretoai/monitor/service/catalog"
	"github.com/cretoai/monitor/service/internal/ledger"
)

// writer appends exposition text to a reused buffer and flushes it to out in
// large chunks. The first write error sticks and ends the output.
type writer struct {
	out io.Writer
	buf []byte
	err error
}

const flushAt = 64 << 10

func (w *writer) flushIfFull() {
	if len(w.buf) >= flushAt {
		w.flush()
	}
}

func (w *writer) flush() {
	if w.err == nil && len(w.buf) > 0 {
		_, w.err = w.out.Write(w.buf)
	}
	w.buf = w.buf[:0]
}

// appendEscaped appends s, escaping backslash and newline, and the double
// quote when quote is true (the rules of expfmt's writeEscapedString).
func appendEscaped(b []byte, s string, quote bool) []byte {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\\':
			b = append(b, '\\', '\\')
		case c == '\n':
			b = append(b, '\\', 'n')
		case c == '"' && quote:
			b = append(b, '\\', '"')
		default:
			b = append(b, c)
		}
	}
	return b
}

// appendFloat formats v exactly as expfmt does for the text format, or for
// OpenMetrics when om is true.
func appendFloat(b []byte, v float64, om bool) []byte {
	switch {
	case v == 1:
		if om {
			return append(b, "1.0"...)
		}
		return append(b, '1')
	case v == 0:
		if om {
			return append(b, "0.0"...)
		}
		return append(b, '0')
	case v == -1:
		if om {
			return append(b, "-1.0"...)
		}
		return append(b, "-1"...)
	case math.IsNaN(v):
		return append(b, "NaN"...)
	case math.IsInf(v, 1):
		return append(b, "+Inf"...)
	case math.IsInf(v, -1):
		return append(b, "-Inf"...)
	}
	start := len(b)
	b = strconv.AppendFloat(b, v, 'g', -1, 64)
	if om && !strings.ContainsAny(string(b[start:]), "e.") {
		b = append(b, '.', '0')
	}
	return b
}

// writeFamilies writes the state families of s in the text format (om false)
// or OpenMetrics (om true, without the closing "# EOF"). A family without
// samples is left out, as client_golang does.
func writeFamilies(w *writer, fams []stateFamily, s *snapshot, om bool) {
	for i := range fams {
		f := &fams[i]
		if f.PerNode && len(s.ids) == 0 {
			continue
		}
		name := f.Name
		headerName := name
		if om && f.Type == catalog.Counter {
			headerName = strings.TrimSuffix(name, "_total")
		}
		w.buf = append(w.buf, "# HELP "...)
		w.buf = append(w.buf, headerName...)
		w.buf = append(w.buf, ' ')
		w.buf = appendEscaped(w.buf, f.Help, om)
		w.buf = append(w.buf, "\n# TYPE "...)
		w.buf = append(w.buf, headerName...)
		w.buf = append(w.buf, ' ')
		w.buf = append(w.buf, f.Type...)
		w.buf = append(w.buf, '\n')
		l1, l2 := "", ""
		if len(f.Labels) > 0 {
			l1 = f.Labels[0]
		}
		if len(f.Labels) > 1 {
			l2 = f.Labels[1]
		}
		f.each(s, func(v1, v2 string, v float64) {
			b := append(w.buf, name...)
			if l1 != "" {
				b = append(b, '{')
				b = append(b, l1...)
				b = append(b, `="`...)
				b = appendEscaped(b, v1, true)
				b = append(b, '"')
				if l2 != "" {
					b = append(b, ',')
					b = append(b, l2...)
					b = append(b, `="`...)
					b = appendEscaped(b, v2, true)
					b = append(b, '"')
				}
				b = append(b, '}')
			}
			b = append(b, ' ')
			b = appendFloat(b, v, om)
			w.buf = append(b, '\n')
			w.flushIfFull()
		})
	}
}

// StateCollector is the state families as a plain client_golang Collector:
// the reference the fast exposition is proven byte-compatible with, and the
// stock path it is benchmarked against. The service serves the fast path.
type StateCollector struct {
	book  *ledger.Ledger
	fams  []stateFamily
	descs []*prometheus.Desc
}

// NewStateCollector returns a StateCollector over book.
func NewStateCollector(book *ledger.Ledger, disabled []string) (*StateCollector, error) {
	fams, err := selectFamilies(disabled)
	if err != nil {
		return nil, err
	}
	c := &StateCollector{book: book, fams: fams}
	for _, f := range fams {
		c.descs = append(c.descs, prometheus.NewDesc(f.Name, f.Help, f.Labels, nil))
	}
	return c, nil
}

// Describe implements prometheus.Collector.
func (c *StateCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range c.descs {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c *StateCollector) Collect(ch chan<- prometheus.Metric) {
	var s snapshot
	s.fill(c.book)
	for i, f := range c.fams {
		vt := prometheus.GaugeValue
		if f.Type == catalog.Counter {
			vt = prometheus.CounterValue
		}
		desc, n := c.descs[i], len(f.Labels)
		f.each(&s, func(v1, v2 string, v float64) {
			lv := []string{v1, v2}[:n]
			ch <- prometheus.MustNewConstMetric(desc, vt, v, lv...)
		})
	}
}
