"""Differential routing: generated Ingresses, Services and EndpointSlices
(routing_gen.py) are rendered and served by a real nginx in three modes,
and every probe's answer is compared with a reference model of the
Ingress spec (routing_model.py), never with kubengx's own output:

    static     kubengx render --endpoints static
    module     --endpoints module --upstreams per-service, endpoints from
               the stand-in API server through the module's watcher
    dispatch   --endpoints module --upstreams dispatch

Backends are real HTTP servers on a grid of loopback addresses and ports,
each answering with its own address:port, so an answer names the
endpoint.  A probe passes when the answer is what the model expects: a
backend from the expected endpoint set that saw the request's own path
and Host, or 503, or 404 from nginx itself.  For every expected set of
more than one endpoint, requests are repeated until each endpoint
answered (one worker, round robin).

Each case gets a fresh nginx per mode (a reload would wait out the
module's writer lease tick: about a second per case) and its own
namespaces in the API server, deleted afterwards; the three modes run
side by side.

Environment:
    KUBENGX_DIFF_CASES=N       generated cases (default 200)
    KUBENGX_DIFF_SEED=S        replay the one case of seed S
    KUBENGX_DIFF_BASE=S        the base seed of the run (default: random,
                               printed); case i has seed base + i
    KUBENGX_DIFF_CROSS_NS=0    keep every host within one namespace (by
                               default Ingresses of different namespaces
                               share hosts, rendered with --host-ownership
                               namespace or merge, chosen per case)
    KUBENGX_DIFF_REPORT=DIR    write every mismatch to DIR/mismatches-
                               MODE.txt and .jsonl (default:
                               build/routing-diff/, named in the failure)
"""

import concurrent.futures
import json
import os
import random
import re
import time

import pytest

import harness
import manifests as m
from apiserver import KubeAPI, object_path
import routing_gen
from routing_model import Model
from test_module_watch import api_line

CASES = int(os.environ.get("KUBENGX_DIFF_CASES", "200"))
ONE_SEED = os.environ.get("KUBENGX_DIFF_SEED")
CROSS_NS = os.environ.get("KUBENGX_DIFF_CROSS_NS", "1") == "1"
GRID_ADDRS = ["127.0.0.%d" % i for i in range(2, 26)]
GRID_NPORTS = 4
SHOW_CASES = 3              # cases printed in full in a failure message

MODES = (
    ("static", ("--endpoints", "static")),
    ("module", ("--endpoints", "module", "--upstreams", "per-service")),
    ("dispatch", ("--endpoints", "module", "--upstreams", "dispatch")),
)

needs_module = pytest.mark.skipif(
    not os.path.exists(harness.MODULE), reason="module not built")


# --- nginx configuration: the one place that knows module directives -------

# Endpoints here are loopback addresses, which the module refuses unless
# told otherwise: harness.Nginx turns k8s_allow_loopback_endpoints on.


def module_http(api, status_port, conf, workdir):
    """http{} text of an nginx serving a module-mode render `conf`."""
    lines = [api_line(api), "k8s_zone k8s 8m;"]
    lines.append("server { listen 127.0.0.1:%d; "
                 "location = /k8s/status { k8s_status; } }" % status_port)
    lines.append("include %s;" % conf)
    return "".join("    %s\n" % line for line in lines)


def static_http(conf):
    return "    include %s;\n" % conf


def module_synced(status):
    """The module's table holds what the API server had when it started:
    the watch listed (every watch, should k8s_status show several), and no
    Service of the config is still unsynced."""
    w = status.get("watch") or {}
    watches = [w] if "synced" in w else \
        [v for v in w.values() if isinstance(v, dict) and "synced" in v]
    return bool(watches) and \
        all(x.get("synced") is True and x.get("state") == "watching"
            for x in watches) and \
        all(s.get("state") != "unsynced"
            for s in (status.get("services") or {}).values())


# --- answers ---------------------------------------------------------------

def observe(r):
    """What an answer says: ("proxy", "ip:port", path, host) from a test
    backend, else ("status", code)."""
    if r.backend:
        body = json.loads(r.body)
        return ("proxy", body["addr"], body["path"], body["host"])
    return ("status", r.status)


def agrees(expected, got, host, path):
    if expected[0] == "status":
        return got == expected
    return got[0] == "proxy" and got[1] in expected[1] and \
        got[2] == path and got[3] == host


def show_outcome(o):
    if o[0] == "status":
        return str(o[1])
    return "backend in {%s}" % ", ".join(sorted(o[1]))


def show_got(g):
    if g[0] == "status":
        return str(g[1])
    return "backend %s (saw path %r, Host %r)" % g[1:]


class Mismatch:
    def __init__(self, case, mode, probe, expected, why, got, log=""):
        self.case = case
        self.mode = mode
        self.probe = probe
        self.expected = expected
        self.why = why
        self.got = got
        self.log = log

    def record(self):
        return {"seed": self.case.seed, "case": self.case.name,
                "mode": self.mode, "probe": self.probe, "why": self.why,
                "got": self.got, "expected": None if self.expected is None
                else show_outcome(self.expected)}

    def __str__(self):
        if self.probe is None:
            return "  [%s] %s" % (self.mode, self.got)
        host, path = self.probe
        return ("  [%s] Host: %s  GET %s\n      expected %s (%s)\n"
                "      got      %s" % (self.mode, host, path,
                                       show_outcome(self.expected), self.why,
                                       self.got))


def case_text(case):
    if case.seed is None:
        lines = ["fixed case %s (routing_gen.py)" % case.name]
    else:
        lines = ["seed %d (replay: KUBENGX_DIFF_SEED=%d%s)" % (
            case.seed, case.seed, "" if case.cross_ns
            else " KUBENGX_DIFF_CROSS_NS=0")]
    lines.append("render flags: %s" % (" ".join(case.flags) or "(none)"))
    lines.append("manifests:")
    for o in case.objects:
        lines.append("  " + json.dumps(o, sort_keys=True))
    return "\n".join(lines)


# --- the modes -------------------------------------------------------------

class ModeRunner:
    """Renders a case in one mode, serves it with a fresh nginx and probes
    it."""

    def __init__(self, name, flags, workdir, api):
        self.name = name
        self.flags = list(flags)
        self.module = "module" in self.flags
        self.dir = os.path.join(str(workdir), name)
        self.api = api
        self.port = harness.free_port()
        self.status_port = harness.free_port()

    def run(self, case, model):
        """The mismatches of one case in this mode."""
        for attempt in (1, 2):
            served = self.serve(case)
            if not isinstance(served, str):
                break
            if "Address already in use" not in served or attempt == 2:
                return [Mismatch(case, self.name, None, None, None, served)]
            # another process took a port while no nginx held it
            self.port = harness.free_port()
            self.status_port = harness.free_port()
        n, conf = served
        try:
            if self.module and re.search(r"^\s*k8s_(service|backend) ",
                                         conf, re.M):
                try:
                    self.wait_synced()
                except harness.Timeout as e:
                    return [Mismatch(case, self.name, None, None, None,
                                     "%s\n%s" % (e, n.error_log()[-2000:]))]
            bad = self.probe(case, model)
            if bad:
                log = n.error_log()[-3000:]
                for b in bad:
                    b.log = log
            return bad
        finally:
            n.stop()

    def serve(self, case):
        """Render case and start a fresh nginx on it: (nginx, conf text),
        or the text of what failed."""
        src = m.write_manifests(os.path.join(self.dir, "in"), case.objects,
                                "list", name="case")
        out = os.path.join(self.dir, "out")
        rc, _, err, conf = m.render(src, out, *(self.flags + case.flags),
                                    http_port=self.port)
        if rc != 0:
            return "render exit %d: %s" % (rc, err.strip())
        conf_path = os.path.join(out, "kubengx.conf")
        ports = [self.port]
        if self.module:
            http = module_http(self.api, self.status_port, conf_path,
                               self.dir)
            ports.append(self.status_port)
        else:
            http = static_http(conf_path)
        prefix = os.path.join(self.dir, "nginx")
        for log in ("error.log", "access.log"):     # this case's only
            if os.path.exists(os.path.join(prefix, log)):
                os.unlink(os.path.join(prefix, log))
        n = harness.Nginx(prefix, http=http, ports=ports, module=self.module,
                          workers=1, log_level="notice")
        try:
            n.start()
        except AssertionError as e:
            return "nginx did not start: %s" % e
        return n, conf

    def wait_synced(self):
        def synced():
            return module_synced(harness.http_request(
                self.status_port, "/k8s/status").json())
        harness.wait_for(synced, 15,
                         "the module to list the API's EndpointSlices")

    def get(self, host, path):
        return observe(harness.http_request(self.port, path, host=host))

    def probe(self, case, model):
        bad, sets = [], {}
        for host, path in case.probes:
            expected, why = model.expect(host, path)
            got = self.get(host, path)
            if not agrees(expected, got, host, path):
                bad.append(Mismatch(case, self.name, (host, path), expected,
                                    why, show_got(got)))
            elif expected[0] == "proxy" and len(expected[1]) > 1:
                sets.setdefault(expected[1], (host, path, why))
        for expected, (host, path, why) in sets.items():
            seen = set()
            for _ in range(2 * len(expected) + 1):
                got = self.get(host, path)
                if not agrees(("proxy", expected), got, host, path):
                    bad.append(Mismatch(case, self.name, (host, path),
                                        ("proxy", expected), why,
                                        show_got(got)))
                    break
                seen.add(got[1])
                if seen == expected:
                    break
            else:
                bad.append(Mismatch(
                    case, self.name, (host, path), ("proxy", expected), why,
                    "only {%s} answered in %d requests" % (
                        ", ".join(sorted(seen)), 2 * len(expected) + 1)))
        return bad


def load_api(api, case):
    for o in case.api_objects():
        api.create(o)


def unload_api(api, case):
    for ns in case.namespaces():
        api.delete("/api/v1/namespaces/%s" % ns)
    for o in case.default_ns_objects():
        api.delete(object_path(o))


# --- the run ---------------------------------------------------------------

class Run:
    """Everything one session's differential run needs and found."""

    def __init__(self, tmp):
        self.tmp = tmp
        self.started = []
        self.mismatches = []          # [Mismatch]
        self.cases = 0                # generated ones
        self.fixed = 0
        self.probes = 0
        self.base = None
        self.seconds = 0.0

    def start(self):
        for attempt in range(3):
            # ports free on 127.0.0.1, then taken on every grid address
            ports = [harness.free_port() for _ in range(GRID_NPORTS)]
            specs = [("%s:%d" % (a, p), "%s:%d" % (a, p))
                     for a in GRID_ADDRS for p in ports]
            try:
                self.backends = harness.Backends(specs)
                break
            except (AssertionError, OSError):
                if attempt == 2:
                    raise
        self.started.append(self.backends)
        self.api = KubeAPI.start(os.path.join(self.tmp, "api"))
        self.started.append(self.api)
        self.ports = ports
        self.runners = [ModeRunner(name, flags, self.tmp, self.api)
                        for name, flags in MODES]
        self.ownership = ("namespace", "merge") if CROSS_NS \
            else ("namespace",)

    def stop(self):
        for s in reversed(self.started):
            s.stop()

    def seeds(self):
        if ONE_SEED:
            return [int(ONE_SEED)]
        base = os.environ.get("KUBENGX_DIFF_BASE")
        self.base = int(base) if base else random.randrange(1, 2 ** 31)
        return [self.base + i for i in range(CASES)]

    def one(self, pool, case):
        model = Model(case.objects, **case.model_kw)
        load_api(self.api, case)
        try:
            futs = [pool.submit(r.run, case, model) for r in self.runners]
            for f in futs:
                self.mismatches += f.result()
        finally:
            unload_api(self.api, case)
        self.cases += case.seed is not None
        self.fixed += case.seed is None
        self.probes += len(case.probes)

    def all(self):
        t0 = time.monotonic()
        with concurrent.futures.ThreadPoolExecutor(len(MODES)) as pool:
            if not ONE_SEED:
                for case in routing_gen.fixed_cases(GRID_ADDRS, self.ports):
                    self.one(pool, case)
            for seed in self.seeds():
                self.one(pool, routing_gen.generate(
                    seed, GRID_ADDRS, self.ports, cross_ns=CROSS_NS,
                    ownership=self.ownership))
        self.seconds = time.monotonic() - t0

    def report(self, mode):
        """The failure text for one mode ("" when it had no mismatch)."""
        where = os.environ.get("KUBENGX_DIFF_REPORT") or \
            os.path.join(harness.BUILD, "routing-diff")
        os.makedirs(where, exist_ok=True)
        path = os.path.join(where, "mismatches-%s.txt" % mode)
        for old in (path, path[:-4] + ".jsonl"):    # an earlier run's
            if os.path.exists(old):
                os.unlink(old)
        bad = [x for x in self.mismatches if x.mode == mode]
        if not bad:
            return ""
        by_case = {}
        for x in bad:
            by_case.setdefault(x.case.label, []).append(x)
        head = ("%s: %d mismatches in %d of %d cases (%d generated, base "
                "seed %s; %d fixed)" % (mode, len(bad), len(by_case),
                                        self.cases + self.fixed, self.cases,
                                        self.base, self.fixed))
        parts = [head]
        for label in list(by_case)[:SHOW_CASES]:
            xs = by_case[label]
            parts.append(case_text(xs[0].case))
            parts += [str(x) for x in xs]
            log = [line for line in xs[0].log.splitlines()
                   if re.search(r"\[(warn|error|crit|alert|emerg)\]", line)]
            if log:
                parts.append("  nginx error log (warnings and errors, "
                             "last 8):\n" + "\n".join("    " + line
                                                       for line in log[-8:]))
        more = list(by_case)[SHOW_CASES:]
        if more:
            parts.append("also failing: %s" % ", ".join(more))
        with open(path, "w") as f:
            f.write(head + "\n")
            for xs in by_case.values():
                f.write("\n" + case_text(xs[0].case) + "\n")
                f.write("\n".join(str(x) for x in xs) + "\n")
        with open(path[:-4] + ".jsonl", "w") as f:
            for x in bad:
                f.write(json.dumps(x.record(), sort_keys=True) + "\n")
        parts.append("all mismatches: %s (and .jsonl)" % path)
        return "\n".join(parts)


@pytest.fixture(scope="module")
def diff_run(tmp_path_factory):
    if not os.path.exists(harness.MODULE):
        pytest.skip("module not built")
    run = Run(str(tmp_path_factory.mktemp("routing-diff")))
    try:
        run.start()
        run.all()
    finally:
        run.stop()
    print("routing differential: %d cases, %d probes per mode, base seed "
          "%s, %.0f s" % (run.cases, run.probes, run.base, run.seconds))
    return run


@needs_module
@pytest.mark.parametrize("mode", [name for name, _ in MODES])
def test_routing_matches_the_spec_model(diff_run, mode):
    assert diff_run.cases == (1 if ONE_SEED else CASES)
    text = diff_run.report(mode)
    assert not text, text


# --- the model itself, against the spec's own examples ---------------------
#
# The table "Examples" of the Ingress concept page
# (kubernetes.io/docs/concepts/services-networking/ingress/#examples) and
# the scenarios of kubernetes-sigs/ingress-controller-conformance
# (features/path_rules.feature, host_rules.feature), written out by hand.

def spec_model(rules, **kw):
    """A model over one Ingress whose paths point at Services named after
    the expectation they stand for, each with one ready endpoint."""
    objs, names = [], set()
    for host, paths in rules:
        for _, _, svc in paths:
            names.add(svc)
    for i, svc in enumerate(sorted(names)):
        objs.append(m.service(svc, [m.svc_port("http", 8080, 8080)]))
        objs.append(m.slice_(svc, [m.endpoint("10.0.0.%d" % (i + 1))],
                             [("http", 8080)]))
    ing = m.ingress("spec", [m.rule(h, *[m.path(p, svc, 8080, type=t)
                                         for p, t, svc in paths])
                             for h, paths in rules])
    return answers(Model(objs + [ing], **kw),
                   {"10.0.0.%d:8080" % (i + 1): svc
                    for i, svc in enumerate(sorted(names))})


def answers(model, names):
    """who(host, path): the name (names[endpoint]) of the one endpoint
    the model expects, or the status."""
    def who(host, path):
        out, _ = model.expect(host, path)
        if out[0] == "status":
            return out[1]
        (a,) = out[1]
        return names[a]
    return who


DOCS_TABLE = [  # (paths, request, expected backend or 404)
    ([("/", "Prefix")], "/anything/at/all", "p0"),
    ([("/foo", "Exact")], "/foo", "p0"),
    ([("/foo", "Exact")], "/bar", 404),
    ([("/foo", "Exact")], "/foo/", 404),
    ([("/foo/", "Exact")], "/foo", 404),
    ([("/foo", "Prefix")], "/foo", "p0"),
    ([("/foo", "Prefix")], "/foo/", "p0"),
    ([("/foo/", "Prefix")], "/foo", "p0"),
    ([("/foo/", "Prefix")], "/foo/", "p0"),
    ([("/aaa/bb", "Prefix")], "/aaa/bbb", 404),
    ([("/aaa/bbb", "Prefix")], "/aaa/bbb", "p0"),
    ([("/aaa/bbb/", "Prefix")], "/aaa/bbb", "p0"),
    ([("/aaa/bbb", "Prefix")], "/aaa/bbb/", "p0"),
    ([("/aaa/bbb", "Prefix")], "/aaa/bbb/ccc", "p0"),
    ([("/aaa/bbb", "Prefix")], "/aaa/bbbxyz", 404),
    ([("/", "Prefix"), ("/aaa", "Prefix")], "/aaa/ccc", "p1"),
    ([("/", "Prefix"), ("/aaa", "Prefix"), ("/aaa/bbb", "Prefix")],
     "/aaa/bbb", "p2"),
    ([("/", "Prefix"), ("/aaa", "Prefix"), ("/aaa/bbb", "Prefix")],
     "/ccc", "p0"),
    ([("/aaa", "Prefix")], "/ccc", 404),
    ([("/foo", "Prefix"), ("/foo", "Exact")], "/foo", "p1"),
]


@pytest.mark.parametrize("paths,request_path,expected", DOCS_TABLE)
def test_model_follows_the_docs_examples(paths, request_path, expected):
    who = spec_model([("h.example.com", [(p, t, "p%d" % i)
                                         for i, (p, t) in enumerate(paths)])])
    assert who("h.example.com", request_path) == expected


def test_model_follows_the_conformance_path_rules():
    who = spec_model([
        ("exact-path-rules", [("/foo", "Exact", "foo-exact")]),
        ("prefix-path-rules", [("/foo", "Prefix", "foo-prefix"),
                               ("/aaa/bbb", "Prefix", "aaa-slash-bbb-prefix"),
                               ("/aaa", "Prefix", "aaa-prefix")]),
        ("mixed-path-rules", [("/foo", "Prefix", "foo-prefix"),
                              ("/foo", "Exact", "foo-exact")]),
        ("trailing-slash-path-rules", [
            ("/aaa/bbb/", "Prefix", "aaa-slash-bbb-slash-prefix"),
            ("/foo/", "Exact", "foo-slash-exact")]),
    ])
    for host, path, expected in (
            ("exact-path-rules", "/foo", "foo-exact"),
            ("exact-path-rules", "/foo/", 404),
            ("exact-path-rules", "/FOO", 404),
            ("exact-path-rules", "/bar", 404),
            ("prefix-path-rules", "/foo", "foo-prefix"),
            ("prefix-path-rules", "/foo/", "foo-prefix"),
            ("prefix-path-rules", "/FOO", 404),
            ("prefix-path-rules", "/aaa/bbb", "aaa-slash-bbb-prefix"),
            ("prefix-path-rules", "/aaa/bbb/ccc", "aaa-slash-bbb-prefix"),
            ("prefix-path-rules", "/aaa/ccc", "aaa-prefix"),
            ("prefix-path-rules", "/aaaccc", 404),
            ("mixed-path-rules", "/foo", "foo-exact"),
            ("trailing-slash-path-rules", "/aaa/bbb",
             "aaa-slash-bbb-slash-prefix"),
            ("trailing-slash-path-rules", "/aaa/bbb/",
             "aaa-slash-bbb-slash-prefix"),
            ("trailing-slash-path-rules", "/foo", 404)):
        assert who(host, path) == expected, (host, path)


def test_model_follows_the_conformance_host_rules():
    who = spec_model([("*.foo.com", [("/", "Prefix", "wildcard-foo-com")]),
                      ("foo.bar.com", [("/", "Prefix", "foo-bar-com")])])
    assert who("foo.bar.com", "/") == "foo-bar-com"
    assert who("FOO.Bar.com", "/") == "foo-bar-com"
    assert who("subdomain.bar.com", "/") == 404
    assert who("bar.foo.com", "/") == "wildcard-foo-com"
    assert who("baz.bar.foo.com", "/") == 404
    assert who("foo.com", "/") == 404


def test_model_endpoint_rules():
    """Service port by number or name, slice port by the Service port's
    name, ready endpoints or else serving+terminating, 503 otherwise."""
    svc = m.service("s", [m.svc_port(None, 80, 8080)])
    other = m.service("t", [m.svc_port("http", 80, "web"),
                            m.svc_port("admin", 81, 9000)])
    objs = [svc, other,
            m.slice_("s", [m.endpoint("10.0.0.1"),
                           m.endpoint("10.0.0.2", ready=False)],
                     [(None, 8080)], name="s-1"),
            m.slice_("t", [m.endpoint("10.0.1.1")],
                     [("http", 7001), ("admin", 9000)], name="t-1"),
            m.slice_("t", [m.endpoint("10.0.1.2")],
                     [("http", 7002), ("admin", 9000)], name="t-2"),
            m.slice_("t", [m.endpoint("10.0.1.3", ready=False, serving=True,
                                      terminating=True)],
                     [("http", 7003)], name="t-3", ns="elsewhere")]
    model = Model(objs)
    assert model.resolve_port("default", "s", number=80)[0] == \
        ("proxy", frozenset({"10.0.0.1:8080"}))
    assert model.resolve_port("default", "s", number=8080)[0] == \
        ("status", 503)
    assert model.resolve_port("default", "t", pname="http")[0] == \
        ("proxy", frozenset({"10.0.1.1:7001", "10.0.1.2:7002"}))
    assert model.resolve_port("default", "t", number=81)[0] == \
        ("proxy", frozenset({"10.0.1.1:9000", "10.0.1.2:9000"}))
    assert model.resolve_port("default", "nosuch", number=80)[0] == \
        ("status", 503)
    term = [m.service("u", [m.svc_port(None, 80, 8080)]),
            m.slice_("u", [m.endpoint("10.0.2.1", ready=False, serving=True,
                                      terminating=True),
                           m.endpoint("10.0.2.2", ready=False,
                                      serving=False, terminating=True),
                           m.endpoint("10.0.2.3", ready=False)],
                     [(None, 8080)], name="u-1")]
    assert Model(term).resolve_port("default", "u", number=80)[0] == \
        ("proxy", frozenset({"10.0.2.1:8080"}))


def small_world(ingresses, **kw):
    """A model over `ingresses` with Services a, b, c, d in namespaces x
    and y (one ready endpoint each, named after them); returns who(host,
    path) -> "ns/svc" or a status."""
    objs, addr = [], {}
    for i, (ns, svc) in enumerate((ns, s) for ns in ("x", "y")
                                  for s in "abcd"):
        a = "10.1.0.%d" % (i + 1)
        addr[a + ":8080"] = "%s/%s" % (ns, svc)
        objs.append(m.service(svc, [m.svc_port(None, 80, 8080)], ns=ns))
        objs.append(m.slice_(svc, [m.endpoint(a)], [(None, 8080)], ns=ns,
                             name=svc + "-1"))
    return answers(Model(objs + list(ingresses), **kw), addr)


def test_model_rules_without_host_fill_in_for_named_hosts():
    """README: rules without a host serve every host: the catch-all, and
    a named host for requests none of its own paths match."""
    who = small_world([m.ingress("i", [
        m.rule("h.example.com", m.path("/api", "a", 80)),
        m.rule(None, m.path("/", "b", 80),
               m.path("/api/x", "c", 80, type="Exact"))], ns="x")])
    assert who("h.example.com", "/api/x") == "x/a"     # its own path first
    assert who("h.example.com", "/other") == "x/b"
    assert who("other.example.com", "/api/x") == "x/c"
    assert who("other.example.com", "/api") == "x/b"


def test_model_default_backend_scope():
    """An Ingress's defaultBackend answers what no rule matches for its
    own hosts; the oldest one also for hosts without a server; other hosts
    fall to --default-backend or 404."""
    ings = [m.ingress("old", [m.rule("a.example.com", m.path("/a", "a", 80))],
                      ns="x", default_backend=m.backend("d", 80),
                      created="2020-01-01T00:00:00Z"),
            m.ingress("new", [m.rule("b.example.com", m.path("/b", "b", 80))],
                      ns="x", default_backend=m.backend("c", 80),
                      created="2021-01-01T00:00:00Z"),
            m.ingress("plain", [m.rule("e.example.com",
                                       m.path("/e", "a", 80))], ns="y")]
    who = small_world(ings)
    assert who("a.example.com", "/zz") == "x/d"
    assert who("b.example.com", "/zz") == "x/c"
    assert who("unknown.example.com", "/") == "x/d"
    assert who("e.example.com", "/zz") == 404
    who = small_world(ings, default_backend="y/b:80")
    assert who("e.example.com", "/zz") == "y/b"
    assert who("a.example.com", "/zz") == "x/d"


def test_model_host_ownership():
    ings = [m.ingress("first", [m.rule("h.example.com",
                                       m.path("/a", "a", 80))],
                      ns="x", created="2020-01-01T00:00:00Z"),
            m.ingress("second", [m.rule("h.example.com",
                                        m.path("/b", "b", 80),
                                        m.path("/a", "c", 80))],
                      ns="y", created="2021-01-01T00:00:00Z")]
    merged = small_world(ings, host_ownership="merge")
    assert merged("h.example.com", "/a") == "x/a"         # the oldest
    assert merged("h.example.com", "/b") == "y/b"
    owned = small_world(ings, host_ownership="namespace")
    assert owned("h.example.com", "/a") == "x/a"
    assert owned("h.example.com", "/b") == 404
