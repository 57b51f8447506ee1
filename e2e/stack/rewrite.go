package stack

import (
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/promql/parser"
	"go.yaml.in/yaml/v3"
)

// The end-to-end stack runs the repository's own prometheus.yml, rule files
// and alertmanager.yml. Only three kinds of change are made to them, all
// here:
//
//  1. Addresses: compose service names (cretoai:8080, alertmanager:9093,
//     alert-sink:8095) and Prometheus's own localhost:9090 become the
//     127.0.0.1 ports picked at start; rule_files point at the rewritten
//     copies of the rule files.
//  2. Timing, divided by one factor (Scale): the scrape and evaluation
//     intervals; every rule's `for` and `keep_firing_for`; every duration
//     inside a PromQL expression (range windows, offsets, subquery ranges
//     and steps); Alertmanager's group_wait, group_interval and
//     repeat_interval on every route. Numbers that are not PromQL durations
//     (thresholds, including ones in seconds such as "time() - x > 7200")
//     are NOT scaled.
//  3. Nothing else: labels, annotations, matchers, receivers and inhibition
//     rules are untouched.

// Scale divides durations by Factor.
type Scale struct{ Factor int }

// Duration scales one Prometheus-style duration string ("5m", "1h30m").
func (s Scale) Duration(d string) (string, error) {
	md, err := model.ParseDuration(d)
	if err != nil {
		return "", err
	}
	return model.Duration(s.scale(time.Duration(md))).String(), nil
}

func (s Scale) scale(d time.Duration) time.Duration {
	if s.Factor <= 1 || d == 0 {
		return d
	}
	out := d / time.Duration(s.Factor)
	if out < time.Second {
		out = time.Second // Prometheus durations have millisecond precision; keep it readable
	}
	return out.Truncate(time.Second)
}

var promParser = parser.NewParser(parser.Options{})

// Expr scales every duration inside a PromQL expression.
func (s Scale) Expr(expr string) (string, error) {
	e, err := promParser.ParseExpr(expr)
	if err != nil {
		return "", err
	}
	parser.Inspect(e, func(n parser.Node, _ []parser.Node) error {
		switch n := n.(type) {
		case *parser.MatrixSelector:
			n.Range = s.scale(n.Range)
		case *parser.SubqueryExpr:
			n.Range = s.scale(n.Range)
			n.Step = s.scale(n.Step)
			n.OriginalOffset = s.scale(n.OriginalOffset)
		case *parser.VectorSelector:
			n.OriginalOffset = s.scale(n.OriginalOffset)
		}
		return nil
	})
	return e.String(), nil
}

// Addrs maps the addresses written in the repository's configs to the
// addresses of the local processes.
type Addrs map[string]string

func (a Addrs) replace(target string) (string, error) {
	if v, ok := a[target]; ok {
		return v, nil
	}
	return "", fmt.Errorf("no local address for %q", target)
}

// PrometheusConfig rewrites prometheus.yml: addresses, intervals and
// rule_files (set to ruleGlobs).
func PrometheusConfig(src []byte, s Scale, a Addrs, ruleGlobs []string) ([]byte, error) {
	var cfg map[string]any
	if err := yaml.Unmarshal(src, &cfg); err != nil {
		return nil, err
	}
	if g, ok := cfg["global"].(map[string]any); ok {
		for _, k := range []string{"scrape_interval", "evaluation_interval", "scrape_timeout"} {
			if v, ok := g[k].(string); ok {
				d, err := s.Duration(v)
				if err != nil {
					return nil, fmt.Errorf("global.%s: %w", k, err)
				}
				g[k] = d
			}
		}
	}
	cfg["rule_files"] = ruleGlobs
	targets := func(where string, list []any) error {
		for i, t := range list {
			r, err := a.replace(fmt.Sprint(t))
			if err != nil {
				return fmt.Errorf("%s: %w", where, err)
			}
			list[i] = r
		}
		return nil
	}
	eachStatic := func(where string, v any) error {
		for _, sc := range asList(v) {
			m, _ := sc.(map[string]any)
			if err := targets(where, asList(m["targets"])); err != nil {
				return err
			}
		}
		return nil
	}
	for _, sc := range asList(cfg["scrape_configs"]) {
		m := sc.(map[string]any)
		for _, k := range []string{"scrape_interval", "scrape_timeout"} {
			if v, ok := m[k].(string); ok {
				d, err := s.Duration(v)
				if err != nil {
					return nil, err
				}
				m[k] = d
			}
		}
		if err := eachStatic(fmt.Sprint("job ", m["job_name"]), m["static_configs"]); err != nil {
			return nil, err
		}
	}
	if al, ok := cfg["alerting"].(map[string]any); ok {
		for _, am := range asList(al["alertmanagers"]) {
			if err := eachStatic("alerting", am.(map[string]any)["static_configs"]); err != nil {
				return nil, err
			}
		}
	}
	return yaml.Marshal(cfg)
}

func asList(v any) []any {
	l, _ := v.([]any)
	return l
}

// RuleFile rewrites one rule file: for, keep_firing_for, group intervals
// and every duration inside expressions.
func RuleFile(src []byte, s Scale) ([]byte, error) {
	var f map[string]any
	if err := yaml.Unmarshal(src, &f); err != nil {
		return nil, err
	}
	for _, g := range asList(f["groups"]) {
		gm := g.(map[string]any)
		if v, ok := gm["interval"].(string); ok {
			d, err := s.Duration(v)
			if err != nil {
				return nil, err
			}
			gm["interval"] = d
		}
		for _, r := range asList(gm["rules"]) {
			rm := r.(map[string]any)
			for _, k := range []string{"for", "keep_firing_for"} {
				if v, ok := rm[k].(string); ok {
					d, err := s.Duration(v)
					if err != nil {
						return nil, fmt.Errorf("%v %s: %w", rm["alert"], k, err)
					}
					rm[k] = d
				}
			}
			expr, err := s.Expr(fmt.Sprint(rm["expr"]))
			if err != nil {
				return nil, fmt.Errorf("%v%v: %w", rm["alert"], rm["record"], err)
			}
			rm["expr"] = expr
		}
	}
	return yaml.Marshal(f)
}

// AlertmanagerConfig rewrites alertmanager.yml: webhook URLs to the local
// sink and the route timings.
func AlertmanagerConfig(src []byte, s Scale, a Addrs) ([]byte, error) {
	var cfg map[string]any
	if err := yaml.Unmarshal(src, &cfg); err != nil {
		return nil, err
	}
	var route func(r map[string]any) error
	route = func(r map[string]any) error {
		for _, k := range []string{"group_wait", "group_interval", "repeat_interval"} {
			if v, ok := r[k].(string); ok {
				d, err := s.Duration(v)
				if err != nil {
					return err
				}
				r[k] = d
			}
		}
		for _, c := range asList(r["routes"]) {
			if err := route(c.(map[string]any)); err != nil {
				return err
			}
		}
		return nil
	}
	if r, ok := cfg["route"].(map[string]any); ok {
		if err := route(r); err != nil {
			return nil, err
		}
	}
	for _, rc := range asList(cfg["receivers"]) {
		for _, w := range asList(rc.(map[string]any)["webhook_configs"]) {
			wm := w.(map[string]any)
			u, err := url.Parse(fmt.Sprint(wm["url"]))
			if err != nil {
				return nil, err
			}
			host, err := a.replace(u.Host)
			if err != nil {
				return nil, fmt.Errorf("webhook %s: %w", u, err)
			}
			u.Host = host
			wm["url"] = u.String()
		}
	}
	return yaml.Marshal(cfg)
}

// WriteConfigs writes the rewritten configs into dir and returns the paths
// of prometheus.yml and alertmanager.yml.
func WriteConfigs(root, dir string, s Scale, a Addrs) (promCfg, amCfg string, err error) {
	rulesDir := filepath.Join(dir, "rules")
	if err := os.MkdirAll(rulesDir, 0o755); err != nil {
		return "", "", err
	}
	for _, src := range []string{"prometheus/rules", "alerting/rules"} {
		files, _ := filepath.Glob(filepath.Join(root, src, "*.yml"))
		if len(files) == 0 {
			return "", "", fmt.Errorf("no rule files in %s", src)
		}
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				return "", "", err
			}
			out, err := RuleFile(b, s)
			if err != nil {
				return "", "", fmt.Errorf("%s: %w", f, err)
			}
			name := strings.ReplaceAll(src, "/", "-") + "-" + filepath.Base(f)
			if err := os.WriteFile(filepath.Join(rulesDir, name), out, 0o644); err != nil {
				return "", "", err
			}
		}
	}
	b, err := os.ReadFile(filepath.Join(root, "prometheus", "prometheus.yml"))
	if err != nil {
		return "", "", err
	}
	pc, err := PrometheusConfig(b, s, a, []string{filepath.Join(rulesDir, "*.yml")})
	if err != nil {
		return "", "", fmt.Errorf("prometheus.yml: %w", err)
	}
	promCfg = filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(promCfg, pc, 0o644); err != nil {
		return "", "", err
	}
	b, err = os.ReadFile(filepath.Join(root, "alerting", "alertmanager.yml"))
	if err != nil {
		return "", "", err
	}
	ac, err := AlertmanagerConfig(b, s, a)
	if err != nil {
		return "", "", fmt.Errorf("alertmanager.yml: %w", err)
	}
	amCfg = filepath.Join(dir, "alertmanager.yml")
	return promCfg, amCfg, os.WriteFile(amCfg, ac, 0o644)
}
