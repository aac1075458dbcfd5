{{/* Names, labels and small shared pieces of the kubengx chart. */}}

{{- define "kubengx.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* The release name when it already contains the chart name, else
RELEASE-NAME; every object of the chart is named after it. */}}
{{- define "kubengx.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "kubengx.namespace" -}}
{{- default .Release.Namespace .Values.namespaceOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "kubengx.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "kubengx.selectorLabels" -}}
app.kubernetes.io/name: {{ include "kubengx.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "kubengx.labels" -}}
helm.sh/chart: {{ include "kubengx.chart" . }}
{{ include "kubengx.selectorLabels" . }}
{{- if .Chart.AppVersion }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
{{- end }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* The controller's labels: common labels, component, controller.labels. */}}
{{- define "kubengx.controllerLabels" -}}
{{ include "kubengx.labels" . }}
app.kubernetes.io/component: controller
{{- with .Values.controller.labels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{- define "kubengx.controllerSelector" -}}
{{ include "kubengx.selectorLabels" . }}
app.kubernetes.io/component: controller
{{- end -}}

{{- define "kubengx.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "kubengx.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "kubengx.electionID" -}}
{{- default (printf "%s-leader" (include "kubengx.fullname" .)) .Values.controller.electionID -}}
{{- end -}}

{{/* The namespace --watch-namespace names (scope.enabled only). */}}
{{- define "kubengx.scopeNamespace" -}}
{{- default (include "kubengx.namespace" .) .Values.controller.scope.namespace -}}
{{- end -}}

{{- define "kubengx.admission.fullname" -}}
{{- printf "%s-%s" (include "kubengx.fullname" .) .Values.controller.admissionWebhooks.name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* The Secret holding the webhook's certificate (tls.crt, tls.key). */}}
{{- define "kubengx.admission.secretName" -}}
{{- default (include "kubengx.admission.fullname" .) .Values.controller.admissionWebhooks.secretName -}}
{{- end -}}

{{- define "kubengx.image" -}}
{{- $img := .Values.controller.image -}}
{{- $tag := default .Chart.AppVersion ($img.tag | toString) -}}
{{- if $img.repository -}}
{{- $img.repository -}}
{{- else if $img.registry -}}
{{- printf "%s/%s" $img.registry $img.image -}}
{{- else -}}
{{- $img.image -}}
{{- end -}}
:{{ $tag }}{{ if $img.digest }}@{{ $img.digest }}{{ end }}
{{- end -}}

{{/* The class names whose Ingresses the webhook receives, as a CEL list. */}}
{{- define "kubengx.admission.classList" -}}
{{- $names := list .Values.controller.ingressClass -}}
{{- if .Values.controller.ingressClassResource.enabled -}}
{{- $names = append $names .Values.controller.ingressClassResource.name -}}
{{- end -}}
{{- $quoted := list -}}
{{- range ($names | compact | uniq) -}}
{{- $quoted = append $quoted (printf "'%s'" .) -}}
{{- end -}}
[{{ join ", " $quoted }}]
{{- end -}}

{{/* Refuse values that cannot work, with a message naming the value. */}}
{{- define "kubengx.validate" -}}
{{- $c := .Values.controller -}}
{{- if not (has $c.kind (list "Deployment" "DaemonSet")) -}}
{{- fail (printf "controller.kind: %q is neither Deployment nor DaemonSet" $c.kind) -}}
{{- end -}}
{{- if $c.admissionWebhooks.enabled -}}
{{- if not (has $c.admissionWebhooks.failurePolicy (list "Fail" "Ignore")) -}}
{{- fail (printf "controller.admissionWebhooks.failurePolicy: %q is neither Fail nor Ignore" $c.admissionWebhooks.failurePolicy) -}}
{{- end -}}
{{- $wp := int $c.admissionWebhooks.port -}}
{{- if has $wp (list (int $c.containerPort.http) (int $c.containerPort.https) (int $c.containerPort.h2c) (int $c.metrics.port)) -}}
{{- fail (printf "controller.admissionWebhooks.port: %d is also nginx's http/https port, its h2c port or the metrics port (ingress-nginx's 8443 is kubengx's https port)" $wp) -}}
{{- end -}}
{{- end -}}
{{- range $name, $port := $c.containerPort -}}
{{- if and (or (ne $name "h2c") $port) (lt (int $port) 1024) -}}
{{- fail (printf "controller.containerPort.%s: %v is below 1024; nginx runs as uid 101 without capabilities and binds unprivileged ports (8080/8443; the Service maps 80/443 to them)" $name $port) -}}
{{- end -}}
{{- end -}}
{{- if and $c.containerPort.h2c (has (int $c.containerPort.h2c) (list (int $c.containerPort.http) (int $c.containerPort.https) (int $c.metrics.port))) -}}
{{- fail (printf "controller.containerPort.h2c: %v is also the http, https or metrics port" $c.containerPort.h2c) -}}
{{- end -}}
{{- range $proto := list "tcp" "udp" -}}
{{- range $port, $target := index $.Values $proto -}}
{{- if not (regexMatch "^[0-9]+$" $port) -}}
{{- fail (printf "%s: key %q is not a port number" $proto $port) -}}
{{- end -}}
{{- if or (lt (atoi $port) 1024) (gt (atoi $port) 65535) -}}
{{- fail (printf "%s: port %s is outside 1024-65535; nginx runs as uid 101 without capabilities and binds unprivileged ports only" $proto $port) -}}
{{- end -}}
{{- if has (atoi $port) (list (int $c.containerPort.http) (int $c.containerPort.https) (int $c.containerPort.h2c) (int $c.metrics.port) (int $c.admissionWebhooks.port)) -}}
{{- fail (printf "%s: port %s is also the http, https, metrics or webhook port (or the h2c port)" $proto $port) -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- if and $c.disableLeaderElection (or (eq $c.kind "DaemonSet") $c.autoscaling.enabled (gt (int $c.replicaCount) 1)) -}}
{{- fail "controller.disableLeaderElection: only for a single replica (every replica would write Ingress status)" -}}
{{- end -}}
{{- end -}}

{{/* A value as text; whole numbers without an exponent (YAML numbers
reach templates as float64: 31536000 would print as 3.1536e+07). */}}
{{- define "kubengx.scalar" -}}
{{- if and (kindIs "float64" .) (eq (float64 (int64 .)) .) -}}
{{- int64 . -}}
{{- else -}}
{{- toString . -}}
{{- end -}}
{{- end -}}
