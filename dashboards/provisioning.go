package dashboards

import "time"

// The Grafana image compose and Helm run. Grafana is AGPL: it is only ever
// pulled as this image, never built or installed here.
//
// 13.2.1 is the current patch of the current minor release: grafana/grafana
// v13.2.0 was released on 2026-08-18 (CHANGELOG "13.2.0 (2026-08-18)") and
// v13.2.1 on 2026-09-01 with security fixes (CVE-2026-12704, CVE-2026-14199);
// both as seen in Renovate's "Update grafana/grafana Docker tag" pull requests
// quoting the release notes, and puppet-grafana's "Release 13.2.0".
const (
	GrafanaVersion = "13.2.1"
	GrafanaImage   = "grafana/grafana:" + GrafanaVersion
)

// The dashboard schemaVersions GrafanaVersion loads from file provisioning
// without rejecting them. grafana-foundation-sdk v0.0.22 writes
// schemaVersion 42. Grafana's backend migrator (apps/dashboard/pkg/migration/
// schemaversion) upgrades anything from 13 up and knows 42, the final
// schemaVersion of the v1 dashboard API; its v42 migration was merged in
// September 2025 (grafana/grafana#110517), so every 12.3+ and 13.x release
// has it. Dashboards are v1 JSON (top-level panels); 13.x converts v1 to v2
// when it loads them.
const (
	GrafanaMinSchemaVersion = 13
	GrafanaMaxSchemaVersion = 42
)

// The provisioned Prometheus datasource. Dashboards reference it through
// the datasource variable, whose default is DatasourceUID (R28).
const (
	DatasourceUID  = "prometheus"
	DatasourceName = "Prometheus"
	// PrometheusURL is Prometheus as the compose service "prometheus".
	PrometheusURL = "http://prometheus:9090"
)

// ScrapeInterval is the scrape interval of the CretoAI job; the
// datasource's jsonData.timeInterval must equal it so that $__rate_interval
// spans at least four scrapes (R32). A test compares it with
// prometheus/prometheus.yml when that file exists.
const ScrapeInterval = 15 * time.Second

// ScrapeJob is the Prometheus job that scrapes the service; panels select
// up{job="cretoai"} and scrape_duration_seconds{job="cretoai"}.
const ScrapeJob = "cretoai"

// Folder is the one Grafana folder all dashboards are provisioned into.
const (
	FolderTitle = "CretoAI"
	FolderUID   = "cretoai"
)

// Paths in the repository (relative to its root).
const (
	// JSONDir holds the generated dashboards, one <uid>.json each.
	JSONDir = "dashboards/json"
	// ProvisioningDir holds Grafana's provisioning files: datasources/ and
	// dashboards/, in the layout Grafana expects under its provisioning path.
	ProvisioningDir = "dashboards/provisioning"
	// DatasourceFile and ProviderFile are the two provisioning files.
	DatasourceFile = ProvisioningDir + "/datasources/prometheus.yml"
	ProviderFile   = ProvisioningDir + "/dashboards/cretoai.yml"
)

// Paths inside the Grafana container: compose (and the chart) mount
// ProvisioningDir at GrafanaProvisioningPath and JSONDir at
// GrafanaDashboardsPath, which the dashboard provider reads (R30).
const (
	GrafanaProvisioningPath = "/etc/grafana/provisioning"
	GrafanaDashboardsPath   = "/var/lib/grafana/dashboards/cretoai"
)
