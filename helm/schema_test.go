package helm_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/cretoai/monitor/helm/render"
)

func readChartFile(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(chartDir(t), name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func schema(t *testing.T) map[string]any {
	t.Helper()
	var s map[string]any
	if err := json.Unmarshal(readChartFile(t, "values.schema.json"), &s); err != nil {
		t.Fatalf("values.schema.json is not JSON: %v", err)
	}
	return s
}

// TestSchemaIsJSON (R45): values.schema.json parses and is a draft-07
// schema of an object that allows no unknown keys.
func TestSchemaIsJSON(t *testing.T) {
	s := schema(t)
	if s["$schema"] != "http://json-schema.org/draft-07/schema#" {
		t.Errorf("$schema = %v", s["$schema"])
	}
	if s["type"] != "object" || s["additionalProperties"] != false {
		t.Errorf("the root must be an object with additionalProperties: false; got type %v, additionalProperties %v", s["type"], s["additionalProperties"])
	}
}

// TestSchemaObjectsAreClosed: every object of ours in the schema (one with
// listed properties) has additionalProperties: false, so a typo anywhere is
// an error. Maps (labels, annotations, resources) and pass-through objects
// (remoteWrite entries, EnvVars, affinity) list no properties of their own
// or are listed here.
func TestSchemaObjectsAreClosed(t *testing.T) {
	open := map[string]bool{
		// Kubernetes EnvVar and Prometheus remote_write objects pass through.
		"/properties/extraEnv/items":                          true,
		"/properties/prometheus/properties/remoteWrite/items": true,
	}
	var walk func(path string, n any)
	walk = func(path string, n any) {
		switch v := n.(type) {
		case map[string]any:
			if _, ok := v["properties"]; ok && !open[path] && v["additionalProperties"] != false {
				t.Errorf("schema object %s lists properties but allows others", path)
			}
			for k, c := range v {
				walk(path+"/"+k, c)
			}
		case []any:
			for _, c := range v {
				walk(path+"/[]", c)
			}
		}
	}
	walk("", schema(t))
}

// TestSchemaRejectsBadValues (R45) through the SDK, the way install and
// upgrade validate: typos, wrong types and values outside the enums fail.
func TestSchemaRejectsBadValues(t *testing.T) {
	bad := []string{
		"bogusKey=1",
		"serviceMonitor.enabeld=true",
		"replicaCount=two",
		"replicaCount=2",
		"serviceMonitor.enabled=yes",
		"prometheusRule.enabled=sometimes",
		"image.pullPolicy=Sometimes",
		"service.type=Ingress",
		"service.port=0",
		"config.epochPeriod=soon",
		"config.logLevel=verbose",
		"config.reliabilityThreshold=1.5",
		"config.maxNodes=0",
		"prometheus.retentionTime=15days",
		"prometheus.retentionSize=5G",
		"alertmanager.replicas=0",
		"alertmanager.replica=3",
		"grafana.adminPasswd=x",
		"persistence.size=lots",
		"dashboards.enabled=maybe",
		"standalone=true",
		"serviceMonitor.labels.bad key=x",
		"prometheus.remoteWrite[0].name=no-url",
	}
	for _, set := range bad {
		t.Run(set, func(t *testing.T) {
			err := renderErr(t, render.Options{Set: []string{set}})
			if err == nil {
				t.Fatalf("--set %s was accepted", set)
			}
			if !strings.Contains(err.Error(), "values don't meet the specifications of the schema") {
				t.Errorf("--set %s failed, but not in the schema: %v", set, err)
			}
		})
	}
}

// TestSchemaAcceptsGoodValues: the defaults, every scenario and values of
// each allowed shape pass.
func TestSchemaAcceptsGoodValues(t *testing.T) {
	good := [][]string{
		nil,
		{"replicaCount=0"},
		{"serviceMonitor.enabled=false", "prometheusRule.enabled=false"},
		{"config.epochPeriod=1h30m", "config.maxNodes=5000", "config.reliabilityThreshold=0.8", "config.epochPool=123456789012"},
		{"service.type=NodePort", "service.nodePort=30080"},
		{"prometheus.retentionTime=2w3d", "prometheus.retentionSize=512MB"},
		{"resources.limits.cpu=2", "resources.requests.ephemeral-storage=1Gi"},
	}
	for _, set := range good {
		if err := renderErr(t, render.Options{Set: set}); err != nil {
			t.Errorf("--set %v: %v", set, err)
		}
	}
	for _, s := range scenarios(t) {
		if err := renderErr(t, s.options(t)); err != nil {
			t.Errorf("%s: %v", s.name, err)
		}
	}
}

// valuesKeys walks values.yaml: every key with its path and whether a
// comment sits on it (above it or at the end of its line).
func valuesKeys(t *testing.T) map[string]bool {
	t.Helper()
	var doc yaml.Node
	if err := yaml.Unmarshal(readChartFile(t, "values.yaml"), &doc); err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	var walk func(prefix string, n *yaml.Node)
	walk = func(prefix string, n *yaml.Node) {
		if n.Kind != yaml.MappingNode {
			return
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			p := prefix + k.Value
			out[p] = strings.TrimSpace(k.HeadComment) != "" || strings.TrimSpace(k.LineComment) != ""
			walk(p+".", v)
		}
	}
	walk("", doc.Content[0])
	return out
}

// TestValuesKeysAreCommented: every key of values.yaml, at every depth,
// has a comment, and the file starts with the schema modeline.
func TestValuesKeysAreCommented(t *testing.T) {
	b := readChartFile(t, "values.yaml")
	if first, _, _ := strings.Cut(string(b), "\n"); first != "# yaml-language-server: $schema=values.schema.json" {
		t.Errorf("values.yaml starts with %q, not the schema modeline", first)
	}
	keys := valuesKeys(t)
	var missing []string
	for k, commented := range keys {
		if !commented {
			missing = append(missing, k)
		}
	}
	sort.Strings(missing)
	for _, k := range missing {
		t.Errorf("values.yaml: %s has no comment", k)
	}
}

// TestSchemaAndValuesAgree: every key of values.yaml is described by the
// schema, and every property of the schema's objects has a default in
// values.yaml (so it is documented there).
func TestSchemaAndValuesAgree(t *testing.T) {
	s := schema(t)
	defs, _ := s["definitions"].(map[string]any)
	resolve := func(n map[string]any) map[string]any {
		if ref, ok := n["$ref"].(string); ok {
			d, _ := defs[strings.TrimPrefix(ref, "#/definitions/")].(map[string]any)
			return d
		}
		return n
	}
	inSchema := map[string]bool{}
	var walk func(prefix string, n map[string]any)
	walk = func(prefix string, n map[string]any) {
		n = resolve(n)
		props, _ := n["properties"].(map[string]any)
		if n["additionalProperties"] != false {
			// A map: its keys are the user's.
			inSchema[prefix+"*"] = true
		}
		for k, c := range props {
			inSchema[prefix+k] = true
			if cm, ok := c.(map[string]any); ok {
				walk(prefix+k+".", cm)
			}
		}
	}
	walk("", s)
	keys := valuesKeys(t)
	for k := range keys {
		if inSchema[k] {
			continue
		}
		parent := k[:strings.LastIndex(k, ".")+1]
		if !inSchema[parent+"*"] {
			t.Errorf("values.yaml: %s is not in values.schema.json", k)
		}
	}
	for k := range inSchema {
		if strings.HasSuffix(k, "*") || k == "global" {
			continue
		}
		// Properties of maps' values and of open objects are not defaults.
		if _, ok := keys[k]; !ok && !slices.Contains([]string{"extraEnv.name", "prometheus.remoteWrite.url", "imagePullSecrets.name"}, k) {
			t.Errorf("values.schema.json: %s has no default in values.yaml", k)
		}
	}
}
