package lint

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"go.yaml.in/yaml/v2"

	"github.com/cretoai/monitor/service/catalog"
)

// Series Prometheus produces itself, which dashboards may select.
var prometheusSeries = Metrics{
	"up":                      Gauge,
	"ALERTS":                  Gauge,
	"ALERTS_FOR_STATE":        Gauge,
	"scrape_duration_seconds": Gauge,
	"scrape_samples_scraped":  Gauge,
}

// Catalog is every metric of the service's catalog with its type, plus the
// series Prometheus produces itself (up, ALERTS, scrape_duration_seconds).
func Catalog() Metrics {
	m := Metrics{}
	for name, k := range prometheusSeries {
		m[name] = k
	}
	for _, c := range catalog.All() {
		switch c.Type {
		case catalog.Counter:
			m[c.Name] = Counter
		case catalog.Histogram:
			m[c.Name] = Histogram
		default:
			m[c.Name] = Gauge
		}
	}
	return m
}

// AddRecordingRules adds the series recorded by the rule files matching
// glob (e.g. prometheus/rules/*.yml). A recorded series is a counter when
// its name says so (_total, or a histogram's _bucket/_sum/_count), a gauge
// otherwise: a recorded rate is a gauge. No file matching is no error.
func (m Metrics) AddRecordingRules(glob string) ([]string, error) {
	files, err := filepath.Glob(glob)
	if err != nil {
		return nil, err
	}
	var added []string
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		var doc struct {
			Groups []struct {
				Rules []struct {
					Record string `yaml:"record"`
				} `yaml:"rules"`
			} `yaml:"groups"`
		}
		if err := yaml.Unmarshal(raw, &doc); err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		for _, g := range doc.Groups {
			for _, r := range g.Rules {
				if r.Record == "" {
					continue
				}
				kind := Gauge
				for _, suf := range append([]string{"_total"}, histogramSuffixes...) {
					if strings.HasSuffix(r.Record, suf) {
						kind = Counter
					}
				}
				m[r.Record] = kind
				added = append(added, r.Record)
			}
		}
	}
	return added, nil
}
