// Package prometheus holds the facts about our Prometheus server that other
// parts of the bundle must agree with: the scrape and evaluation intervals
// (dashboards derive $__rate_interval from the first, rule checks bound
// windows and `for` durations by both), the job and target names written in
// prometheus.yml, and the table of bind mounts that puts the repository's
// files where prometheus.yml expects them inside the container.
//
// prometheus.yml and the recording rules in rules/ are plain files that
// Prometheus loads as they are; tests in this package check them against
// these values, and the compose and Helm tests check their mounts against
// Mounts.
package prometheus

import (
	"path"
	"strings"
	"time"
)

// Intervals of prometheus.yml's global section.
const (
	ScrapeInterval     = 15 * time.Second
	EvaluationInterval = 15 * time.Second
)

// Scrape jobs and targets. Targets are compose service names, never
// localhost, which inside the container is Prometheus itself (FAILURES.md
// R25); the one exception is Prometheus scraping itself.
const (
	// ServiceJob is the job name of the CretoAI service. Alert rules select
	// up{job="cretoai"}.
	ServiceJob = "cretoai"
	// ServiceTarget is host:port of the service in the compose network.
	ServiceTarget = "cretoai:8080"
	// SelfJob and SelfTarget are Prometheus's scrape of itself.
	SelfJob    = "prometheus"
	SelfTarget = "localhost:9090"
	// AlertmanagerTarget is where Prometheus sends alerts (R26).
	AlertmanagerTarget = "alertmanager:9093"
)

// ConfigPath is where prometheus.yml lives inside the Prometheus container.
const ConfigPath = "/etc/prometheus/prometheus.yml"

// Mount is one bind mount of a repository path into the Prometheus container.
type Mount struct {
	// Container is the absolute path inside the container.
	Container string
	// Repo is the source, relative to the repository root, slash-separated.
	Repo string
}

// Mounts is the contract between prometheus.yml (its rule_files globs) and
// the compose file and Helm chart that provide those files (FAILURES.md
// R24). The repository's prometheus/ folder is /etc/prometheus (the
// configuration and, in rules/, the recording rules) and alerting/rules is
// /etc/prometheus/alerts. Folders, not single files, are mounted: an edited
// file is seen on reload (a single-file bind mount keeps the old inode,
// R49) and a rule file added to the repository is picked up.
var Mounts = []Mount{
	{Container: "/etc/prometheus", Repo: "prometheus"},
	{Container: "/etc/prometheus/alerts", Repo: "alerting/rules"},
}

// RepoPath maps a path (or glob) inside the container to the repository path
// it comes from, through the longest mount that contains it. It reports
// false for a path no mount provides.
func RepoPath(containerPath string) (string, bool) {
	p := path.Clean(containerPath)
	best := -1
	for i, m := range Mounts {
		if p != m.Container && !strings.HasPrefix(p, m.Container+"/") {
			continue
		}
		if best < 0 || len(m.Container) > len(Mounts[best].Container) {
			best = i
		}
	}
	if best < 0 {
		return "", false
	}
	m := Mounts[best]
	return m.Repo + strings.TrimPrefix(p, m.Container), true
}
