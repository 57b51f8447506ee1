package dashboards

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/prometheus/common/model"
	"go.yaml.in/yaml/v2"
)

// datasourceFile is a Grafana datasource provisioning file. It is decoded
// strictly: a misspelt key (isdefault, timeinterval) would be ignored by
// Grafana without a word, so it fails here.
type datasourceFile struct {
	APIVersion  int `yaml:"apiVersion"`
	Datasources []struct {
		Name      string `yaml:"name"`
		UID       string `yaml:"uid"`
		Type      string `yaml:"type"`
		Access    string `yaml:"access"`
		URL       string `yaml:"url"`
		OrgID     int    `yaml:"orgId"`
		IsDefault bool   `yaml:"isDefault"`
		Editable  bool   `yaml:"editable"`
		JSONData  struct {
			TimeInterval string `yaml:"timeInterval"`
			HTTPMethod   string `yaml:"httpMethod"`
		} `yaml:"jsonData"`
	} `yaml:"datasources"`
}

// providerFile is a Grafana dashboard provider file, decoded strictly.
type providerFile struct {
	APIVersion int `yaml:"apiVersion"`
	Providers  []struct {
		Name                  string `yaml:"name"`
		OrgID                 int    `yaml:"orgId"`
		Type                  string `yaml:"type"`
		Folder                string `yaml:"folder"`
		FolderUID             string `yaml:"folderUid"`
		DisableDeletion       bool   `yaml:"disableDeletion"`
		AllowUIUpdates        bool   `yaml:"allowUiUpdates"`
		UpdateIntervalSeconds int    `yaml:"updateIntervalSeconds"`
		Options               struct {
			Path                      string `yaml:"path"`
			FoldersFromFilesStructure bool   `yaml:"foldersFromFilesStructure"`
		} `yaml:"options"`
	} `yaml:"providers"`
}

func readYAML(t *testing.T, path string, v any) {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.UnmarshalStrict(raw, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// yamlFiles lists the .yml and .yaml files of a provisioning directory.
func yamlFiles(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	for _, pattern := range []string{"*.yml", "*.yaml"} {
		m, err := filepath.Glob(filepath.Join(dir, pattern))
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, m...)
	}
	if len(out) == 0 {
		t.Fatalf("no provisioning files in %s", dir)
	}
	return out
}

// scrapeInterval is the effective scrape interval of the CretoAI job in
// prometheus/prometheus.yml, or ScrapeInterval while that file does not
// exist yet. It also fails when the job sets honor_labels, which would let
// exposed labels override the target's.
func scrapeInterval(t *testing.T) (time.Duration, string) {
	t.Helper()
	path := repoPath("prometheus/prometheus.yml")
	raw, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return ScrapeInterval, "dashboards.ScrapeInterval (prometheus/prometheus.yml does not exist yet)"
	}
	if err != nil {
		t.Fatal(err)
	}
	var cfg struct {
		Global struct {
			ScrapeInterval string `yaml:"scrape_interval"`
		} `yaml:"global"`
		ScrapeConfigs []struct {
			JobName        string `yaml:"job_name"`
			ScrapeInterval string `yaml:"scrape_interval"`
			HonorLabels    bool   `yaml:"honor_labels"`
		} `yaml:"scrape_configs"`
	}
	if err := yaml.Unmarshal(raw, &cfg); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	interval := "1m" // Prometheus's default
	if cfg.Global.ScrapeInterval != "" {
		interval = cfg.Global.ScrapeInterval
	}
	found := false
	for _, sc := range cfg.ScrapeConfigs {
		if sc.JobName != ScrapeJob {
			continue
		}
		found = true
		if sc.ScrapeInterval != "" {
			interval = sc.ScrapeInterval
		}
		if sc.HonorLabels {
			t.Errorf("%s: job %q sets honor_labels; the dashboards rely on the target labels (up{job=%q})", path, ScrapeJob, ScrapeJob)
		}
	}
	if !found {
		t.Errorf("%s: no scrape config with job_name %q, which the dashboards select (up{job=%q})", path, ScrapeJob, ScrapeJob)
	}
	d, err := model.ParseDuration(interval)
	if err != nil {
		t.Fatalf("%s: scrape interval %q: %v", path, interval, err)
	}
	return time.Duration(d), path
}

// TestDatasourceProvisioning checks the datasource files: exactly one
// default datasource per org (R29), the uid the dashboards default to
// (R28), the compose URL, and a timeInterval equal to the scrape interval
// (R32).
func TestDatasourceProvisioning(t *testing.T) {
	wantInterval, source := scrapeInterval(t)
	if wantInterval != ScrapeInterval {
		t.Errorf("dashboards.ScrapeInterval is %s but %s scrapes every %s", ScrapeInterval, source, wantInterval)
	}
	defaults := map[int]int{}
	found := false
	for _, path := range yamlFiles(t, filepath.Join(repoPath(ProvisioningDir), "datasources")) {
		var f datasourceFile
		readYAML(t, path, &f)
		if f.APIVersion != 1 {
			t.Errorf("%s: apiVersion %d, want 1", path, f.APIVersion)
		}
		for _, ds := range f.Datasources {
			org := ds.OrgID
			if org == 0 {
				org = 1 // Grafana's default org
			}
			if ds.IsDefault {
				defaults[org]++
			}
			if ds.UID == "" {
				t.Errorf("%s: datasource %q has no uid; Grafana would make up a random one (R28)", path, ds.Name)
			}
			if ds.UID != DatasourceUID {
				continue
			}
			found = true
			if ds.Type != "prometheus" || ds.Name != DatasourceName || ds.URL != PrometheusURL {
				t.Errorf("%s: datasource %s is %q %q at %q, want prometheus %q at %q", path, ds.UID, ds.Type, ds.Name, ds.URL, DatasourceName, PrometheusURL)
			}
			got, err := model.ParseDuration(ds.JSONData.TimeInterval)
			if err != nil || time.Duration(got) != wantInterval {
				t.Errorf("%s: jsonData.timeInterval %q, want the scrape interval %s of %s (R32)", path, ds.JSONData.TimeInterval, wantInterval, source)
			}
		}
	}
	if !found {
		t.Errorf("no provisioned datasource has uid %q, the one the dashboards use (R28)", DatasourceUID)
	}
	if len(defaults) == 0 {
		t.Errorf("no default datasource")
	}
	for org, n := range defaults {
		if n != 1 {
			t.Errorf("org %d has %d default datasources; Grafana refuses to start with more than one (R29)", org, n)
		}
	}
}

// TestDashboardProvider checks the dashboard provider reads the directory
// compose mounts the generated JSON into, puts everything in one folder and
// does not also take folders from the file layout (R30).
func TestDashboardProvider(t *testing.T) {
	n := 0
	for _, path := range yamlFiles(t, filepath.Join(repoPath(ProvisioningDir), "dashboards")) {
		var f providerFile
		readYAML(t, path, &f)
		if f.APIVersion != 1 {
			t.Errorf("%s: apiVersion %d, want 1", path, f.APIVersion)
		}
		for _, p := range f.Providers {
			n++
			if p.Type != "file" {
				t.Errorf("%s: provider %q of type %q, want file", path, p.Name, p.Type)
			}
			if p.Options.Path != GrafanaDashboardsPath {
				t.Errorf("%s: provider %q reads %q, but the dashboards are mounted at %q (R30)", path, p.Name, p.Options.Path, GrafanaDashboardsPath)
			}
			if p.Folder != FolderTitle || p.FolderUID != FolderUID {
				t.Errorf("%s: provider %q puts dashboards in folder %q (uid %q), want %q (uid %q)", path, p.Name, p.Folder, p.FolderUID, FolderTitle, FolderUID)
			}
			if p.Options.FoldersFromFilesStructure && (p.Folder != "" || p.FolderUID != "") {
				t.Errorf("%s: provider %q sets both a folder and foldersFromFilesStructure; Grafana ignores one of them (R30)", path, p.Name)
			}
		}
	}
	if n != 1 {
		t.Errorf("%d dashboard providers, want exactly 1", n)
	}
}
