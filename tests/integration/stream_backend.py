"""Backends that say who they are, for the stream (TCP/UDP) tests: small
servers standing in for pods.

    /usr/bin/python3 stream_backend.py NAME=KIND:HOST:PORT ...

KIND is
  tcp   each line received is answered with "NAME LINE\\n" (so a PROXY
        protocol header that nginx sends before the client's bytes comes
        back as the first answer: "NAME PROXY TCP4 ...");
  udp   each datagram is answered with b"NAME " + the datagram;
  tls   a TLS server with the certificate CERT and key KEY given as
        NAME=tls:HOST:PORT:CERT:KEY; each line is answered as for tcp.

Port 0 picks a free one.  When every socket listens, the first line on
stdout is "ready NAME=HOST:PORT ..." with the real ports.  SIGUSR1 closes
the listening sockets (after serving the connections queued on them)
while the connections already accepted go on (a pod draining after
SIGTERM); SIGTERM stops everything.
"""

import signal
import socket
import socketserver
import ssl
import sys
import threading


class LineHandler(socketserver.StreamRequestHandler):
    def handle(self):
        name = self.server.name
        try:
            for line in self.rfile:
                self.wfile.write(b"%s %s\n" % (name, line.rstrip(b"\r\n")))
                self.wfile.flush()
        except (OSError, ssl.SSLError):
            pass


class TCPServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256


class TLSServer(TCPServer):
    def __init__(self, addr, cert, key):
        self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.ctx.load_cert_chain(cert, key)
        super().__init__(addr, LineHandler)

    def get_request(self):
        sock, addr = super().get_request()
        sock.settimeout(10)
        return self.ctx.wrap_socket(sock, server_side=True), addr


class UDPHandler(socketserver.BaseRequestHandler):
    def handle(self):
        data, sock = self.request
        sock.sendto(self.server.name + b" " + data, self.client_address)


class UDPServer(socketserver.ThreadingUDPServer):
    daemon_threads = True
    allow_reuse_address = True


def serve(spec):
    name, _, rest = spec.partition("=")
    kind, _, rest = rest.partition(":")
    if kind == "tls":
        host, port, cert, key = rest.rsplit(":", 3)
    else:
        host, _, port = rest.rpartition(":")
    host = host.strip("[]")
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    if kind == "udp":
        cls = UDPServer
        cls.address_family = family
        srv = cls((host, int(port)), UDPHandler)
    elif kind == "tls":
        TLSServer.address_family = family
        srv = TLSServer((host, int(port)), cert, key)
    else:
        TCPServer.address_family = family
        srv = TCPServer((host, int(port)), LineHandler)
    srv.name = name.encode()
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    h, p = srv.server_address[:2]
    return srv, "%s=%s" % (name, ("[%s]:%d" if ":" in h else "%s:%d")
                           % (h, p))


def drain(servers):
    """Stop accepting: the connections already queued are still served
    (closing the socket would reset them), then the socket is closed."""
    for srv in servers:
        srv.shutdown()
        if srv.socket.type == socket.SOCK_STREAM:
            srv.socket.setblocking(False)
            while True:
                try:
                    sock, addr = srv.get_request()
                except OSError:
                    break
                sock.setblocking(True)
                srv.process_request(sock, addr)
        srv.server_close()


def main():
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *a: stop.set())
    signal.signal(signal.SIGINT, lambda *a: stop.set())
    started = [serve(a) for a in sys.argv[1:]]
    servers = [srv for srv, _ in started]
    signal.signal(signal.SIGUSR1, lambda *a: threading.Thread(
        target=drain, args=(servers,), daemon=True).start())
    print("ready " + " ".join(r for _, r in started), flush=True)
    stop.wait()


if __name__ == "__main__":
    main()
