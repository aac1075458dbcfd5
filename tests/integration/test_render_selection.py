"""Never render nothing silently: an Ingress kubengx does not serve
because of its class is a warning by default (not only with -v), naming
the Ingress and the flag that would serve it, and an input none of whose
Ingresses is served says so.  The same in `kubengx lint`."""

import json

from manifests import (FOUNDING_EXAMPLE, ingress, ingress_class, lint, path,
                       render, rule, write_manifests)

# issue 12's example, verbatim: no namespace, no class, unnamed ports
EXAMPLE = FOUNDING_EXAMPLE


def warnings(err):
    return [l for l in err.splitlines() if l.startswith("kubengx: warning")]


def test_example_without_class_warns(tmp_path, kubengx):
    f = tmp_path / "example.yaml"
    f.write_text(EXAMPLE)
    rc, _, err, conf = render([f], None, endpoints="module")
    assert rc == 0, err
    ws = warnings(err)
    assert len(ws) == 2, err
    assert "default/routes" in ws[0] and "--watch-without-class" in ws[0]
    assert "example.yaml:2" in ws[0], ws[0]
    assert "none of the 1 Ingress in the input is served" in ws[1], ws[1]
    assert "routes nothing" in ws[1]
    assert "api.example.com" not in conf

    # the flag it names serves it, and the warnings are gone (api-svc and
    # web-svc, "the same shape as backend", are not in the example)
    rc, _, err, conf = render([f], None, "--watch-without-class",
                              endpoints="module")
    assert rc == 0, err
    assert not [w for w in warnings(err)
                if "not served" in w or "none of" in w], err
    assert 'server_name "api.example.com";' in conf


def test_each_ignored_ingress_names_its_flag(tmp_path, kubengx):
    objs = [ingress_class("theirs", controller="example.com/theirs"),
            ingress("mine", [rule("a.example.com", path("/", "s", 80))]),
            ingress("other", [rule("b.example.com", path("/", "s", 80))],
                    cls="nginx"),
            ingress("legacy", [rule("c.example.com", path("/", "s", 80))],
                    cls=None,
                    annotations={"kubernetes.io/ingress.class": "traefik"}),
            ingress("declared", [rule("d.example.com",
                                      path("/", "s", 80))], cls="theirs"),
            ingress("none", [rule("e.example.com", path("/", "s", 80))],
                    cls=None)]
    f = write_manifests(tmp_path, objs)
    rc, _, err, conf = render([f], None)
    assert rc == 0, err
    ws = {w.split(": ")[3]: w for w in warnings(err)
          if "not served" in w}
    assert set(ws) == {"default/other", "default/legacy",
                       "default/declared", "default/none"}, err
    assert "--class nginx would serve it" in ws["default/other"]
    assert "spec.ingressClassName" in ws["default/other"]
    assert "--class traefik would serve it" in ws["default/legacy"]
    assert "--controller example.com/theirs" in ws["default/declared"]
    assert "--watch-without-class" in ws["default/none"]
    # one is served: no "none of" line
    assert "none of" not in err


def test_lint_names_the_flags_too(tmp_path, kubengx):
    f = tmp_path / "example.yaml"
    f.write_text(EXAMPLE)
    rc, out, err = lint([f])
    assert rc == 1, err             # the backends name no Service here
    assert "--watch-without-class" in out
    assert "none of the 1 Ingress in the input" in err, err

    objs = [ingress("other", [rule("b.example.com", path("/", "s", 80))],
                    cls="nginx")]
    g = write_manifests(tmp_path / "o", objs)
    rc, out, err = lint([g], "-o", "json")
    data = json.loads(out)
    nc = [d for d in data if d["code"] == "no-controller"]
    assert nc and "--class \"nginx\"" not in nc[0]["message"]
    assert "--class nginx" in nc[0]["message"], nc
    assert "none of the 1 Ingress" in err
