{{/*
The addresses of a StatefulSet's pods with a port, as a JSON list:
<pod>.<headless service>.<namespace>.svc.<clusterDomain>:<port>.
Call with (list $ "<component>" <replicas> <port>); component "" is the
service itself. The StatefulSet is cretoai.statefulSetName, its headless
Service cretoai.componentName <component>-headless (or headless).
*/}}
{{- define "cretoai.podTargets" -}}
{{- $root := index . 0 }}
{{- $component := index . 1 }}
{{- $sts := include "cretoai.statefulSetName" (list $root $component) }}
{{- $headless := include "cretoai.headlessName" (list $root $component) }}
{{- $out := list }}
{{- range $i := until (int (index . 2)) }}
{{- $out = append $out (printf "%s-%d.%s.%s.svc.%s:%v" $sts $i $headless $root.Release.Namespace $root.Values.clusterDomain (index $ 3)) }}
{{- end }}
{{- toJson $out }}
{{- end }}

{{/*
The name of a StatefulSet's headless Service. Call with (list $ "<component>").
*/}}
{{- define "cretoai.headlessName" -}}
{{- $component := index . 1 }}
{{- include "cretoai.componentName" (list (index . 0) (ternary (printf "%s-headless" $component) "headless" (ne $component ""))) }}
{{- end }}

{{/*
The URL of a Service of the release. Call with (list $ "<component>" <port>).
*/}}
{{- define "cretoai.componentURL" -}}
{{- $root := index . 0 }}
{{- printf "http://%s:%v" (include "cretoai.serviceHost" (list $root (include "cretoai.componentName" (list $root (index . 1))))) (index . 2) }}
{{- end }}

{{/*
Where each target of prometheus/prometheus.yml (compose service names) is
in the cluster, as a JSON object of lists. The service and Alertmanager are
StatefulSets: every pod is a target of its own, so each is scraped and
receives alerts individually (Alertmanager replicas must all get every
alert). A target missing here fails the rendering.
*/}}
{{- define "cretoai.prometheus.targets" -}}
{{- toJson (dict
  "cretoai:8080" (include "cretoai.podTargets" (list . "" .Values.replicaCount 8080) | fromJsonArray)
  "alertmanager:9093" (include "cretoai.podTargets" (list . "alertmanager" .Values.alertmanager.replicas 9093) | fromJsonArray)
  "localhost:9090" (list "localhost:9090")
) }}
{{- end }}

{{/*
Maps the static_configs of a scrape or alertmanager config in place.
Call with (list $targets <config> "<what, for errors>").
*/}}
{{- define "cretoai.prometheus.mapStatic" -}}
{{- $targets := index . 0 }}
{{- $cfg := index . 1 }}
{{- $what := index . 2 }}
{{- range $k, $_ := $cfg }}
{{- if hasSuffix "_sd_configs" $k }}
{{- fail (printf "prometheus/prometheus.yml: %s uses %s; the chart only knows how to move static_configs into the cluster (templates/_standalone.tpl)" $what $k) }}
{{- end }}
{{- end }}
{{- range $sc := $cfg.static_configs }}
{{- $mapped := list }}
{{- range $t := $sc.targets }}
{{- if not (hasKey $targets $t) }}
{{- fail (printf "prometheus/prometheus.yml: %s has target %s, which has no in-cluster address in the chart; add it to cretoai.prometheus.targets in templates/_standalone.tpl" $what $t) }}
{{- end }}
{{- $mapped = concat $mapped (index $targets $t) }}
{{- end }}
{{- $_ := set $sc "targets" $mapped }}
{{- end }}
{{- end }}

{{/*
prometheus.yml for the cluster: the repository's file with every compose
target replaced by its in-cluster address, plus externalLabels and
remoteWrite from the values. rule_files stay as they are: the rule files
are mounted where they point (prometheus/prometheus.go Mounts).
*/}}
{{- define "cretoai.prometheus.config" -}}
{{- $cfg := .Files.Get "files/prometheus/prometheus.yml" | fromYaml }}
{{- if hasKey $cfg "Error" }}
{{- fail (printf "files/prometheus/prometheus.yml: %s" $cfg.Error) }}
{{- end }}
{{- $targets := include "cretoai.prometheus.targets" . | fromJson }}
{{- range $sc := $cfg.scrape_configs }}
{{- include "cretoai.prometheus.mapStatic" (list $targets $sc (printf "scrape job %s" $sc.job_name)) }}
{{- end }}
{{- range $am := ($cfg.alerting | default dict).alertmanagers }}
{{- include "cretoai.prometheus.mapStatic" (list $targets $am "alerting.alertmanagers") }}
{{- end }}
{{- with .Values.prometheus.externalLabels }}
{{- $global := $cfg.global | default dict }}
{{- $_ := set $global "external_labels" (merge (dict) . ($global.external_labels | default dict)) }}
{{- $_ := set $cfg "global" $global }}
{{- end }}
{{- with .Values.prometheus.remoteWrite }}
{{- $_ := set $cfg "remote_write" (concat ($cfg.remote_write | default list) .) }}
{{- end -}}
# prometheus/prometheus.yml of the repository, rendered by the chart with
# in-cluster addresses instead of compose service names.
{{ toYaml $cfg }}
{{- end }}

{{/*
alertmanager.yml for the cluster: alertmanager.config when set, otherwise
the repository's alerting/alertmanager.yml with the alert sink's compose
address replaced by its in-cluster Service.
*/}}
{{- define "cretoai.alertmanager.config" -}}
{{- if .Values.alertmanager.config }}
{{- .Values.alertmanager.config }}
{{- else }}
{{- if not .Values.alertSink.enabled }}
{{- fail "alertSink.enabled=false, but alerting/alertmanager.yml sends every notification to the alert sink: set alertmanager.config to your own alertmanager.yml" }}
{{- end }}
{{- $raw := .Files.Get "files/alerting/alertmanager.yml" }}
{{- $compose := "http://alert-sink:8095" }}
{{- if not (contains $compose $raw) }}
{{- fail (printf "alerting/alertmanager.yml no longer mentions %s; update cretoai.alertmanager.config in templates/_standalone.tpl" $compose) }}
{{- end }}
{{- replace $compose (include "cretoai.componentURL" (list . "alert-sink" 8095)) $raw }}
{{- end }}
{{- end }}

{{/*
The Grafana datasource provisioning file: the repository's
dashboards/provisioning/datasources/prometheus.yml with the URL of the
release's Prometheus instead of compose's.
*/}}
{{- define "cretoai.grafana.datasources" -}}
{{- $raw := .Files.Get "files/dashboards/provisioning/datasources/prometheus.yml" }}
{{- $compose := "http://prometheus:9090" }}
{{- if not (contains $compose $raw) }}
{{- fail (printf "dashboards/provisioning/datasources/prometheus.yml no longer mentions %s; update cretoai.grafana.datasources in templates/_standalone.tpl" $compose) }}
{{- end }}
{{- replace $compose (include "cretoai.componentURL" (list . "prometheus" .Values.prometheus.service.port)) $raw }}
{{- end }}

{{/*
The Grafana dashboard provider, as it is in the repository.
*/}}
{{- define "cretoai.grafana.provider" -}}
{{- .Files.Get "files/dashboards/provisioning/dashboards/cretoai.yml" }}
{{- end }}

{{/*
A digest of every rule file the standalone Prometheus mounts.
*/}}
{{- define "cretoai.ruleFilesDigest" -}}
{{- $all := list }}
{{- range $dir := list "files/prometheus/rules/*.yml" "files/alerting/rules/*.yml" }}
{{- range $path, $content := $.Files.Glob $dir }}
{{- $all = append $all (list $path (toString $content | sha256sum)) }}
{{- end }}
{{- end }}
{{- toJson $all | sha256sum }}
{{- end }}
