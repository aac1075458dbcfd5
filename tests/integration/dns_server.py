"""A tiny authoritative DNS server over UDP for the tests: nginx's
`resolver` asks it for the ExternalName hosts that kubengx renders.

    dns = DNSServer({"db.example.com": "127.0.0.1"})
    ... --resolver 127.0.0.1:%d % dns.port ...
    dns.stop()

A names answer with their address (TTL 1 s); AAAA questions for known
names get an empty answer; unknown names get NXDOMAIN.  `dns.queries`
lists the (name, qtype) pairs asked, in order."""

import socket
import struct
import threading

QTYPE_A = 1
QTYPE_AAAA = 28


def _qname(msg, off):
    labels = []
    while True:
        n = msg[off]
        off += 1
        if n == 0:
            return ".".join(labels), off
        labels.append(msg[off:off + n].decode("ascii", "replace").lower())
        off += n


class DNSServer:
    def __init__(self, records, host="127.0.0.1"):
        self.records = {k.lower().rstrip("."): v for k, v in records.items()}
        self.queries = []
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((host, 0))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _answer(self, msg):
        qid, _flags, qdcount = struct.unpack("!HHH", msg[:6])
        if qdcount != 1:
            return None
        name, off = _qname(msg, 12)
        qtype, qclass = struct.unpack("!HH", msg[off:off + 4])
        question = msg[12:off + 4]
        self.queries.append((name, qtype))
        addr = self.records.get(name)
        answers = b""
        ancount = 0
        rcode = 0
        if addr is None:
            rcode = 3                                    # NXDOMAIN
        elif qtype == QTYPE_A:
            answers = (b"\xc0\x0c" + struct.pack("!HHIH", QTYPE_A, 1, 1, 4)
                       + socket.inet_aton(addr))
            ancount = 1
        flags = 0x8400 | rcode              # response, authoritative
        return (struct.pack("!HHHHHH", qid, flags, 1, ancount, 0, 0)
                + question + answers)

    def _serve(self):
        while not self._stop.is_set():
            try:
                msg, peer = self.sock.recvfrom(4096)
            except socket.timeout:
                continue
            except OSError:
                return
            try:
                resp = self._answer(msg)
            except (IndexError, struct.error):
                continue
            if resp:
                self.sock.sendto(resp, peer)

    def stop(self):
        self._stop.set()
        self._thread.join(timeout=5)
        self.sock.close()
