{{/* The release's full name: the release name, or <release>-kmc when it does not contain "kmc". */}}
{{- define "kmc.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 50 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 50 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "kmc.selectorLabels" -}}
app.kubernetes.io/name: kmc
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "kmc.labels" -}}
{{ include "kmc.selectorLabels" . }}
app.kubernetes.io/part-of: koupleless
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "kmc.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- .Values.serviceAccount.name | default (include "kmc.fullname" .) -}}
{{- else -}}
{{- .Values.serviceAccount.name | default "default" -}}
{{- end -}}
{{- end -}}

{{/* The namespace of the leader Lease: config.leaderElection.namespace, else the release namespace. */}}
{{- define "kmc.leaseNamespace" -}}
{{- (.Values.config.leaderElection | default dict).namespace | default .Release.Namespace -}}
{{- end -}}

{{/*
kmc's config file: the values above, then `config` merged over them. The mounted Secrets' paths are fixed here
and in deployment.yaml.
*/}}
{{- define "kmc.config" -}}
{{- $mqtt := dict "url" .Values.mqtt.url -}}
{{- with .Values.mqtt.username }}{{ $_ := set $mqtt "username" . }}{{ end -}}
{{- if .Values.mqtt.passwordSecret.name }}{{ $_ := set $mqtt "passwordFile" "/etc/kmc/mqtt/password" }}{{ end -}}
{{- if .Values.mqtt.tls.enabled -}}
{{- $tls := dict "ca" "/etc/kmc/mqtt-tls/ca.crt" -}}
{{- if .Values.mqtt.tls.clientCertificate -}}
{{- $_ := set $tls "cert" "/etc/kmc/mqtt-tls/tls.crt" -}}
{{- $_ := set $tls "key" "/etc/kmc/mqtt-tls/tls.key" -}}
{{- end -}}
{{- $_ := set $mqtt "tls" $tls -}}
{{- end -}}
{{- $config := dict "env" .Values.env "mqtt" $mqtt "watch" (deepCopy .Values.watch) "plugins" (deepCopy .Values.plugins) "server" (dict "port" 8080) "leaderElection" (dict "enabled" true) -}}
{{- toYaml (mergeOverwrite $config (deepCopy .Values.config)) -}}
{{- end -}}
