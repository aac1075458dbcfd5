"""Raw-HTTP checks of the stand-in API server's semantics that kubectl and the
python client do not reach: paging, RV rules, watch framing and events,
bookmarks, sendInitialEvents, errors, fault knobs, TLS + token.
"""

import json
import os
import socket
import ssl
import sys
import time
import urllib.parse

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from apiserver import ApiError, KubeAPI  # noqa: E402

NS = "/api/v1/namespaces"
SVCS = "/api/v1/namespaces/default/services"
SLICES = "/apis/discovery.k8s.io/v1/namespaces/default/endpointslices"
INGS = "/apis/networking.k8s.io/v1/namespaces/default/ingresses"
LEASES = "/apis/coordination.k8s.io/v1/namespaces/default/leases"


@pytest.fixture
def api(tmp_path):
    server = KubeAPI.start(tmp_path)
    yield server
    server.stop()


def service(name, labels=None, port=80):
    return {"apiVersion": "v1", "kind": "Service",
            "metadata": {"name": name, "namespace": "default", "labels": labels or {}},
            "spec": {"ports": [{"name": "http", "port": port}], "selector": {"app": name}}}


def ingress(name, host="a.example.com"):
    return {"apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
            "metadata": {"name": name, "namespace": "default"},
            "spec": {"rules": [{"host": host, "http": {"paths": [{
                "path": "/", "pathType": "Prefix",
                "backend": {"service": {"name": "web", "port": {"number": 80}}}}]}}]}}


class RawStream:
    """A watch read straight off the socket, keeping HTTP chunk boundaries."""

    def __init__(self, api, path, deadline=10.0, token=None):
        host, port = urllib.parse.urlsplit(api.url).netloc.rsplit(":", 1)
        sock = socket.create_connection((host, int(port)), timeout=deadline)
        if api.url.startswith("https"):
            sock = ssl.create_default_context(cafile=api.ca_file).wrap_socket(
                sock, server_hostname=host)
        token = api.token if token is None else token
        auth = "Authorization: Bearer %s\r\n" % token if token else ""
        sock.sendall(("GET %s HTTP/1.1\r\nHost: %s\r\n%s\r\n" % (path, host, auth)).encode())
        self.file = sock.makefile("rb")
        self.sock = sock
        self.end = time.monotonic() + deadline
        self.status = int(self.file.readline().split()[1])
        self.headers = {}
        while True:
            line = self.file.readline().decode().strip()
            if not line:
                break
            name, value = line.split(":", 1)
            self.headers[name.lower()] = value.strip()
        self.chunks = []
        self.finished = False      # saw the terminating 0-length chunk

    def chunk(self):
        """The next chunk's payload; None at the end; raises on a cut stream."""
        self.sock.settimeout(max(0.01, self.end - time.monotonic()))
        size_line = self.file.readline()
        if not size_line:
            raise ConnectionError("stream cut before the last chunk")
        size = int(size_line.split(b";")[0], 16)
        data = self.file.read(size + 2)
        if len(data) < size + 2:
            raise ConnectionError("stream cut inside a chunk")
        if size == 0:
            self.finished = True
            return None
        self.chunks.append(data[:size])
        return data[:size]

    def events(self, until=None):
        """Events until the stream ends or until(events) is true."""
        buf, out = b"", []
        while not (until and until(out)):
            data = self.chunk()
            if data is None:
                break
            buf += data
            while b"\n" in buf:
                line, buf = buf.split(b"\n", 1)
                out.append(json.loads(line))
        return out

    def close(self):
        self.sock.close()


def types(events):
    return [(e["type"], e["object"]["metadata"].get("name")) for e in events]


# ---------------------------------------------------------------- discovery
def test_discovery_is_plain_json_even_when_aggregated_is_asked(api):
    import urllib.request
    req = urllib.request.Request(api.url + "/apis", headers={
        "Accept": "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,"
                  "application/json"})
    with urllib.request.urlopen(req, timeout=5) as resp:
        assert resp.headers["Content-Type"] == "application/json"
        groups = {g["name"] for g in json.load(resp)["groups"]}
    assert {"discovery.k8s.io", "networking.k8s.io", "coordination.k8s.io",
            "events.k8s.io"} <= groups
    core = {r["name"]: r for r in api.get("/api/v1")["resources"]}
    assert {"services", "secrets", "namespaces", "events"} <= set(core)
    net = {r["name"]: r for r in api.get("/apis/networking.k8s.io/v1")["resources"]}
    assert net["ingresses/status"]["verbs"] == ["get", "patch", "update"]
    assert net["ingressclasses"]["namespaced"] is False
    assert api.get("/version")["gitVersion"].startswith("v1.32")
    # OpenAPI v3 only says which PATCH operations take fieldValidation
    # (tests/kube-apiserver/openapi.py)
    paths = api.get("/openapi/v3")["paths"]
    doc = api.get(paths["apis/networking.k8s.io/v1"]["serverRelativeURL"])
    patch = doc["paths"]["/apis/networking.k8s.io/v1/namespaces/{namespace}/ingresses/{name}"][
        "patch"]
    assert patch["x-kubernetes-group-version-kind"] == {
        "group": "networking.k8s.io", "version": "v1", "kind": "Ingress"}
    assert "fieldValidation" in [p["name"] for p in patch["parameters"]]
    assert doc["components"]["schemas"] == {}


# ---------------------------------------------------------------- store + list
def test_global_rv_list_shape_and_null_endpoints(api):
    svc = api.create(service("web"))
    eps = api.create({"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
                      "metadata": {"generateName": "web-", "namespace": "default",
                                   "labels": {"kubernetes.io/service-name": "web"}},
                      "addressType": "IPv4"})
    assert eps["metadata"]["name"].startswith("web-") and len(eps["metadata"]["name"]) == 9
    assert int(eps["metadata"]["resourceVersion"]) == int(svc["metadata"]["resourceVersion"]) + 1
    assert eps["metadata"]["generation"] == 1 and eps["endpoints"] is None
    lst = api.get("/apis/discovery.k8s.io/v1/endpointslices")
    assert lst["kind"] == "EndpointSliceList" and lst["apiVersion"] == "discovery.k8s.io/v1"
    item = lst["items"][0]
    assert "kind" not in item and "apiVersion" not in item
    assert item["endpoints"] is None and item["ports"] is None
    svcs = api.get(SVCS)
    assert int(svcs["metadata"]["resourceVersion"]) >= int(eps["metadata"]["resourceVersion"])
    assert svcs["items"][0]["spec"]["ports"][0] == {"name": "http", "port": 80,
                                                    "protocol": "TCP", "targetPort": 80}


def test_label_and_field_selectors(api):
    api.create(service("a", {"tier": "web", "env": "prod"}))
    api.create(service("b", {"tier": "db"}))
    api.create(service("c", {"env": "dev"}))
    for selector, names in [("tier=web", ["a"]), ("tier==db", ["b"]), ("tier!=web", ["b", "c"]),
                            ("tier in (web,db)", ["a", "b"]), ("env notin (prod)", ["b", "c"]),
                            ("env", ["a", "c"]), ("!env", ["b"]), ("tier,env=prod", ["a"])]:
        got = api.get(SVCS + "?labelSelector=" + urllib.parse.quote(selector))
        assert [i["metadata"]["name"] for i in got["items"]] == names, selector
    got = api.get("/api/v1/services?fieldSelector=metadata.name%3Db")
    assert [i["metadata"]["name"] for i in got["items"]] == ["b"]
    api.create({"apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/tls",
                "metadata": {"name": "t", "namespace": "default"},
                "data": {"tls.crt": "", "tls.key": ""}})
    api.create({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "o",
                                                                     "namespace": "default"}})
    got = api.get("/api/v1/secrets?fieldSelector=type%3Dkubernetes.io%2Ftls")
    assert [i["metadata"]["name"] for i in got["items"]] == ["t"]
    with pytest.raises(ApiError) as err:
        api.get(SVCS + "?fieldSelector=spec.clusterIP%3Dx")
    assert err.value.status == 400 and "field label not supported" in err.value.body["message"]


def test_paging_is_a_consistent_snapshot_and_expires(api):
    for i in range(5):
        api.create(service("s%d" % i))
    first = api.get(SVCS + "?limit=2")
    rv = first["metadata"]["resourceVersion"]
    assert len(first["items"]) == 2 and first["metadata"]["remainingItemCount"] == 3
    api.create(service("s9"))                          # after the snapshot: not listed
    api.delete(SVCS + "/s4")                           # deleted later: still listed
    names = [i["metadata"]["name"] for i in first["items"]]
    token = first["metadata"]["continue"]
    while token:
        page = api.get(SVCS + "?limit=2&continue=" + token)
        assert page["metadata"]["resourceVersion"] == rv
        names += [i["metadata"]["name"] for i in page["items"]]
        token = page["metadata"].get("continue")
    assert names == ["s0", "s1", "s2", "s3", "s4"]
    # resourceVersion=0 is served from the watch cache, which ignores limit.
    assert len(api.get(SVCS + "?limit=2&resourceVersion=0")["items"]) == 5
    # A token whose RV was compacted: 410 Expired with an inconsistent-continue token.
    stale = api.get(SVCS + "?limit=2")["metadata"]["continue"]
    api.create(service("s10"))
    api.admin("compact", {})
    with pytest.raises(ApiError) as err:
        api.get(SVCS + "?limit=2&continue=" + stale)
    assert err.value.status == 410 and err.value.body["reason"] == "Expired"
    assert err.value.body["metadata"]["continue"]
    rest = api.get(SVCS + "?limit=50&continue=" + err.value.body["metadata"]["continue"])
    assert "s10" in [i["metadata"]["name"] for i in rest["items"]]


def test_list_option_validation(api):
    for query, text in [("resourceVersionMatch=NotOlderThan", "forbidden unless resourceVersion"),
                        ("resourceVersion=0&resourceVersionMatch=Exact", 'forbidden for resourceVersion "0"'),
                        ("sendInitialEvents=true", "sendInitialEvents is forbidden for list")]:
        with pytest.raises(ApiError) as err:
            api.get(SVCS + "?" + query)
        assert err.value.status == 422 and text in err.value.body["message"], query


# ---------------------------------------------------------------- writes
def test_write_errors_and_generation(api):
    ing = api.create(ingress("shop"))
    assert ing["metadata"]["generation"] == 1 and ing["status"] == {"loadBalancer": {}}
    with pytest.raises(ApiError) as err:
        api.create(ingress("shop"))
    assert err.value.status == 409 and err.value.body["reason"] == "AlreadyExists"
    with pytest.raises(ApiError) as err:
        api.get(INGS + "/nope")
    assert err.value.body == {"kind": "Status", "apiVersion": "v1", "metadata": {},
                              "status": "Failure", "reason": "NotFound", "code": 404,
                              "message": 'ingresses.networking.k8s.io "nope" not found',
                              "details": {"name": "nope", "group": "networking.k8s.io",
                                          "kind": "ingresses"}}
    # Label change: new RV, same generation. Same content again: no write at all.
    labelled = api.patch(INGS + "/shop", {"metadata": {"labels": {"a": "b"}}})
    assert labelled["metadata"]["generation"] == 1
    assert labelled["metadata"]["resourceVersion"] != ing["metadata"]["resourceVersion"]
    again = api.patch(INGS + "/shop", {"metadata": {"labels": {"a": "b"}}})
    assert again["metadata"]["resourceVersion"] == labelled["metadata"]["resourceVersion"]
    # Status sent to the main endpoint is ignored; spec sent to /status is ignored.
    ignored = api.patch(INGS + "/shop", {"status": {"loadBalancer": {"ingress": [{"ip": "1.1.1.1"}]}}})
    assert ignored["status"] == {"loadBalancer": {}}
    status = api.patch(INGS + "/shop/status", {"spec": {"rules": None},
                                                "status": {"loadBalancer": {"ingress": [{"ip": "192.0.2.1"}]}}})
    assert status["spec"] == ing["spec"] and status["metadata"]["generation"] == 1
    assert status["status"]["loadBalancer"]["ingress"] == [{"ip": "192.0.2.1"}]
    changed = api.patch(INGS + "/shop", [{"op": "replace", "path": "/spec/rules/0/host",
                                          "value": "b.example.com"}], patch_type="json")
    assert changed["metadata"]["generation"] == 2
    # PUT with a stale RV: 409 Conflict with the real message.
    stale = dict(ing, metadata=dict(ing["metadata"]))
    with pytest.raises(ApiError) as err:
        api.replace(stale)
    assert err.value.status == 409 and err.value.body["message"] == (
        'Operation cannot be fulfilled on ingresses.networking.k8s.io "shop": the object has '
        "been modified; please apply your changes to the latest version and try again")
    with pytest.raises(ApiError) as err:
        api.create(dict(ingress("bad"), spec={"rules": [{"http": {"paths": [
            {"path": "/", "backend": {"service": {"name": "x", "port": {"number": 1}}}}]}}]}))
    assert err.value.status == 422 and "pathType" in err.value.body["message"]
    gone = api.delete(INGS + "/shop")
    assert gone["kind"] == "Status" and gone["status"] == "Success"
    assert gone["details"]["uid"] == ing["metadata"]["uid"]
    svc = api.create(service("web"))
    assert api.delete(SVCS + "/web")["metadata"]["uid"] == svc["metadata"]["uid"]


def test_lease_needs_rv_and_namespace_must_exist(api):
    lease = {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
             "metadata": {"name": "leader", "namespace": "default"},
             "spec": {"holderIdentity": "a", "leaseDurationSeconds": 15}}
    created = api.replace(lease)                      # Leases allow create on update
    assert created["spec"]["holderIdentity"] == "a"
    with pytest.raises(ApiError) as err:
        api.replace(lease)                            # no RV: unconditional update refused
    assert err.value.status == 422
    with pytest.raises(ApiError) as err:
        api.create(dict(service("x"), metadata={"name": "x", "namespace": "nope"}))
    assert err.value.status == 404 and err.value.body["message"] == 'namespaces "nope" not found'


# ---------------------------------------------------------------- watch
def test_watch_replay_transitions_and_deletion_rv(api):
    start = api.get(SVCS)["metadata"]["resourceVersion"]
    api.create(service("a", {"app": "x"}))
    api.patch(SVCS + "/a", {"metadata": {"labels": {"app": "y"}}})    # leaves the selection
    api.patch(SVCS + "/a", {"metadata": {"labels": {"app": "x"}}})    # enters again
    api.patch(SVCS + "/a", {"spec": {"ports": [{"port": 81}]}})
    deleted = api.get(SVCS + "/a")
    api.delete(SVCS + "/a")
    final_rv = int(api.get(SVCS)["metadata"]["resourceVersion"])
    stream = RawStream(api, SVCS + "?watch=1&labelSelector=app%3Dx&timeoutSeconds=1"
                                   "&resourceVersion=" + start)
    try:
        assert stream.status == 200 and stream.headers["transfer-encoding"] == "chunked"
        events = stream.events()
    finally:
        stream.close()
    assert [e["type"] for e in events] == ["ADDED", "DELETED", "ADDED", "MODIFIED", "DELETED"]
    assert events[1]["object"]["metadata"]["labels"] == {"app": "x"}       # old content...
    assert int(events[1]["object"]["metadata"]["resourceVersion"]) > int(
        events[0]["object"]["metadata"]["resourceVersion"])                 # ...new RV
    assert all(e["object"]["kind"] == "Service" for e in events)
    assert events[-1]["object"]["metadata"]["resourceVersion"] == str(final_rv)
    assert events[-1]["object"]["spec"] == deleted["spec"]
    assert stream.finished                                                 # normal end


def test_watch_without_rv_sends_synthetic_added_then_live(api):
    api.create(service("old"))
    stream = RawStream(api, SVCS + "?watch=true&timeoutSeconds=5")
    try:
        assert types(stream.events(until=lambda ev: len(ev) == 1)) == [("ADDED", "old")]
        api.create(service("new"))
        assert types(stream.events(until=lambda ev: len(ev) == 1)) == [("ADDED", "new")]
    finally:
        stream.close()


def test_watch_from_compacted_rv_is_200_with_error_event(api):
    old = api.get(SVCS)["metadata"]["resourceVersion"]
    api.create(service("a"))
    floor = api.admin("compact", {})["resourceVersion"]
    stream = RawStream(api, SVCS + "?watch=1&resourceVersion=" + old)
    try:
        events = stream.events()
    finally:
        stream.close()
    assert stream.status == 200 and stream.finished
    assert events == [{"type": "ERROR", "object": {
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "message": "too old resource version: %s (%d)" % (old, floor),
        "reason": "Expired", "code": 410}}]


def test_bookmarks_only_when_asked_and_before_the_deadline(api):
    rv = api.get(SVCS)["metadata"]["resourceVersion"]
    stream = RawStream(api, SVCS + "?watch=1&timeoutSeconds=3&allowWatchBookmarks=true"
                                   "&resourceVersion=" + rv)
    quiet = RawStream(api, SVCS + "?watch=1&timeoutSeconds=3&resourceVersion=" + rv)
    try:
        api.create(service("a"))
        events = stream.events()
        assert quiet.events() == [e for e in events if e["type"] != "BOOKMARK"]
    finally:
        stream.close()
        quiet.close()
    assert [e["type"] for e in events] == ["ADDED", "BOOKMARK"]   # at deadline - 2 s
    bookmark = events[1]["object"]
    assert bookmark["kind"] == "Service" and bookmark["metadata"]["creationTimestamp"] is None
    assert int(bookmark["metadata"]["resourceVersion"]) >= int(
        events[0]["object"]["metadata"]["resourceVersion"])
    api.admin("bookmarks", {"interval": 0.2})
    stream = RawStream(api, "/apis/discovery.k8s.io/v1/endpointslices?watch=1&timeoutSeconds=3"
                            "&allowWatchBookmarks=1&resourceVersion=" + rv)
    try:
        events = stream.events(until=lambda ev: len(ev) == 3)
    finally:
        stream.close()
    assert {e["type"] for e in events} == {"BOOKMARK"}
    assert events[0]["object"]["endpoints"] is None


def test_send_initial_events_on_and_off(api):
    api.create(service("a"))
    path = (SVCS + "?watch=1&sendInitialEvents=true&resourceVersionMatch=NotOlderThan"
            "&allowWatchBookmarks=true&timeoutSeconds=5")
    stream = RawStream(api, path)
    try:
        events = stream.events(until=lambda ev: ev and ev[-1]["type"] == "BOOKMARK")
    finally:
        stream.close()
    assert types(events)[0] == ("ADDED", "a")
    end = events[-1]["object"]["metadata"]
    assert end["annotations"] == {"k8s.io/initial-events-end": "true"}
    assert end["resourceVersion"] == api.get(SVCS)["metadata"]["resourceVersion"]
    api.admin("watch-list", {"enabled": False})
    with pytest.raises(ApiError) as err:
        api.get(path)
    assert err.value.status == 422 and err.value.body["reason"] == "Invalid"
    assert "sendInitialEvents is forbidden for watch unless the WatchList feature gate is " \
           "enabled" in err.value.body["message"]
    with pytest.raises(ApiError) as err:
        api.get(SVCS + "?watch=1&sendInitialEvents=true")
    assert "requires setting resourceVersionMatch to NotOlderThan" in err.value.body["message"]


def test_chunk_split_and_pack_knobs(api):
    rv = api.get(SVCS)["metadata"]["resourceVersion"]
    api.create(service("a"))
    api.create(service("b"))
    api.admin("stream", {"split": 1})
    stream = RawStream(api, SVCS + "?watch=1&timeoutSeconds=1&resourceVersion=" + rv)
    try:
        events = stream.events()
    finally:
        stream.close()
    assert types(events) == [("ADDED", "a"), ("ADDED", "b")]
    assert {len(c) for c in stream.chunks} == {1}                 # every byte its own chunk
    api.admin("stream", {"split": 0, "pack": True})
    stream = RawStream(api, SVCS + "?watch=1&timeoutSeconds=1&resourceVersion=" + rv)
    try:
        events = stream.events()
    finally:
        stream.close()
    assert len(events) == 2 and len(stream.chunks) == 1           # both events, one chunk


def test_drop_stall_and_timeout(api):
    rv = api.get(SVCS)["metadata"]["resourceVersion"]
    stream = RawStream(api, SVCS + "?watch=1&timeoutSeconds=30&resourceVersion=" + rv)
    try:
        api.wait_for_watches(1)
        assert api.admin("drop-watches", {"path": "services"})["dropped"] == 1
        with pytest.raises(ConnectionError):
            stream.events()
    finally:
        stream.close()
    api.admin("stream", {"stall": True})
    stream = RawStream(api, SVCS + "?watch=1&timeoutSeconds=1", deadline=1.5)
    try:
        assert stream.status == 200
        api.create(service("a"))
        with pytest.raises(socket.timeout):                       # headers, then nothing
            stream.events()
    finally:
        stream.close()
        api.admin("stream", {"stall": False})
    api.admin("drop-watches", {})


def test_fault_injection_and_request_log(api):
    api.admin("faults", {"status": 429, "retryAfter": 2, "path": "/services", "method": "GET",
                         "count": 2})
    for _ in range(2):
        with pytest.raises(ApiError) as err:
            api.get(SVCS)
        assert err.value.status == 429 and err.value.body["details"]["retryAfterSeconds"] == 2
    api.get(SVCS)                                                  # count used up
    api.create(service("a"))                                       # POST never matched
    api.admin("faults", {"status": 503, "path": "ingresses"})
    with pytest.raises(ApiError) as err:
        api.get(INGS)
    assert err.value.status == 503
    api.admin("faults", method="DELETE")
    api.get(INGS)
    seen = [(r["method"], r["path"]) for r in api.requests_seen()]
    assert seen.count(("GET", SVCS)) == 3 and ("POST", SVCS) in seen


def test_tls_and_token_rotation(tmp_path):
    with KubeAPI.start(tmp_path, tls=True, token="one") as api:
        assert api.url.startswith("https://127.0.0.1:")
        assert api.get("/api")["versions"] == ["v1"]
        with pytest.raises(ApiError) as err:
            api.get("/api/v1/services", token="wrong")
        assert err.value.status == 401 and err.value.body["reason"] == "Unauthorized"
        api.admin("token", {"token": "two"})
        with pytest.raises(ApiError) as err:
            api.get("/api/v1/services")
        assert err.value.status == 401
        assert api.get("/api/v1/services", token="two")["kind"] == "ServiceList"
        stream = RawStream(api, SVCS + "?watch=1&timeoutSeconds=1", token="two")
        try:
            assert stream.status == 200 and stream.events() == []
        finally:
            stream.close()
        config = json.load(open(api.kubeconfig))
        assert config["clusters"][0]["cluster"]["certificate-authority"] == api.ca_file
        assert config["users"][0]["user"]["token"] == "one"
