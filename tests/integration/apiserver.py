"""Start the stand-in Kubernetes API server for a test and talk to it.

    api = KubeAPI.start(tmp_path, load=[...], tls=False, token=None)
    try:
        api.create({"apiVersion": "v1", "kind": "Service", ...})
        api.patch("/api/v1/namespaces/default/services/web", {"metadata": {...}})
        api.admin("compact")
    finally:
        api.stop()

`KubeAPI` is also a context manager. Requests go through urllib with the
server's CA and token; API errors raise `ApiError` carrying the Status body.
"""

import json
import os
import select
import ssl
import subprocess
import time
import urllib.error
import urllib.request

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SERVER = os.path.join(REPO, "tests", "kube-apiserver", "kube_apiserver.py")
PYTHON = "/usr/bin/python3"

_GROUPS = {"v1": "/api/v1"}
_PLURALS = {"Namespace": "namespaces", "Service": "services", "Secret": "secrets",
            "ConfigMap": "configmaps",
            "Event": "events", "EndpointSlice": "endpointslices", "Ingress": "ingresses",
            "IngressClass": "ingressclasses", "Lease": "leases"}
_CLUSTER_SCOPED = {"Namespace", "IngressClass"}


class ApiError(Exception):
    """A non-2xx answer from the API; `status` is the HTTP code, `body` the Status."""

    def __init__(self, status, body):
        super().__init__("HTTP %d: %s" % (status, body))
        self.status = status
        self.body = body


def object_path(obj, name=True):
    """The REST path of a manifest (its collection when name=False)."""
    api_version, kind = obj["apiVersion"], obj["kind"]
    prefix = _GROUPS.get(api_version, "/apis/" + api_version)
    meta = obj.get("metadata") or {}
    path = prefix
    if kind not in _CLUSTER_SCOPED:
        path += "/namespaces/" + (meta.get("namespace") or "default")
    path += "/" + _PLURALS[kind]
    if name:
        path += "/" + meta["name"]
    return path


class KubeAPI:
    """A running stand-in: `.url`, `.kubeconfig`, `.ca_file`, `.token`, `.process`."""

    def __init__(self, process, url, kubeconfig, ca_file, token, workdir):
        self.process = process
        self.url = url
        self.kubeconfig = kubeconfig
        self.ca_file = ca_file
        self.token = token
        self.workdir = workdir
        self._ssl = ssl.create_default_context(cafile=ca_file) if ca_file else None

    @classmethod
    def start(cls, tmp_path, load=(), tls=False, token=None, args=(), deadline=20.0):
        """Start the server on a free loopback port; wait for `ready <url>`.

        tmp_path: a directory for the kubeconfig, TLS files and server log.
        load: manifest files/dirs for --load. args: extra command-line flags.
        Raises RuntimeError (with the server's stderr) if it is not ready in time.
        """
        tmp_path = str(tmp_path)
        os.makedirs(tmp_path, exist_ok=True)
        kubeconfig = os.path.join(tmp_path, "kubeconfig")
        cmd = [PYTHON, SERVER, "--listen", "127.0.0.1:0", "--kubeconfig-out", kubeconfig]
        for path in load:
            cmd += ["--load", str(path)]
        tls_dir = os.path.join(tmp_path, "tls") if tls else None
        if tls:
            cmd += ["--tls-dir", tls_dir]
        if token:
            cmd += ["--token", token]
        cmd += list(args)
        stderr = open(os.path.join(tmp_path, "kube-apiserver.log"), "w+")
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=stderr, text=True)
        try:
            line = _readline(proc.stdout, time.monotonic() + deadline)
            if not line.startswith("ready "):
                raise RuntimeError("stand-in did not start: %r" % line)
        except BaseException:
            proc.kill()
            proc.wait()
            stderr.seek(0)
            raise RuntimeError("kube-apiserver stand-in failed to start:\n" + stderr.read())
        api = cls(proc, line.split()[1], kubeconfig,
                  os.path.join(tls_dir, "ca.crt") if tls else None, token, tmp_path)
        api._stderr = stderr
        return api

    def stop(self):
        """Terminate the server (SIGTERM, then SIGKILL after 5 s)."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process.stdout.close()
        self._stderr.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()

    # ------------------------------------------------------------ HTTP
    def request(self, method, path, body=None, content_type="application/json",
                token=None, timeout=10.0):
        """One API call; returns the decoded JSON body (ApiError on non-2xx).

        token: overrides the configured token ("" sends none).
        """
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.url + path, data=data, method=method)
        if data is not None:
            req.add_header("Content-Type", content_type)
        token = self.token if token is None else token
        if token:
            req.add_header("Authorization", "Bearer " + token)
        try:
            with urllib.request.urlopen(req, timeout=timeout, context=self._ssl) as resp:
                raw = resp.read()
        except urllib.error.HTTPError as e:
            raw = e.read()
            try:
                detail = json.loads(raw)
            except ValueError:
                detail = raw.decode(errors="replace")
            raise ApiError(e.code, detail) from None
        return json.loads(raw) if raw else None

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def create(self, obj, **kw):
        """POST a manifest to its collection; returns the created object."""
        return self.request("POST", object_path(obj, name=False), obj, **kw)

    def replace(self, obj, **kw):
        """PUT a manifest (with its metadata.resourceVersion, if any)."""
        return self.request("PUT", object_path(obj), obj, **kw)

    def patch(self, path, patch, patch_type="merge", **kw):
        """PATCH `path`; patch_type: merge, json or strategic."""
        ctype = {"merge": "application/merge-patch+json", "json": "application/json-patch+json",
                 "strategic": "application/strategic-merge-patch+json"}[patch_type]
        return self.request("PATCH", path, patch, content_type=ctype, **kw)

    def delete(self, path, **kw):
        return self.request("DELETE", path, **kw)

    def admin(self, name, body=None, method=None):
        """Call /_admin/NAME (POST when a body is given, else GET)."""
        method = method or ("POST" if body is not None else "GET")
        return self.request(method, "/_admin/" + name, body, token="")

    def requests_seen(self):
        """The server's log of API requests (method, path, query, headers)."""
        return self.admin("requests")["items"]

    def wait_for_watches(self, count=1, path=None, deadline=10.0):
        """Wait until >= count watches (on paths containing `path`) are open."""
        end = time.monotonic() + deadline
        while True:
            watches = [w for w in self.admin("state")["watches"]
                       if path is None or path in w["path"]]
            if len(watches) >= count:
                return watches
            if time.monotonic() > end:
                raise TimeoutError("only %d watches open: %r" % (len(watches), watches))
            time.sleep(0.02)


def _readline(stream, deadline):
    """Read one line from a pipe, giving up at `deadline` (monotonic)."""
    buf = ""
    fd = stream.fileno()
    while not buf.endswith("\n"):
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([fd], [], [], left)[0]:
            raise TimeoutError("no line before the deadline (got %r)" % buf)
        ch = os.read(fd, 1).decode()
        if not ch:
            raise EOFError("process closed stdout (got %r)" % buf)
        buf += ch
    return buf.strip()

