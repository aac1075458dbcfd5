{{/*
The arguments of `kubengx controller` (the image's ENTRYPOINT).  A flag
named in controller.extraArgs replaces the one rendered here.
*/}}
{{- define "kubengx.args" -}}
{{- $c := .Values.controller -}}
{{- $flags := list -}}
{{- $flags = append $flags (list "conf-dir" "/var/lib/kubengx") -}}
{{- $flags = append $flags (list "http-port" $c.containerPort.http) -}}
{{- $flags = append $flags (list "https-port" $c.containerPort.https) -}}
{{- if $c.containerPort.h2c }}
{{- $flags = append $flags (list "h2c-port" $c.containerPort.h2c) -}}
{{- end }}
{{- $flags = append $flags (list "metrics-port" $c.metrics.port) -}}
{{- if $c.workerProcesses }}
{{- $flags = append $flags (list "worker-processes" $c.workerProcesses) -}}
{{- end }}
{{- $flags = append $flags (list "class" $c.ingressClass) -}}
{{- $flags = append $flags (list "controller" $c.ingressClassResource.controllerValue) -}}
{{- if $c.watchIngressWithoutClass }}
{{- $flags = append $flags (list "watch-without-class" true) -}}
{{- end }}
{{- if $c.disableLeaderElection }}
{{- $flags = append $flags (list "no-leader-elect" true) -}}
{{- else }}
{{- $flags = append $flags (list "election-id" (include "kubengx.electionID" .)) -}}
{{- end }}
{{- if $c.publishService.enabled }}
{{- if $c.publishService.pathOverride }}
{{- $flags = append $flags (list "publish-service" $c.publishService.pathOverride) -}}
{{- else if $c.service.enabled }}
{{- $flags = append $flags (list "publish-service" (printf "$(POD_NAMESPACE)/%s" (include "kubengx.fullname" .))) -}}
{{- end }}
{{- end }}
{{- if $c.scope.enabled }}
{{- $flags = append $flags (list "watch-namespace" (include "kubengx.scopeNamespace" .)) -}}
{{- end }}
{{- if $c.config }}
{{- $flags = append $flags (list "configmap" (printf "$(POD_NAMESPACE)/%s" (include "kubengx.fullname" .))) -}}
{{- end }}
{{- range $proto := list "tcp" "udp" }}
{{- if index $.Values $proto }}
{{- $flags = append $flags (list (printf "%s-services-configmap" $proto) (printf "$(POD_NAMESPACE)/%s-%s" (include "kubengx.fullname" $) $proto)) -}}
{{- end }}
{{- end }}
{{- if $c.admissionWebhooks.enabled }}
{{- $flags = append $flags (list "validating-webhook" (printf ":%v" $c.admissionWebhooks.port)) -}}
{{- $flags = append $flags (list "validating-webhook-certificate" $c.admissionWebhooks.certificate) -}}
{{- $flags = append $flags (list "validating-webhook-key" $c.admissionWebhooks.key) -}}
{{- end }}
{{- range $flags }}
{{- if not (hasKey $c.extraArgs (index . 0)) }}
{{ include "kubengx.flag" . }}
{{- end }}
{{- end }}
{{- range $key, $value := $c.extraArgs }}
{{- if not (or (kindIs "invalid" $value) (and (kindIs "bool" $value) (not $value))) }}
{{ include "kubengx.flag" (list $key $value) }}
{{- end }}
{{- end }}
{{- end -}}

{{/* One flag: (list NAME VALUE); VALUE true or "" is a bare --NAME. */}}
{{- define "kubengx.flag" -}}
{{- $name := index . 0 -}}
{{- $value := index . 1 -}}
{{- if or (and (kindIs "bool" $value) $value) (eq (toString $value) "") -}}
- {{ printf "--%s" $name | quote }}
{{- else -}}
- {{ printf "--%s=%s" $name (include "kubengx.scalar" $value) | quote }}
{{- end -}}
{{- end -}}
