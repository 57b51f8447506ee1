{{/*
The service's settings as CRETOAI_* environment variables, sorted by name:
config.epochPeriod becomes CRETOAI_EPOCH_PERIOD. Empty and null keys are
left out, so the service uses its built-in default. Also the input of the
checksum/config annotation.
*/}}
{{- define "cretoai.configData" -}}
{{- $data := dict }}
{{- range $k, $v := .Values.config }}
{{- if not (or (kindIs "invalid" $v) (eq (toString $v) "")) }}
{{- $_ := set $data (printf "CRETOAI_%s" ($k | snakecase | upper)) (include "cretoai.envNumber" $v) }}
{{- end }}
{{- end }}
{{- if $data }}
{{- toYaml $data }}
{{- else }}
{}
{{- end }}
{{- end }}

{{/*
The Secret holding the API token, and its key.
*/}}
{{- define "cretoai.apiTokenSecretName" -}}
{{- default (include "cretoai.fullname" .) .Values.apiToken.existingSecret }}
{{- end }}

{{- define "cretoai.apiTokenSecretKey" -}}
{{- if .Values.apiToken.existingSecret }}{{ .Values.apiToken.existingSecretKey }}{{ else }}api-token{{ end }}
{{- end }}

{{/*
What the checksum/secret annotation hashes: the token's source. A token set
in values rolls the pods when it changes; a generated one never changes (it
is read back on upgrades); an existing Secret's content is not visible to
the chart, so changing it needs a restart (kubectl rollout restart).
*/}}
{{- define "cretoai.apiTokenChecksumInput" -}}
{{- toJson (dict "value" .Values.apiToken.value "existingSecret" .Values.apiToken.existingSecret "key" (include "cretoai.apiTokenSecretKey" .)) }}
{{- end }}

{{/*
The label that marks the headless Services (which govern StatefulSets):
the ServiceMonitor must not select them, or every pod is scraped twice.
*/}}
{{- define "cretoai.headlessLabelKey" -}}
cretoai.io/headless
{{- end }}

{{- define "cretoai.headlessLabel" -}}
{{ include "cretoai.headlessLabelKey" . }}: "true"
{{- end }}

{{/*
The rule groups of the repository's rule files, in the order of
prometheus.yml's rule_files: recording rules (prometheus/rules/*.yml), then
alert rules (alerting/rules/*.yml), each directory by file name.
*/}}
{{- define "cretoai.ruleGroups" -}}
{{- $groups := list }}
{{- range $dir := list "files/prometheus/rules/*.yml" "files/alerting/rules/*.yml" }}
{{- range $path, $content := $.Files.Glob $dir }}
{{- $doc := toString $content | fromYaml }}
{{- if hasKey $doc "Error" }}
{{- fail (printf "%s: %s" $path $doc.Error) }}
{{- end }}
{{- $groups = concat $groups $doc.groups }}
{{- end }}
{{- end }}
{{- toYaml $groups }}
{{- end }}

{{/*
The name of a dashboard's ConfigMap: cretoai-overview.json becomes
<fullname>-dashboard-overview. Call with (list $ "<file name>").
*/}}
{{- define "cretoai.dashboardConfigMapName" -}}
{{- $uid := trimSuffix ".json" (index . 1) }}
{{- include "cretoai.componentName" (list (index . 0) (printf "dashboard-%s" (trimPrefix "cretoai-" $uid))) }}
{{- end }}
