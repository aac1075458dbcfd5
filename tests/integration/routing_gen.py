"""Generated routing cases for test_routing_differential.py: one seed gives
one set of Ingresses, Services and EndpointSlices, the render flags, and
the probes (host, path) chosen to hit the edges of the rules.  Same seed,
same grid: same case.

The grid is what the backends listen on: `addrs` (loopback addresses, one
per pod) times `ports` (the container ports a slice may name).  Every
(address, port) of the grid answers with its own identity, so an answer
names the endpoint that served it.  Each pod of a case gets an address of
its own, so an endpoint identity belongs to one Service port.

Shapes (weights in SERVICE_SHAPES):
- common: one unnamed port, `port: 80`, `targetPort: <number>`;
- named: one port named `http`, numeric targetPort;
- no-target: one unnamed port whose `port` is the container port (no
  targetPort: it defaults to port);
- named-target: one port, named or not, whose targetPort is a name that
  resolves to a different number on different pods (one slice per
  number);
- multi: two or three named ports, numeric or named targetPorts.
Pods are ready, not ready, serving+terminating, terminating and not
serving, or have no conditions at all (ready).  Slices: one per port
mapping, sometimes split in two, sometimes an extra empty one, an
endpoint repeated in two slices, the name of an unnamed slice port as ""
or absent.  Ingresses name hosts precise and wildcard, rules without a
host, `spec.defaultBackend`, Exact / Prefix / ImplementationSpecific
paths with and without a trailing `/` over element-sharing stems
(`/foo`, `/foo/bar`, `/foobar`), backends by port number and by name,
wrong ports (the targetPort number, an unknown name) and missing
Services.  Hosts stay in one namespace unless cross_ns is set."""

import random

import manifests as m

SERVICE_SHAPES = (("common", 4), ("named", 2), ("no-target", 1),
                  ("named-target", 2), ("multi", 2))
CONDITIONS = (  # (weight, conditions or None)
    (10, {"ready": True, "serving": True, "terminating": False}),
    (3, None),                                          # absent: ready
    (2, {"ready": True}),
    (3, {"ready": False, "serving": False, "terminating": False}),
    (1, {"ready": False}),
    (3, {"ready": False, "serving": True, "terminating": True}),
    (2, {"ready": False, "serving": False, "terminating": True}),
)
STEMS = ("/", "/foo", "/foo/bar", "/foobar", "/foo/bar/baz", "/api",
         "/api/v1", "/Foo", "/a/b", "/foo-bar", "/fo")
TYPES = (("Prefix", 5), ("Exact", 3), ("ImplementationSpecific", 2))
FAMILIES = ("example.com", "example.org")
TIMES = ("2021-01-01T00:00:00Z", "2022-06-01T12:00:00Z",
         "2023-03-03T03:03:03Z")


def pick(rng, weighted):
    total = sum(w for _, w in weighted)
    x = rng.uniform(0, total)
    for item, w in weighted:
        x -= w
        if x <= 0:
            return item
    return weighted[-1][0]


def mixed_case(rng, s):
    out = "".join(c.upper() if c.isalpha() and rng.random() < 0.5 else c
                  for c in s)
    if out == s and any(c.isalpha() for c in s):
        i = next(i for i, c in enumerate(s) if c.isalpha())
        out = s[:i] + s[i].upper() + s[i + 1:]
    return out


class Case:
    """One case: objects, render flags, probes, model options.  A
    generated case has a seed; a fixed one (below) a name instead."""

    def __init__(self, seed, objects, flags, probes, model_kw, cross_ns,
                 name=None):
        self.seed = seed
        self.objects = objects
        self.flags = flags
        self.probes = probes
        self.model_kw = model_kw
        self.cross_ns = cross_ns
        self.name = name

    @property
    def label(self):
        return self.name or "seed %d" % self.seed

    def api_objects(self):
        """What the stand-in API server holds for the module: the
        namespaces, Services and EndpointSlices."""
        nss = sorted({o["metadata"].get("namespace", "default")
                      for o in self.objects
                      if o["kind"] in ("Service", "EndpointSlice")})
        out = [{"apiVersion": "v1", "kind": "Namespace",
                "metadata": {"name": ns}} for ns in nss if ns != "default"]
        return out + [o for o in self.objects
                      if o["kind"] in ("Service", "EndpointSlice")]

    def namespaces(self):
        return sorted({o["metadata"]["name"] for o in self.api_objects()
                       if o["kind"] == "Namespace"})

    def default_ns_objects(self):
        """API objects in the namespace "default" (not deleted with a
        namespace of the case's own)."""
        return [o for o in self.api_objects() if o["kind"] != "Namespace"
                and o["metadata"].get("namespace", "default") == "default"]


class Generator:
    def __init__(self, seed, grid_addrs, grid_ports, cross_ns=False,
                 ownership=("merge",)):
        self.rng = random.Random(seed)
        self.seed = seed
        self.addrs = list(grid_addrs)
        self.ports = list(grid_ports)
        self.cross_ns = cross_ns
        self.ownership = ownership
        tag = "%05x" % (seed & 0xfffff)
        self.namespaces = ["shop-" + tag, "blog-" + tag][
            :1 + (self.rng.random() < 0.6)]
        self.free_addrs = self.rng.sample(self.addrs, len(self.addrs))
        self.objects = []
        self.services = {}          # ns -> [(name, [port dict])]
        self.used_paths = []        # (host or None, raw path)
        self.routes = []            # (host, path, type, Ingress name)

    # --- Services and EndpointSlices ---------------------------------------

    def pods(self, n):
        out = []
        for _ in range(n):
            if not self.free_addrs:
                break
            out.append((self.free_addrs.pop(), pick(self.rng, [
                (c, w) for w, c in CONDITIONS])))
        return out

    def service(self, ns, name):
        rng = self.rng
        shape = pick(rng, SERVICE_SHAPES)
        ports = []                  # (svc port dict, target: int | name)
        if shape == "common":
            num = rng.choice(self.ports)
            ports.append((m.svc_port(None, 80, num), num))
        elif shape == "named":
            num = rng.choice(self.ports)
            ports.append((m.svc_port("http", rng.choice((80, 8080)), num),
                          num))
        elif shape == "no-target":
            num = rng.choice(self.ports)
            ports.append((m.svc_port(None, num), num))
        elif shape == "named-target":
            pname = rng.choice((None, "http"))
            ports.append((m.svc_port(pname, 80, "web"), "web"))
        else:
            for pname, pnum in rng.sample((("http", 80), ("admin", 8081),
                                           ("grpc", 9000)),
                                          rng.choice((2, 3))):
                tgt = rng.choice(self.ports) if rng.random() < 0.6 \
                    else "tp-" + pname
                ports.append((m.svc_port(pname, pnum, tgt), tgt))
        self.objects.append(m.service(name, [p for p, _ in ports], ns=ns))
        self.services.setdefault(ns, []).append((name, [p for p, _ in
                                                        ports]))
        self.slices(ns, name, ports, self.pods(rng.choice((0, 1, 2, 2, 3,
                                                           4))))

    def slices(self, ns, name, ports, pods):
        """Slices as the EndpointSlice controller writes them: pods grouped
        by the numbers their named targetPorts resolve to."""
        rng = self.rng
        if not pods and rng.random() < 0.5:
            return                  # no slice at all
        groups = {}
        for addr, cond in pods:
            numbers = tuple(t if isinstance(t, int) else rng.choice(
                self.ports) for _, t in ports)
            groups.setdefault(numbers, []).append((addr, cond))
        if not groups:
            groups[tuple(t if isinstance(t, int) else self.ports[0]
                         for _, t in ports)] = []
        made = []
        for numbers, members in sorted(groups.items()):
            parts = [members]
            if len(members) > 1 and rng.random() < 0.3:
                k = rng.randrange(1, len(members))
                parts = [members[:k], members[k:]]
            for part in parts:
                made.append((numbers, [self.endpoint(a, c)
                                       for a, c in part]))
        if made and rng.random() < 0.15:
            made.append((made[0][0], []))          # an empty slice
        if made and made[0][1] and rng.random() < 0.15:
            made.append((made[0][0], [made[0][1][0]]))  # repeated endpoint
        for i, (numbers, eps) in enumerate(made):
            sl = m.slice_(name, eps, [((p.get("name") or None), n) for
                                      (p, _), n in zip(ports, numbers)],
                          ns=ns, name="%s-%d" % (name, i),
                          family="IPv4")
            for sp in sl["ports"]:
                if "name" not in sp and rng.random() < 0.5:
                    sp["name"] = ""
            self.objects.append(sl)

    def endpoint(self, addr, cond):
        e = {"addresses": [addr], "conditions": dict(cond or {})}
        return e

    # --- Ingresses ---------------------------------------------------------

    def backend_for(self, ns):
        """An IngressBackend in ns: mostly right, sometimes a wrong port or
        a missing Service."""
        rng = self.rng
        svcs = self.services.get(ns) or []
        x = rng.random()
        if not svcs or x < 0.06:
            return m.backend("ghost", 80)
        name, ports = rng.choice(svcs)
        p = rng.choice(ports)
        if x < 0.12:
            tgt = p.get("targetPort")
            if isinstance(tgt, int) and tgt != p["port"]:
                return m.backend(name, tgt)       # targetPort: not a port
            return m.backend(name, "nosuch")
        if p.get("name") and rng.random() < 0.5:
            return m.backend(name, p["name"])
        return m.backend(name, p["port"])

    def hosts_of(self, ns):
        """The hosts an Ingress in ns may name."""
        fams = FAMILIES if self.cross_ns else \
            [f for i, f in enumerate(FAMILIES)
             if self.namespaces[i % len(self.namespaces)] == ns]
        out = []
        for d in fams:
            out += ["www." + d, "api." + d, "a.b." + d, "*." + d,
                    "*.b." + d]
        return out

    def path(self, host):
        rng = self.rng
        earlier = [(p, t) for h, p, t, ing in self.routes
                   if h == host and ing != self.cur_ing]
        if earlier and rng.random() < 0.35:
            p, ptype = rng.choice(earlier)  # the same host+path+type again
        else:
            p = rng.choice(STEMS)
            if p != "/" and rng.random() < 0.3:
                p += "/"
            ptype = pick(rng, TYPES)
        self.used_paths.append((host, p))
        self.routes.append((host, p, ptype, self.cur_ing))
        return m.path(p, type=ptype, be=self.backend_for(self.cur_ns))

    def rule(self, host):
        n = self.rng.choice((1, 1, 2, 3, 4))
        return m.rule(host, *[self.path(host) for _ in range(n)])

    def ingress(self, ns, name):
        rng = self.rng
        self.cur_ns = ns
        self.cur_ing = name
        rules = []
        hosts = self.hosts_of(ns)
        for _ in range(rng.choice((0, 1, 1, 2, 3))):
            if hosts:
                rules.append(self.rule(rng.choice(hosts)))
        if not rules or rng.random() < 0.3:
            rules.append(self.rule(None))
        dflt = self.backend_for(ns) if rng.random() < 0.25 else None
        x = rng.random()
        cls, ann = "kubengx", None
        if x < 0.07:
            cls = "other"
        elif x < 0.12:
            cls, ann = None, {"kubernetes.io/ingress.class": "kubengx"}
        self.objects.append(m.ingress(
            name, rules, ns=ns, cls=cls, annotations=ann,
            default_backend=dflt, created=rng.choice(TIMES)))

    # --- the case ----------------------------------------------------------

    def case(self):
        rng = self.rng
        for ns in self.namespaces:
            for i in range(rng.choice((1, 2, 2, 3))):
                self.service(ns, ("web", "api", "static")[i])
        if rng.random() < 0.1:      # slices left by a deleted Service
            ns = self.namespaces[0]
            self.objects.append(m.slice_(
                "gone", [self.endpoint(a, None) for a, _ in self.pods(1)],
                [(None, rng.choice(self.ports))], ns=ns, name="gone-0",
                family="IPv4"))
        names = ["alpha", "beta", "gamma", "delta", "eps"]
        for i in range(rng.choice((1, 2, 2, 3, 3, 4))):
            self.ingress(rng.choice(self.namespaces), names[i])
        flags = []
        if rng.random() < 0.2:
            ns = rng.choice(self.namespaces)
            svcs = self.services.get(ns)
            if svcs:
                name, ports = rng.choice(svcs)
                p = rng.choice(ports)
                port = p["name"] if p.get("name") and rng.random() < 0.5 \
                    else p["port"]
                flags += ["--default-backend", "%s/%s:%s" % (ns, name, port)]
        model_kw = {}
        if flags:
            model_kw["default_backend"] = flags[1]
        own = rng.choice(self.ownership)
        model_kw["host_ownership"] = own
        if own != "merge" or len(self.ownership) > 1:
            flags += ["--host-ownership", own]
        return Case(self.seed, self.objects, flags, self.probes(),
                    model_kw, self.cross_ns)

    # --- probes ------------------------------------------------------------

    def request_hosts(self, host):
        """Request Host values around a rule's host."""
        rng = self.rng
        if host is None:
            return ["nobody.example.net", "127.0.0.1"]
        if host.startswith("*."):
            base = host[2:]
            return ["x%d.%s" % (rng.randrange(9), base),
                    mixed_case(rng, "y." + base),
                    "deep.x." + base, base]
        return [host, mixed_case(rng, host)]

    def request_paths(self, p):
        """Request paths at the edges of rule path p."""
        bare = p.rstrip("/") or "/"
        under = bare if bare != "/" else ""
        out = {p, bare, under + "/", bare + "x", under + "/x",
               under + "/x/y"}
        if bare != "/":
            out.add(bare.rsplit("/", 1)[0] or "/")
            if any(c.isalpha() for c in bare):
                out.add(bare.swapcase())
        return sorted(out)

    def probes(self, limit=36):
        rng = self.rng
        pairs = []
        for host, p in self.used_paths:
            hs = self.request_hosts(host)
            for rp in rng.sample(self.request_paths(p), 3):
                pairs.append((rng.choice(hs), rp))
        hosts = sorted({h for h, _ in self.used_paths if h})
        for _ in range(6):
            h = rng.choice(hosts) if hosts and rng.random() < 0.7 else None
            base = rng.choice(self.request_hosts(h))
            pairs.append((base, rng.choice(("/", "/zz", "/foo/", "/foo",
                                            "/api/v1/x", "/FOO"))))
        pairs.append(("unknown.example.net", "/"))
        pairs.append(("UNKNOWN.Example.net", "/foo/bar"))
        seen, out = set(), []
        for pr in pairs:
            if pr not in seen:
                seen.add(pr)
                out.append(pr)
        if len(out) > limit:
            keep = out[-2:]
            out = rng.sample(out[:-2], limit - 2) + keep
        # a query string never takes part in matching
        return [(h, p + "?q=/x" if rng.random() < 0.08 else p)
                for h, p in out]


def generate(seed, grid_addrs, grid_ports, cross_ns=False,
             ownership=("merge",)):
    return Generator(seed, grid_addrs, grid_ports, cross_ns,
                     ownership).case()


# --- fixed cases -----------------------------------------------------------
#
# Shapes nobody generated: issue 12's example (one unnamed Service port,
# targetPort != port, no namespace, no class), and the Ingresses of
# kubernetes-sigs/ingress-controller-conformance's path and host rules with
# the requests of their scenarios.  The container port is a grid port.

def _plain(name, addrs, port, ns=None):
    svc = m.service(name, [m.svc_port(None, 80, port)], ns=ns)
    sl = m.slice_(name, [m.endpoint(a) for a in addrs], [(None, port)],
                  ns=ns, name=name + "-abcde", family="IPv4")
    return [svc, sl]


def _issue_12(addrs, ports):
    objs = _plain("backend", addrs[0:1], ports[0]) + \
        _plain("api-svc", addrs[1:3], ports[0]) + \
        _plain("web-svc", addrs[3:4], ports[1])
    ing = m.ingress("routes", [
        m.rule("api.example.com", m.path("/", "api-svc", 80)),
        m.rule("web.example.com", m.path("/", "web-svc", 80))],
        ns=None, cls=None, created=None)
    probes = [(h, p) for h in ("api.example.com", "web.example.com",
                               "Web.Example.Com", "other.example.com")
              for p in ("/", "/x/y")]
    return Case(None, objs + [ing], ["--watch-without-class"], probes,
                {"watch_without_class": True}, False, name="issue-12")


def _conformance(addrs, ports):
    rules = (
        ("exact-path-rules", (("/foo", "Exact", "foo-exact"),)),
        ("prefix-path-rules", (("/foo", "Prefix", "foo-prefix"),
                               ("/aaa/bbb", "Prefix", "aaa-slash-bbb-prefix"),
                               ("/aaa", "Prefix", "aaa-prefix"))),
        ("mixed-path-rules", (("/foo", "Prefix", "foo-prefix"),
                              ("/foo", "Exact", "foo-exact"))),
        ("trailing-slash-path-rules",
         (("/aaa/bbb/", "Prefix", "aaa-slash-bbb-slash-prefix"),
          ("/foo/", "Exact", "foo-slash-exact"))),
        ("*.foo.com", (("/", "Prefix", "wildcard-foo-com"),)),
        ("foo.bar.com", (("/", "Prefix", "foo-bar-com"),)),
    )
    names = sorted({svc for _, paths in rules for _, _, svc in paths})
    objs = []
    for i, name in enumerate(names):
        objs.append(m.service(name, [m.svc_port("http", 8080,
                                                ports[i % len(ports)])]))
        objs.append(m.slice_(name, [m.endpoint(addrs[i])],
                             [("http", ports[i % len(ports)])],
                             name=name + "-abcde", family="IPv4"))
    objs.append(m.ingress("path-rules", [
        m.rule(h, *[m.path(p, svc, 8080 if svc != "foo-bar-com" else "http",
                           type=t) for p, t, svc in paths])
        for h, paths in rules]))
    probes = [
        ("exact-path-rules", "/foo"), ("exact-path-rules", "/foo/"),
        ("exact-path-rules", "/FOO"), ("exact-path-rules", "/bar"),
        ("prefix-path-rules", "/foo"), ("prefix-path-rules", "/foo/"),
        ("prefix-path-rules", "/FOO"), ("prefix-path-rules", "/aaa/bbb"),
        ("prefix-path-rules", "/aaa/bbb/ccc"),
        ("prefix-path-rules", "/aaa/ccc"), ("prefix-path-rules", "/aaaccc"),
        ("mixed-path-rules", "/foo"), ("mixed-path-rules", "/foo/"),
        ("trailing-slash-path-rules", "/aaa/bbb"),
        ("trailing-slash-path-rules", "/aaa/bbb/"),
        ("trailing-slash-path-rules", "/foo"),
        ("trailing-slash-path-rules", "/foo/"),
        ("foo.bar.com", "/"), ("subdomain.bar.com", "/"),
        ("bar.foo.com", "/"), ("baz.bar.foo.com", "/"), ("foo.com", "/")]
    return Case(None, objs, [], probes, {}, False, name="conformance")


def fixed_cases(grid_addrs, grid_ports):
    return [_issue_12(grid_addrs, grid_ports),
            _conformance(grid_addrs, grid_ports)]
