// Package dashboards builds the CretoAI Grafana dashboards with the
// grafana-foundation-sdk and writes them as plain dashboard JSON, the shape
// Grafana's file provisioning and the Helm chart's dashboard sidecar load as
// they are. Metric names come from service/catalog, threshold values from
// alerting; nothing here retypes either.
//
// One file per dashboard, one function per panel named <subject><PanelKind>;
// span and height are set where a panel is added. After the SDK builds a
// dashboard, finalize numbers the panels and lays them out on the 24-column
// grid explicitly (the SDK leaves ids unset and can overflow the grid).
//
// Regenerate the JSON with `go generate ./dashboards/...`.
package dashboards

//go:generate go run ./cmd/gen -dir json

import (
	"encoding/json"
	"fmt"

	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/cog/variants"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/prometheus"
)

// Dashboard uids: a contract. Alert rules link to /d/<uid>; the node detail
// dashboard takes ?var-node_id=<id>.
const (
	UIDOverview   = "cretoai-overview"
	UIDReputation = "cretoai-reputation"
	UIDStake      = "cretoai-stake"
	UIDRewards    = "cretoai-rewards"
	UIDNodeDetail = "cretoai-node-detail"
	UIDService    = "cretoai-service"
)

// Tag is on every dashboard; the dashboards link to each other through it.
const Tag = "cretoai"

// GenerateCommand regenerates the committed JSON.
const GenerateCommand = "go generate ./dashboards/..."

// Dashboard is one generated dashboard.
type Dashboard struct {
	UID   string
	Title string
	// Question is what the dashboard answers, one line (README).
	Question string
	build    func() *dashboard.DashboardBuilder
}

// All lists the dashboards in a stable order.
func All() []Dashboard {
	return []Dashboard{
		{UIDOverview, "CretoAI / Network overview",
			"Is the validator network healthy right now: nodes, reputation, stake, rewards and firing alerts at a glance?",
			overviewDashboard},
		{UIDReputation, "CretoAI / Reputation",
			"Which nodes are reliable, how are scores distributed and moving, and which violations and events drive them?",
			reputationDashboard},
		{UIDStake, "CretoAI / Stake",
			"How much stake is bonded, unbonding and slashed, how does capital flow in and out, and who holds it?",
			stakeDashboard},
		{UIDRewards, "CretoAI / Rewards",
			"Do rewards flow: what each epoch distributes, how efficiently, what stays pending, why payouts fail and who earns?",
			rewardsDashboard},
		{UIDNodeDetail, "CretoAI / Node detail",
			"What is the state and history of one node across reputation, stake and rewards?",
			nodeDetailDashboard},
		{UIDService, "CretoAI / Service health",
			"Is the CretoAI service itself healthy: up, serving its API fast and without errors, committing, scraped, running its jobs?",
			serviceDashboard},
	}
}

// newDashboard starts a dashboard with what all of ours share: uid, title,
// tags, the datasource variable, a time range and the link to the others.
func newDashboard(uid, title, description string, tags ...string) *dashboard.DashboardBuilder {
	return dashboard.NewDashboardBuilder(title).
		Uid(uid).
		Description(description).
		Tags(append([]string{Tag}, tags...)).
		Editable().
		Tooltip(dashboard.DashboardCursorSyncCrosshair).
		Refresh("30s").
		Time("now-6h", "now").
		Timezone("browser").
		Timepicker(dashboard.NewTimePickerBuilder().
			RefreshIntervals([]string{"15s", "30s", "1m", "5m", "15m", "1h"})).
		Link(allDashboardsLink()).
		WithVariable(datasourceVariable())
}

// Build builds the dashboard and finalizes its layout.
func (d Dashboard) Build() (dashboard.Dashboard, error) {
	out, err := d.build().Build()
	if err != nil {
		return dashboard.Dashboard{}, fmt.Errorf("build %s: %w", d.UID, err)
	}
	if err := finalize(&out); err != nil {
		return dashboard.Dashboard{}, fmt.Errorf("finalize %s: %w", d.UID, err)
	}
	return out, nil
}

// JSON is the dashboard as Grafana's file provisioning reads it: indented,
// with a trailing newline.
func (d Dashboard) JSON() ([]byte, error) {
	dash, err := d.Build()
	if err != nil {
		return nil, err
	}
	out, err := json.MarshalIndent(dash, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("marshal %s: %w", d.UID, err)
	}
	return append(out, '\n'), nil
}

// FileName is the name of the dashboard's generated file.
func (d Dashboard) FileName() string { return d.UID + ".json" }

// gridWidth is the width of Grafana's grid in columns.
const gridWidth = 24

// finalize numbers the panels from 1 in order, lays them out left to right
// on the 24-column grid (a panel that does not fit on the current line starts
// the next one; a row always starts a new line), gives every query a refId
// and every panel a fieldConfig with an overrides array (R31).
func finalize(d *dashboard.Dashboard) error {
	var x, y, lineHeight uint32
	newLine := func() {
		if x > 0 {
			y += lineHeight
		}
		x, lineHeight = 0, 0
	}
	for i := range d.Panels {
		id := uint32(i + 1)
		item := &d.Panels[i]
		switch {
		case item.RowPanel != nil:
			newLine()
			item.RowPanel.Id = id
			item.RowPanel.GridPos = &dashboard.GridPos{X: 0, Y: y, W: gridWidth, H: 1}
			y++
		case item.Panel != nil:
			p := item.Panel
			if p.GridPos == nil || p.GridPos.W == 0 || p.GridPos.H == 0 {
				return fmt.Errorf("panel %q: set Span and Height where it is added", deref(p.Title))
			}
			w, h := p.GridPos.W, p.GridPos.H
			if w > gridWidth {
				return fmt.Errorf("panel %q: span %d is wider than the grid", deref(p.Title), w)
			}
			if x+w > gridWidth {
				newLine()
			}
			p.Id = cog.ToPtr(id)
			p.GridPos = &dashboard.GridPos{X: x, Y: y, W: w, H: h}
			x += w
			lineHeight = max(lineHeight, h)
			if x == gridWidth {
				newLine()
			}
			if p.FieldConfig == nil {
				p.FieldConfig = dashboard.NewFieldConfigSource()
			}
			if p.FieldConfig.Overrides == nil {
				p.FieldConfig.Overrides = []dashboard.DashboardFieldConfigSourceOverrides{}
			}
			if err := setRefIDs(p.Targets); err != nil {
				return fmt.Errorf("panel %q: %w", deref(p.Title), err)
			}
		}
	}
	return nil
}

// setRefIDs names the queries of a panel A, B, C … unless named already.
func setRefIDs(targets []variants.Dataquery) error {
	if len(targets) > 26 {
		return fmt.Errorf("%d queries: at most 26", len(targets))
	}
	for i, t := range targets {
		q, ok := t.(prometheus.Dataquery)
		if !ok {
			return fmt.Errorf("query %d is a %T, not a Prometheus query", i, t)
		}
		if q.RefId == nil {
			q.RefId = cog.ToPtr(string(rune('A' + i)))
		}
		targets[i] = q
	}
	return nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
