{{/*
Expand the name of the chart.
*/}}
{{- define "cretoai.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Create a default fully qualified app name. Truncated at 63 characters
because some Kubernetes name fields are limited to that (DNS labels). If the
release name contains the chart name it is used as the full name.
*/}}
{{- define "cretoai.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/*
The name of one component's objects: <fullname>-<component>, within the
63 characters of a DNS label. Call with (list $ "prometheus").
*/}}
{{- define "cretoai.componentName" -}}
{{- $root := index . 0 }}
{{- $component := index . 1 }}
{{- $suffix := printf "-%s" $component }}
{{- printf "%s%s" (include "cretoai.fullname" $root | trunc (int (sub 63 (len $suffix))) | trimSuffix "-") $suffix }}
{{- end }}

{{/*
The name of a StatefulSet: at most 52 characters, because its pods'
controller-revision-hash label is <name>-<10 characters> and label values
end at 63. Call with (list $ "<component>"); "" is the service itself.
*/}}
{{- define "cretoai.statefulSetName" -}}
{{- $root := index . 0 }}
{{- $component := index . 1 }}
{{- if $component }}
{{- $suffix := printf "-%s" $component }}
{{- printf "%s%s" (include "cretoai.fullname" $root | trunc (int (sub 52 (len $suffix))) | trimSuffix "-") $suffix }}
{{- else }}
{{- include "cretoai.fullname" $root | trunc 52 | trimSuffix "-" }}
{{- end }}
{{- end }}

{{/*
Create chart name and version as used by the chart label.
*/}}
{{- define "cretoai.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Common labels of every object.
*/}}
{{- define "cretoai.labels" -}}
helm.sh/chart: {{ include "cretoai.chart" . }}
{{ include "cretoai.selectorLabels" . }}
{{- if .Chart.AppVersion }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
{{- end }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: cretoai-monitor
{{- end }}

{{/*
Selector labels of the release's objects; every workload adds
app.kubernetes.io/component to tell its pods apart.
*/}}
{{- define "cretoai.selectorLabels" -}}
app.kubernetes.io/name: {{ include "cretoai.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/*
Labels of one component's objects. Call with (list $ "prometheus").
*/}}
{{- define "cretoai.componentLabels" -}}
{{ include "cretoai.labels" (index . 0) }}
app.kubernetes.io/component: {{ index . 1 }}
{{- end }}

{{/*
Selector labels of one component's pods. Call with (list $ "prometheus").
*/}}
{{- define "cretoai.componentSelectorLabels" -}}
{{ include "cretoai.selectorLabels" (index . 0) }}
app.kubernetes.io/component: {{ index . 1 }}
{{- end }}

{{/*
The name of the service account of the service pods.
*/}}
{{- define "cretoai.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "cretoai.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/*
The service image (also the simulator's and the alert sink's).
*/}}
{{- define "cretoai.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}

{{/*
The in-cluster DNS name of a Service of the release.
Call with (list $ "<service name>").
*/}}
{{- define "cretoai.serviceHost" -}}
{{- $root := index . 0 }}
{{- printf "%s.%s.svc.%s" (index . 1) $root.Release.Namespace $root.Values.clusterDomain }}
{{- end }}

{{/*
Whether a monitoring.coreos.com/v1 object is rendered: "true" or "".
enabled is auto (when the API exists), true (always; fail without the API,
FAILURES.md R42) or false. Call with (list $ "serviceMonitor" "ServiceMonitor").
*/}}
{{- define "cretoai.monitoringEnabled" -}}
{{- $root := index . 0 }}
{{- $key := index . 1 }}
{{- $kind := index . 2 }}
{{- $enabled := toString (index $root.Values $key).enabled }}
{{- $has := $root.Capabilities.APIVersions.Has "monitoring.coreos.com/v1" }}
{{- if eq $enabled "true" }}
{{- if not $has }}
{{- fail (printf "%s.enabled=true, but the cluster does not serve monitoring.coreos.com/v1, so a %s cannot be created: install the Prometheus Operator CRDs first (e.g. kube-prometheus-stack), set %s.enabled=auto to skip it when they are missing, or with `helm template` pass --api-versions monitoring.coreos.com/v1" $key $kind $key) }}
{{- end }}
{{- "true" }}
{{- else if and (eq $enabled "auto") $has }}
{{- "true" }}
{{- end }}
{{- end }}

{{/*
Whether the dashboard ConfigMaps are rendered: "true" or "".
*/}}
{{- define "cretoai.dashboardsEnabled" -}}
{{- if or .Values.dashboards.enabled .Values.standalone.enabled }}true{{ end }}
{{- end }}

{{/*
A number as an environment variable value: integers without exponent
(Helm reads 1000000 from a values file as the float 1e+06).
*/}}
{{- define "cretoai.envNumber" -}}
{{- if and (kindIs "float64" .) (eq . (floor .)) }}
{{- printf "%d" (int64 .) }}
{{- else }}
{{- toString . }}
{{- end }}
{{- end }}

{{/*
The pod security context of every pod: non-root, RuntimeDefault seccomp.
Call with the uid, which is also the gid and fsGroup.
*/}}
{{- define "cretoai.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: {{ . }}
runAsGroup: {{ . }}
fsGroup: {{ . }}
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{/*
The container security context of every container.
*/}}
{{- define "cretoai.containerSecurityContext" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
capabilities:
  drop:
    - ALL
{{- end }}

{{/*
imagePullSecrets of a pod spec, if any.
*/}}
{{- define "cretoai.imagePullSecrets" -}}
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end }}

{{/*
The volumeClaimTemplates entry or emptyDir volume of a component's data.
Call "cretoai.claimSpec" with a persistence object.
*/}}
{{- define "cretoai.claimSpec" -}}
accessModes:
  {{- toYaml .accessModes | nindent 2 }}
{{- with .storageClass }}
storageClassName: {{ . | quote }}
{{- end }}
resources:
  requests:
    storage: {{ .size | quote }}
{{- end }}
