package alerting_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	amconfig "github.com/prometheus/alertmanager/config"
	"github.com/prometheus/alertmanager/dispatch"
	"github.com/prometheus/alertmanager/eventrecorder"
	"github.com/prometheus/alertmanager/inhibit"
	"github.com/prometheus/alertmanager/pkg/labels"
	"github.com/prometheus/alertmanager/provider"
	"github.com/prometheus/alertmanager/types"
	"github.com/prometheus/common/model"

	"github.com/cretoai/monitor/alerting"
	"github.com/cretoai/monitor/e2e/tools"
)

const alertmanagerPath = "alertmanager.yml"

func loadAlertmanager(t *testing.T, path string) *amconfig.Config {
	t.Helper()
	cfg, err := amconfig.LoadFile(path)
	if err != nil {
		t.Fatalf("load %s: %v", path, err)
	}
	return cfg
}

// withExamples returns alertmanager.yml with its commented example
// receivers (Slack, email, PagerDuty, Telegram) uncommented: the lines
// between the BEGIN and END markers lose their "# ", "# ##" lines are prose.
func withExamples(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(alertmanagerPath)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	in, seen := false, false
	for _, l := range strings.Split(string(b), "\n") {
		trimmed := strings.TrimSpace(l)
		switch {
		case trimmed == "# BEGIN EXAMPLE RECEIVERS":
			in, seen = true, true
			continue
		case trimmed == "# END EXAMPLE RECEIVERS":
			in = false
			continue
		case !in:
			out = append(out, l)
			continue
		case trimmed == "#" || strings.HasPrefix(trimmed, "# ##"):
			continue
		}
		indent := l[:len(l)-len(strings.TrimLeft(l, " "))]
		body, ok := strings.CutPrefix(trimmed, "# ")
		if !ok {
			t.Fatalf("line %q inside the example block is not commented with \"# \"", l)
		}
		out = append(out, indent+body)
	}
	if !seen || in {
		t.Fatal("alertmanager.yml has no complete BEGIN/END EXAMPLE RECEIVERS block")
	}
	path := filepath.Join(t.TempDir(), "alertmanager-examples.yml")
	if err := os.WriteFile(path, []byte(strings.Join(out, "\n")), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestAmtoolCheckConfig: the pinned Alertmanager (v0.31.1, the server the
// stack runs) accepts the configuration, and also its variant with the
// example receivers switched on.
func TestAmtoolCheckConfig(t *testing.T) {
	amtool := tools.Path(t, "amtool")
	for _, path := range []string{alertmanagerPath, withExamples(t)} {
		out, err := exec.Command(amtool, "check-config", path).CombinedOutput()
		if err != nil {
			t.Errorf("amtool check-config %s: %v\n%s", path, err, out)
		}
	}
}

// TestExampleReceivers: the commented examples exist for Slack, email,
// PagerDuty and Telegram, load with the Alertmanager library, and take
// every secret from a file.
func TestExampleReceivers(t *testing.T) {
	cfg := loadAlertmanager(t, withExamples(t))
	found := map[string]bool{}
	for _, r := range cfg.Receivers {
		for _, c := range r.SlackConfigs {
			found["slack"] = true
			if c.APIURL != nil || c.APIURLFile == "" {
				t.Errorf("receiver %s: Slack webhook URL must come from api_url_file", r.Name)
			}
		}
		for _, c := range r.EmailConfigs {
			found["email"] = true
			if c.AuthPassword != "" || c.AuthPasswordFile == "" {
				t.Errorf("receiver %s: SMTP password must come from auth_password_file", r.Name)
			}
		}
		for _, c := range r.PagerdutyConfigs {
			found["pagerduty"] = true
			if c.RoutingKey != "" || c.ServiceKey != "" || c.RoutingKeyFile == "" {
				t.Errorf("receiver %s: PagerDuty key must come from routing_key_file", r.Name)
			}
		}
		for _, c := range r.TelegramConfigs {
			found["telegram"] = true
			if c.BotToken != "" || c.BotTokenFile == "" {
				t.Errorf("receiver %s: Telegram bot token must come from bot_token_file", r.Name)
			}
		}
	}
	for _, kind := range []string{"slack", "email", "pagerduty", "telegram"} {
		if !found[kind] {
			t.Errorf("no example receiver for %s", kind)
		}
	}
}

// TestNoInlineSecrets: no secret-bearing field is written inline anywhere in
// the file, comments included; the *_file variants are the only way in.
func TestNoInlineSecrets(t *testing.T) {
	b, err := os.ReadFile(alertmanagerPath)
	if err != nil {
		t.Fatal(err)
	}
	inline := regexp.MustCompile(`^[\s#-]*(api_url|slack_api_url|auth_password|auth_secret|routing_key|service_key|bot_token|token|api_key|password|credentials|bearer_token)\s*:`)
	for i, l := range strings.Split(string(b), "\n") {
		if m := inline.FindStringSubmatch(l); m != nil {
			t.Errorf("%s:%d: %s written inline; use %s_file", alertmanagerPath, i+1, m[1], m[1])
		}
	}
}

// TestReceivers: the shipped receivers post to the webhook sink of the
// stack, with resolved notifications except for the heartbeat (a dead man's
// switch counts any request as a heartbeat).
func TestReceivers(t *testing.T) {
	cfg := loadAlertmanager(t, alertmanagerPath)
	want := map[string]struct {
		path         string
		sendResolved bool
	}{
		alerting.ReceiverDefault:   {alerting.WebhookDefaultPath, true},
		alerting.ReceiverCritical:  {alerting.WebhookCriticalPath, true},
		alerting.ReceiverHeartbeat: {alerting.WebhookHeartbeatPath, false},
	}
	if len(cfg.Receivers) != len(want) {
		t.Errorf("%d receivers, want %d (examples stay commented)", len(cfg.Receivers), len(want))
	}
	for _, r := range cfg.Receivers {
		w, ok := want[r.Name]
		if !ok {
			t.Errorf("unexpected receiver %s", r.Name)
			continue
		}
		if len(r.WebhookConfigs) != 1 {
			t.Errorf("receiver %s: %d webhook configs, want 1", r.Name, len(r.WebhookConfigs))
			continue
		}
		wh := r.WebhookConfigs[0]
		if got := string(wh.URL); got != alerting.AlertSinkURL+w.path {
			t.Errorf("receiver %s posts to %s, want %s", r.Name, got, alerting.AlertSinkURL+w.path)
		}
		if wh.SendResolved() != w.sendResolved {
			t.Errorf("receiver %s: send_resolved %v, want %v", r.Name, wh.SendResolved(), w.sendResolved)
		}
	}
}

// wantReceiver is where each alert must be delivered. Every alert of the
// rule files must be listed: a new alert needs a routing decision.
var wantReceiver = map[string]string{
	"Watchdog":                     alerting.ReceiverHeartbeat,
	"CretoaiServiceDown":           alerting.ReceiverCritical,
	"CretoaiServiceAbsent":         alerting.ReceiverCritical,
	"CretoaiMetricsAbsent":         alerting.ReceiverCritical,
	"APIErrorRatioHigh":            alerting.ReceiverDefault,
	"APILatencyHigh":               alerting.ReceiverDefault,
	"NodeReputationBelowThreshold": alerting.ReceiverDefault,
	"NodeReputationCritical":       alerting.ReceiverCritical,
	"UnreliableNodesHigh":          alerting.ReceiverDefault,
	"MeanReputationFallingFast":    alerting.ReceiverDefault,
	"NodeViolationRateHigh":        alerting.ReceiverDefault,
	"DoubleSignDetected":           alerting.ReceiverCritical,
	"NodeSilent":                   alerting.ReceiverDefault,
	"StakeSlashed":                 alerting.ReceiverDefault,
	"BondedStakeDroppingFast":      alerting.ReceiverDefault,
	"WithdrawalWave":               alerting.ReceiverDefault,
	"RewardDistributionStalled":    alerting.ReceiverCritical,
	"PayoutFailureRatioHigh":       alerting.ReceiverDefault,
	"DistributionEfficiencyLow":    alerting.ReceiverDefault,
	"PendingRewardsGrowing":        alerting.ReceiverDefault,
}

func receiversFor(root *dispatch.Route, lset model.LabelSet) []string {
	var out []string
	for _, r := range root.Match(lset) {
		out = append(out, r.RouteOpts.Receiver)
	}
	return out
}

// TestRouting routes every alert, with the labels its rule sets (and with
// and without a node_id), through the Alertmanager dispatch tree.
func TestRouting(t *testing.T) {
	root := dispatch.NewRoute(loadAlertmanager(t, alertmanagerPath).Route, nil)
	rules := alertRules(t)
	for _, r := range rules {
		want, ok := wantReceiver[r.name]
		if !ok {
			t.Errorf("alert %s has no expected receiver in wantReceiver", r.name)
			continue
		}
		for _, nodeID := range []string{"", "n1"} {
			lset := model.LabelSet{model.AlertNameLabel: model.LabelValue(r.name), "job": "cretoai"}
			for k, v := range r.labels {
				lset[model.LabelName(k)] = model.LabelValue(v)
			}
			if nodeID != "" {
				lset["node_id"] = model.LabelValue(nodeID)
			}
			if got := receiversFor(root, lset); !slices.Equal(got, []string{want}) {
				t.Errorf("%v goes to %v, want [%s]", lset, got, want)
			}
		}
	}
	for name := range wantReceiver {
		if !slices.ContainsFunc(rules, func(r alertRule) bool { return r.name == name }) {
			t.Errorf("wantReceiver lists %s, which no rule file defines", name)
		}
	}
	// Alerts from elsewhere (no or an unknown severity) still reach someone.
	for _, lset := range []model.LabelSet{
		{model.AlertNameLabel: "SomethingElse"},
		{model.AlertNameLabel: "SomethingElse", "severity": "page"},
	} {
		if got := receiversFor(root, lset); !slices.Equal(got, []string{alerting.ReceiverDefault}) {
			t.Errorf("%v goes to %v, want [%s]", lset, got, alerting.ReceiverDefault)
		}
	}
}

// routeProblems lints the route tree (FAILURES.md R36): on every route,
// with inherited values, repeat_interval is at least group_interval and a
// multiple of it (reminders are only sent on group_interval ticks), and
// group_by keeps alertname and node_id apart.
func routeProblems(cfg *amconfig.Config) []string {
	var out []string
	dispatch.NewRoute(cfg.Route, nil).Walk(func(r *dispatch.Route) {
		o := r.RouteOpts
		name := r.Key()
		switch {
		case o.GroupInterval <= 0:
			out = append(out, fmt.Sprintf("%s: group_interval %s", name, o.GroupInterval))
		case o.RepeatInterval < o.GroupInterval:
			out = append(out, fmt.Sprintf("%s: repeat_interval %s is shorter than group_interval %s", name, o.RepeatInterval, o.GroupInterval))
		case o.RepeatInterval%o.GroupInterval != 0:
			out = append(out, fmt.Sprintf("%s: repeat_interval %s is not a multiple of group_interval %s", name, o.RepeatInterval, o.GroupInterval))
		}
		for _, l := range []model.LabelName{model.AlertNameLabel, "node_id"} {
			if _, ok := o.GroupBy[l]; !ok || o.GroupByAll {
				out = append(out, fmt.Sprintf("%s: group_by does not list %s", name, l))
			}
		}
	})
	return out
}

// inhibitProblems lints the inhibit rules (FAILURES.md R37): each label of
// equal must be required, non-empty, on both the source and the target
// side; otherwise two alerts that both lack it count as equal.
func inhibitProblems(cfg *amconfig.Config) []string {
	var out []string
	for i, r := range cfg.InhibitRules {
		if len(r.SourceMatch)+len(r.SourceMatchRE)+len(r.TargetMatch)+len(r.TargetMatchRE) > 0 {
			out = append(out, fmt.Sprintf("inhibit rule %d: uses the deprecated source_match/target_match; use source_matchers/target_matchers", i))
		}
		for _, l := range r.Equal {
			for side, ms := range map[string][]string{"source": matcherNames(r.SourceMatchers), "target": matcherNames(r.TargetMatchers)} {
				if !slices.Contains(ms, l) {
					out = append(out, fmt.Sprintf("inhibit rule %d: equal label %s is not required non-empty on the %s side", i, l, side))
				}
			}
		}
	}
	slices.Sort(out)
	return out
}

// matcherNames returns the labels that matchers require to be non-empty.
func matcherNames(ms []*labels.Matcher) []string {
	var out []string
	for _, m := range ms {
		if !m.Matches("") {
			out = append(out, m.Name)
		}
	}
	return out
}

func TestRouteAndInhibitLint(t *testing.T) {
	cfg := loadAlertmanager(t, alertmanagerPath)
	for _, p := range append(routeProblems(cfg), inhibitProblems(cfg)...) {
		t.Error(p)
	}
	if len(cfg.InhibitRules) == 0 {
		t.Error("no inhibit rule: critical should mute warnings of the same node")
	}
}

// TestPlantedBadAlertmanagerConfigsFail proves each lint fails.
func TestPlantedBadAlertmanagerConfigsFail(t *testing.T) {
	cases := map[string]string{
		"repeat_not_multiple.yml": "is not a multiple of group_interval",
		"repeat_too_short.yml":    "is shorter than group_interval",
		"group_by_no_node_id.yml": "group_by does not list node_id",
		"inhibit_no_node_id.yml":  "equal label node_id is not required non-empty on the source side",
	}
	for file, want := range cases {
		t.Run(file, func(t *testing.T) {
			cfg := loadAlertmanager(t, filepath.Join("testdata/alertmanager", file))
			problems := append(routeProblems(cfg), inhibitProblems(cfg)...)
			if !slices.ContainsFunc(problems, func(p string) bool { return strings.Contains(p, want) }) {
				t.Errorf("want a problem containing %q, got %v", want, problems)
			}
		})
	}
}

// fixedAlerts is an alert provider holding a fixed set of firing alerts,
// which the inhibitor loads at start.
type fixedAlerts []*types.Alert

func (f fixedAlerts) SlurpAndSubscribe(string) ([]*types.Alert, provider.AlertIterator) {
	return f, provider.NewAlertIterator(make(chan *provider.Alert), make(chan struct{}), nil)
}

func (f fixedAlerts) Subscribe(name string) provider.AlertIterator {
	_, it := f.SlurpAndSubscribe(name)
	return it
}
func (fixedAlerts) GetPending() provider.AlertIterator { return nil }
func (fixedAlerts) Get(model.Fingerprint) (*types.Alert, error) {
	return nil, provider.ErrNotFound
}
func (fixedAlerts) Put(context.Context, ...*types.Alert) error { return nil }

func firing(lset model.LabelSet) *types.Alert {
	now := time.Now()
	return &types.Alert{Alert: model.Alert{Labels: lset, StartsAt: now.Add(-time.Minute), EndsAt: now.Add(time.Hour)}}
}

// muted reports whether target is inhibited while source fires.
func muted(t *testing.T, cfg *amconfig.Config, source, target model.LabelSet) bool {
	t.Helper()
	ih := inhibit.NewInhibitor(fixedAlerts{firing(source)}, cfg.InhibitRules, slog.New(slog.NewTextHandler(io.Discard, nil)), eventrecorder.NopRecorder())
	done := make(chan struct{})
	go func() { ih.Run(); close(done) }()
	ih.WaitForLoading()
	got := ih.Mutes(context.Background(), target)
	ih.Stop()
	<-done
	return got
}

// TestInhibition runs the Alertmanager inhibitor with our rule (FAILURES.md
// R37): a critical alert mutes warnings of the same node only, and alerts
// without node_id never mute nor are muted. The naive rule (equal: [node_id]
// without requiring the label) is run too, to show the case it gets wrong.
func TestInhibition(t *testing.T) {
	shipped := loadAlertmanager(t, alertmanagerPath)
	naive := loadAlertmanager(t, "testdata/alertmanager/inhibit_no_node_id.yml")
	crit := func(name, node string) model.LabelSet {
		l := model.LabelSet{model.AlertNameLabel: model.LabelValue(name), "severity": "critical"}
		if node != "" {
			l["node_id"] = model.LabelValue(node)
		}
		return l
	}
	warn := func(name, node string) model.LabelSet {
		l := crit(name, node)
		l["severity"] = "warning"
		return l
	}
	cases := []struct {
		name            string
		source, target  model.LabelSet
		want, wantNaive bool
	}{
		{"same node: critical mutes warning", crit("NodeReputationCritical", "n1"), warn("NodeReputationBelowThreshold", "n1"), true, true},
		{"other node: not muted", crit("NodeReputationCritical", "n1"), warn("NodeReputationBelowThreshold", "n2"), false, false},
		{"both without node_id: not muted", crit("CretoaiServiceDown", ""), warn("APIErrorRatioHigh", ""), false, true},
		{"source without node_id: not muted", crit("StakeSlashed", ""), warn("NodeSilent", "n1"), false, false},
		{"target without node_id: not muted", crit("DoubleSignDetected", "n1"), warn("WithdrawalWave", ""), false, false},
		{"critical is never muted", crit("DoubleSignDetected", "n1"), crit("NodeReputationCritical", "n1"), false, false},
		{"info is never muted", crit("DoubleSignDetected", "n1"), model.LabelSet{model.AlertNameLabel: "Watchdog", "severity": "info", "node_id": "n1"}, false, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := muted(t, shipped, c.source, c.target); got != c.want {
				t.Errorf("shipped rule: %v muted by %v = %v, want %v", c.target, c.source, got, c.want)
			}
			if got := muted(t, naive, c.source, c.target); got != c.wantNaive {
				t.Errorf("naive rule: %v muted by %v = %v, want %v", c.target, c.source, got, c.wantNaive)
			}
		})
	}
}
