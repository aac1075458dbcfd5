"""`kubengx render` at scale, seen from outside: what the renderer does
differently for many hosts, paths, tls entries and host-less routes is
checked against a real nginx (its warnings and its answers) and the
rendered text.  Timing is `make bench`'s business (tests/bench), not
these tests'.

- Many hosts: with about 100 host names or more nginx's default server
  name hash cannot hold them and nginx warns at every start and reload;
  the rendered file sizes the hash (server_names_hash_max_size and
  _bucket_size) so that nginx builds it without a warning, for host
  names of any length and spelling, and every host is still reached;
  a few hosts keep nginx's defaults (nothing written).
- Many paths in one Ingress (each path found by an index, not a scan):
  each path reaches its own backend, the Exact twin of every Prefix path
  is rendered once.
- Many tls entries naming one Secret: one certificate file, every host
  served over https with it.
- Host-less routes in many hosts: each host gets every host-less path
  that none of its own routes shadows, and not the shadowed one."""

import random
import re

import harness
from manifests import (backend_service, ingress, path, render, rule,
                       secret_tls, self_signed, service, svc_port,
                       write_manifests)


def random_hosts(n, seed):
    """n distinct host names of 1 to 4 labels of 1 to 63 characters under
    a few TLDs: lengths and spellings nginx's hash sees in a cluster."""
    rnd = random.Random(seed)
    alpha = "abcdefghijklmnopqrstuvwxyz0123456789"
    out = set()
    while len(out) < n:
        labels = []
        for _ in range(rnd.randint(1, 3)):
            k = rnd.choice((1, 3, 5, 8, 12, 20, 40, 63))
            lab = "".join(rnd.choice(alpha) for _ in range(k))
            if k > 2:
                lab = lab[:k // 2] + "-" + lab[k // 2 + 1:]
            labels.append(lab)
        labels.append(rnd.choice(("example.com", "shop.example.org",
                                  "internal", "io")))
        out.add(".".join(labels))
    return sorted(out)


def test_many_hosts_fit_nginx_server_name_hash(kubengx, backends,
                                               nginx_factory, tmp_path):
    bk = backends("a", "b")
    hosts = random_hosts(3000, seed=14)
    objs = backend_service(bk, "svc-a", "a") + backend_service(bk, "svc-b",
                                                               "b")
    for i, h in enumerate(hosts):
        objs.append(ingress("i%04d" % i, [rule(h, path(
            "/", "svc-a" if i % 2 == 0 else "svc-b", "http"))]))
    f = write_manifests(tmp_path / "in", objs, "list")
    port = harness.free_port()
    rc, _, err, conf = render([f], tmp_path / "out", http_port=port)
    assert rc == 0, err
    m = re.search(r"^server_names_hash_max_size (\d+);\n"
                  r"server_names_hash_bucket_size (\d+);$", conf, re.M)
    assert m, "no server name hash sizing in the rendered file"
    n = nginx_factory(http="include %s/kubengx.conf;" % (tmp_path / "out"),
                      ports=[port], module=False)
    t = n.test_config()
    assert t.returncode == 0, t.stderr
    assert "server_names_hash" not in t.stderr, t.stderr
    rnd = random.Random(1)
    for i in sorted(rnd.sample(range(len(hosts)), 40)):
        r = n.get("/x", host=hosts[i].upper())
        assert (r.status, r.backend) == (200, "a" if i % 2 == 0 else "b"), \
            (hosts[i], r)
    assert n.get("/", host="not-rendered.example.com").status == 404


def test_few_hosts_keep_nginx_default_hash(kubengx, tmp_path):
    objs = [service("web", [svc_port(None, 80, 8080)])]
    for i in range(20):
        objs.append(ingress("i%03d" % i, [rule(
            "host-%03d.a-long-enough-name.example.com" % i,
            path("/", "web", 80))]))
    f = write_manifests(tmp_path / "in", objs, "list")
    rc, _, err, conf = render([f], None, endpoints="module")
    assert rc == 0, err
    assert "server_names_hash" not in conf


def test_many_paths_in_one_ingress(kubengx, backends, nginx_factory,
                                   tmp_path):
    """5,000 paths of one rule, alternating between two Services and
    between Prefix and Exact: each answers from its own backend."""
    bk = backends("a", "b")
    objs = backend_service(bk, "svc-a", "a") + backend_service(bk, "svc-b",
                                                               "b")
    paths = []
    for i in range(5000):
        t = "Exact" if i % 3 == 0 else "Prefix"
        paths.append(path("/p%d" % i, "svc-a" if i % 2 else "svc-b",
                          "http", t))
    objs.append(ingress("big", [rule("big.example.com", *paths)]))
    f = write_manifests(tmp_path / "in", objs, "list")
    port = harness.free_port()
    rc, _, err, conf = render([f], tmp_path / "out", http_port=port)
    assert rc == 0, err
    # a Prefix path: "location /pN/" and one "location = /pN"
    assert conf.count('location = "/p1" {') == 1
    assert conf.count('location "/p1/" {') == 1
    assert conf.count('location = "/p3" {') == 1
    assert 'location "/p3/"' not in conf
    n = nginx_factory(http="include %s/kubengx.conf;" % (tmp_path / "out"),
                      ports=[port], module=False)
    for i in (0, 1, 2, 3, 1234, 2999, 4998, 4999):
        want = "a" if i % 2 else "b"
        r = n.get("/p%d" % i, host="big.example.com")
        assert (r.status, r.backend) == (200, want), (i, r)
        r = n.get("/p%d/x" % i, host="big.example.com")
        if i % 3 == 0:      # Exact: the sub-path is not routed
            assert r.status == 404, (i, r)
        else:
            assert (r.status, r.backend) == (200, want), (i, r)


def test_many_tls_entries_one_secret(kubengx, tmp_path):
    cert, key = self_signed(tmp_path, "*.tls.example.com")
    objs = [service("web", [svc_port(None, 80, 8080)]),
            secret_tls("wild", cert, key)]
    hosts = ["h%04d.tls.example.com" % i for i in range(2000)]
    objs.append(ingress("big", [rule(h, path("/", "web", 80))
                                for h in hosts],
                        tls=[{"hosts": [h], "secretName": "wild"}
                             for h in hosts]))
    f = write_manifests(tmp_path / "in", objs, "list")
    out = tmp_path / "out"
    rc, _, err, conf = render([f], out, endpoints="module")
    assert rc == 0, err
    assert err == "", err
    assert len(list((out / "certs").iterdir())) == 1
    assert conf.count("ssl_certificate ") == len(hosts)
    assert conf.count("return 308 https://") == len(hosts)


def test_hostless_routes_in_many_hosts(kubengx, tmp_path):
    objs = [service("own", [svc_port(None, 80, 8080)]),
            service("any", [svc_port(None, 80, 8080)])]
    hosts = ["h%04d.example.com" % i for i in range(1000)]
    objs.append(ingress("hosts", [rule(h, path("/own", "own", 80))
                                  for h in hosts]))
    anyp = [path("/any%d" % i, "any", 80) for i in range(10)]
    anyp += [path("/own/sub", "any", 80), path("/own", "any", 80, "Exact")]
    objs.append(ingress("any", [rule(None, *anyp)],
                        created="2021-01-01T00:00:00Z"))
    f = write_manifests(tmp_path / "in", objs, "list")
    rc, _, err, conf = render([f], None, endpoints="module")
    assert rc == 0, err
    servers = conf.split("\nserver {\n")
    named = [s for s in servers if 'server_name "h' in s]
    assert len(named) == len(hosts)
    for s in named:
        # its own Prefix /own shadows the host-less /own/sub and = /own;
        # each host-less Prefix /anyN is two locations
        assert s.count("(rule without host)") == 10 * 2, s
        assert 'location "/own/sub/"' not in s
        assert s.count("location ") == 1 + 2 + 10 * 2, s
