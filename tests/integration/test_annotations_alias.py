"""nginx.ingress.kubernetes.io/server-alias (generator/annotations/hosts.c,
the claims in generator/plan_hosts.c), through a real nginx in every
--endpoints mode: an alias is served by its Ingress's server, and it is a
host claim like a rule host: it cannot capture a host another namespace
routes, an older alias keeps its name, a rule host wins over an alias,
and a conflict loses only that alias, with a warning naming the Ingress
and the annotation."""

import pytest

from manifests import ingress, path, rule, write_manifests, render
from modes import MODES, ModeStack, tenant

ALIAS = "nginx.ingress.kubernetes.io/server-alias"
FIELD = "metadata.annotations[%s]" % ALIAS
OLD = "2019-01-01T00:00:00Z"
NEW = "2020-01-01T00:00:00Z"


def aliased(name, ns, host, svc, port, alias, created=OLD):
    return ingress(name, [rule(host, path("/", svc, port))], ns=ns,
                   annotations={ALIAS: alias}, created=created)


def warns(s, *words):
    return [w for w in s.warnings() if all(x in w for x in words)]


@pytest.mark.parametrize("mode", MODES)
def test_alias_served(tmp_path, nginx_factory, kube_api, backends, mode):
    """Host: alias (exact and wildcard) -> the Ingress's backend; an alias
    equal to its own rule host is harmless (no warning, one name); a
    wildcard alias matches one label only."""
    bk = backends("a", "b")
    objs, pa = tenant(bk, "a", "shop", "web")
    more, pb = tenant(bk, "b", "blog", "web")
    objs += more
    objs += [aliased("shop", "shop", "shop.example.com", "web", pa,
                     "www.shop.example.com, SHOP.example.com,"
                     " *.shops.example.com"),
             ingress("blog", [rule("blog.example.com",
                                   path("/", "web", pb))], ns="blog")]
    s = ModeStack(tmp_path, nginx_factory, kube_api, mode)
    s.up(objs)
    assert not s.warnings(), s.err
    # aliases sorted by name ("*.shops..." first)
    assert ('server_name "shop.example.com" '
            '"~^[^.]+\\.shops\\.example\\.com$" "www.shop.example.com";'
            ) in s.conf, s.conf
    assert s.conf.count('"shop.example.com"') == 1
    s.wait_backend("shop.example.com", "/", "a")
    for h in ("www.shop.example.com", "WWW.Shop.example.com",
              "x.shops.example.com"):
        assert s.get(h, "/x").backend == "a", h
    assert s.get("a.b.shops.example.com", "/").status == 404
    assert s.get("blog.example.com", "/").backend == "b"


@pytest.mark.parametrize("mode", MODES)
def test_alias_cannot_take_another_tenants_host(tmp_path, nginx_factory,
                                                kube_api, backends, mode):
    """The attacker's Ingress is the older one and names the victim's
    host, and a name the victim's older alias has: both aliases are left
    out with warnings naming the Ingress and the annotation; the victim
    keeps its host and its alias; the attacker keeps its own alias."""
    bk = backends("victim", "attacker")
    objs, pv = tenant(bk, "victim", "team", "web")
    more, pa = tenant(bk, "attacker", "evil", "web")
    objs += more
    objs += [
        aliased("grab", "evil", "evil.example.com", "web", pa,
                "victim.example.com,shop.example.com,mine.example.com",
                created=OLD),
        # newer than the attacker's: a rule host wins whatever the age
        aliased("site", "team", "victim.example.com", "web", pv,
                "shop.example.com", created=NEW),
        # the oldest alias keeps its name
        aliased("old", "team", "old.example.com", "web", pv,
                "shop.example.com", created="2018-01-01T00:00:00Z"),
    ]
    s = ModeStack(tmp_path, nginx_factory, kube_api, mode)
    s.up(objs)
    w = warns(s, "evil/grab", FIELD, "victim.example.com",
              "a rule host wins over an alias")
    assert len(w) == 1, s.err
    w = warns(s, "evil/grab", FIELD, "shop.example.com",
              "older Ingress team/old")
    assert len(w) == 1, s.err
    w = warns(s, "team/site", FIELD, "shop.example.com",
              "older Ingress team/old")
    assert len(w) == 1, s.err
    assert len(s.warnings()) == 3, s.err
    s.wait_backend("victim.example.com", "/", "victim")
    assert s.get("shop.example.com", "/").backend == "victim"
    assert s.get("evil.example.com", "/").backend == "attacker"
    assert s.get("mine.example.com", "/").backend == "attacker"
    # one server per name: nginx would warn "conflicting server name"
    assert s.conf.count('"victim.example.com"') == 1
    assert s.conf.count('"shop.example.com"') == 1
    assert "conflicting server name" not in s.nginx.error_log()


def test_bad_aliases_lose_only_themselves(tmp_path, nginx_factory,
                                          kube_api, backends):
    """"*.com", an IP address, a bad label and an alias on an Ingress
    without a host: warnings, each left out; the good alias is served."""
    bk = backends("a")
    objs, pa = tenant(bk, "a", "shop", "web")
    objs += [aliased("shop", "shop", "shop.example.com", "web", pa,
                     "*.com, 10.0.0.1, bad_name.example.com, ok.example.com"),
             ingress("nohost", [rule(None, path("/", "web", pa))],
                     ns="shop", annotations={ALIAS: "free.example.com"})]
    s = ModeStack(tmp_path, nginx_factory, kube_api, "static")
    s.up(objs)
    for bad in ('"*.com"', '"10.0.0.1"', '"bad_name.example.com"'):
        assert len(warns(s, "shop/shop", FIELD, bad, "left out")) == 1, \
            (bad, s.err)
    assert len(warns(s, "shop/nohost", FIELD, "free.example.com",
                     "no rule host")) == 1, s.err
    assert len(s.warnings()) == 4, s.err
    assert s.get("ok.example.com", "/").backend == "a"
    assert "free.example.com" not in s.conf
    assert "*.com" not in s.conf and "10.0.0.1" not in s.conf


def test_alias_render_is_deterministic(tmp_path, backends):
    """The same input in another order renders the same bytes; the aliases
    of a server come sorted."""
    bk = backends("a")
    objs, pa = tenant(bk, "a", "shop", "web")
    ings = [aliased("i%d" % i, "shop", "h%d.example.com" % i, "web", pa,
                    "z%d.example.com, a%d.example.com, m.example.com" % (i, i))
            for i in range(6)]
    confs = []
    for n, order in enumerate((ings, ings[::-1])):
        d = write_manifests(tmp_path / ("in%d" % n), objs + order)
        rc, _, err, conf = render([d], tmp_path / ("out%d" % n))
        assert rc == 0, err
        confs.append(conf)
    assert confs[0] == confs[1]
    # m.example.com: the first Ingress (same age: by name) has it
    assert ('server_name "h0.example.com" "a0.example.com" '
            '"m.example.com" "z0.example.com";') in confs[0], confs[0]
    assert confs[0].count('"m.example.com"') == 1


# --- the controller: the conflict as an Event -------------------------------

from test_controller import controllers, routed_to  # noqa: E402,F401


def test_controller_serves_aliases_and_posts_the_conflict(kube_api, backends,
                                                          controllers):
    import harness
    from manifests import backend_service, ingress_class
    bk = backends("a", "b")
    api = kube_api()
    for o in ([ingress_class("kubengx")] + backend_service(bk, "svc-a", "a")
              + backend_service(bk, "svc-b", "b")):
        api.create(o)
    api.create(ingress("owner", [rule("v.example.com",
                                      path("/", "svc-a", 80))],
                       created=NEW))
    api.create(aliased("grab", "default", "g.example.com", "svc-b", 80,
                       "v.example.com, w.example.com"))
    ctl = controllers(api, args=["--no-leader-elect"]).wait_ready()
    harness.wait_for(routed_to(ctl, "w.example.com", "/", "b"), 10,
                     "the alias")
    assert ctl.get("/", host="v.example.com").backend == "a"

    def events():
        evs = api.get("/api/v1/namespaces/default/events")["items"]
        return {e["reason"]: e["message"] for e in evs
                if e["involvedObject"]["name"] == "grab"}
    harness.wait_for(lambda: "AliasConflict" in events(), 10, "the Event")
    msg = events()["AliasConflict"]
    assert ALIAS in msg and "v.example.com" in msg, msg


def test_merge_ownership_still_one_server_per_name(tmp_path, nginx_factory,
                                                   kube_api, backends):
    """--host-ownership merge lets every namespace add routes to a host,
    but an alias still never names a host a rule routes: the rule's
    server keeps the name; lint says the same."""
    from manifests import lint
    bk = backends("victim", "attacker")
    objs, pv = tenant(bk, "victim", "team", "web")
    more, pa = tenant(bk, "attacker", "evil", "web")
    objs += more + [
        aliased("grab", "evil", "evil.example.com", "web", pa,
                "victim.example.com", created=OLD),
        ingress("site", [rule("victim.example.com", path("/", "web", pv))],
                ns="team", created=NEW)]
    s = ModeStack(tmp_path, nginx_factory, kube_api, "static")
    s.up(objs, "--host-ownership", "merge")
    assert len(warns(s, "evil/grab", FIELD, "a rule host wins")) == 1, s.err
    assert s.get("victim.example.com", "/").backend == "victim"
    rc, out, err = lint([str(tmp_path / "static" / "in1")])
    assert "evil/grab" in out + err and ALIAS in out + err, (out, err)
