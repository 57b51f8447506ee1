// Package render renders a Helm chart the way `helm template` does, with the
// Helm v4 SDK: action.Install in client-only dry-run mode, a chosen
// Kubernetes version and chosen extra API versions, and values given as
// -f files and --set strings. No cluster is contacted; `lookup` returns
// nothing, as it does under `helm template`.
package render

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"regexp"
	"strings"

	"helm.sh/helm/v4/pkg/action"
	"helm.sh/helm/v4/pkg/chart/common"
	chart "helm.sh/helm/v4/pkg/chart/v2"
	"helm.sh/helm/v4/pkg/chart/v2/loader"
	"helm.sh/helm/v4/pkg/cli/values"
	"helm.sh/helm/v4/pkg/getter"
	release "helm.sh/helm/v4/pkg/release/v1"
	"sigs.k8s.io/yaml"
)

// Defaults of Options.
const (
	DefaultRelease     = "cretoai"
	DefaultNamespace   = "monitoring"
	DefaultKubeVersion = "v1.34.0"
)

// MonitoringAPI is the API version of the Prometheus Operator's CRDs.
const MonitoringAPI = "monitoring.coreos.com/v1"

// Options are the inputs of one rendering, the flags of `helm template`.
type Options struct {
	// Release and Namespace name the release (defaults DefaultRelease and
	// DefaultNamespace).
	Release   string
	Namespace string
	// ValueFiles are -f files, Set are --set and SetString --set-string
	// assignments, applied in that order.
	ValueFiles []string
	Set        []string
	SetString  []string
	// APIVersions are --api-versions: extra API versions the cluster is
	// assumed to serve, e.g. MonitoringAPI.
	APIVersions []string
	// KubeVersion is --kube-version (default DefaultKubeVersion).
	KubeVersion string
}

// Object is one rendered manifest.
type Object struct {
	// Source is the template it came from, e.g. cretoai/templates/service.yaml.
	Source     string
	APIVersion string
	Kind       string
	Name       string
	// YAML is the document as rendered.
	YAML []byte
}

// ID is kind/name, unique within a release.
func (o Object) ID() string { return o.Kind + "/" + o.Name }

// Result is a rendered release.
type Result struct {
	// Objects are the manifests Helm installs, hooks excluded.
	Objects []Object
	// Hooks are the hook manifests (the test pod).
	Hooks []Object
	// Notes is the rendered NOTES.txt.
	Notes string
}

// Load loads the chart in dir.
func Load(dir string) (*chart.Chart, error) {
	ch, err := loader.Load(dir)
	if err != nil {
		return nil, fmt.Errorf("render: load %s: %w", dir, err)
	}
	return ch, nil
}

// Render renders ch with opts.
func Render(ch *chart.Chart, opts Options) (*Result, error) {
	if opts.Release == "" {
		opts.Release = DefaultRelease
	}
	if opts.Namespace == "" {
		opts.Namespace = DefaultNamespace
	}
	if opts.KubeVersion == "" {
		opts.KubeVersion = DefaultKubeVersion
	}
	vals, err := (&values.Options{ValueFiles: opts.ValueFiles, Values: opts.Set, StringValues: opts.SetString}).
		MergeValues(getter.Providers{})
	if err != nil {
		return nil, fmt.Errorf("render: values: %w", err)
	}
	kv, err := common.ParseKubeVersion(opts.KubeVersion)
	if err != nil {
		return nil, fmt.Errorf("render: kube version: %w", err)
	}
	cfg := action.NewConfiguration(action.ConfigurationSetLogger(slog.NewTextHandler(io.Discard, nil)))
	install := action.NewInstall(cfg)
	install.DryRunStrategy = action.DryRunClient
	install.ReleaseName = opts.Release
	install.Namespace = opts.Namespace
	install.KubeVersion = kv
	install.APIVersions = opts.APIVersions
	rel, err := install.RunWithContext(context.Background(), ch, vals)
	if err != nil {
		return nil, fmt.Errorf("render: %w", err)
	}
	r, ok := rel.(*release.Release)
	if !ok {
		return nil, fmt.Errorf("render: unexpected release type %T", rel)
	}
	res := &Result{Notes: r.Info.Notes}
	if res.Objects, err = split(r.Manifest); err != nil {
		return nil, err
	}
	for _, h := range r.Hooks {
		objs, err := split(h.Manifest)
		if err != nil {
			return nil, err
		}
		for i := range objs {
			if objs[i].Source == "" {
				objs[i].Source = h.Path
			}
		}
		res.Hooks = append(res.Hooks, objs...)
	}
	return res, nil
}

var (
	separator = regexp.MustCompile(`(?m)^---[ \t]*$`)
	source    = regexp.MustCompile(`(?m)^# Source: (.+)$`)
)

// split cuts a multi-document manifest into its objects.
func split(manifest string) ([]Object, error) {
	var out []Object
	for _, doc := range separator.Split(manifest, -1) {
		if strings.TrimSpace(doc) == "" {
			continue
		}
		var head struct {
			APIVersion string `json:"apiVersion"`
			Kind       string `json:"kind"`
			Metadata   struct {
				Name string `json:"name"`
			} `json:"metadata"`
		}
		if err := yaml.Unmarshal([]byte(doc), &head); err != nil {
			return nil, fmt.Errorf("render: a manifest is not YAML: %w\n%s", err, doc)
		}
		if head.Kind == "" {
			// Only comments: a template that rendered nothing.
			if isComments(doc) {
				continue
			}
			return nil, fmt.Errorf("render: a manifest has no kind:\n%s", doc)
		}
		o := Object{APIVersion: head.APIVersion, Kind: head.Kind, Name: head.Metadata.Name,
			YAML: bytes.TrimLeft([]byte(doc), "\n")}
		if m := source.FindStringSubmatch(doc); m != nil {
			o.Source = strings.TrimSpace(m[1])
		}
		out = append(out, o)
	}
	return out, nil
}

func isComments(doc string) bool {
	for _, line := range strings.Split(doc, "\n") {
		if l := strings.TrimSpace(line); l != "" && !strings.HasPrefix(l, "#") {
			return false
		}
	}
	return true
}

// Find returns the objects of a kind, in rendering order.
func (r *Result) Find(kind string) []Object {
	var out []Object
	for _, o := range r.Objects {
		if o.Kind == kind {
			out = append(out, o)
		}
	}
	return out
}

// Get returns the object kind/name.
func (r *Result) Get(kind, name string) (Object, bool) {
	for _, o := range r.Objects {
		if o.Kind == kind && o.Name == name {
			return o, true
		}
	}
	return Object{}, false
}
