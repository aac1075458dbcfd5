"""A backend that says who it is: a small HTTP/1.1 server standing in for
pods in the integration tests.

    /usr/bin/python3 backend.py NAME=127.0.0.1:0 [NAME=[::1]:0 ...]

Each NAME=HOST:PORT is one listening socket (port 0 picks a free one).
When every socket listens, the first line on stdout is
    ready NAME=HOST:PORT NAME=HOST:PORT ...
with the real ports.  Every response is JSON naming the backend and the
request it saw, with an `X-Backend: NAME` header:

    {"backend": NAME, "method": ..., "path": ..., "host": ...,
     "headers": {...}, "body": ..., "addr": "HOST:PORT", "peer": "IP:PORT"}

Query parameters steer it: `delay=MS` answers after MS milliseconds,
`status=N` answers with status N.  With KUBENGX_BACKEND_TLS=CERT:KEY in
the environment every socket speaks TLS with that certificate.  A request with `Upgrade: websocket`
gets a 101 and its frames echoed raw (enough to prove an upgrade passed
through the proxy).
"""

import json
import os
import signal
import socket
import ssl
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "kubengx-test-backend"

    def log_message(self, fmt, *args):
        pass

    def _answer(self):
        url = urlsplit(self.path)
        query = parse_qs(url.query)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode("utf-8", "replace") \
            if length else ""

        if self.headers.get("Upgrade", "").lower() == "websocket":
            return self._upgrade()

        if "delay" in query:
            time.sleep(int(query["delay"][0]) / 1000.0)
        status = int(query["status"][0]) if "status" in query else 200

        host, port = self.server.server_address[:2]
        addr = ("[%s]:%d" if ":" in host else "%s:%d") % (host, port)
        peer = self.client_address
        payload = json.dumps({
            "backend": self.server.name,
            "method": self.command,
            "path": self.path,
            "host": self.headers.get("Host"),
            "headers": {k.lower(): v for k, v in self.headers.items()},
            "body": body,
            "addr": addr,
            "peer": "%s:%d" % (peer[0], peer[1]),
        }, sort_keys=True).encode() + b"\n"

        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("X-Backend", self.server.name)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)

    def _upgrade(self):
        self.send_response(101)
        self.send_header("Upgrade", "websocket")
        self.send_header("Connection", "Upgrade")
        self.send_header("X-Backend", self.server.name)
        self.end_headers()
        self.wfile.flush()
        self.close_connection = True
        try:
            while True:
                data = self.connection.recv(65536)
                if not data:
                    break
                self.connection.sendall(data)
        except OSError:
            pass

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = _answer


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    # socketserver's default backlog is 5: under concurrent load the
    # kernel drops SYNs and the client retries a second later, which a
    # proxy sees as a connect timeout (504).  Real servers use more.
    request_queue_size = 511

    def __init__(self, name, host, port):
        self.address_family = socket.AF_INET6 if ":" in host \
            else socket.AF_INET
        self.name = name
        super().__init__((host, port), Handler)


def parse_spec(spec):
    name, _, addr = spec.partition("=")
    host, _, port = addr.rpartition(":")
    return name, host.strip("[]"), int(port)


def main(argv):
    servers = [Server(*parse_spec(s)) for s in argv[1:]]
    tls = os.environ.get("KUBENGX_BACKEND_TLS")
    if tls:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(*tls.split(":", 1))
        for s in servers:
            s.socket = ctx.wrap_socket(s.socket, server_side=True)
    words = []
    for s in servers:
        host, port = s.server_address[:2]
        fmt = "%s=[%s]:%d" if ":" in host else "%s=%s:%d"
        words.append(fmt % (s.name, host, port))
        threading.Thread(target=s.serve_forever, daemon=True).start()
    print("ready " + " ".join(words), flush=True)
    try:
        signal.pause()          # serve until a signal ends us
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main(sys.argv)
