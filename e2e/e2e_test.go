//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/cretoai/monitor/dashboards/lint"
	"github.com/cretoai/monitor/e2e/stack"
	"github.com/cretoai/monitor/e2e/tools"
	"github.com/cretoai/monitor/service/catalog"
)

// factor divides every interval: the 15s scrape and evaluation intervals
// become 1s, a `for: 1m` becomes 4s.
const factor = 15

const simNodes = 20

func TestStack(t *testing.T) {
	root, err := tools.Root()
	if err != nil {
		t.Fatal(err)
	}
	logPath := filepath.Join(t.TempDir(), "stack.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	defer logFile.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	s, err := stack.Start(ctx, stack.Options{
		Root: root, Dir: t.TempDir(), Factor: factor, Log: logFile, Simulator: true,
		SimArgs: []string{"--nodes", strconv.Itoa(simNodes), "--seed", "3", "--rate", "100",
			"--speedup", strconv.Itoa(factor), "--epoch-every", "5s"},
		// Withdrawals must not mature during the test, so that the book
		// before and after the restart can be compared exactly.
		ServiceEnv: map[string]string{"CRETOAI_UNBONDING_PERIOD": "1h"},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		s.Close()
		if t.Failed() {
			b, _ := os.ReadFile(logPath)
			if len(b) > 20000 {
				b = b[len(b)-20000:]
			}
			t.Logf("last stack log lines:\n%s", b)
		}
	})
	report := map[string]string{}

	// Two nodes of our own with stake and no events: their score stays at
	// the initial 0.5, below the 0.7 threshold, so each gets the warning
	// NodeReputationBelowThreshold; only the victim will double-sign.
	for _, id := range []string{"e2e-victim", "e2e-bystander"} {
		api(t, s, "POST", "/api/v1/nodes", fmt.Sprintf(`{"node_id":%q,"payout_address":"addr-%s"}`, id, id))
		api(t, s, "POST", "/api/v1/nodes/"+id+"/deposits", `{"amount":500000}`)
	}

	t.Run("prometheus scrapes the service and loads every rule group", func(t *testing.T) {
		waitFor(t, "target up", time.Minute, func() (bool, string) {
			v, err := query(t, s, `up{job="cretoai"} == 1`)
			return err == nil && len(v) == 1, fmt.Sprint(v, err)
		})
		want := ruleGroups(t, root)
		waitFor(t, "rule groups loaded and evaluated", time.Minute, func() (bool, string) {
			var r struct {
				Data struct {
					Groups []struct {
						Name  string `json:"name"`
						Rules []struct {
							Name      string `json:"name"`
							Health    string `json:"health"`
							LastError string `json:"lastError"`
						} `json:"rules"`
					} `json:"groups"`
				} `json:"data"`
			}
			getJSON(t, s.URL("prometheus")+"/api/v1/rules", &r)
			var got []string
			for _, g := range r.Data.Groups {
				got = append(got, g.Name)
				for _, rule := range g.Rules {
					if rule.Health != "ok" {
						return false, fmt.Sprintf("%s/%s: health %q %s", g.Name, rule.Name, rule.Health, rule.LastError)
					}
				}
			}
			sort.Strings(got)
			return slices.Equal(got, want), fmt.Sprintf("groups %v, want %v", got, want)
		})
		waitFor(t, "alertmanager discovered", time.Minute, func() (bool, string) {
			var r struct {
				Data struct {
					Active []struct {
						URL string `json:"url"`
					} `json:"activeAlertmanagers"`
				} `json:"data"`
			}
			getJSON(t, s.URL("prometheus")+"/api/v1/alertmanagers", &r)
			for _, a := range r.Data.Active {
				if strings.Contains(a.URL, s.Addr("alertmanager")) {
					return true, ""
				}
			}
			return false, fmt.Sprint(r.Data.Active)
		})
	})

	t.Run("every catalog metric reaches Prometheus", func(t *testing.T) {
		waitFor(t, "all catalog families present", 3*time.Minute, func() (bool, string) {
			var r struct {
				Data []string `json:"data"`
			}
			getJSON(t, s.URL("prometheus")+"/api/v1/label/__name__/values", &r)
			have := map[string]bool{}
			for _, n := range r.Data {
				have[n] = true
			}
			var missing []string
			for _, m := range catalog.All() {
				name := m.Name
				if m.Type == catalog.Histogram {
					name += "_bucket"
				}
				if !have[name] {
					missing = append(missing, name)
				}
			}
			return len(missing) == 0, fmt.Sprint("missing ", missing)
		})
	})

	t.Run("watchdog heartbeats arrive while data is fresh", func(t *testing.T) {
		waitFor(t, "two heartbeats", 2*time.Minute, func() (bool, string) {
			n := 0
			for _, x := range notifications(t, s) {
				if x.Path == "heartbeat" && x.Message.CommonLabels["alertname"] == "Watchdog" {
					n += x.Deliveries
				}
			}
			return n >= 2, fmt.Sprintf("%d heartbeat deliveries", n)
		})
	})

	t.Run("double-sign pages, inhibits the node's warning, and resolves", func(t *testing.T) {
		firing := func(alert, node string) func() (bool, string) {
			return func() (bool, string) {
				v, err := query(t, s, fmt.Sprintf(`ALERTS{alertname=%q,node_id=%q,alertstate="firing"}`, alert, node))
				return err == nil && len(v) == 1, fmt.Sprint(v, err)
			}
		}
		waitFor(t, "victim's warning firing", 3*time.Minute, firing("NodeReputationBelowThreshold", "e2e-victim"))
		waitFor(t, "bystander's warning firing", time.Minute, firing("NodeReputationBelowThreshold", "e2e-bystander"))

		sent := time.Now()
		api(t, s, "POST", "/api/v1/nodes/e2e-victim/violations", `{"type":"double_sign","evidence":"e2e: two blocks at height 42"}`)
		labels := map[string]string{"alertname": "DoubleSignDetected", "node_id": "e2e-victim", "severity": "critical"}
		var page notification
		waitFor(t, "DoubleSignDetected at the sink", 2*time.Minute, func() (bool, string) {
			n, ok := findNotification(notifications(t, s), "critical", "firing", labels)
			page = n
			return ok, "not yet"
		})
		latency := page.ReceivedAt.Sub(sent)
		report["API call to notification (double-sign)"] = fmt.Sprintf("%.1f s at factor %d", latency.Seconds(), factor)
		for _, a := range page.Message.Alerts {
			if a.Labels["node_id"] != "e2e-victim" {
				continue
			}
			if !strings.Contains(a.Annotations["runbook_url"], "runbooks.md#") {
				t.Errorf("runbook_url = %q", a.Annotations["runbook_url"])
			}
			if !a.EndsAt.IsZero() && a.Status == "firing" && a.EndsAt.Before(time.Now()) {
				t.Errorf("firing alert with a past endsAt %v", a.EndsAt)
			}
		}
		waitFor(t, "StakeSlashed firing", time.Minute, func() (bool, string) {
			v, err := query(t, s, `ALERTS{alertname="StakeSlashed",alertstate="firing"}`)
			return err == nil && len(v) > 0, fmt.Sprint(v, err)
		})
		waitFor(t, "StakeSlashed at the sink", time.Minute, func() (bool, string) {
			_, ok := findNotification(notifications(t, s), "default", "firing", map[string]string{"alertname": "StakeSlashed", "severity": "warning"})
			return ok, "not yet"
		})
		waitFor(t, "the victim's warning inhibited, the bystander's not", time.Minute, func() (bool, string) {
			as := alertmanagerAlerts(t, s)
			v, ok1 := findAMAlert(as, "NodeReputationBelowThreshold", "e2e-victim")
			b, ok2 := findAMAlert(as, "NodeReputationBelowThreshold", "e2e-bystander")
			ok := ok1 && ok2 && v.Status.State == "suppressed" && len(v.Status.InhibitedBy) > 0 && b.Status.State == "active"
			return ok, fmt.Sprintf("victim %+v, bystander %+v", v.Status, b.Status)
		})
		// The page lasts an hour (4 minutes at factor 15) after the double sign.
		waitFor(t, "resolved DoubleSignDetected at the sink", 8*time.Minute, func() (bool, string) {
			n, ok := findNotification(notifications(t, s), "critical", "resolved", map[string]string{"alertname": "DoubleSignDetected", "node_id": "e2e-victim"})
			if ok && n.Message.Alerts[0].Fingerprint != page.Message.Alerts[0].Fingerprint {
				return false, "resolved notification for another alert"
			}
			return ok, "not yet"
		})
	})

	t.Run("a payout failure wave pages", func(t *testing.T) {
		for i := 1; i <= simNodes; i++ {
			api(t, s, "PATCH", fmt.Sprintf("/api/v1/nodes/node-%02d", i), `{"payout_address":""}`)
		}
		waitFor(t, "PayoutFailureRatioHigh at the sink", 5*time.Minute, func() (bool, string) {
			for _, n := range notifications(t, s) {
				if n.Message.Status == "firing" && n.Message.CommonLabels["alertname"] == "PayoutFailureRatioHigh" {
					return true, ""
				}
			}
			v, _ := query(t, s, `ALERTS{alertname="PayoutFailureRatioHigh"}`)
			return false, fmt.Sprint("alert state ", v)
		})
	})

	t.Run("every dashboard and documented query returns data", func(t *testing.T) {
		for _, q := range dashboardQueries(t, root) {
			checkReturnsData(t, s, q.where, q.expr)
		}
		for _, q := range docQueries(t, root) {
			checkReturnsData(t, s, q.where, q.expr)
		}
	})

	t.Run("report", func(t *testing.T) {
		perNode, err := query(t, s, `count({job="cretoai",node_id=~".+",__name__=~"cretoai_.+"}) / count(cretoai_reputation_score)`)
		if err == nil && len(perNode) == 1 {
			report["series per node"] = fmt.Sprint(perNode[0].Value[1])
		}
		rate, err := query(t, s, `rate(prometheus_tsdb_head_samples_appended_total[30s])`)
		if err == nil && len(rate) > 0 {
			report["samples/s ingested (scrape every 1s)"] = fmt.Sprint(rate[0].Value[1])
		}
		series, err := query(t, s, `count({job="cretoai"})`)
		if err == nil && len(series) == 1 {
			report["series scraped from the service"] = fmt.Sprint(series[0].Value[1])
		}
	})

	t.Run("service down pages; back up, the book is intact", func(t *testing.T) {
		// Stop the writes first, so the book can be compared exactly.
		if err := s.Stop("simulator"); err != nil {
			t.Logf("simulator: %v", err)
		}
		before := stakeGauges(scrapeService(t, s))
		var summaryBefore map[string]any
		getJSON(t, s.URL("service")+"/api/v1/summary", &summaryBefore)
		if err := s.StopService(); err != nil {
			t.Fatalf("graceful stop: %v", err)
		}
		down := time.Now()
		waitFor(t, "CretoaiServiceDown at the sink", 2*time.Minute, func() (bool, string) {
			_, ok := findNotification(notifications(t, s), "critical", "firing", map[string]string{"alertname": "CretoaiServiceDown"})
			return ok, "not yet"
		})
		report["service stopped to CretoaiServiceDown notification"] = fmt.Sprintf("%.1f s at factor %d", time.Since(down).Seconds(), factor)
		if err := s.StartService(context.Background()); err != nil {
			t.Fatal(err)
		}
		after := stakeGauges(scrapeService(t, s))
		if len(before) == 0 {
			t.Fatal("no stake gauges scraped before the restart")
		}
		for k, v := range before {
			if after[k] != v {
				t.Errorf("%s: %s before the restart, %s after", k, v, after[k])
			}
		}
		if len(after) != len(before) {
			t.Errorf("%d stake series before, %d after", len(before), len(after))
		}
		var summaryAfter map[string]any
		getJSON(t, s.URL("service")+"/api/v1/summary", &summaryAfter)
		if fmt.Sprint(summaryBefore["stake"]) != fmt.Sprint(summaryAfter["stake"]) {
			t.Errorf("stake summary changed across the restart:\n%v\n%v", summaryBefore["stake"], summaryAfter["stake"])
		}
		waitFor(t, "resolved CretoaiServiceDown", 3*time.Minute, func() (bool, string) {
			_, ok := findNotification(notifications(t, s), "critical", "resolved", map[string]string{"alertname": "CretoaiServiceDown"})
			return ok, "not yet"
		})
	})

	var lines []string
	for k, v := range report {
		lines = append(lines, fmt.Sprintf("  %-55s %s", k, v))
	}
	sort.Strings(lines)
	t.Logf("end-to-end report:\n%s", strings.Join(lines, "\n"))
	fmt.Printf("end-to-end report:\n%s\n", strings.Join(lines, "\n"))
}

// stakeGauges picks the stake and pending-reward gauge samples from an
// exposition.
func stakeGauges(text string) map[string]string {
	out := map[string]string{}
	for _, line := range strings.Split(text, "\n") {
		for _, prefix := range []string{catalog.StakeBondedAmount, catalog.StakePerNode, catalog.StakeUnbondingAmount,
			catalog.StakePendingWithdrawal, catalog.StakeActiveDeposits, catalog.RewardsPendingPerNode, catalog.RewardsPendingAmount} {
			if strings.HasPrefix(line, prefix+" ") || strings.HasPrefix(line, prefix+"{") {
				i := strings.LastIndex(line, " ")
				out[line[:i]] = line[i+1:]
			}
		}
	}
	return out
}

// ruleGroups returns the group names of every repository rule file.
func ruleGroups(t *testing.T, root string) []string {
	t.Helper()
	var names []string
	for _, dir := range []string{"prometheus/rules", "alerting/rules"} {
		files, _ := filepath.Glob(filepath.Join(root, dir, "*.yml"))
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			var rf struct {
				Groups []struct {
					Name string `yaml:"name"`
				} `yaml:"groups"`
			}
			if err := yaml.Unmarshal(b, &rf); err != nil {
				t.Fatal(err)
			}
			for _, g := range rf.Groups {
				names = append(names, g.Name)
			}
		}
	}
	sort.Strings(names)
	return names
}

type namedQuery struct{ where, expr string }

// grafanaVar matches $name, ${name} and ${name:format}.
var grafanaVar = regexp.MustCompile(`\$\{(\w+)(?::[^}]*)?\}|\$(\w+)`)

// interpolate substitutes Grafana's variables the way Grafana would for a
// dashboard opened on "Last 1 hour" with every multi-value variable on
// All: $__rate_interval is max(interval + scrape interval, 4 × scrape
// interval) with the e2e 1s scrape interval, All is the variable's allValue
// (".*"), and a single-value node variable gets a real node id.
//
// A panel's minimum interval (scaled by the factor like every duration)
// raises $__interval to it and $__rate_interval to it plus the scrape
// interval, as in Grafana.
func interpolate(expr string, vars map[string]lint.Variable, minInterval string) string {
	rateInterval, interval := "4s", "1s"
	if minInterval != "" {
		d, err := stack.Scale{Factor: factor}.Duration(minInterval)
		if err == nil && d != "1s" {
			rateInterval, interval = d+"1s", d
		}
	}
	return grafanaVar.ReplaceAllStringFunc(expr, func(ref string) string {
		m := grafanaVar.FindStringSubmatch(ref)
		name := m[1] + m[2]
		switch name {
		case "__rate_interval":
			return rateInterval
		case "__interval":
			return interval
		case "__range":
			return "1h"
		case "__range_s":
			return "3600"
		}
		v, ok := vars[name]
		switch {
		case !ok:
			return ref
		case v.Multi || v.IncludeAll:
			if v.AllValue != "" {
				return v.AllValue
			}
			return ".*"
		case name == "node_id":
			return "node-01"
		}
		return ".*"
	})
}

func dashboardQueries(t *testing.T, root string) []namedQuery {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(root, "dashboards", "json", "*.json"))
	if len(files) == 0 {
		t.Fatal("no generated dashboards")
	}
	var out []namedQuery
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		d, err := lint.Parse(b)
		if err != nil {
			t.Fatal(err)
		}
		vars := map[string]lint.Variable{}
		for _, v := range d.Templating.List {
			vars[v.Name] = v
		}
		var walk func(ps []lint.Panel)
		walk = func(ps []lint.Panel) {
			for _, p := range ps {
				for _, tg := range p.Targets {
					if tg.Expr != "" {
						out = append(out, namedQuery{d.UID + " / " + p.Title + " / " + tg.RefID, interpolate(tg.Expr, vars, p.Interval)})
					}
				}
				walk(p.Panels)
			}
		}
		walk(d.Panels)
	}
	return out
}

// docQueries returns every query of the ```promql blocks in METRICS.md.
func docQueries(t *testing.T, root string) []namedQuery {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, "service", "docs", "METRICS.md"))
	if err != nil {
		t.Fatal(err)
	}
	var out []namedQuery
	in := false
	for i, line := range strings.Split(string(b), "\n") {
		switch {
		case strings.HasPrefix(line, "```promql"):
			in = true
		case strings.HasPrefix(line, "```"):
			in = false
		case in && strings.TrimSpace(line) != "" && !strings.HasPrefix(strings.TrimSpace(line), "#"):
			out = append(out, namedQuery{fmt.Sprintf("METRICS.md:%d", i+1), strings.TrimSpace(line)})
		}
	}
	return out
}

// quietQueries may rightly return nothing in a healthy run of a few
// minutes, each with why. Every other query must return data.
var quietQueries = map[string]string{
	`time() - cretoai_reputation_last_event_timestamp_seconds > 600`: "lists silent nodes; no node is silent for 10 minutes in a run this short",
	`sum(cretoai_stake_deposited_value_total) - sum(cretoai_stake_withdrawn_value_total) - sum(cretoai_stake_slashed_total) - sum(cretoai_stake_bonded_amount) - sum(cretoai_stake_unbonding_amount) != 0`: "shows a broken stake invariant; empty means the book balances",
	`time() - (cretoai_rewards_last_distribution_timestamp_seconds > 0) > 2 * 3600`:                                                        "shows stalled rewards; epochs run every few seconds here",
	`cretoai_rewards_current_epoch - cretoai_rewards_current_epoch offset 1d`:                                                              "needs a day of history",
	`sum(increase(cretoai_rewards_failed_total[6h])) / (sum(cretoai_rewards_current_epoch - cretoai_rewards_current_epoch offset 6h) > 0)`: "needs six hours of history",
	`up{job="cretoai"} == 0`: "shows a down service; it is up while queries run",
	`sum by (route) (rate(cretoai_http_requests_total{code=~"5.."}[5m])) / (sum by (route) (rate(cretoai_http_requests_total[5m])) > 0)`: "error ratio per route with errors; the service answers no 5xx",
	`sum(increase(cretoai_store_commit_failures_total[15m])) > 0`:                                                                        "shows failed commits; the disk does not fail here",
	`sum by (task) (increase(cretoai_job_runs_total{result="failure"}[15m])) > 0`:                                                        "shows failing jobs; none fail here",
	`time() - cretoai_job_last_success_timestamp_seconds{task!="prune"} > 600`:                                                           "shows stale jobs; all run every few seconds here",
}

func checkReturnsData(t *testing.T, s *stack.Stack, where, expr string) {
	t.Helper()
	v, err := query(t, s, expr)
	if err != nil {
		t.Errorf("%s: %v", where, err)
		return
	}
	if len(v) == 0 {
		if why, ok := quietQueries[expr]; ok {
			t.Logf("%s: no data, as expected (%s)", where, why)
			return
		}
		t.Errorf("%s: no data for %s", where, expr)
	}
}
