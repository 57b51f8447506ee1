package alerting

// RunbookBaseURL is runbooks.md in the repository. An alert's runbook_url is
// this, "#" and the anchor of its section "## <AlertName>": the alert name in
// lower case. Its dashboard_url is a Grafana path by dashboard uid
// (dashboards.UID*), relative to Grafana's root URL.
const RunbookBaseURL = "https://github.com/cretoai/monitor/blob/main/alerting/runbooks.md"
