package dashboards

import (
	"testing"

	"github.com/cretoai/monitor/dashboards/lint"
)

// TestLayout checks that every panel has a unique positive id, sits inside
// the 24-column grid without overlapping another, has a title, a
// description, a unit, the provisioned datasource and a fieldConfig whose
// overrides is an array.
func TestLayout(t *testing.T) {
	cfg := lintConfig(t)
	for _, f := range committedDashboards(t) {
		t.Run(f.dash.UID, func(t *testing.T) {
			report(t, f.name, lint.Layout(f.dash, cfg))
		})
	}
}
