package dashboards

import (
	"slices"
	"strings"
	"testing"

	"github.com/cretoai/monitor/dashboards/lint"
)

// contractUIDs are the uids alert rules and the Helm chart depend on.
var contractUIDs = []string{
	"cretoai-overview", "cretoai-reputation", "cretoai-stake",
	"cretoai-rewards", "cretoai-node-detail", "cretoai-service",
}

// TestPortability checks each committed file is plain dashboard JSON that
// file provisioning loads on a fresh Grafana: no ${DS_…} placeholder, no
// __inputs, no instance id, a valid uid, top-level panels and a
// schemaVersion the pinned Grafana loads.
func TestPortability(t *testing.T) {
	cfg := lintConfig(t)
	for _, f := range committedDashboards(t) {
		report(t, f.name, lint.Portability(f.name, f.raw, cfg))
	}
}

// TestIdentity checks uids and titles are unique, the file is named after
// the uid, every dashboard is tagged cretoai, and the uids are exactly the
// contract.
func TestIdentity(t *testing.T) {
	uids := map[string]string{}
	titles := map[string]string{}
	var got []string
	for _, f := range committedDashboards(t) {
		d := f.dash
		if prev, ok := uids[d.UID]; ok {
			t.Errorf("%s and %s share uid %q (R30)", prev, f.name, d.UID)
		}
		uids[d.UID] = f.name
		if prev, ok := titles[d.Title]; ok {
			t.Errorf("%s and %s share title %q (R30)", prev, f.name, d.Title)
		}
		titles[d.Title] = f.name
		if f.name != d.UID+".json" {
			t.Errorf("%s holds uid %q: name the file <uid>.json", f.name, d.UID)
		}
		if !slices.Contains(d.Tags, Tag) {
			t.Errorf("%s: tags %v lack %q", f.name, d.Tags, Tag)
		}
		if !strings.HasPrefix(d.Title, FolderTitle+" / ") {
			t.Errorf("%s: title %q does not start with %q", f.name, d.Title, FolderTitle+" / ")
		}
		got = append(got, d.UID)
	}
	slices.Sort(got)
	want := slices.Clone(contractUIDs)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("dashboard uids %v, want the contract %v", got, want)
	}
}

// TestLinks checks every /d/<uid> link points to one of our dashboards,
// that the tables link to the node detail dashboard with the node
// preselected, and that the node detail dashboard links back.
func TestLinks(t *testing.T) {
	known := map[string]bool{}
	files := committedDashboards(t)
	for _, f := range files {
		known[f.dash.UID] = true
	}
	linkedFrom := map[string][]string{}
	for _, f := range files {
		links, err := lint.LinkedUIDs(f.raw)
		if err != nil {
			t.Fatal(err)
		}
		for uid, urls := range links {
			if !known[uid] {
				t.Errorf("%s links to %v: no dashboard has uid %q", f.name, urls, uid)
			}
			linkedFrom[uid] = append(linkedFrom[uid], f.dash.UID)
			if uid == UIDNodeDetail {
				for _, u := range urls {
					if !strings.Contains(u, "var-node_id=") {
						t.Errorf("%s links to the node detail dashboard without a node: %s", f.name, u)
					}
				}
			}
		}
	}
	for _, from := range []string{UIDReputation, UIDStake, UIDRewards} {
		if !slices.Contains(linkedFrom[UIDNodeDetail], from) {
			t.Errorf("%s has no data link to %s", from, UIDNodeDetail)
		}
	}
	for _, to := range []string{UIDReputation, UIDStake, UIDRewards} {
		if !slices.Contains(linkedFrom[to], UIDNodeDetail) {
			t.Errorf("%s does not link back to %s", UIDNodeDetail, to)
		}
	}
	for _, to := range []string{UIDReputation, UIDStake, UIDRewards, UIDService} {
		if !slices.Contains(linkedFrom[to], UIDOverview) {
			t.Errorf("%s has no panel link to %s", UIDOverview, to)
		}
	}
}
