#!/usr/bin/python3
"""A stand-in Kubernetes API server for kubengx tests (Python stdlib only).

    kube_apiserver.py --listen 127.0.0.1:PORT [--load PATH]... [--tls-dir DIR]
                      [--token TOKEN] [--kubeconfig-out FILE] [--event-window N]
                      [--watch-list on|off] [--bookmark-interval S]

Serves Namespaces, Services, Secrets, Events (core and events.k8s.io),
EndpointSlices, Ingresses (+status), IngressClasses and Leases with the
list/watch/write semantics of kube-apiserver 1.32 that clients can observe,
and validates and stores what deployment manifests and Helm charts add
(workloads, RBAC, ConfigMaps, PDBs, HPAs, webhook configurations, CRDs and
their custom resources; see README.md). The first stdout line is `ready <url>`. Test knobs live under
/_admin/ (no auth); see `Admin` below.
"""

import argparse
import http.client
import json
import os
import random
import re
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time
import urllib.parse
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import admission  # noqa: E402
import apierrors  # noqa: E402
import kube_selectors  # noqa: E402
import loader  # noqa: E402
import openapi  # noqa: E402
import patch as patching  # noqa: E402
import resources  # noqa: E402
from store import Store  # noqa: E402

VERSION = {"major": "1", "minor": "32", "gitVersion": "v1.32.4", "gitCommit": "stand-in",
           "gitTreeState": "clean", "buildDate": "2025-04-22T00:00:00Z", "goVersion": "go1.23.6",
           "compiler": "gc", "platform": "linux/amd64"}

PATCH_TYPES = ("application/json-patch+json", "application/merge-patch+json",
               "application/strategic-merge-patch+json")


def _true(value):
    """strconv.ParseBool as used for `watch`, `allowWatchBookmarks`, ..."""
    return value in ("1", "t", "T", "true", "TRUE", "True")


class Settings:
    """Mutable server behaviour, changed at startup and through /_admin/."""

    def __init__(self, args):
        self.lock = threading.Lock()
        self.token = args.token
        self.watch_list = args.watch_list == "on"
        self.bookmark_interval = args.bookmark_interval
        self.min_request_timeout = args.min_request_timeout
        self.stream = {"split": 0, "pack": False, "packDelay": 0.0, "chunkDelay": 0.0,
                       "responseDelay": 0.0, "stall": False}
        self.faults = []
        self.requests = []
        self.max_requests = 2000

    def take_fault(self, method, target):
        """The first injected fault matching this request (its count decremented)."""
        with self.lock:
            for fault in self.faults:
                if fault.get("method") and fault["method"].upper() != method:
                    continue
                if fault.get("path") and not re.search(fault["path"], target):
                    continue
                if fault.get("count") is not None:
                    fault["count"] -= 1
                    if fault["count"] <= 0:
                        self.faults.remove(fault)
                return dict(fault)
        return None

    def log_request(self, handler, parsed):
        entry = {"time": time.time(), "method": handler.command, "path": parsed.path,
                 "query": dict(urllib.parse.parse_qsl(parsed.query, keep_blank_values=True)),
                 "contentType": handler.headers.get("Content-Type"),
                 "accept": handler.headers.get("Accept"),
                 "userAgent": handler.headers.get("User-Agent"),
                 "authorization": bool(handler.headers.get("Authorization"))}
        with self.lock:
            self.requests.append(entry)
            del self.requests[:-self.max_requests]


class Watch:
    """An active watch, visible to /_admin/ (listing and dropping)."""

    _ids = iter(range(1, 1 << 62))

    def __init__(self, path, query):
        self.id = next(Watch._ids)
        self.path = path
        self.query = query
        self.drop = None          # None, "abort" or "end"
        self.inject = []          # raw bytes for /_admin/inject, written as is

    def describe(self):
        return {"id": self.id, "path": self.path, "query": self.query}


class Server(ThreadingHTTPServer):
    """The HTTP(S) server: store, settings, and the set of active watches."""

    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, address, store, settings, ssl_context=None):
        super().__init__(address, Handler)
        self.store = store
        self.settings = settings
        self.ssl_context = ssl_context
        self.watches = set()

    def handle_error(self, request, client_address):
        """Quiet about clients that go away; loud about our own bugs."""
        exc = sys.exc_info()[1]
        if isinstance(exc, (ConnectionError, ssl.SSLError, socket.timeout, OSError)):
            return
        super().handle_error(request, client_address)


class StreamClosed(Exception):
    """The watch ended (client gone or dropped by /_admin/)."""


class Handler(BaseHTTPRequestHandler):
    """Routes one HTTP request: /_admin/, discovery, resources."""

    protocol_version = "HTTP/1.1"
    server_version = "kube-apiserver-stand-in"

    def setup(self):
        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if self.server.ssl_context:
            self.request = self.server.ssl_context.wrap_socket(self.request, server_side=True)
        super().setup()

    def log_message(self, fmt, *args):
        if os.environ.get("KUBE_APISERVER_VERBOSE"):
            sys.stderr.write("%s %s\n" % (self.address_string(), fmt % args))

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = lambda self: self.dispatch()

    # ------------------------------------------------------------ responses
    def send_response(self, code, message=None):
        """Like the base class, minus the `Server` header kube-apiserver never sends."""
        self.log_request(code)
        self.send_response_only(code, message)
        self.send_header("Date", self.date_time_string())
        self.send_header("Audit-Id", str(uuid.uuid4()))

    def send_json(self, code, body, headers=None):
        data = json.dumps(body, separators=(",", ":")).encode()
        delay = self.server.settings.stream["responseDelay"]
        if delay and not self.path.startswith("/_admin/"):
            time.sleep(delay)
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Cache-Control", "no-cache, private")
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def send_text(self, code, text):
        data = text.encode()
        self.send_response(code)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def send_bytes(self, code, content_type, data):
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def send_error_status(self, err):
        self.send_json(err.code, err.status(), err.headers)

    def read_body(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            data = b""
            while True:
                size = int(self.rfile.readline().split(b";")[0], 16)
                chunk = self.rfile.read(size + 2)[:size]
                if not size:
                    break
                data += chunk
            return data
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def read_json(self, required=True):
        raw = self.read_body()
        if not raw.strip() and not required:
            return None
        try:
            return json.loads(raw)
        except ValueError as e:
            raise apierrors.bad_request("couldn't get version/kind; json parse error: %s" % e)

    # ------------------------------------------------------------ dispatch
    def dispatch(self):
        parsed = urllib.parse.urlsplit(self.path)
        settings = self.server.settings
        try:
            if parsed.path.startswith("/_admin/"):
                Admin(self, parsed).handle()
                return
            settings.log_request(self, parsed)
            fault = settings.take_fault(self.command, self.path)
            if fault and fault.get("delay"):
                # a slow or unreachable server: the client's timeout decides
                time.sleep(float(fault["delay"]))
            if fault and fault.get("action") == "delay":
                fault = None
            if fault:
                self.read_body()
                if fault.get("action") == "close":
                    self.close_connection = True
                    self.request.shutdown(socket.SHUT_RDWR)
                    return
                raise apierrors.injected(fault["status"], fault.get("retryAfter"),
                                         fault.get("message"))
            token = settings.token
            if token and self.headers.get("Authorization") != "Bearer " + token:
                self.read_body()
                raise apierrors.unauthorized()
            query = dict(urllib.parse.parse_qsl(parsed.query, keep_blank_values=True))
            self.route(parsed.path, query)
        except apierrors.ApiError as err:
            self.send_error_status(err)
        except patching.PatchError as err:
            self.send_error_status(apierrors.ApiError(err.code, "Invalid" if err.code == 422
                                                      else "BadRequest", str(err)))
        except kube_selectors.SelectorError as err:
            self.send_error_status(apierrors.bad_request(str(err)))

    def route(self, path, query):
        parts = [urllib.parse.unquote(p) for p in path.strip("/").split("/") if p]
        if path in ("/healthz", "/livez", "/readyz"):
            self.send_text(200, "ok")
        elif path == "/version":
            self.send_json(200, VERSION)
        elif path == "/openapi/v2":
            self.send_bytes(200, openapi.V2_TYPE, openapi.v2())
        elif path == "/openapi/v3":
            self.send_json(200, openapi.root())
        elif path.startswith("/openapi/v3/") and openapi.lookup(path[len("/openapi/v3/"):]):
            self.send_json(200, openapi.lookup(path[len("/openapi/v3/"):]))
        elif parts == ["api"]:
            self.send_json(200, {"kind": "APIVersions", "versions": ["v1"],
                                 "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0",
                                                                 "serverAddress": "127.0.0.1:443"}]})
        elif parts == ["apis"]:
            self.send_json(200, {"kind": "APIGroupList", "apiVersion": "v1",
                                 "groups": [self.group_info(g) for g in self.groups() if g]})
        elif len(parts) == 2 and parts[0] == "apis" and parts[1] in self.groups():
            self.send_json(200, dict(self.group_info(parts[1]), kind="APIGroup", apiVersion="v1"))
        elif parts[:2] == ["api", "v1"]:
            self.route_group("", "v1", parts[2:], query)
        elif parts[:1] == ["apis"] and len(parts) >= 3 and (parts[1], parts[2]) in resources.GROUP_VERSIONS:
            self.route_group(parts[1], parts[2], parts[3:], query)
        else:
            self.read_body()
            self.send_text(404, "404 page not found\n")

    @staticmethod
    def groups():
        return sorted({g for g, _ in resources.GROUP_VERSIONS})

    @staticmethod
    def group_info(group):
        versions = [{"groupVersion": group + "/" + v, "version": v}
                    for g, v in resources.GROUP_VERSIONS if g == group]
        return {"name": group, "versions": versions, "preferredVersion": versions[0]}

    def route_group(self, group, version, rest, query):
        """/api/v1/... or /apis/G/V/...: discovery or a resource request."""
        if not rest:
            self.send_json(200, {"kind": "APIResourceList", "apiVersion": "v1",
                                 "groupVersion": (group + "/" if group else "") + version,
                                 "resources": [e for r in resources.GROUP_VERSIONS[(group, version)]
                                               for e in r.discovery()]})
            return
        ns = None
        if rest[0] == "namespaces" and len(rest) >= 3 and resources.find(group, version, rest[2]):
            ns, rest = rest[1], rest[2:]
        res = resources.find(group, version, rest[0])
        if (res is not None and res.kind == "Pod" and ns is not None and len(rest) >= 3
                and rest[2] == "proxy"):
            PodProxy(self, res, ns, rest[1]).handle()
            return
        if res is None or len(rest) > 3 or (ns is not None and not res.namespaced):
            self.read_body()
            raise apierrors.server_not_found()
        name = rest[1] if len(rest) > 1 else None
        sub = rest[2] if len(rest) > 2 else None
        if sub is not None and (sub != "status" or not res.status):
            self.read_body()
            raise apierrors.server_not_found()
        if name is not None and res.namespaced and ns is None:
            self.read_body()
            raise apierrors.server_not_found()
        Resource(self, res, ns, name, sub, query).handle()


class PodProxy:
    """GET/POST/... /api/v1/namespaces/NS/pods/NAME[:PORT]/proxy[/PATH][?QUERY]:
    the request forwarded to the pod, as kube-apiserver's pods/proxy does,
    with the pod's IP mapped to 127.0.0.1 (a test's process stands for the
    pod).  PORT: a number or a container port's name (none: 80).  The pod
    must exist and have status.podIP; the answer is the pod's status, type
    and body; a refused connection is a 503 with the real server's words."""

    HOP = {"connection", "keep-alive", "transfer-encoding", "te", "upgrade",
           "proxy-authorization", "authorization", "host", "content-length"}

    def __init__(self, handler, res, ns, name):
        self.h = handler
        self.res = res
        self.ns = ns
        self.name, _, self.port = name.partition(":")

    def target_port(self, pod):
        if not self.port:
            return 80
        if self.port.isdigit():
            return int(self.port)
        for c in pod.get("spec", {}).get("containers", []):
            for p in c.get("ports") or []:
                if p.get("name") == self.port:
                    return int(p["containerPort"])
        raise apierrors.ApiError(503, "ServiceUnavailable",
                                 'no such port "%s" on pod %s' % (self.port, self.name))

    def handle(self):
        body = self.h.read_body()
        pod = self.h.server.store.get(self.res, self.ns, self.name)
        ip = (pod.get("status") or {}).get("podIP")
        if not ip:
            raise apierrors.ApiError(503, "ServiceUnavailable",
                                     "address not allowed")
        port = self.target_port(pod)
        raw = self.h.path.split("?", 1)
        marker = "/proxy"
        at = raw[0].find(marker, raw[0].find("/pods/"))
        path = raw[0][at + len(marker):] or "/"
        if len(raw) > 1:
            path += "?" + raw[1]
        headers = {k: v for k, v in self.h.headers.items() if k.lower() not in self.HOP}
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        try:
            conn.request(self.h.command, path, body=body or None, headers=headers)
            r = conn.getresponse()
            data = r.read()
        except OSError as err:
            raise apierrors.ApiError(503, "ServiceUnavailable",
                                     "error trying to reach service: dial tcp %s:%d: %s"
                                     % (ip, port, err))
        finally:
            conn.close()
        self.h.send_bytes(r.status, r.getheader("Content-Type", "text/plain"), data)


class Resource:
    """One request on a resource collection or object."""

    def __init__(self, handler, res, ns, name, sub, query):
        self.h = handler
        self.store = handler.server.store
        self.settings = handler.server.settings
        self.res = res
        self.ns = ns
        self.name = name
        self.sub = sub
        self.query = query
        self.dry_run = query.get("dryRun") == "All"
        self.warnings = []

    def handle(self):
        method = self.h.command
        if method in ("GET", "HEAD"):
            if _true(self.query.get("watch", "")):
                self.watch()
            elif self.name is None:
                self.list()
            else:
                self.h.send_json(200, self.out(self.store.get(self.res, self.ns, self.name)))
        elif method == "POST" and self.name is None and (self.ns or not self.res.namespaced):
            body = self.field_validated(self.checked_body())
            admission.validate(self.store, self.res, self.ns, None, "CREATE", body, None,
                               self.warnings)
            obj = self.store.create(self.res, self.ns, body, self.dry_run)
            self.h.send_json(201, self.out(obj), self.warning_headers())
        elif method == "PUT" and self.name is not None:
            body = self.field_validated(self.checked_body())
            if self.sub is None:
                try:
                    old = self.store.get(self.res, self.ns, self.name)
                except apierrors.ApiError:
                    old = None
                admission.validate(self.store, self.res, self.ns, self.name,
                                   "UPDATE" if old else "CREATE", body,
                                   old and self.out(old), self.warnings)
            obj, created = self.store.update(self.res, self.ns, self.name, body,
                                             self.sub, self.dry_run)
            self.h.send_json(201 if created else 200, self.out(obj), self.warning_headers())
        elif method == "PATCH" and self.name is not None:
            self.patch()
        elif method == "DELETE" and self.name is not None and self.sub is None:
            self.delete()
        else:
            self.h.read_body()
            raise apierrors.method_not_allowed(method)

    def out(self, obj):
        return resources.from_stored(self.res, obj)

    def checked_body(self):
        body = self.h.read_json()
        if not isinstance(body, dict):
            raise apierrors.bad_request("Object 'Kind' is missing in '%s'" % json.dumps(body))
        if body.get("apiVersion", self.res.api_version) != self.res.api_version:
            raise apierrors.bad_request("the API version in the data (%s) does not match the "
                                        "expected API version (%s)"
                                        % (body["apiVersion"], self.res.api_version))
        if body.get("kind", self.res.kind) != self.res.kind:
            raise apierrors.bad_request("the kind in the data (%s) does not match the expected "
                                        "kind (%s)" % (body["kind"], self.res.kind))
        return body

    def field_validated(self, obj):
        """The object as decoding leaves it under ?fieldValidation= (schema.py):
        unknown fields dropped (Ignore), dropped with a Warning (Warn) or
        refused (Strict); wrong JSON types refused.  Requests without the
        parameter (this project's own clients) are stored as sent."""
        directive = self.query.get("fieldValidation")
        if directive is None or not isinstance(obj, dict):
            return obj
        if directive not in ("Ignore", "Warn", "Strict"):
            raise apierrors.bad_request('fieldValidation must be one of "Ignore", "Warn", '
                                        'or "Strict", got %s' % directive)
        import schema
        res = self.res
        full = dict(obj, apiVersion=res.api_version, kind=res.kind)
        name = (obj.get("metadata") or {}).get("name", self.name or "")
        cannot = '%s in version "%s" cannot be handled as a %s: ' % (res.kind, res.version,
                                                                     res.kind)
        if res.custom:
            pruned, result, errors = schema.check_custom(res.schema, full)
            if errors:
                raise apierrors.invalid(res, name, errors)
        elif schema.has_model(res.api_version, res.kind):
            pruned, result = schema.check(res.api_version, res.kind, full)
            if result.type_errors:
                path, got, want = result.type_errors[0]
                raise apierrors.bad_request(cannot + "json: cannot unmarshal %s into Go struct "
                                            "field .%s of type %s" % (got, path, want))
        else:
            return obj
        if result.unknown and directive == "Strict":
            raise apierrors.bad_request(cannot + "strict decoding error: " + ", ".join(
                'unknown field "%s"' % u for u in result.unknown))
        if directive == "Warn":
            self.warnings += ['299 - "unknown field \\"%s\\""' % u for u in result.unknown]
        for key in ("apiVersion", "kind"):
            if key not in obj:
                pruned.pop(key, None)
        return pruned

    def warning_headers(self):
        return {"Warning": ", ".join(self.warnings)} if self.warnings else None

    def patch(self):
        ctype = (self.h.headers.get("Content-Type") or "").split(";")[0].strip()
        if ctype == PATCH_TYPES[2] and self.res.custom:
            # custom resources have no patch strategy (apiextensions-apiserver)
            self.h.read_body()
            raise apierrors.ApiError(415, "UnsupportedMediaType",
                                     "the body of the request was in an unknown format - accepted "
                                     "media types include: application/json-patch+json, "
                                     "application/merge-patch+json, application/apply-patch+yaml")
        if ctype not in PATCH_TYPES:
            self.h.read_body()
            raise apierrors.ApiError(415, "UnsupportedMediaType",
                                     "the body of the request was in an unknown format - accepted "
                                     "media types include: application/json-patch+json, "
                                     "application/merge-patch+json, "
                                     "application/strategic-merge-patch+json")
        if ctype == PATCH_TYPES[2] and self.res.group == "events.k8s.io":
            ctype = PATCH_TYPES[1]
        body = self.h.read_json()
        admit = None
        if self.sub is None and admission.any_hook(self.store, self.res, "UPDATE"):
            def admit(patched, current):
                admission.validate(self.store, self.res, self.ns, self.name, "UPDATE",
                                   patched, current, self.warnings, "PatchOptions")
        obj = self.store.patch(self.res, self.ns, self.name, ctype, body, self.sub, self.dry_run,
                               self.field_validated, admit)
        self.h.send_json(200, self.out(obj), self.warning_headers())

    def delete(self):
        options = self.h.read_json(required=False) or {}
        obj, deleted = self.store.delete(self.res, self.ns, self.name, options, self.dry_run)
        if deleted and not self.res.return_deleted:
            details = {"name": self.name}
            if self.res.group:
                details["group"] = self.res.group
            details.update(kind=self.res.plural, uid=obj["metadata"]["uid"])
            self.h.send_json(200, {"kind": "Status", "apiVersion": "v1", "metadata": {},
                                   "status": "Success", "details": details})
        else:
            self.h.send_json(200, self.out(obj))

    # ------------------------------------------------------------ list
    def matcher(self):
        """Predicate for labelSelector + fieldSelector (+ the object name)."""
        labels = kube_selectors.parse_label_selector(self.query.get("labelSelector", ""))
        fields = kube_selectors.parse_field_selector(self.query.get("fieldSelector", ""),
                                                     self.res.field_labels)

        def match(obj):
            if self.name is not None and obj["metadata"]["name"] != self.name:
                return False
            return labels(obj["metadata"].get("labels")) and fields(obj)
        return match

    def validate_list_options(self):
        """apimachinery internalversion/validation ValidateListOptions."""
        q, causes = self.query, []
        match = q.get("resourceVersionMatch", "")
        if _true(q.get("watch", "")):
            if "sendInitialEvents" in q:
                if match != "NotOlderThan":
                    causes.append(("resourceVersionMatch", "sendInitialEvents requires setting "
                                   "resourceVersionMatch to NotOlderThan"))
                if not self.settings.watch_list:
                    causes.append(("sendInitialEvents", "sendInitialEvents is forbidden for "
                                   "watch unless the WatchList feature gate is enabled"))
            elif match:
                causes.append(("resourceVersionMatch", "resourceVersionMatch is forbidden for "
                               "watch unless sendInitialEvents is provided"))
        else:
            if match:
                if not q.get("resourceVersion"):
                    causes.append(("resourceVersionMatch", "resourceVersionMatch is forbidden "
                                   "unless resourceVersion is provided"))
                if q.get("continue"):
                    causes.append(("resourceVersionMatch", "resourceVersionMatch is forbidden "
                                   "when continue is provided"))
                if match == "Exact" and q.get("resourceVersion") == "0":
                    causes.append(("resourceVersionMatch", 'resourceVersionMatch "exact" is '
                                   'forbidden for resourceVersion "0"'))
            if "sendInitialEvents" in q:
                causes.append(("sendInitialEvents", "sendInitialEvents is forbidden for list"))
        if causes:
            raise apierrors.invalid_list_options(causes)

    def requested_rv(self):
        rv = self.query.get("resourceVersion", "")
        if rv in ("", "0"):
            return None
        try:
            return int(rv)
        except ValueError:
            raise apierrors.bad_request('invalid resource version "%s"' % rv)

    def list(self):
        self.validate_list_options()
        match = self.matcher()
        q = self.query
        limit = int(q.get("limit") or 0)
        rv = self.requested_rv()
        exact = None
        if q.get("resourceVersion") == "0":
            limit = 0          # served from the watch cache, which ignores limit (1.32)
        elif rv is not None:
            exact_wanted = q.get("resourceVersionMatch") == "Exact" or (
                limit and not q.get("continue") and not q.get("resourceVersionMatch"))
            if exact_wanted:
                exact = rv
            if not self.store.wait_for_rv(rv, 3.0):
                raise apierrors.too_large_rv(rv, self.store.rv)
        items, list_rv, cont, remaining = self.store.list(
            self.res, self.ns, match, limit, q.get("continue"), exact)
        meta = {"resourceVersion": str(list_rv)}
        if cont:
            meta["continue"] = cont
            if not q.get("labelSelector") and not q.get("fieldSelector"):
                meta["remainingItemCount"] = remaining
        body = {"kind": self.res.kind + "List", "apiVersion": self.res.api_version,
                "metadata": meta, "items": [self.item(o) for o in items]}
        self.h.send_json(200, body)

    def item(self, obj):
        """A list item: the object without kind/apiVersion (kubernetes#3030)."""
        out = self.out(obj)
        del out["kind"], out["apiVersion"]
        return out

    # ------------------------------------------------------------ watch
    def watch(self):
        self.validate_list_options()
        match = self.matcher()
        q = self.query
        initial_events = _true(q.get("sendInitialEvents", ""))
        bookmarks = _true(q.get("allowWatchBookmarks", ""))
        rv = self.requested_rv()
        since = rv
        if "sendInitialEvents" in q:
            since = None if initial_events else (rv if rv is not None else self.store.rv)
        try:
            sub, initial, start_rv = self.store.subscribe(self.res.storage, since)
        except apierrors.ApiError as err:
            # A too-old watch gets 200 and one ERROR event (watch cache behaviour).
            stream = Stream(self.h)
            stream.send([{"type": "ERROR", "object": err.status()}])
            stream.end()
            return
        if "timeoutSeconds" in q:
            timeout = float(q["timeoutSeconds"] or 0)
        else:
            timeout = self.settings.min_request_timeout * (1 + random.random())
        watch = Watch(self.h.path.split("?")[0], q)
        server = self.h.server
        with self.store.cond:
            server.watches.add(watch)
        stream = Stream(self.h)
        try:
            self.run_watch(stream, watch, sub, initial, start_rv, match, bookmarks,
                           initial_events, time.monotonic() + timeout)
        except StreamClosed:
            pass
        finally:
            self.store.unsubscribe(sub)
            with self.store.cond:
                server.watches.discard(watch)

    def convert(self, event, match):
        """A store event as this watch shows it, or None (cache_watcher.go)."""
        if event.storage != self.res.storage:
            return None
        if self.ns is not None and event.key[0] != self.ns:
            return None
        new_ok = event.type != "DELETED" and match(event.obj)
        old_ok = event.prev is not None and match(event.prev)
        if event.type == "DELETED":
            etype = "DELETED" if old_ok else None
            obj = event.obj
        elif new_ok:
            etype, obj = ("MODIFIED" if old_ok else "ADDED"), event.obj
        elif old_ok:
            etype, obj = "DELETED", dict(event.prev, metadata=dict(
                event.prev["metadata"], resourceVersion=str(event.rv)))
        else:
            etype = None
        return {"type": etype, "object": self.out(obj)} if etype else None

    def run_watch(self, stream, watch, sub, initial, start_rv, match, bookmarks,
                  initial_events, deadline):
        store, settings = self.store, self.settings
        pending = [e for e in (self.convert(ev, match) for ev in initial) if e]
        if initial_events and bookmarks:
            bm = resources.bookmark_object(self.res, start_rv)
            bm["metadata"]["annotations"] = {"k8s.io/initial-events-end": "true"}
            pending.append({"type": "BOOKMARK", "object": bm})
        next_bookmark = self.next_bookmark(deadline)
        while True:
            if pending:
                stream.send(pending)
            pending = []
            with store.cond:
                def ready():
                    if watch.drop or watch.inject or (sub.queue and not settings.stream["stall"]):
                        return True
                    now = time.monotonic()
                    if settings.stream["stall"]:
                        return False
                    return now >= deadline or (bookmarks and next_bookmark and now >= next_bookmark)
                wake = min(deadline, next_bookmark or deadline)
                # A stalled watch sleeps until a knob change or drop notifies it.
                store.cond.wait_for(ready, None if settings.stream["stall"]
                                    else max(0.0, wake - time.monotonic()) + 0.01)
                if watch.drop:
                    break
                raw, watch.inject = watch.inject, []
            for data in raw:
                stream.write_raw(data)
            if settings.stream["stall"] or (raw and not sub.queue):
                continue
            if settings.stream["pack"] and settings.stream["packDelay"]:
                time.sleep(settings.stream["packDelay"])
            with store.cond:
                events = list(sub.queue)
                sub.queue.clear()
                current_rv = store.rv
            pending = [e for e in (self.convert(ev, match) for ev in events) if e]
            now = time.monotonic()
            if bookmarks and next_bookmark and now >= next_bookmark:
                pending.append({"type": "BOOKMARK",
                                "object": resources.bookmark_object(self.res, current_rv)})
                next_bookmark = self.next_bookmark(deadline)
            if now >= deadline:
                if pending:
                    stream.send(pending)
                break
        if watch.drop == "abort":
            stream.abort()
        else:
            stream.end()

    def next_bookmark(self, deadline):
        """cache_watcher.go nextBookmarkTime: periodic, or 2 s before the deadline."""
        now = time.monotonic()
        beat = now + self.settings.bookmark_interval
        pre = deadline - 2.0
        if pre < beat:
            beat = pre
        return beat if beat > now else None


class Stream:
    """Newline-delimited JSON over chunked HTTP/1.1, shaped by the stream knobs."""

    def __init__(self, handler):
        self.h = handler
        self.knobs = handler.server.settings.stream
        self.chunked = handler.request_version == "HTTP/1.1"
        handler.send_response(200)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Cache-Control", "no-cache, private")
        if self.chunked:
            handler.send_header("Transfer-Encoding", "chunked")
        else:
            handler.close_connection = True
        handler.end_headers()
        handler.wfile.flush()

    def _write(self, data):
        try:
            if self.chunked:
                data = b"%x\r\n%s\r\n" % (len(data), data)
            self.h.wfile.write(data)
            self.h.wfile.flush()
        except (OSError, ValueError):
            self.h.close_connection = True
            raise StreamClosed()
        if self.knobs["chunkDelay"]:
            time.sleep(self.knobs["chunkDelay"])

    def write_raw(self, data):
        """Bytes from /_admin/inject, one chunk, not split or checked."""
        self._write(data)

    def send(self, events):
        lines = [json.dumps(e, separators=(",", ":")).encode() + b"\n" for e in events]
        split = int(self.knobs["split"] or 0)
        if split > 0:
            for line in lines:
                for i in range(0, len(line), split):
                    self._write(line[i:i + split])
        elif self.knobs["pack"]:
            self._write(b"".join(lines))
        else:
            for line in lines:
                self._write(line)

    def end(self):
        """Normal end of the response (timeout): the last chunk."""
        try:
            if self.chunked:
                self.h.wfile.write(b"0\r\n\r\n")
                self.h.wfile.flush()
        except OSError:
            self.h.close_connection = True

    def abort(self):
        """Drop the connection mid-stream (no last chunk)."""
        self.h.close_connection = True
        try:
            self.h.request.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


class Admin:
    """Test knobs under /_admin/ (JSON bodies, no auth).

    GET  /_admin/state                 RV, log floor/window, watches, knobs, faults
    POST /_admin/compact               forget all history -> {"resourceVersion": RV}
    POST /_admin/window   {"size": N}  keep the last N events
    POST /_admin/token    {"token": T} rotate the bearer token (null: no auth)
    POST /_admin/faults   {"status": 429, "path": REGEX, "method": "GET", "count": N,
                           "retryAfter": S, "message": M, "action": "close",
                           "delay": S}
                           (delay: wait S seconds first; "action": "delay"
                           then answers normally)
    DELETE /_admin/faults              clear injected faults
    POST /_admin/drop-watches {"path": REGEX, "mode": "abort"|"end"} -> {"dropped": n}
    POST /_admin/stream   {"split": BYTES, "pack": bool, "packDelay": S,
                           "chunkDelay": S, "responseDelay": S, "stall": bool}
    POST /_admin/inject   {"path": REGEX, "raw": TEXT} or {"path": REGEX, "event": OBJ}
                           write TEXT (as is) or OBJ (one JSON line) into the open
                           watches whose path matches -> {"injected": n}
    POST /_admin/watch-list {"enabled": bool}
    POST /_admin/bookmarks {"interval": S}
    GET  /_admin/requests              recent requests; DELETE clears them
    """

    def __init__(self, handler, parsed):
        self.h = handler
        self.server = handler.server
        self.settings = handler.server.settings
        self.store = handler.server.store
        self.path = parsed.path[len("/_admin/"):].strip("/")

    def handle(self):
        method = self.h.command
        body = self.h.read_json(required=False) if method in ("POST", "PUT", "DELETE") else None
        body = body or {}
        name = (method, self.path)
        handlers = {
            ("GET", "state"): self.state,
            ("POST", "compact"): self.compact,
            ("POST", "window"): lambda b: self.store.set_window(b["size"]) or self.state(b),
            ("POST", "token"): self.token,
            ("POST", "faults"): self.add_fault,
            ("DELETE", "faults"): self.clear_faults,
            ("POST", "drop-watches"): self.drop_watches,
            ("POST", "stream"): self.stream,
            ("POST", "inject"): self.inject,
            ("POST", "watch-list"): self.watch_list,
            ("POST", "bookmarks"): self.bookmarks,
            ("GET", "requests"): self.requests,
            ("DELETE", "requests"): self.clear_requests,
        }
        if name not in handlers:
            self.h.send_json(404, {"error": "no admin endpoint %s %s" % name})
            return
        try:
            self.h.send_json(200, handlers[name](body))
        except (KeyError, TypeError, ValueError) as e:
            self.h.send_json(400, {"error": "bad admin request: %r" % (e,)})

    def state(self, _body):
        with self.store.cond:
            return {"resourceVersion": self.store.rv, "floor": self.store.floor,
                    "window": self.store.window,
                    "watches": [w.describe() for w in sorted(self.server.watches,
                                                             key=lambda w: w.id)],
                    "watchList": self.settings.watch_list,
                    "bookmarkInterval": self.settings.bookmark_interval,
                    "stream": dict(self.settings.stream), "faults": list(self.settings.faults)}

    def compact(self, _body):
        return {"resourceVersion": self.store.compact()}

    def token(self, body):
        self.settings.token = body.get("token")
        return {"token": self.settings.token}

    def add_fault(self, body):
        fault = {"status": int(body.get("status", 500)), "path": body.get("path"),
                 "method": body.get("method"), "count": body.get("count"),
                 "retryAfter": body.get("retryAfter"), "message": body.get("message"),
                 "action": body.get("action"), "delay": body.get("delay")}
        if fault["path"]:
            re.compile(fault["path"])
        with self.settings.lock:
            self.settings.faults.append(fault)
        return {"faults": list(self.settings.faults)}

    def clear_faults(self, _body):
        with self.settings.lock:
            self.settings.faults.clear()
        return {"faults": []}

    def drop_watches(self, body):
        mode = body.get("mode", "abort")
        if mode not in ("abort", "end"):
            raise ValueError("mode must be abort or end")
        with self.store.cond:
            hit = [w for w in self.server.watches
                   if not body.get("path") or re.search(body["path"], w.path)]
            for w in hit:
                w.drop = mode
            self.store.cond.notify_all()
        return {"dropped": len(hit)}

    def inject(self, body):
        if "event" in body:
            data = json.dumps(body["event"], separators=(",", ":")).encode() + b"\n"
        else:
            data = body["raw"].encode()
        with self.store.cond:
            hit = [w for w in self.server.watches
                   if not body.get("path") or re.search(body["path"], w.path)]
            for w in hit:
                w.inject.append(data)
            self.store.cond.notify_all()
        return {"injected": len(hit)}

    def stream(self, body):
        knobs = self.settings.stream
        for key, value in body.items():
            if key not in knobs:
                raise KeyError(key)
            knobs[key] = type(knobs[key])(value or 0)
        with self.store.cond:
            self.store.cond.notify_all()
        return dict(knobs)

    def watch_list(self, body):
        self.settings.watch_list = bool(body["enabled"])
        return {"watchList": self.settings.watch_list}

    def bookmarks(self, body):
        self.settings.bookmark_interval = float(body["interval"])
        return {"bookmarkInterval": self.settings.bookmark_interval}

    def requests(self, _body):
        with self.settings.lock:
            return {"items": list(self.settings.requests)}

    def clear_requests(self, _body):
        with self.settings.lock:
            self.settings.requests.clear()
        return {"items": []}


# ---------------------------------------------------------------- startup
def ensure_tls(tls_dir):
    """Create ca.crt/ca.key and server.crt/server.key in tls_dir if missing."""
    os.makedirs(tls_dir, exist_ok=True)
    p = lambda name: os.path.join(tls_dir, name)  # noqa: E731
    if not all(os.path.exists(p(n)) for n in ("ca.crt", "server.crt", "server.key")):
        run = lambda *cmd: subprocess.run(cmd, check=True, capture_output=True)  # noqa: E731
        run("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "3650",
            "-subj", "/CN=stand-in-ca", "-keyout", p("ca.key"), "-out", p("ca.crt"),
            "-addext", "basicConstraints=critical,CA:TRUE",
            "-addext", "keyUsage=critical,keyCertSign,cRLSign")
        run("openssl", "req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=kube-apiserver",
            "-keyout", p("server.key"), "-out", p("server.csr"))
        with open(p("server.ext"), "w") as f:
            f.write("subjectAltName=DNS:localhost,DNS:kubernetes.default.svc,IP:127.0.0.1\n"
                    "extendedKeyUsage=serverAuth\nkeyUsage=critical,digitalSignature,"
                    "keyEncipherment\n")
        run("openssl", "x509", "-req", "-in", p("server.csr"), "-CA", p("ca.crt"),
            "-CAkey", p("ca.key"), "-CAcreateserial", "-days", "3650",
            "-extfile", p("server.ext"), "-out", p("server.crt"))
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(p("server.crt"), p("server.key"))
    ctx.set_alpn_protocols(["http/1.1"])
    return ctx, os.path.abspath(p("ca.crt"))


def write_kubeconfig(path, url, ca_file, token):
    """A kubeconfig (JSON, which is valid YAML) for kubectl, python and our C code."""
    cluster = {"server": url}
    if ca_file:
        cluster["certificate-authority"] = ca_file
    user = {"token": token} if token else {}
    config = {"apiVersion": "v1", "kind": "Config", "preferences": {},
              "clusters": [{"name": "stand-in", "cluster": cluster}],
              "users": [{"name": "stand-in", "user": user}],
              "contexts": [{"name": "stand-in",
                            "context": {"cluster": "stand-in", "user": "stand-in"}}],
              "current-context": "stand-in"}
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(config, f, indent=2)
    os.replace(tmp, path)


def preload(store, paths):
    """--load: create every served object; namespaces are created as needed."""
    ns_res = resources.find("", "v1", "namespaces")
    objects = list(loader.load(paths))
    objects.sort(key=lambda wo: (wo[1].get("kind") != "Namespace",
                                 wo[1].get("kind") != "CustomResourceDefinition"))
    for where, obj in objects:
        res = resources.BY_KIND.get((obj.get("apiVersion"), obj.get("kind")))
        if res is None:
            sys.stderr.write("kube-apiserver: %s: skipping %s/%s (not served)\n"
                             % (where, obj.get("apiVersion"), obj.get("kind")))
            continue
        ns = None
        if res.namespaced:
            ns = (obj.get("metadata") or {}).get("namespace") or "default"
            if ("", ns) not in store.objects["namespaces"]:
                store.create(ns_res, None, {"metadata": {"name": ns}})
        try:
            store.create(res, ns, obj)
        except apierrors.ApiError as err:
            raise loader.LoadError("%s: %s" % (where, err.message))


def parse_args(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--listen", required=True, help="HOST:PORT (port 0 picks a free port)")
    ap.add_argument("--load", action="append", default=[], help="manifest file or directory")
    ap.add_argument("--tls-dir", help="serve HTTPS with the CA and cert here (created if missing)")
    ap.add_argument("--token", help="require Authorization: Bearer TOKEN")
    ap.add_argument("--kubeconfig-out", help="write a kubeconfig for this server")
    ap.add_argument("--event-window", type=int, default=1000, help="events kept for watch resume")
    ap.add_argument("--watch-list", choices=("on", "off"), default="on",
                    help="serve sendInitialEvents (on, as 1.32) or refuse it with 422 (off)")
    ap.add_argument("--bookmark-interval", type=float, default=60.0,
                    help="seconds between periodic BOOKMARK events")
    ap.add_argument("--min-request-timeout", type=float, default=1800.0,
                    help="watch timeout when timeoutSeconds is absent (times rand[1,2))")
    return ap.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    host, _, port = args.listen.rpartition(":")
    store = Store(window=args.event_window)
    try:
        preload(store, args.load)
    except (loader.LoadError, OSError) as e:
        sys.stderr.write("kube-apiserver: %s\n" % e)
        return 2
    ssl_context, ca_file = ensure_tls(args.tls_dir) if args.tls_dir else (None, None)
    server = Server((host.strip("[]"), int(port)), store, Settings(args), ssl_context)
    bound_port = server.server_address[1]
    url = "%s://%s:%d" % ("https" if ssl_context else "http",
                          "[%s]" % host.strip("[]") if ":" in host else host, bound_port)
    if args.kubeconfig_out:
        write_kubeconfig(args.kubeconfig_out, url, ca_file, args.token)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    print("ready " + url, flush=True)
    try:
        server.serve_forever(poll_interval=0.2)
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
