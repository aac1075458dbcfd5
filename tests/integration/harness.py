"""Test harness shared by the integration tests: real nginx processes with
their own prefix, backends that say who they are, and waiting for a
condition with a deadline.  conftest.py turns these into fixtures."""

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import http.client

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
BUILD = os.environ.get("KUBENGX_BUILD", os.path.join(ROOT, "build"))
NGINX = os.environ.get("KUBENGX_NGINX", "/usr/sbin/nginx")
MODULE = os.path.join(BUILD, "ngx_http_k8s_module.so")
KUBENGX = os.path.join(BUILD, "kubengx")
PYTHON = "/usr/bin/python3"

_nginx_version = None


def nginx_version():
    """The version of NGINX (KUBENGX_NGINX) as a tuple, e.g. (1, 22, 1)."""
    global _nginx_version
    if _nginx_version is None:
        p = subprocess.run([NGINX, "-v"], capture_output=True, text=True,
                           timeout=30)
        m = re.search(r"nginx/(\d+)\.(\d+)\.(\d+)", p.stderr)
        _nginx_version = tuple(int(x) for x in m.groups())
    return _nginx_version


# --- sanitizers ------------------------------------------------------------
#
# With `make test SAN=1` the module is built with ASan+UBSan.  Debian's
# nginx is not, so the ASan runtime must be preloaded into nginx (it has to
# come first in the library list; a dlopen()ed ASan .so aborts).  Sanitizer
# reports go to files SANITIZER_LOG.PID in the nginx prefix, and
# Nginx.stop() fails when one was written.  Leak detection is off: nginx
# leaves its pools to the exit (not an error).

_san = None


def sanitized():
    """True when nginx must run with the ASan runtime: KUBENGX_SAN=1, or
    the module links libasan."""
    global _san
    if _san is None:
        _san = os.environ.get("KUBENGX_SAN") == "1"
        if not _san and os.path.exists(MODULE):
            try:
                out = subprocess.run(["ldd", MODULE], capture_output=True,
                                     text=True, timeout=30).stdout
                _san = "libasan" in out
            except (OSError, subprocess.SubprocessError):
                _san = False
    return _san


SANITIZER_LOG = "sanitizer"
_san_running = set()       # Nginx instances started, for stop() on a report


def libasan_path():
    """The ASan runtime the module was linked with (gcc's)."""
    p = subprocess.run(["gcc", "-print-file-name=libasan.so"],
                       capture_output=True, text=True, timeout=30)
    path = os.path.realpath(p.stdout.strip())
    if p.returncode != 0 or not os.path.exists(path):
        raise AssertionError("sanitizer build: libasan.so not found (gcc "
                             "-print-file-name=libasan.so: %r)" % p.stdout)
    return path


def san_env(prefix, env=None):
    """env (default os.environ) plus, in a sanitizer build, what an nginx
    loading the module needs: the preloaded ASan runtime and report files
    under prefix.  Unchanged otherwise.  Also for tests that start nginx
    through kubengx (render --check, controller)."""
    env = dict(os.environ if env is None else env)
    if not sanitized():
        return env
    log = os.path.join(str(prefix), SANITIZER_LOG)
    pre = env.get("LD_PRELOAD", "")
    env["LD_PRELOAD"] = libasan_path() + (" " + pre if pre else "")
    env["ASAN_OPTIONS"] = ("detect_leaks=0:log_path=%s:"
                           "detect_odr_violation=0" % log)
    env["UBSAN_OPTIONS"] = "print_stacktrace=1:log_path=%s" % log
    return env


def sanitizer_reports(prefix):
    """Text of the sanitizer reports written under prefix ("" if none)."""
    out = []
    try:
        names = sorted(os.listdir(str(prefix)))
    except OSError:
        return ""
    for n in names:
        if n == SANITIZER_LOG or n.startswith(SANITIZER_LOG + "."):
            try:
                with open(os.path.join(str(prefix), n)) as f:
                    text = f.read()
            except OSError:
                continue
            if text.strip():
                out.append("--- %s ---\n%s" % (n, text))
    return "\n".join(out)


class Timeout(AssertionError):
    pass


def wait_for(cond, timeout=10.0, what="condition", interval=0.02):
    """Poll cond() until it returns a true value, or fail after timeout
    seconds.  Returns that value.  Exceptions from cond count as false."""
    deadline = time.monotonic() + timeout
    last_exc = None
    while True:
        try:
            value = cond()
            if value:
                return value
        except Exception as e:          # noqa: BLE001 - retried
            last_exc = e
        if time.monotonic() >= deadline:
            msg = "timed out after %.1fs waiting for %s" % (timeout, what)
            if last_exc is not None:
                msg += " (last error: %r)" % (last_exc,)
            raise Timeout(msg)
        time.sleep(interval)


def free_port(host="127.0.0.1"):
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def port_open(host, port):
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.settimeout(0.5)
        return s.connect_ex((host, port)) == 0


def read_ready_line(proc, timeout, what):
    """Read the first stdout line of proc, which must start with 'ready',
    within timeout seconds."""
    import selectors
    sel = selectors.DefaultSelector()
    sel.register(proc.stdout, selectors.EVENT_READ)
    deadline = time.monotonic() + timeout
    buf = b""
    while b"\n" not in buf:
        left = deadline - time.monotonic()
        if left <= 0 or proc.poll() is not None:
            err = proc.stderr.read().decode() if proc.poll() is not None \
                and proc.stderr else ""
            raise Timeout("%s did not become ready (exit=%s) %s"
                          % (what, proc.poll(), err))
        if sel.select(left):
            chunk = os.read(proc.stdout.fileno(), 4096)
            if not chunk:
                continue
            buf += chunk
    sel.close()
    line = buf.split(b"\n", 1)[0].decode()
    if not line.startswith("ready"):
        raise AssertionError("%s: unexpected first line %r" % (what, line))
    return line


def stop_process(proc, sig=signal.SIGTERM, timeout=5.0):
    if proc is None or proc.poll() is not None:
        return
    try:
        proc.send_signal(sig)
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)
    except ProcessLookupError:
        pass


# --- HTTP ------------------------------------------------------------------

class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body

    @property
    def text(self):
        return self.body.decode("utf-8", "replace")

    def json(self):
        return json.loads(self.body)

    @property
    def backend(self):
        """Name of the test backend that answered, or None."""
        return self.headers.get("x-backend")

    def __repr__(self):
        return "<Response %d backend=%s %r>" % (self.status, self.backend,
                                                self.body[:200])


def http_request(port, path="/", host=None, method="GET", headers=None,
                 body=None, addr="127.0.0.1", timeout=10.0):
    """One HTTP/1.1 request on a fresh connection (Python's http.client)."""
    conn = http.client.HTTPConnection(addr, port, timeout=timeout)
    try:
        hdrs = dict(headers or {})
        if host is not None:
            hdrs["Host"] = host
        conn.request(method, path, body=body, headers=hdrs)
        r = conn.getresponse()
        data = r.read()
        return Response(r.status, {k.lower(): v for k, v in r.getheaders()},
                        data)
    finally:
        conn.close()


def raw_response(port, data, addr="127.0.0.1", timeout=10.0):
    """Send data (bytes) on a new connection and read until the server
    closes it: the bytes received (a PROXY header, a request nginx's
    parser must see as is)."""
    with socket.create_connection((addr, port), timeout=timeout) as s:
        s.sendall(data)
        got = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                return got
            got += chunk


def curl(url, *args, timeout=15):
    """Run the real curl; returns a Response (status, headers, body).
    Extra args go to curl as is (e.g. '-H', 'Host: x', '--resolve', ...)."""
    cmd = ["curl", "-sS", "-D", "-", "--max-time", str(timeout), *args, url]
    p = subprocess.run(cmd, capture_output=True, timeout=timeout + 5)
    if p.returncode != 0:
        raise AssertionError("curl %s failed (%d): %s"
                             % (url, p.returncode, p.stderr.decode()))
    raw = p.stdout
    # skip interim 1xx / redirect header blocks when -L is used
    while True:
        head, _, rest = raw.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        if rest.startswith(b"HTTP/") and (status < 200 or "-L" in args):
            raw = rest
            continue
        break
    headers = {}
    for line in lines[1:]:
        k, _, v = line.partition(":")
        headers[k.strip().lower()] = v.strip()
    return Response(status, headers, rest)


# --- backends --------------------------------------------------------------

class Backends:
    """One process serving several named backends.  `addrs[name]` is the
    'host:port' (IPv6 bracketed) each listens on."""

    def __init__(self, specs):
        cmd = [PYTHON, os.path.join(HERE, "backend.py")]
        cmd += ["%s=%s" % (name, addr) for name, addr in specs]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE)
        line = read_ready_line(self.proc, 10, "backends")
        self.addrs = dict(w.split("=", 1) for w in line.split()[1:])

    def host_port(self, name):
        addr = self.addrs[name]
        host, _, port = addr.rpartition(":")
        return host.strip("[]"), int(port)

    def stop(self):
        stop_process(self.proc)


# --- nginx -----------------------------------------------------------------

NGINX_CONF = """\
daemon off;
master_process {master};
worker_processes {workers};
pid {prefix}/nginx.pid;
error_log {prefix}/error.log {log_level};
{load_module}
{main}

events {{
    worker_connections 1024;
}}

http {{
    access_log {prefix}/access.log;
    client_body_temp_path {prefix}/tmp/client_body;
    proxy_temp_path {prefix}/tmp/proxy;
    fastcgi_temp_path {prefix}/tmp/fastcgi;
    uwsgi_temp_path {prefix}/tmp/uwsgi;
    scgi_temp_path {prefix}/tmp/scgi;
{module_http}
{http}
}}
"""

# the test backends listen on 127.0.0.x: the module refuses loopback
# endpoints unless told otherwise
ALLOW_LOOPBACK = "    k8s_allow_loopback_endpoints on;\n"


class Nginx:
    """A real nginx with its own prefix directory.

    `http` is the text placed inside http {}; `ports` are the TCP ports the
    config listens on (waited for at start).  With module=True the kubengx
    module is loaded, with k8s_allow_loopback_endpoints on unless
    allow_loopback=False."""

    def __init__(self, prefix, http="", ports=(), module=True, workers=1,
                 main="", log_level="info", master=True, env=None,
                 allow_loopback=True):
        self.prefix = str(prefix)
        self.allow_loopback = allow_loopback
        self.ports = list(ports)
        self.proc = None
        self.env = env
        os.makedirs(os.path.join(self.prefix, "tmp"), exist_ok=True)
        os.makedirs(os.path.join(self.prefix, "logs"), exist_ok=True)
        self.conf = os.path.join(self.prefix, "nginx.conf")
        self.write_conf(http, module=module, workers=workers, main=main,
                        log_level=log_level, master=master)

    def write_conf(self, http, module=True, workers=1, main="",
                   log_level="info", master=True):
        # what start() waits for: every worker forked (none without master)
        self.workers = workers if master else 0
        text = NGINX_CONF.format(
            prefix=self.prefix, workers=workers, main=main, http=http,
            log_level=log_level, master="on" if master else "off",
            load_module=("load_module %s;" % MODULE) if module else "",
            module_http=ALLOW_LOOPBACK if module and self.allow_loopback
            else "")
        with open(self.conf, "w") as f:
            f.write(text)

    def _env(self):
        if not sanitized():
            return self.env
        return san_env(self.prefix, self.env)

    def _cmd(self, *extra):
        return [NGINX, "-p", self.prefix + "/", "-c", self.conf,
                "-e", os.path.join(self.prefix, "error.log"), *extra]

    def test_config(self):
        """nginx -t on the current config: CompletedProcess."""
        return subprocess.run(self._cmd("-t"), capture_output=True,
                              text=True, timeout=60,
                              env=self._env())

    def start(self, timeout=10.0):
        t = self.test_config()
        if t.returncode != 0:
            raise AssertionError("nginx -t failed:\n" + t.stderr)
        self.proc = subprocess.Popen(self._cmd(), stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE,
                                     env=self._env())
        if sanitized():
            _san_running.add(self)
        try:
            wait_for(lambda: self._up(), timeout, "nginx to listen on %s"
                     % self.ports)
        except Timeout:
            self.stop()
            raise AssertionError("nginx did not start:\n" + self.error_log())
        return self

    def _up(self):
        if self.proc.poll() is not None:
            raise AssertionError("nginx exited: %s" % self.error_log())
        return all(port_open("127.0.0.1", p) for p in self.ports) \
            and len(self.worker_pids()) >= self.workers

    @property
    def pid(self):
        return self.proc.pid

    def worker_pids(self):
        """Pids of the master's worker processes (by /proc cmdline)."""
        pids = []
        for d in os.listdir("/proc"):
            if not d.isdigit():
                continue
            try:
                with open("/proc/%s/stat" % d) as f:
                    stat = f.read()
                ppid = int(stat.rsplit(")", 1)[1].split()[1])
                if ppid != self.proc.pid:
                    continue
                with open("/proc/%s/cmdline" % d, "rb") as f:
                    cmdline = f.read()
                if b"worker process" in cmdline:
                    pids.append(int(d))
            except (OSError, ValueError, IndexError):
                continue
        return sorted(pids)

    def reload(self, timeout=10.0):
        """SIGHUP the master and wait until a new set of workers runs and
        the old ones are gone."""
        old = set(self.worker_pids())
        self.proc.send_signal(signal.SIGHUP)
        wait_for(lambda: (set(self.worker_pids()) and
                          not (set(self.worker_pids()) & old)),
                 timeout, "nginx workers to be replaced")

    def error_log(self):
        try:
            with open(os.path.join(self.prefix, "error.log")) as f:
                return f.read()
        except OSError:
            return ""

    def get(self, path="/", host=None, port=None, **kw):
        return http_request(port or self.ports[0], path, host=host, **kw)

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            stop_process(self.proc, signal.SIGQUIT, timeout=10)
        if self.proc is not None and self.proc.stderr:
            self.proc.stderr.close()
        if sanitized():
            _san_running.discard(self)
            reports = sanitizer_reports(self.prefix)
            if reports and not getattr(self, "_san_reported", False):
                self._san_reported = True
                # the caller's cleanup stops at the raise: stop the rest
                for other in list(_san_running):
                    try:
                        other.stop()
                    except AssertionError as e:
                        reports += "\n" + str(e)
                raise AssertionError("sanitizer reports from nginx in %s:\n%s"
                                     % (self.prefix, reports[:20000]))


def run(cmd, check=False, **kw):
    """subprocess.run with text output captured."""
    p = subprocess.run(cmd, capture_output=True, text=True,
                       timeout=kw.pop("timeout", 120), **kw)
    if check and p.returncode != 0:
        raise AssertionError("%s failed (%d):\n%s%s" % (
            " ".join(map(str, cmd)), p.returncode, p.stdout, p.stderr))
    return p


if __name__ == "__main__":
    sys.exit("harness.py is a library for the integration tests")
