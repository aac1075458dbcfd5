"""The watcher when the Kubernetes API misbehaves: 410 Gone mid-watch and
on a list continue, the API down at start and mid-watch, token rotation
(401), HTTPS with a CA and a bearer token, 429 Retry-After.  Real nginx,
the stand-in API, real backends; asserted from outside."""

import json
import os
import shutil
import subprocess
import tempfile

import pytest

import harness
from test_module_watch import (Stack, api_line, delete_slice, put_slice,
                               seed_ab, service_status, slice_obj, status,
                               tail, wait_backends, watcher)


@pytest.fixture
def readable_dir():
    """A directory nginx's workers can read (they run as "nobody", and
    pytest's tmp_path is private to root): token, CA and kubeconfig copies
    go here, as a pod's service account files are readable by nginx."""
    d = tempfile.mkdtemp(prefix="kubengx-watch-")
    os.chmod(d, 0o755)
    yield d
    shutil.rmtree(d, ignore_errors=True)


def readable_copy(d, src, name=None):
    dst = os.path.join(d, name or os.path.basename(src))
    shutil.copyfile(src, dst)
    os.chmod(dst, 0o644)
    return dst


def write_readable(d, name, text):
    path = os.path.join(d, name)
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)
    return path


def lists_seen(api):
    """(list requests, watch requests) the stand-in saw for EndpointSlices."""
    reqs = [r for r in api.requests_seen()
            if r["path"].endswith("/endpointslices")]
    watches = [r for r in reqs if r["query"].get("watch") in ("true", "1")]
    lists = [r for r in reqs if r not in watches]
    return lists, watches


def test_410_mid_watch_relists(tmp_path, kube_api, backends, nginx_factory):
    """History compacted and the watch dropped: the re-watch gets 410, the
    module relists, keeps serving throughout and follows later changes."""
    s = Stack(tmp_path, kube_api, backends, nginx_factory,
              names=("a", "b", "c"), seed=seed_ab)
    n, api = s.nginx, s.api
    wait_backends(n, {"a", "b"})
    api.wait_for_watches(1, path="endpointslices")
    lists_before = len(lists_seen(api)[0])
    relists_before = watcher(status(n))["relists"]

    # a change the module does not see before the compaction ...
    hc, pc = s.addr("c")
    api.admin("drop-watches", {"path": "endpointslices", "mode": "abort"})
    put_slice(api, slice_obj("web", "web-a", [hc], pc))
    api.admin("compact", {})
    # ... so resuming from its resourceVersion is answered with 410
    harness.wait_for(lambda: len(lists_seen(api)[0]) > lists_before, 15,
                     "a relist after 410")
    wait_backends(n, {"b", "c"})
    assert "410" in n.error_log() or "too old" in n.error_log(), \
        tail(n.error_log())
    assert watcher(status(n))["relists"] > relists_before

    # and the new watch delivers further changes
    delete_slice(api, "web-b")
    wait_backends(n, {"c"})


def test_410_error_event_in_stream(tmp_path, kube_api, backends,
                                   nginx_factory):
    """Compaction while a watch is open, then the watch ends normally: the
    re-watch from the old resourceVersion gets the ERROR event (HTTP 200 +
    410 Status in the stream) and the module relists."""
    s = Stack(tmp_path, kube_api, backends, nginx_factory,
              names=("a", "b", "c"), seed=seed_ab)
    n, api = s.nginx, s.api
    wait_backends(n, {"a", "b"})
    api.wait_for_watches(1, path="endpointslices")
    lists_before = len(lists_seen(api)[0])
    # write an unrelated object so the RV moves past what the module saw
    api.create({"apiVersion": "v1", "kind": "Service",
                "metadata": {"name": "other", "namespace": "default"},
                "spec": {"ports": [{"name": "http", "port": 80}]}})
    api.admin("compact", {})
    api.admin("drop-watches", {"path": "endpointslices", "mode": "end"})
    harness.wait_for(lambda: len(lists_seen(api)[0]) > lists_before, 15,
                     "a relist after the 410")
    hc, pc = s.addr("c")
    put_slice(api, slice_obj("web", "web-c", [hc], pc))
    wait_backends(n, {"a", "b", "c"})


def test_410_on_list_continue(tmp_path, kube_api, backends, nginx_factory):
    """A paginated list whose continue token expires (HTTP 410) restarts
    from the first page; endpoints of every page are used."""
    def seed(bk):
        ha, pa = bk.host_port("a")
        hb, pb = bk.host_port("b")
        objs = [slice_obj("web", "web-a", [ha], pa)]
        # 600 slices of not-ready endpoints: more than one page of 500
        for i in range(600):
            objs.append(slice_obj(
                "web", "web-pad-%03d" % i,
                [("10.255.%d.%d" % (i // 250, i % 250 + 1), False, False,
                  False)], 8080))
        objs.append(slice_obj("web", "web-zz-b", [hb], pb))
        return objs

    s = Stack(tmp_path, kube_api, backends, nginx_factory, seed=seed,
              start_api=True, api_conf=lambda st: (
                  st.api.admin("faults", {"status": 410, "method": "GET",
                                          "path": "continue=", "count": 1,
                                          "message": "continue expired"})
                  and api_line(st.api)))
    n, api = s.nginx, s.api
    wait_backends(n, {"a", "b"}, count=20)
    lists, _ = lists_seen(api)
    firsts = [r for r in lists if "continue" not in r["query"]]
    conts = [r for r in lists if "continue" in r["query"]]
    assert len(firsts) >= 2, lists       # the list was restarted
    assert len(conts) >= 2, lists        # the failed and the good page


def test_api_down_at_start_then_recovers(tmp_path, kube_api, backends,
                                         nginx_factory):
    api_port = harness.free_port()
    s = Stack(tmp_path, kube_api, backends, nginx_factory, seed=seed_ab,
              start_api=False,
              api_conf=lambda st: "k8s_api http://127.0.0.1:%d;" % api_port)
    n = s.nginx
    # nginx is up and answers 503 while not synced
    r = n.get("/")
    assert r.status == 503, r
    st = status(n)
    assert watcher(st)["synced"] is False, st
    assert service_status(st)["state"] == "unsynced", st
    harness.wait_for(lambda: "connection refused" in n.error_log()
                     or "Couldn't connect" in n.error_log()
                     or "Failed to connect" in n.error_log(), 10,
                     "the module to notice the API is down")

    s.api = kube_api(load=[s.seed_path],
                     args=["--listen", "127.0.0.1:%d" % api_port])
    # the backoff is at most 30 s (plus jitter)
    wait_backends(n, {"a", "b"}, timeout=70)
    assert watcher(status(n))["synced"] is True


def test_api_down_mid_watch_keeps_last_known(tmp_path, kube_api, backends,
                                             nginx_factory):
    api_port = harness.free_port()
    s = Stack(tmp_path, kube_api, backends, nginx_factory,
              names=("a", "b", "c"), seed=seed_ab,
              api_args=["--listen", "127.0.0.1:%d" % api_port])
    n = s.nginx
    wait_backends(n, {"a", "b"})

    s.api.stop()
    harness.wait_for(lambda: "connection refused" in n.error_log()
                     or "Couldn't connect" in n.error_log()
                     or "Failed to connect" in n.error_log()
                     or "transport error" in n.error_log(), 30,
                     "the module to notice the API is gone")
    # last-known endpoints keep serving
    for _ in range(20):
        r = n.get("/")
        assert r.status == 200 and r.backend in ("a", "b"), r
    st = status(n)
    assert watcher(st)["errors"] > 0, st
    assert service_status(st)["state"] == "ready", st

    # the API comes back (a fresh stand-in with the same objects)
    api2 = kube_api(load=[s.seed_path],
                    args=["--listen", "127.0.0.1:%d" % api_port])
    # a real API server's resourceVersions never go back (etcd persists);
    # the fresh stand-in starts over, so move it past what the module saw
    seen_rv = int(watcher(status(n))["resource_version"])
    i = 0
    while int(api2.admin("state")["resourceVersion"]) <= seen_rv:
        api2.create({"apiVersion": "v1", "kind": "Service",
                     "metadata": {"name": "pad%d" % i,
                                  "namespace": "default"},
                     "spec": {"ports": [{"name": "http", "port": 80}]}})
        i += 1
    api2.wait_for_watches(1, path="endpointslices", deadline=70)
    hc, pc = s.addr("c")
    put_slice(api2, slice_obj("web", "web-a", [hc], pc))
    wait_backends(n, {"b", "c"}, timeout=20)


def test_401_after_token_rotation_recovers(tmp_path, kube_api, backends,
                                           nginx_factory, readable_dir):
    token_file = write_readable(readable_dir, "token", "token-one\n")
    s = Stack(tmp_path, kube_api, backends, nginx_factory,
              names=("a", "b", "c"), seed=seed_ab,
              api_kw={"token": "token-one"},
              api_conf=lambda st: api_line(st.api, token_file=token_file))
    n, api = s.nginx, s.api
    wait_backends(n, {"a", "b"})

    # the server rotates the token; the watch is cut: requests get 401
    api.admin("token", {"token": "token-two"})
    api.token = "token-two"
    api.admin("drop-watches", {"path": "endpointslices", "mode": "abort"})
    harness.wait_for(lambda: "401" in n.error_log(), 15, "a 401")
    # serving continues meanwhile
    assert n.get("/").status == 200

    # the kubelet rewrites the token file
    write_readable(readable_dir, "token", "token-two\n")

    api.wait_for_watches(1, path="endpointslices", deadline=70)
    hc, pc = s.addr("c")
    put_slice(api, slice_obj("web", "web-a", [hc], pc))
    wait_backends(n, {"b", "c"})


def test_https_api_with_ca_and_token(tmp_path, kube_api, backends,
                                     nginx_factory, readable_dir):
    token_file = write_readable(readable_dir, "token", "s3cret\n")
    s = Stack(tmp_path, kube_api, backends, nginx_factory,
              names=("a", "b", "c"), seed=seed_ab,
              api_kw={"tls": True, "token": "s3cret"},
              api_conf=lambda st: api_line(
                  st.api, token_file=token_file,
                  ca_file=readable_copy(readable_dir, st.api.ca_file)))
    assert s.api.url.startswith("https://")
    wait_backends(s.nginx, {"a", "b"})
    hc, pc = s.addr("c")
    put_slice(s.api, slice_obj("web", "web-b", [hc], pc))
    wait_backends(s.nginx, {"a", "c"})


def kubeconfig_copy(d, api, embed_ca=False):
    """The stand-in's kubeconfig, made readable by the workers; with
    embed_ca the CA goes in as certificate-authority-data; with "insecure"
    there is no CA and insecure-skip-tls-verify is set."""
    import base64
    with open(api.kubeconfig) as f:
        kc = json.load(f)
    cluster = kc["clusters"][0]["cluster"]
    if embed_ca == "insecure":
        del cluster["certificate-authority"]
        cluster["insecure-skip-tls-verify"] = True
    elif embed_ca:
        with open(api.ca_file, "rb") as f:
            cluster["certificate-authority-data"] = \
                base64.b64encode(f.read()).decode()
        del cluster["certificate-authority"]
    else:
        cluster["certificate-authority"] = readable_copy(d, api.ca_file)
    return write_readable(d, "kubeconfig", json.dumps(kc))


@pytest.mark.parametrize("embed_ca", [False, True, "insecure"],
                         ids=["ca-file", "ca-data", "insecure"])
def test_https_api_via_kubeconfig(tmp_path, kube_api, backends,
                                  nginx_factory, readable_dir, embed_ca):
    s = Stack(tmp_path, kube_api, backends, nginx_factory,
              names=("a", "b", "c"), seed=seed_ab,
              api_kw={"tls": True, "token": "kc-token"},
              api_conf=lambda st: "k8s_api kubeconfig=%s;"
              % kubeconfig_copy(readable_dir, st.api, embed_ca))
    wait_backends(s.nginx, {"a", "b"})
    if embed_ca == "insecure":
        assert "TLS NOT VERIFIED" in s.nginx.error_log()
    hc, pc = s.addr("c")
    put_slice(s.api, slice_obj("web", "web-b", [hc], pc))
    wait_backends(s.nginx, {"a", "c"})


def test_https_api_wrong_ca_refused(tmp_path, kube_api, backends,
                                    nginx_factory, readable_dir):
    """TLS is verified: with another CA the module never syncs."""
    other = os.path.join(readable_dir, "other-ca.crt")
    key = os.path.join(str(tmp_path), "other-ca.key")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048",
                    "-nodes", "-keyout", key, "-out", other, "-days", "1",
                    "-subj", "/CN=other"], check=True, capture_output=True)
    os.chmod(other, 0o644)
    s = Stack(tmp_path, kube_api, backends, nginx_factory, seed=seed_ab,
              api_kw={"tls": True},
              api_conf=lambda st: api_line(st.api, ca_file=other))
    harness.wait_for(lambda: "certificate" in s.nginx.error_log()
                     or "SSL" in s.nginx.error_log(), 15,
                     "a TLS verification error")
    assert s.nginx.get("/").status == 503


def test_429_retry_after_honoured(tmp_path, kube_api, backends,
                                  nginx_factory):
    s = Stack(tmp_path, kube_api, backends, nginx_factory,
              names=("a", "b", "c"), seed=seed_ab,
              api_conf=lambda st: (
                  st.api.admin("faults", {"status": 429, "method": "GET",
                                          "path": "endpointslices",
                                          "count": 2, "retryAfter": 1})
                  and api_line(st.api)))
    wait_backends(s.nginx, {"a", "b"}, timeout=20)
    assert "429" in s.nginx.error_log()


def test_api_errors_keep_last_known(tmp_path, kube_api, backends,
                                    nginx_factory):
    """500s on every request after the watch is cut: nothing is removed."""
    s = Stack(tmp_path, kube_api, backends, nginx_factory, seed=seed_ab)
    n, api = s.nginx, s.api
    wait_backends(n, {"a", "b"})
    api.admin("faults", {"status": 500, "path": "endpointslices"})
    api.admin("drop-watches", {"path": "endpointslices", "mode": "abort"})
    harness.wait_for(lambda: "500" in n.error_log(), 15, "a 500")
    wait_backends(n, {"a", "b"}, count=20)
    api.request("DELETE", "/_admin/faults", token="")
    delete_slice(api, "web-a")
    wait_backends(n, {"b"}, timeout=70)


def test_in_cluster_default_from_start_environment(tmp_path, kube_api,
                                                   backends, nginx_factory,
                                                   readable_dir):
    """No URL: https://$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT,
    taken from nginx's start environment (workers' environment is cleared
    by nginx; no "env" directive is needed)."""
    token_file = write_readable(readable_dir, "token", "in-cluster\n")
    api = kube_api(tls=True, token="in-cluster")
    port = int(api.url.rsplit(":", 1)[1])
    env = dict(os.environ, KUBERNETES_SERVICE_HOST="127.0.0.1",
               KUBERNETES_SERVICE_PORT=str(port))
    s = Stack(tmp_path, kube_api, backends, nginx_factory,
              names=("a", "b"), start_api=False, env=env,
              api_conf=lambda st: "k8s_api token_file=%s ca_file=%s;"
              % (token_file, readable_copy(readable_dir, api.ca_file)))
    for obj in seed_ab(s.bk):
        put_slice(api, obj)
    wait_backends(s.nginx, {"a", "b"})
    assert "https://127.0.0.1:%d" % port in s.nginx.error_log()


def test_split_chunks_and_packed_events(tmp_path, kube_api, backends,
                                        nginx_factory):
    """Watch events split into 7-byte chunks, then several events packed
    into one chunk: framing is by line, never by chunk."""
    s = Stack(tmp_path, kube_api, backends, nginx_factory,
              names=("a", "b", "c"), seed=seed_ab)
    n, api = s.nginx, s.api
    wait_backends(n, {"a", "b"})
    api.admin("stream", {"split": 7})
    hc, pc = s.addr("c")
    put_slice(api, slice_obj("web", "web-c", [hc], pc))
    wait_backends(n, {"a", "b", "c"})

    api.admin("stream", {"split": 0, "pack": True, "packDelay": 0.2})
    delete_slice(api, "web-a")
    delete_slice(api, "web-b")
    wait_backends(n, {"c"})


def test_bookmarks_advance_resource_version(tmp_path, kube_api, backends,
                                            nginx_factory):
    """BOOKMARK events move the resourceVersion the watch resumes from
    (shown in k8s_status) without touching endpoints."""
    s = Stack(tmp_path, kube_api, backends, nginx_factory, seed=seed_ab,
              api_args=["--bookmark-interval", "0.2"])
    n, api = s.nginx, s.api
    wait_backends(n, {"a", "b"})
    # an unrelated write moves the global resourceVersion
    svc = api.create({"apiVersion": "v1", "kind": "Service",
                      "metadata": {"name": "other", "namespace": "default"},
                      "spec": {"ports": [{"name": "http", "port": 80}]}})
    rv = int(svc["metadata"]["resourceVersion"])
    harness.wait_for(lambda: int(watcher(status(n))["resource_version"])
                     >= rv, 15, "a bookmark with resourceVersion %d" % rv)
    gen = service_status(status(n))["generation"]
    wait_backends(n, {"a", "b"})
    assert service_status(status(n))["generation"] == gen


def test_api_over_http2(tmp_path, kube_api, backends, nginx_factory,
                        readable_dir):
    """An API server that negotiates HTTP/2 (ALPN h2, as kube-apiserver
    does): here a stock nginx TLS front with http2 before the stand-in.
    The watch streams over h2 and a graceful quit is not held up."""
    crt = os.path.join(readable_dir, "front.crt")
    key = os.path.join(str(tmp_path), "front.key")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048",
                    "-nodes", "-days", "1", "-subj", "/CN=front",
                    "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", key, "-out", crt], check=True,
                   capture_output=True)
    os.chmod(crt, 0o644)
    api = kube_api(load=[], args=[])
    api_port = int(api.url.rsplit(":", 1)[1])
    front_port = harness.free_port()
    front = nginx_factory(name="front", module=False, ports=[front_port],
                          http="""
    log_format proto '$server_protocol $request_uri';
    server {
        listen 127.0.0.1:%d ssl http2;
        ssl_certificate %s;
        ssl_certificate_key %s;
        access_log %s/front.log proto;
        location / {
            proxy_pass http://127.0.0.1:%d;
            proxy_http_version 1.1;
            proxy_buffering off;
            proxy_read_timeout 1h;
        }
    }""" % (front_port, crt, key, tmp_path, api_port))
    s = Stack(tmp_path, kube_api, backends, nginx_factory,
              names=("a", "b", "c"), start_api=False, workers=2,
              api_conf=lambda st: "k8s_api https://127.0.0.1:%d ca_file=%s;"
              % (front_port, crt))
    for obj in seed_ab(s.bk):
        put_slice(api, obj)
    wait_backends(s.nginx, {"a", "b"})
    hc, pc = s.addr("c")
    put_slice(api, slice_obj("web", "web-a", [hc], pc))
    wait_backends(s.nginx, {"b", "c"})

    n = s.nginx
    n.proc.send_signal(harness.signal.SIGQUIT)
    harness.wait_for(lambda: n.proc.poll() is not None, 10,
                     "nginx to exit after SIGQUIT")
    assert "[alert]" not in n.error_log(), tail(n.error_log())
    front.stop()
    with open(os.path.join(str(tmp_path), "front.log")) as f:
        lines = f.read().splitlines()
    assert any(line.startswith("HTTP/2.0 ") and "watch=" in line
               for line in lines), lines


def test_no_api_server_configured(tmp_path, backends, nginx_factory):
    """Outside a cluster with neither a URL nor a kubeconfig: nginx runs,
    says why in the log, k8s_status shows the watch "unconfigured" and the
    Service answers 503."""
    port = harness.free_port()
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("KUBERNETES_")}
    from test_module_watch import module_conf
    n = nginx_factory(http=module_conf(port, "k8s_api token_file=/nx;"),
                      ports=[port], env=env)
    harness.wait_for(lambda: "KUBERNETES_SERVICE_HOST" in n.error_log(), 10,
                     "the reason in the error log")
    assert watcher(status(n))["state"] == "unconfigured"
    assert n.get("/").status == 503


EC = ("-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1")


def openssl(*args):
    subprocess.run(["openssl", *args], check=True, capture_output=True)


@pytest.mark.parametrize("form", ["files", "data"])
def test_client_certificate_auth(tmp_path, kube_api, backends, nginx_factory,
                                 readable_dir, form):
    """kubeconfig client-certificate/client-key (paths, or -data blobs)
    against a TLS front that requires a client certificate."""
    import base64
    t = str(tmp_path)
    srv_crt = os.path.join(readable_dir, "srv.crt")
    openssl("req", "-x509", *EC, "-nodes", "-days", "1",
            "-subj", "/CN=front", "-addext", "subjectAltName=IP:127.0.0.1",
            "-keyout", t + "/srv.key", "-out", srv_crt)
    openssl("req", "-x509", *EC, "-nodes", "-days", "1",
            "-subj", "/CN=client-ca", "-keyout", t + "/ca.key",
            "-out", t + "/ca.crt")
    openssl("req", *EC, "-nodes", "-subj", "/CN=kubengx",
            "-keyout", t + "/cl.key", "-out", t + "/cl.csr")
    openssl("x509", "-req", "-in", t + "/cl.csr", "-CA", t + "/ca.crt",
            "-CAkey", t + "/ca.key", "-CAcreateserial", "-days", "1",
            "-out", t + "/cl.crt")
    for f in ("srv.crt",):
        os.chmod(os.path.join(readable_dir, f), 0o644)

    api = kube_api(load=[])
    api_port = int(api.url.rsplit(":", 1)[1])
    front_port = harness.free_port()
    nginx_factory(name="front", module=False, ports=[front_port], http="""
    server {
        listen 127.0.0.1:%d ssl;
        ssl_certificate %s;
        ssl_certificate_key %s/srv.key;
        ssl_client_certificate %s/ca.crt;
        ssl_verify_client on;
        location / {
            proxy_pass http://127.0.0.1:%d;
            proxy_http_version 1.1;
            proxy_buffering off;
            proxy_read_timeout 1h;
        }
    }""" % (front_port, srv_crt, t, t, api_port))

    user = {}
    if form == "files":
        user["client-certificate"] = readable_copy(readable_dir,
                                                   t + "/cl.crt")
        user["client-key"] = readable_copy(readable_dir, t + "/cl.key")
    else:
        for k, f in (("client-certificate-data", "/cl.crt"),
                     ("client-key-data", "/cl.key")):
            with open(t + f, "rb") as fh:
                user[k] = base64.b64encode(fh.read()).decode()
    kc = {"apiVersion": "v1", "kind": "Config",
          "clusters": [{"name": "c", "cluster": {
              "server": "https://127.0.0.1:%d" % front_port,
              "certificate-authority": srv_crt}}],
          "users": [{"name": "u", "user": user}],
          "contexts": [{"name": "x", "context": {"cluster": "c",
                                                 "user": "u"}}],
          "current-context": "x"}
    kubeconfig = write_readable(readable_dir, "kubeconfig", json.dumps(kc))
    s = Stack(tmp_path, kube_api, backends, nginx_factory,
              names=("a", "b"), start_api=False,
              api_conf=lambda st: "k8s_api kubeconfig=%s;" % kubeconfig)
    for obj in seed_ab(s.bk):
        put_slice(api, obj)
    wait_backends(s.nginx, {"a", "b"})
    assert "client cert" in s.nginx.error_log()
    # our nginx first: the front would wait for the proxied watch
    s.nginx.stop()


def test_no_k8s_api_line_means_in_cluster(tmp_path, kube_api, backends,
                                          nginx_factory):
    """Without any k8s_api line the module uses the in-cluster settings:
    the URL from KUBERNETES_SERVICE_HOST/PORT and the service account
    files (absent on this machine: the watcher says which file it could
    not read, and nginx keeps serving with 503 "not synced")."""
    api = kube_api(tls=True)
    port = int(api.url.rsplit(":", 1)[1])
    env = dict(os.environ, KUBERNETES_SERVICE_HOST="127.0.0.1",
               KUBERNETES_SERVICE_PORT=str(port))
    s = Stack(tmp_path, kube_api, backends, nginx_factory, names=("a",),
              start_api=False, env=env, api_conf=lambda st: "")
    harness.wait_for(
        lambda: "https://127.0.0.1:%d" % port in s.nginx.error_log()
        and "/var/run/secrets/kubernetes.io/serviceaccount/"
        in s.nginx.error_log(), 15, "the in-cluster URL and files in the log")
    r = s.nginx.get("/")
    assert r.status == 503, r
