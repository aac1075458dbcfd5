"""Manifest builders and render/serve helpers for the `kubengx render` and
`kubengx lint` integration tests.

Builders return plain dicts shaped like the Kubernetes objects:

    ingress(name, rules=[rule(host, path(p, svc, port, type))], ...)
    service(name, ports=[svc_port(name, port, target)], ...)
    slice_(svc, endpoints=[endpoint(addr, ready=...)], ports=[("http", P)])
    secret_tls(name, cert_pem, key_pem), ingress_class(name, ...)

and `backend_service(backends, svc, names)` makes a Service plus one
EndpointSlice per named test backend (all on loopback).

`write_manifests(dir, objs, fmt)` writes them as JSON, a JSON List, or
multi-document YAML.  `render(...)` runs the CLI and returns
(rc, stdout, stderr, conf_text).  `Stack` ties render + a real nginx on
the output together for the tests."""

import base64
import json
import os
import subprocess

import harness

CONTROLLER = "kubengx.io/ingress-controller"
OLD = "2020-01-01T00:00:00Z"

# The founding example of issue 12, verbatim: a Service with one unnamed
# port whose targetPort differs from its port, and an Ingress routing two
# domains; neither has a namespace or a class.
FOUNDING_EXAMPLE = """\
apiVersion: v1
kind: Service
metadata:
  name: backend
spec:
  selector:
    app: backend
  ports:
    - port: 80
      targetPort: 8080
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: routes
spec:
  rules:
    - host: api.example.com
      http:
        paths:
          - path: /
            pathType: Prefix
            backend:
              service:
                name: api-svc
                port:
                  number: 80
    - host: web.example.com
      http:
        paths:
          - path: /
            pathType: Prefix
            backend:
              service:
                name: web-svc
                port:
                  number: 80
"""


# --- builders --------------------------------------------------------------

def meta(name, ns="default", annotations=None, labels=None, created=None):
    m = {"name": name}
    if ns is not None:
        m["namespace"] = ns
    if annotations:
        m["annotations"] = dict(annotations)
    if labels:
        m["labels"] = dict(labels)
    if created:
        m["creationTimestamp"] = created
    return m


def backend(svc, port):
    """An IngressBackend naming a Service port by number (int) or name."""
    p = {"number": port} if isinstance(port, int) else {"name": port}
    return {"service": {"name": svc, "port": p}}


def resource_backend(name, kind="StorageBucket", group="k8s.example.com"):
    return {"resource": {"apiGroup": group, "kind": kind, "name": name}}


def path(p, svc=None, port=80, type="Prefix", be=None):
    d = {"backend": be if be is not None else backend(svc, port)}
    if p is not None:
        d["path"] = p
    if type is not None:
        d["pathType"] = type
    return d


def rule(host=None, *paths):
    r = {"http": {"paths": list(paths)}}
    if host is not None:
        r["host"] = host
    return r


def ingress(name, rules=(), ns="default", cls="kubengx", annotations=None,
            tls=None, default_backend=None, created=OLD,
            api="networking.k8s.io/v1"):
    """cls=None leaves spec.ingressClassName out."""
    spec = {}
    if cls is not None:
        spec["ingressClassName"] = cls
    if default_backend is not None:
        spec["defaultBackend"] = default_backend
    if tls is not None:
        spec["tls"] = tls
    if rules:
        spec["rules"] = list(rules)
    return {"apiVersion": api, "kind": "Ingress",
            "metadata": meta(name, ns, annotations, created=created),
            "spec": spec}


def ingress_class(name, controller=CONTROLLER, default=False):
    ann = {"ingressclass.kubernetes.io/is-default-class": "true"} \
        if default else None
    return {"apiVersion": "networking.k8s.io/v1", "kind": "IngressClass",
            "metadata": meta(name, None, ann),
            "spec": {"controller": controller}}


def svc_port(name, port, target=None, protocol="TCP", app_protocol=None,
             node_port=None):
    d = {"port": port, "protocol": protocol}
    if name is not None:
        d["name"] = name
    if target is not None:
        d["targetPort"] = target
    if app_protocol:
        d["appProtocol"] = app_protocol
    if node_port:
        d["nodePort"] = node_port
    return d


def service(name, ports=(), ns="default", type="ClusterIP",
            external_name=None, cluster_ip=None, selector=None):
    spec = {"type": type, "ports": list(ports)}
    if external_name is not None:
        spec["externalName"] = external_name
    if cluster_ip is not None:
        spec["clusterIP"] = cluster_ip
    spec["selector"] = selector if selector is not None else {"app": name}
    return {"apiVersion": "v1", "kind": "Service",
            "metadata": meta(name, ns), "spec": spec}


def endpoint(addr, ready=True, serving=None, terminating=None):
    """An EndpointSlice endpoint; ready=None leaves the condition out."""
    cond = {}
    if ready is not None:
        cond["ready"] = ready
    if serving is not None:
        cond["serving"] = serving
    if terminating is not None:
        cond["terminating"] = terminating
    addrs = addr if isinstance(addr, list) else [addr]
    return {"addresses": addrs, "conditions": cond}


_slice_seq = [0]


def slice_(svc, endpoints, ports, ns="default", name=None, family=None):
    """ports: [(name_or_None, port)]."""
    if name is None:
        _slice_seq[0] += 1
        name = "%s-%05d" % (svc, _slice_seq[0])
    if family is None:
        first = endpoints[0]["addresses"][0] if endpoints else "127.0.0.1"
        family = "IPv6" if ":" in first else "IPv4"
    pl = []
    for pname, pnum in ports:
        d = {"port": pnum, "protocol": "TCP"}
        if pname is not None:
            d["name"] = pname
        pl.append(d)
    return {"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
            "metadata": meta(name, ns,
                             labels={"kubernetes.io/service-name": svc}),
            "addressType": family, "endpoints": list(endpoints),
            "ports": pl}


def service_of_slices(slices, svc, ns="default"):
    """The Service that EndpointSlices of `svc` (in `ns`) belong to, as the
    EndpointSlice controller would have derived them from it: one Service
    port per slice port name, numbered 80, 81, ... in order of appearance;
    a named one gets a named targetPort (the pods' numbers may differ), the
    unnamed one the number of the first slice that has it."""
    ports, names = [], []
    for s in slices:
        meta = s["metadata"]
        label = meta.get("labels", {}).get("kubernetes.io/service-name")
        if meta.get("namespace", "default") != ns or label != svc:
            continue
        for p in s.get("ports") or []:
            name = p.get("name") or None
            if name in names:
                continue
            names.append(name)
            ports.append(svc_port(name, 80 + len(ports),
                                  name if name else p.get("port")))
    return service(svc, ports, ns=ns)


def with_services(objs):
    """objs plus, first, the Service of every EndpointSlice whose Service is
    not among them (a cluster has both; the module watches both)."""
    have = {(o["metadata"].get("namespace", "default"), o["metadata"]["name"])
            for o in objs if o.get("kind") == "Service"}
    slices = [o for o in objs if o.get("kind") == "EndpointSlice"]
    need = []
    for s in slices:
        meta = s["metadata"]
        key = (meta.get("namespace", "default"),
               meta.get("labels", {}).get("kubernetes.io/service-name"))
        if key[1] and key not in have:
            have.add(key)
            need.append(service_of_slices(slices, key[1], ns=key[0]))
    return need + list(objs)


def secret_tls(name, cert_pem, key_pem, ns="default"):
    b64 = lambda b: base64.b64encode(  # noqa: E731
        b if isinstance(b, bytes) else b.encode()).decode()
    return {"apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/tls",
            "metadata": meta(name, ns),
            "data": {"tls.crt": b64(cert_pem), "tls.key": b64(key_pem)}}


def backend_service(bk, svc, names, ns="default", port=80, port_name="http",
                    target=8080):
    """A Service `svc` (port `port`, named `port_name`, targetPort `target`)
    whose endpoints are the test backends `names` of Backends `bk`: one
    EndpointSlice per backend, since each listens on its own port."""
    if isinstance(names, str):
        names = [names]
    objs = [service(svc, [svc_port(port_name, port, target)], ns=ns)]
    for n in names:
        host, p = bk.host_port(n)
        objs.append(slice_(svc, [endpoint(host)], [(port_name, p)], ns=ns))
    return objs


def self_signed(tmpdir, cn, sans=None):
    """A CA-less self-signed certificate made by the openssl CLI:
    returns (cert_pem, key_pem) bytes."""
    sans = sans or [cn]
    d = str(tmpdir)
    key = os.path.join(d, "%s.key" % cn.replace("*", "star"))
    crt = os.path.join(d, "%s.crt" % cn.replace("*", "star"))
    harness.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
                 "-days", "2", "-subj", "/CN=%s" % cn,
                 "-addext", "subjectAltName=" +
                 ",".join("DNS:%s" % s for s in sans),
                 "-keyout", key, "-out", crt], check=True)
    with open(crt, "rb") as f:
        c = f.read()
    with open(key, "rb") as f:
        k = f.read()
    return c, k


# --- files -----------------------------------------------------------------

def _dump_yaml(obj):
    try:
        import yaml
    except ImportError:                 # JSON is YAML (flow style)
        return json.dumps(obj, indent=2)
    return yaml.safe_dump(obj, default_flow_style=False, sort_keys=False,
                          allow_unicode=True)


def write_manifests(directory, objs, fmt="yaml", name="manifests"):
    """Write objs to one file in directory; returns its path.
    fmt: 'yaml' (multi-document, block style), 'flow' (multi-document,
    JSON flow style), 'json' (one object, or a kind: List of them),
    'list' (always a List)."""
    os.makedirs(str(directory), exist_ok=True)
    objs = list(objs)
    if fmt in ("json", "list"):
        p = os.path.join(str(directory), name + ".json")
        if fmt == "json" and len(objs) == 1:
            data = objs[0]
        else:
            data = {"apiVersion": "v1", "kind": "List", "items": objs}
        with open(p, "w") as f:
            json.dump(data, f, indent=2)
        return p
    p = os.path.join(str(directory), name + ".yaml")
    with open(p, "w") as f:
        for o in objs:
            f.write("---\n")
            f.write(json.dumps(o, indent=2) + "\n" if fmt == "flow"
                    else _dump_yaml(o))
    return p


# --- the CLI ---------------------------------------------------------------

def render(files, outdir=None, *flags, http_port=None, https_port=None,
           endpoints="static", listen="127.0.0.1", stdin=None, timeout=60,
           env=None):
    """Run `kubengx render`; returns (rc, stdout, stderr, conf_text).
    outdir None means `-o -` (conf_text is stdout).  env: for --check
    with the module in a SAN=1 build, harness.san_env(dir)."""
    cmd = [harness.KUBENGX, "render"]
    for f in ([files] if isinstance(files, str) else files):
        cmd += ["-f", str(f)]
    cmd += ["-o", str(outdir) if outdir is not None else "-"]
    if endpoints:
        cmd += ["--endpoints", endpoints]
    if listen:
        cmd += ["--listen-address", listen]
    if http_port:
        cmd += ["--http-port", str(http_port)]
    if https_port:
        cmd += ["--https-port", str(https_port)]
    cmd += [str(x) for x in flags]
    p = subprocess.run(cmd, capture_output=True, timeout=timeout,
                       input=stdin, env=env)
    out = p.stdout.decode("utf-8", "replace")
    err = p.stderr.decode("utf-8", "replace")
    conf = None
    if outdir is None:
        conf = out if p.returncode == 0 else None
    else:
        cp = os.path.join(str(outdir), "kubengx.conf")
        if os.path.exists(cp):
            with open(cp, encoding="utf-8", errors="replace") as f:
                conf = f.read()
    return p.returncode, out, err, conf


def lint(files, *flags, timeout=60):
    cmd = [harness.KUBENGX, "lint"]
    for f in ([files] if isinstance(files, str) else files):
        cmd += ["-f", str(f)]
    cmd += [str(x) for x in flags]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    return p.returncode, p.stdout, p.stderr


def serve(nginx_factory, outdir, ports, name="nginx", module=False):
    """A real nginx whose http{} includes DIR/kubengx.conf."""
    return nginx_factory(http="    include %s/kubengx.conf;\n" % outdir,
                         ports=ports, name=name, module=module)


def warnings(stderr):
    return [l for l in stderr.splitlines() if "warning" in l.lower()]


class Stack:
    """render + nginx for one test: stack.up(objs, *flags) writes the
    manifests, renders them (asserting exit 0 unless rc= is given),
    starts nginx on the output and keeps rc/out/err/conf for asserts."""

    def __init__(self, tmp_path, nginx_factory):
        self.tmp = tmp_path
        self.factory = nginx_factory
        self.http_port = harness.free_port()
        self.https_port = harness.free_port()
        self.n = 0
        self.nginx = None

    def render(self, objs, *flags, fmt="yaml", extra_files=()):
        self.n += 1
        src = self.tmp / ("in%d" % self.n)
        out = self.tmp / ("out%d" % self.n)
        files = list(extra_files)
        if objs:
            files.insert(0, write_manifests(src, objs, fmt))
        self.outdir = out
        self.rc, self.out, self.err, self.conf = render(
            files, out, *flags, http_port=self.http_port,
            https_port=self.https_port)
        return self.rc

    def up(self, objs, *flags, tls=False, rc=0, **kw):
        got = self.render(objs, *flags, **kw)
        assert got == rc, "render exit %d, expected %d\nstderr:\n%s" % (
            got, rc, self.err)
        if self.nginx is not None:
            self.nginx.stop()
        ports = [self.http_port] + ([self.https_port] if tls else [])
        self.nginx = serve(self.factory, self.outdir, ports,
                           name="nginx%d" % self.n)
        return self

    def get(self, path="/", host="test.example.com", **kw):
        return harness.http_request(self.http_port, path, host=host, **kw)

    def backend_of(self, path="/", host="test.example.com", **kw):
        """The name of the backend that answered, or the status code
        (int) when no test backend did."""
        r = self.get(path, host, **kw)
        return r.backend if r.backend else r.status

    def https(self, host, path="/", *args):
        return harness.curl("https://%s:%d%s" % (host, self.https_port, path),
                            "-k", "--resolve",
                            "%s:%d:127.0.0.1" % (host, self.https_port),
                            *args)

    def warnings(self):
        return warnings(self.err)


# --- crude nginx config parsing (for the safety tests) ---------------------

def nginx_tokens(text):
    """Split nginx config text into statements: a list of
    (directive, [args], terminator) with args as (value, quoted).  Quoted
    strings honour backslash escapes like nginx's own parser; `#` starts a
    comment outside quotes."""
    stmts = []
    cur = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c in " \t\r\n":
            i += 1
        elif c == "#":
            while i < n and text[i] != "\n":
                i += 1
        elif c in ";{}":
            if cur:
                stmts.append((cur[0][0], cur[1:], c))
                if c == "}":            # `x }` without `;`: keep the close
                    stmts.append(("", [], c))
            else:
                stmts.append(("", [], c))
            cur = []
            i += 1
        elif c in "\"'":
            q = c
            j = i + 1
            buf = []
            while j < n and text[j] != q:
                if text[j] == "\\" and j + 1 < n:
                    buf.append(text[j + 1])
                    j += 2
                    continue
                buf.append(text[j])
                j += 1
            cur.append(("".join(buf), True))
            i = j + 1
        else:
            j = i
            buf = []
            while j < n and text[j] not in " \t\r\n;{}\"'" and \
                    not (text[j] == "#" and not buf):
                if text[j] == "\\" and j + 1 < n:
                    buf.append(text[j:j + 2])
                    j += 2
                    continue
                buf.append(text[j])
                j += 1
            cur.append(("".join(buf), False))
            i = j
    return stmts


# Every directive name the renderer may emit (http context and below).
ALLOWED_DIRECTIVES = {
    "upstream", "server", "keepalive", "keepalive_timeout",
    "keepalive_requests", "keepalive_time", "least_conn", "hash", "ip_hash",
    "zone", "random",
    "k8s_service", "k8s_backend", "k8s_dispatch", "k8s_zone", "k8s_status",
    "listen", "server_name", "location", "proxy_pass", "proxy_http_version",
    "proxy_set_header", "proxy_redirect", "proxy_buffering",
    "proxy_request_buffering", "proxy_next_upstream",
    "proxy_next_upstream_tries", "proxy_next_upstream_timeout",
    "proxy_connect_timeout", "proxy_read_timeout", "proxy_send_timeout",
    "proxy_ssl_server_name", "proxy_ssl_name", "proxy_pass_header",
    "proxy_hide_header",
    "return", "error_page", "internal", "root", "default_type", "add_header",
    "ssl_certificate", "ssl_certificate_key", "ssl_protocols", "ssl_ciphers",
    "ssl_prefer_server_ciphers", "ssl_session_cache", "ssl_session_timeout",
    "ssl_session_tickets", "ssl_reject_handshake", "http2",
    "map", "default", "hostnames", "volatile", "server_names_hash_bucket_size",
    "server_names_hash_max_size", "map_hash_bucket_size",
    "map_hash_max_size", "variables_hash_bucket_size",
    "variables_hash_max_size", "resolver", "resolver_timeout", "set",
    "client_max_body_size", "absolute_redirect", "port_in_redirect",
    "server_name_in_redirect", "access_log", "log_not_found",
    # the settings ConfigMap and the edge defaults (generator/settings/)
    "server_tokens", "log_format", "set_real_ip_from", "real_ip_header",
    "real_ip_recursive", "client_body_buffer_size",
    "client_header_buffer_size", "large_client_header_buffers",
    "proxy_buffer_size", "proxy_buffers", "gzip", "gzip_comp_level",
    "gzip_min_length", "gzip_proxied", "gzip_vary", "gzip_types", "deny",
    "if", "proxy_intercept_errors", "k8s_metrics_route",
    # annotations (generator/annotations/)
    "rewrite", "if", "client_body_buffer_size", "proxy_buffer_size",
    "proxy_buffers", "proxy_max_temp_file_size", "proxy_ssl_protocols",
    "proxy_ssl_ciphers", "proxy_ssl_trusted_certificate", "proxy_ssl_verify",
    "proxy_ssl_verify_depth", "grpc_pass", "grpc_set_header",
    "grpc_ssl_server_name", "grpc_ssl_name", "grpc_ssl_protocols",
    "grpc_ssl_ciphers", "grpc_ssl_trusted_certificate", "grpc_ssl_verify",
    "grpc_ssl_verify_depth", "proxy_ssl_session_reuse", "proxy_cookie_domain",
    "proxy_cookie_path", "limit_req_zone", "limit_req", "limit_conn_zone",
    "limit_conn", "rewrite_log",
    "grpc_ssl_session_reuse", "limit_req_status", "limit_conn_status",
    "proxy_ssl_certificate", "proxy_ssl_certificate_key",
    "grpc_ssl_certificate", "grpc_ssl_certificate_key", "mirror",
    "mirror_request_body", "proxy_pass_request_body",
    "k8s_unavailable_error_page",
}


def directive_problems(conf, allowed=ALLOWED_DIRECTIVES, marker="pwn"):
    """What is wrong with the directive set of conf: unknown directive
    names, unbalanced braces, or the marker in an unquoted token or in a
    `return` text."""
    problems = []
    stack = []
    for name, args, term in nginx_tokens(conf):
        if term == "}" and not name:
            if not stack:
                problems.append("unbalanced }")
            else:
                stack.pop()
            continue
        inside_map = bool(stack) and stack[-1] == "map"
        if name and not inside_map and name not in allowed:
            problems.append("directive %r" % name)
        for v, quoted in [(name, False)] + args:
            if marker in v.lower() and not quoted and \
                    name not in ("location", "server_name") and \
                    not inside_map:
                problems.append("unquoted %r in %s" % (v, name))
        if name == "return":
            for v, _ in args[1:]:
                if marker in v.lower():
                    problems.append("return %r" % v)
        if term == "{":
            stack.append(name)
    if stack:
        problems.append("unclosed blocks %r" % stack)
    return problems


def location_args(conf):
    """The argument lists of every `location` in conf."""
    return [[v for v, _ in args] for name, args, _ in nginx_tokens(conf)
            if name == "location"]

