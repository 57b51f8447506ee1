package dashboards

import (
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
	"testing"

	"github.com/grafana/grafana-foundation-sdk/go/cog/plugins"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
)

// TestSDKRoundTrip decodes each committed file into the SDK's dashboard
// type and encodes it again: nothing may be lost or changed, so the files
// are in the schema the SDK (and the Grafana it targets) knows.
func TestSDKRoundTrip(t *testing.T) {
	plugins.RegisterDefaultPlugins()
	for _, f := range committedDashboards(t) {
		var d dashboard.Dashboard
		if err := json.Unmarshal(f.raw, &d); err != nil {
			t.Errorf("%s: does not decode into dashboard.Dashboard: %v", f.name, err)
			continue
		}
		again, err := json.Marshal(d)
		if err != nil {
			t.Errorf("%s: %v", f.name, err)
			continue
		}
		var before, after any
		if err := json.Unmarshal(f.raw, &before); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(again, &after); err != nil {
			t.Fatal(err)
		}
		if diffs := jsonDiff("", before, after); len(diffs) > 0 {
			sort.Strings(diffs)
			t.Errorf("%s: the round trip through dashboard.Dashboard changes %d value(s), e.g.\n  %v", f.name, len(diffs), diffs[:min(10, len(diffs))])
		}
	}
}

// TestSchemaVersion checks every dashboard's schemaVersion is one the
// pinned Grafana loads from file provisioning.
func TestSchemaVersion(t *testing.T) {
	for _, f := range committedDashboards(t) {
		v := f.dash.SchemaVersion
		if v < GrafanaMinSchemaVersion || v > GrafanaMaxSchemaVersion {
			t.Errorf("%s: schemaVersion %d; Grafana %s loads %d to %d", f.name, v, GrafanaVersion, GrafanaMinSchemaVersion, GrafanaMaxSchemaVersion)
		}
	}
}

// jsonDiff lists the paths where two decoded JSON values differ.
func jsonDiff(path string, a, b any) []string {
	switch av := a.(type) {
	case map[string]any:
		bv, ok := b.(map[string]any)
		if !ok {
			return []string{fmt.Sprintf("%s: %T became %T", path, a, b)}
		}
		var out []string
		for k := range av {
			if _, ok := bv[k]; !ok {
				out = append(out, fmt.Sprintf("%s.%s: lost", path, k))
				continue
			}
			out = append(out, jsonDiff(path+"."+k, av[k], bv[k])...)
		}
		for k := range bv {
			if _, ok := av[k]; !ok {
				out = append(out, fmt.Sprintf("%s.%s: added", path, k))
			}
		}
		return out
	case []any:
		bv, ok := b.([]any)
		if !ok || len(av) != len(bv) {
			return []string{fmt.Sprintf("%s: array changed", path)}
		}
		var out []string
		for i := range av {
			out = append(out, jsonDiff(fmt.Sprintf("%s[%d]", path, i), av[i], bv[i])...)
		}
		return out
	default:
		if !reflect.DeepEqual(a, b) {
			return []string{fmt.Sprintf("%s: %v became %v", path, a, b)}
		}
		return nil
	}
}
