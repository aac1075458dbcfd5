"""A reference model of Ingress routing, written from the Kubernetes
Ingress spec (networking.k8s.io/v1, https://kubernetes.io/docs/concepts/
services-networking/ingress/) and README.md's "Routing semantics" list,
never from kubengx's code or output.  Given the objects of one render and
the render flags, `Model.expect(host, path)` says what a request must get:
a backend (the set of acceptable endpoints), 503 or 404.

What it decides, rule by rule:

- Class: an Ingress is served when `spec.ingressClassName` (or, without
  it, the legacy annotation `kubernetes.io/ingress.class`) is the class;
  without any class only with `--watch-without-class`.
- Order: served Ingresses oldest first (creationTimestamp, then
  namespace, then name); earlier ones win every conflict.
- Hosts: exact names case-insensitive; `*.foo.com` matches exactly one
  extra label.  A request goes to the exact host's rules if some rule
  names that host, else to the wildcard's, else to the catch-all.
  Host ownership (`--host-ownership`): `merge` lets Ingresses of every
  namespace add rules to a host; `namespace` gives the host to the
  namespace of the oldest Ingress naming it, and rules of other
  namespaces for that host are refused.
- Paths: `Exact` matches the path exactly, case-sensitive.  `Prefix`
  (and `ImplementationSpecific`, which kubengx treats as Prefix) matches
  whole `/`-separated elements and ignores a trailing slash, so Prefix
  `/foo/` and `/foo` are the same path.  Longest path wins; at equal
  length Exact beats Prefix.  The same host + path + type twice: the
  older Ingress keeps it.
- Rules without a host serve every host: the catch-all, and a named host
  for requests none of its own paths match; under `namespace` ownership
  a named host takes only the host-less rules of its owner's namespace
  (of each host-less path, the oldest Ingress's rule, as on the
  catch-all).
- Backends: `port.number` is the Service port (never targetPort),
  `port.name` its name.  Endpoints are those of every EndpointSlice
  labelled `kubernetes.io/service-name` in the Service's namespace, at the
  slice port whose name is the Service port's name ("" or absent for an
  unnamed port; TCP), first address of each endpoint.  Ready endpoints
  (`ready` absent counts as ready); when none is ready, those that are
  serving (absent: as ready) and terminating.  A missing Service or port,
  or no usable endpoint: 503.
- Default: a request no route matches goes to the default backend of the
  oldest Ingress that has one and names the request's host in a rule (the
  catch-all: the oldest Ingress with a default backend at all), else to
  `--default-backend`, else 404.

An outcome is a tuple: ("proxy", frozenset of "ip:port") or ("status",
503|404); `why` (a text) travels beside it for reports."""

import copy

OURS_ANNOTATION = "kubernetes.io/ingress.class"
SERVICE_LABEL = "kubernetes.io/service-name"


def norm_path(path, ptype):
    """(path, type) as matched: ImplementationSpecific is Prefix, and a
    Prefix path loses its trailing slashes ("/" stays)."""
    if ptype in ("Prefix", "ImplementationSpecific"):
        p = path.rstrip("/")
        return (p or "/"), "Prefix"
    return path, "Exact"


def prefix_matches(prefix, path):
    """Element-wise prefix match of a normalized Prefix path."""
    if prefix == "/":
        return True
    return path == prefix or path.startswith(prefix + "/")


def age_key(ing):
    meta = ing["metadata"]
    # objects without a creationTimestamp count as newest
    ts = meta.get("creationTimestamp") or "9999-12-31T23:59:59Z"
    return (ts, meta.get("namespace") or "default", meta["name"])


def wildcard_for(host):
    """The wildcard host that would match host ("*.b.c" for "a.b.c"), or
    None when host has a single label."""
    if "." not in host:
        return None
    return "*." + host.split(".", 1)[1]


class Route:
    def __init__(self, path, ptype, outcome, why, ns=None):
        self.path = path
        self.type = ptype
        self.outcome = outcome
        self.why = why
        self.ns = ns                # the namespace of its Ingress


class Server:
    """The routes of one host (or of the catch-all, host None)."""

    def __init__(self, host):
        self.host = host
        self.routes = {}            # (path, type) -> Route
        self.default = None         # (outcome, why) or None

    def best(self, path, ns=None):
        """The route that wins for path, or None; with ns, only routes of
        Ingresses in namespace ns count."""
        found = None
        for (rp, rt), r in self.routes.items():
            if ns is not None and r.ns != ns:
                continue
            ok = rp == path if rt == "Exact" else prefix_matches(rp, path)
            if not ok:
                continue
            rank = (len(rp), rt == "Exact")
            if found is None or rank > found[0]:
                found = (rank, r)
        return found[1] if found else None


class Model:
    def __init__(self, objects, cls="kubengx", watch_without_class=False,
                 default_backend=None, host_ownership="merge",
                 namespace="default"):
        self.cls = cls
        self.watch_without_class = watch_without_class
        self.ownership = host_ownership
        self.namespace = namespace
        objs = [copy.deepcopy(o) for o in objects]
        for o in objs:
            o.setdefault("metadata", {}).setdefault("namespace", namespace)
        self.services = {(o["metadata"]["namespace"], o["metadata"]["name"]):
                         o for o in objs if o.get("kind") == "Service"}
        self.slices = [o for o in objs if o.get("kind") == "EndpointSlice"]
        self.ingresses = sorted((o for o in objs if o.get("kind") == "Ingress"
                                 and self.ours(o)), key=age_key)
        self.flag_default = self._flag_default(default_backend)
        self.owner = self._owners()
        self.servers = {}
        self.catch_all = Server(None)
        self._routes()
        self._defaults()

    # --- selection ---------------------------------------------------------

    def ours(self, ing):
        spec = ing.get("spec") or {}
        cls = spec.get("ingressClassName")
        if cls is None:
            cls = (ing["metadata"].get("annotations") or {}).get(
                OURS_ANNOTATION)
        if cls is None:
            return self.watch_without_class
        return cls == self.cls

    def _owners(self):
        """host -> namespace of the oldest served Ingress naming it."""
        owner = {}
        for ing in self.ingresses:
            for rule in (ing.get("spec") or {}).get("rules") or []:
                host = rule.get("host")
                if host:
                    owner.setdefault(host.lower(),
                                     ing["metadata"]["namespace"])
        return owner

    def refused(self, ing, host):
        """True when ing may not add rules for host (ownership)."""
        return self.ownership == "namespace" and \
            self.owner.get(host) != ing["metadata"]["namespace"]

    # --- backends ----------------------------------------------------------

    def resolve(self, ns, backend):
        """(outcome, why) for an IngressBackend of an Ingress in ns."""
        svc_ref = backend.get("service")
        if svc_ref is None:
            return ("status", 503), "not a Service backend"
        name = svc_ref["name"]
        port = svc_ref.get("port") or {}
        return self.resolve_port(ns, name, port.get("number"),
                                 port.get("name"))

    def resolve_port(self, ns, name, number=None, pname=None):
        svc = self.services.get((ns, name))
        if svc is None:
            return ("status", 503), "Service %s/%s missing" % (ns, name)
        sp = None
        for p in (svc.get("spec") or {}).get("ports") or []:
            if number is not None and p.get("port") == number:
                sp = p
                break
            if pname is not None and p.get("name") == pname:
                sp = p
                break
        want = number if number is not None else repr(pname)
        if sp is None:
            return ("status", 503), "Service %s/%s has no port %s" % (
                ns, name, want)
        port_name = sp.get("name") or ""
        eps = []
        for sl in self.slices:
            meta = sl["metadata"]
            if meta["namespace"] != ns or \
                    (meta.get("labels") or {}).get(SERVICE_LABEL) != name:
                continue
            if sl.get("addressType", "IPv4") not in ("IPv4", "IPv6"):
                continue
            num = None
            for p in sl.get("ports") or []:
                if (p.get("name") or "") == port_name and \
                        p.get("protocol", "TCP") == "TCP" and \
                        p.get("port") is not None:
                    num = p["port"]
                    break
            if num is None:
                continue
            for e in sl.get("endpoints") or []:
                if e.get("addresses"):
                    eps.append((e["addresses"][0], num,
                                e.get("conditions") or {}))
        what = "Service %s/%s port %s" % (ns, name, want)

        def fmt(addr, num):
            return ("[%s]:%d" if ":" in addr else "%s:%d") % (addr, num)
        ready = {fmt(a, n) for a, n, c in eps if c.get("ready") is not False}
        if ready:
            return ("proxy", frozenset(ready)), what + ": ready endpoints"
        fallback = set()
        for a, n, c in eps:
            serving = c.get("serving")
            if serving is None:
                serving = c.get("ready") is not False
            if serving and c.get("terminating") is True:
                fallback.add(fmt(a, n))
        if fallback:
            return ("proxy", frozenset(fallback)), \
                what + ": no ready endpoint, serving+terminating fallback"
        return ("status", 503), what + ": no usable endpoint"

    def _flag_default(self, flag):
        if not flag:
            return None
        ns_svc, _, port = flag.rpartition(":")
        ns, _, svc = ns_svc.partition("/")
        if port.isdigit():
            out, why = self.resolve_port(ns, svc, number=int(port))
        else:
            out, why = self.resolve_port(ns, svc, pname=port)
        return out, "--default-backend %s (%s)" % (flag, why)

    # --- routes ------------------------------------------------------------

    def _routes(self):
        for ing in self.ingresses:
            ns = ing["metadata"]["namespace"]
            who = "%s/%s" % (ns, ing["metadata"]["name"])
            for rule in (ing.get("spec") or {}).get("rules") or []:
                host = rule.get("host")
                if host:
                    host = host.lower()
                    if self.refused(ing, host):
                        continue
                    srv = self.servers.setdefault(host, Server(host))
                else:
                    srv = self.catch_all
                for p in (rule.get("http") or {}).get("paths") or []:
                    path, ptype = norm_path(p.get("path", "/"),
                                            p.get("pathType"))
                    if (path, ptype) in srv.routes:
                        continue            # an older Ingress has it
                    out, why = self.resolve(ns, p["backend"])
                    srv.routes[(path, ptype)] = Route(
                        path, ptype, out, "%s %s %s of %s: %s" % (
                            host or "(every host)", ptype, path, who, why),
                        ns)

    def _defaults(self):
        for ing in self.ingresses:
            spec = ing.get("spec") or {}
            if not spec.get("defaultBackend"):
                continue
            ns = ing["metadata"]["namespace"]
            out, why = self.resolve(ns, spec["defaultBackend"])
            why = "defaultBackend of %s/%s (%s)" % (
                ns, ing["metadata"]["name"], why)
            if self.catch_all.default is None:
                self.catch_all.default = (out, why)
            for rule in spec.get("rules") or []:
                host = (rule.get("host") or "").lower()
                if not host or self.refused(ing, host):
                    continue
                srv = self.servers[host]
                if srv.default is None:
                    srv.default = (out, why)

    # --- requests ----------------------------------------------------------

    def server_for(self, host):
        host = (host or "").lower()
        if host in self.servers and not host.startswith("*."):
            return self.servers[host]
        w = wildcard_for(host)
        if w and w in self.servers:
            return self.servers[w]
        return None

    def expect(self, host, path):
        """(outcome, why) for a request with this Host and URL path."""
        path = path.split("?", 1)[0]
        srv = self.server_for(host)
        if srv is not None:
            r = srv.best(path)
            if r is not None:
                return r.outcome, r.why
        only = None
        if srv is not None and self.ownership == "namespace":
            only = self.owner.get(srv.host)
        r = self.catch_all.best(path, only)
        if r is not None:
            return r.outcome, r.why
        dflt = (srv or self.catch_all).default
        if dflt is not None:
            return dflt
        if self.flag_default is not None:
            return self.flag_default
        return ("status", 404), "no rule matches and no default backend"
