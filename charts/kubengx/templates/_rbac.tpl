{{/*
What the controller (and the nginx module in the same pod, with the same
token) may do, and no more: read Ingresses, IngressClasses, Services,
EndpointSlices, Secrets and ConfigMaps (those the custom-headers and
auth-proxy-set-headers annotations name); write only the status of Ingresses; create and
patch Events.  Cluster-wide, or with controller.scope.enabled a Role in the
watched namespace (the controller lists Secrets of every type, TLS and
basic-auth ones, and every ConfigMap; scoping is what keeps other
namespaces' Secrets and ConfigMaps out of reach) plus a ClusterRole for the
cluster-scoped IngressClasses alone.
*/}}
{{- define "kubengx.rules.namespaced" -}}
- apiGroups: [""]
  resources: [services, secrets, configmaps]
  verbs: [get, list, watch]
- apiGroups: [discovery.k8s.io]
  resources: [endpointslices]
  verbs: [get, list, watch]
- apiGroups: [networking.k8s.io]
  resources: [ingresses]
  verbs: [get, list, watch]
- apiGroups: [networking.k8s.io]
  resources: [ingresses/status]
  verbs: [get, update, patch]
- apiGroups: ["", events.k8s.io]
  resources: [events]
  verbs: [create, patch]
{{- end -}}
{{- define "kubengx.rules.classes" -}}
- apiGroups: [networking.k8s.io]
  resources: [ingressclasses]
  verbs: [get, list, watch]
{{- end -}}
