{{/* The controller's pod template, shared by the Deployment and the DaemonSet. */}}
{{- define "kubengx.podTemplate" -}}
{{- $c := .Values.controller -}}
metadata:
  {{- $ann := dict -}}
  {{- if $c.metrics.enabled -}}
  {{- $_ := set $ann "prometheus.io/scrape" "true" -}}
  {{- $_ := set $ann "prometheus.io/port" (toString $c.metrics.port) -}}
  {{- $_ := set $ann "prometheus.io/path" "/metrics" -}}
  {{- end -}}
  {{- range $k, $v := $c.podAnnotations }}
  {{- $_ := set $ann $k (toString $v) -}}
  {{- end }}
  {{- with $ann }}
  annotations:
    {{- range $k, $v := . }}
    {{ $k }}: {{ $v | quote }}
    {{- end }}
  {{- end }}
  labels:
    {{- include "kubengx.controllerLabels" . | nindent 4 }}
    {{- with $c.podLabels }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
spec:
  serviceAccountName: {{ include "kubengx.serviceAccountName" . }}
  automountServiceAccountToken: {{ .Values.serviceAccount.automountServiceAccountToken }}
  terminationGracePeriodSeconds: {{ $c.terminationGracePeriodSeconds }}
  {{- with .Values.imagePullSecrets }}
  imagePullSecrets:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with $c.priorityClassName }}
  priorityClassName: {{ . | quote }}
  {{- end }}
  {{- with $c.podSecurityContext }}
  securityContext:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with $c.nodeSelector }}
  nodeSelector:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with $c.tolerations }}
  tolerations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with $c.affinity }}
  affinity:
    {{- tpl (toYaml .) $ | nindent 4 }}
  {{- end }}
  {{- with $c.topologySpreadConstraints }}
  topologySpreadConstraints:
    {{- tpl (toYaml .) $ | nindent 4 }}
  {{- end }}
  {{- with $c.extraInitContainers }}
  initContainers:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  containers:
    - name: controller
      image: {{ include "kubengx.image" . | quote }}
      imagePullPolicy: {{ $c.image.pullPolicy }}
      # ENTRYPOINT is ["kubengx", "controller"]; `kubengx controller
      # --help` lists every flag
      args:
        {{- include "kubengx.args" . | trim | nindent 8 }}
      env:
        - name: POD_NAME
          valueFrom:
            fieldRef:
              fieldPath: metadata.name
        - name: POD_NAMESPACE
          valueFrom:
            fieldRef:
              fieldPath: metadata.namespace
        {{- with $c.extraEnvs }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
      ports:
        - name: http
          containerPort: {{ $c.containerPort.http }}
          protocol: TCP
          {{- if $c.hostPort.enabled }}
          hostPort: {{ $c.hostPort.ports.http }}
          {{- end }}
        - name: https
          containerPort: {{ $c.containerPort.https }}
          protocol: TCP
          {{- if $c.hostPort.enabled }}
          hostPort: {{ $c.hostPort.ports.https }}
          {{- end }}
        {{- if $c.containerPort.h2c }}
        - name: h2c
          containerPort: {{ $c.containerPort.h2c }}
          protocol: TCP
          {{- if and $c.hostPort.enabled $c.hostPort.ports.h2c }}
          hostPort: {{ $c.hostPort.ports.h2c }}
          {{- end }}
        {{- end }}
        - name: {{ $c.metrics.portName }}
          containerPort: {{ $c.metrics.port }}
          protocol: TCP
        {{- range $proto := list "tcp" "udp" }}
        {{- range $port, $target := index $.Values $proto }}
        - name: {{ $port }}-{{ $proto }}
          containerPort: {{ $port }}
          protocol: {{ upper $proto }}
        {{- end }}
        {{- end }}
        {{- if $c.admissionWebhooks.enabled }}
        - name: webhook
          containerPort: {{ $c.admissionWebhooks.port }}
          protocol: TCP
        {{- end }}
      {{- with $c.livenessProbe }}
      livenessProbe:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $c.readinessProbe }}
      readinessProbe:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $c.startupProbe }}
      startupProbe:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $c.lifecycle }}
      lifecycle:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $c.resources }}
      resources:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $c.containerSecurityContext }}
      securityContext:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      volumeMounts:
        # the only writable paths: the conf dir (kubengx.conf, certs/,
        # nginx.conf, nginx.pid, nginx temp files) and /tmp
        - name: conf
          mountPath: /var/lib/kubengx
        - name: tmp
          mountPath: /tmp
        {{- if $c.admissionWebhooks.enabled }}
        - name: webhook-cert
          mountPath: /usr/local/certificates/
          readOnly: true
        {{- end }}
        {{- with $c.extraVolumeMounts }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
    {{- with $c.extraContainers }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
  volumes:
    - name: conf
      emptyDir:
        sizeLimit: {{ $c.confDirSizeLimit }}
    - name: tmp
      emptyDir:
        sizeLimit: {{ $c.tmpSizeLimit }}
    {{- if $c.admissionWebhooks.enabled }}
    - name: webhook-cert
      secret:
        secretName: {{ include "kubengx.admission.secretName" . }}
        items:
          - key: tls.crt
            path: cert
          - key: tls.key
            path: key
    {{- end }}
    {{- with $c.extraVolumes }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
{{- end -}}
