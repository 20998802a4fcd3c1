#!/usr/bin/env python3
"""The L4 proxy (dpdk_app/apps/proxy.cpp) between two Linux programs: a
client connects to tcpfp's 172.16.48.2:8080, and tcpfp relays it to a
server on 172.16.48.1:9000. Both Linux ends live in the test's private
namespace, on the kernel side of the tap (172.16.48.1): every byte crosses
the tap twice, once each way through tcpfp.

- 100 MB each way at once, byte-exact by sha256;
- the client's shutdown(SHUT_WR) reaches the server as EOF while the server
  keeps sending, and the reverse;
- the server's RST (SO_LINGER 0, close) reaches the client as a reset;
- 200 concurrent proxied connections, each echoed byte-exact;
- at the end: no pair, connection, buffer or mbuf left;
- then with two workers (software steering): 100 concurrent connections,
  each pair served whole by one worker, both workers serving some.

    proxy_test.py TCPFP_EXE SOURCE_ROOT
"""
import hashlib
import os
import queue
import re
import socket
import struct
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
import harness as h  # noqa: E402

PROXY = ("172.16.48.2", 8080)
SERVER = (h.PEER, 9000)
TIMEOUT = 300  # per socket operation: the machine is loaded; behaviour, not speed
MB = 1000 * 1000
BLOCK = os.urandom(1 << 20)


def send_bytes(s, total, digest=None):
    left = total
    while left > 0:
        piece = BLOCK[: min(left, len(BLOCK))]
        s.sendall(piece)
        if digest is not None:
            digest.update(piece)
        left -= len(piece)


def read_to_eof(s, digest=None, keep=False):
    """Reads until EOF; returns (bytes read, data if keep)."""
    n = 0
    kept = []
    while True:
        data = s.recv(1 << 16)
        if not data:
            return n, b"".join(kept)
        n += len(data)
        if digest is not None:
            digest.update(data)
        if keep:
            kept.append(data)


class Server:
    """Linux server on 172.16.48.1:9000: each accepted connection runs the
    next handler queued by the test, or `default` when none is queued."""

    def __init__(self, default, port=SERVER[1]):
        self.default = default
        self.handlers = queue.Queue()
        self.results = queue.Queue()
        self.open_now = 0
        self.open_max = 0
        self.lock = threading.Lock()
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((SERVER[0], port))
        self.sock.listen(1024)
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            conn, _ = self.sock.accept()
            conn.settimeout(TIMEOUT)
            try:
                handler = self.handlers.get_nowait()
            except queue.Empty:
                handler = self.default
            threading.Thread(target=self._run, args=(handler, conn), daemon=True).start()

    def _run(self, handler, conn):
        with self.lock:
            self.open_now += 1
            self.open_max = max(self.open_max, self.open_now)
        try:
            self.results.put(handler(conn))
        except Exception as e:  # reported through results, checked by the test
            self.results.put(("error", repr(e)))
        finally:
            with self.lock:
                self.open_now -= 1
            conn.close()

    def result(self):
        return self.results.get(timeout=TIMEOUT)


def echo(conn):
    n = 0
    while True:
        data = conn.recv(1 << 16)
        if not data:
            conn.shutdown(socket.SHUT_WR)
            return ("echo", n)
        conn.sendall(data)
        n += len(data)


def client():
    s = socket.create_connection(PROXY, timeout=TIMEOUT)
    return s


def bulk_both_ways(server):
    total = 100 * MB

    def srv(conn):
        got = hashlib.sha256()
        sent = hashlib.sha256()
        t = threading.Thread(target=lambda: send_bytes(conn, total, sent))
        t.start()
        n, _ = read_to_eof(conn, got)
        t.join()
        conn.shutdown(socket.SHUT_WR)
        return ("bulk", n, got.hexdigest(), sent.hexdigest())

    server.handlers.put(srv)
    start = time.monotonic()
    s = client()
    sent, got = hashlib.sha256(), hashlib.sha256()
    got_n = [0]

    def reader():
        got_n[0], _ = read_to_eof(s, got)

    r = threading.Thread(target=reader)
    r.start()
    send_bytes(s, total, sent)
    s.shutdown(socket.SHUT_WR)
    r.join()
    s.close()
    secs = time.monotonic() - start
    res = server.result()
    h.check(res[0] == "bulk" and res[1] == total and res[2] == sent.hexdigest(),
            "100 MB client -> server arrive byte-exact (sha256; server got %s bytes)" % (res[1:2],))
    h.check(got_n[0] == total and got.hexdigest() == res[3],
            "100 MB server -> client arrive byte-exact (sha256; client got %d bytes)" % got_n[0])
    print("measure: 100 MB each way at once through the proxy in %.1f s (%.0f Mbit/s each way)"
          % (secs, total * 8 / secs / 1e6), flush=True)


def client_half_close(server):
    request = os.urandom(300 * 1000)
    answer = 5 * MB

    def srv(conn):
        n, data = read_to_eof(conn, keep=True)  # EOF first: the client's FIN crossed
        digest = hashlib.sha256()
        send_bytes(conn, answer, digest)  # ... while this direction is still open
        conn.shutdown(socket.SHUT_WR)
        return ("client-fin", data == request, n, digest.hexdigest())

    server.handlers.put(srv)
    s = client()
    s.sendall(request)
    s.shutdown(socket.SHUT_WR)
    got = hashlib.sha256()
    n, _ = read_to_eof(s, got)
    s.close()
    res = server.result()
    h.check(res[0] == "client-fin" and res[1],
            "the client's shutdown(SHUT_WR) reached the server as EOF after the 300 kB request")
    h.check(n == answer and got.hexdigest() == res[3],
            "the server kept sending after that EOF: 5 MB reached the half-closed client (%d)" % n)


def server_half_close(server):
    greeting = 300 * 1000
    upload = 5 * MB

    def srv(conn):
        digest = hashlib.sha256()
        send_bytes(conn, greeting, digest)
        conn.shutdown(socket.SHUT_WR)  # the server's FIN first
        got = hashlib.sha256()
        n, _ = read_to_eof(conn, got)  # ... and the client keeps sending
        return ("server-fin", digest.hexdigest(), n, got.hexdigest())

    server.handlers.put(srv)
    s = client()
    got = hashlib.sha256()
    n, _ = read_to_eof(s, got)
    sent = hashlib.sha256()
    send_bytes(s, upload, sent)
    s.shutdown(socket.SHUT_WR)
    s.close()
    res = server.result()
    h.check(n == greeting and got.hexdigest() == res[1],
            "the server's shutdown(SHUT_WR) reached the client as EOF after the 300 kB greeting")
    h.check(res[2] == upload and res[3] == sent.hexdigest(),
            "the client kept sending after that EOF: 5 MB reached the half-closed server (%d)" % res[2])


def server_reset(server):
    def srv(conn):
        data = conn.recv(5)
        conn.sendall(b"bye")
        time.sleep(0.5)  # "bye" reaches the client first
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        return ("rst", data)  # _run closes: SO_LINGER 0 sends RST

    server.handlers.put(srv)
    s = client()
    s.sendall(b"hello")
    res = server.result()
    got = b""
    outcome = "eof"
    try:
        while True:
            data = s.recv(100)
            if not data:
                break
            got += data
    except ConnectionResetError:
        outcome = "reset"
    s.close()
    h.check(res == ("rst", b"hello") and got == b"bye" and outcome == "reset",
            "the server's RST (SO_LINGER 0 close) reached the client as a reset (%r %r %s)"
            % (res, got, outcome))


def show_proxy(t, field):
    """`show proxy` at the prompt: the total column of one row."""
    out = t.command("show proxy")
    m = re.search(r"^%s\s.*?(\d+)\s*$" % field, out, re.M)
    return int(m.group(1)) if m else None


def concurrent(server, count=200, t=None):
    socks = [client() for _ in range(count)]
    # Every pair is open before any byte moves: they are concurrent.
    h.wait_until(lambda: server.open_now == count, TIMEOUT,
                 "%d backend connections open at once" % count)
    if t is not None:
        active = show_proxy(t, "pairs_active")
        h.check(active == count, "show proxy: %s pairs active while all are open" % active)
        out = t.command("show proxy pairs")
        rows = re.findall(r"^\d+\s+172\.16\.48\.2:8080 <-> 172\.16\.48\.1:\d+\s+ESTABLISHED\s+"
                          r"172\.16\.48\.2:\d+ <-> 172\.16\.48\.1:9000\s+ESTABLISHED", out, re.M)
        h.check(len(rows) == count and "%d pair(s)" % count in out,
                "show proxy pairs: %d pairs listed, both sides ESTABLISHED" % len(rows))
        out = t.command("show conn port 9000 all")
        paired = re.findall(r" app:proxy pair:172\.16\.48\.2:8080->172\.16\.48\.1:\d+$", out, re.M)
        h.check(len(paired) == count, "show conn: %d backend connections marked app:proxy with their "
                "client as pair" % len(paired))
    payloads = [os.urandom(64 * 1024 + i) for i in range(count)]
    results = [None] * count

    def run(i):
        s = socks[i]
        w = threading.Thread(target=lambda: (s.sendall(payloads[i]), s.shutdown(socket.SHUT_WR)))
        w.start()
        try:
            _, data = read_to_eof(s, keep=True)
        except OSError as e:
            data = repr(e).encode()
        w.join()
        s.close()
        results[i] = data == payloads[i]

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(TIMEOUT)
    echoed = [server.result() for _ in range(count)]
    h.check(server.open_max >= count, "%d proxied connections were open at once (max %d)"
            % (count, server.open_max))
    h.check(all(results) and all(e[0] == "echo" for e in echoed),
            "%d concurrent proxied connections echoed byte-exact (%d ok)" % (count, sum(map(bool, results))))


def final_checks(log):
    m = re.search(r"proxy \d+: pairs opened (\d+) closed (\d+) aborted (\d+) active (\d+)", log)
    h.check(m is not None, "the final statistics show the proxy's pairs")
    opened, closed, aborted, active = (int(x) for x in m.groups())
    # bulk, two half-closes and the 200 close cleanly; the RST aborts one.
    h.check(opened == 204 and closed == 203 and aborted == 1 and active == 0,
            "pairs opened %d, closed %d, aborted %d, active %d" % (opened, closed, aborted, active))
    for name, want in (("half_closes_to_backend", 203), ("half_closes_to_client", 203),
                       ("resets_to_client", 1), ("backend_refused", 0), ("backend_timeouts", 0)):
        m = re.search(r"proxy \d+:\s+%s\s+(\d+)" % name, log)
        got = int(m.group(1)) if m else 0
        h.check(got == want, "%s = %d (want %d)" % (name, got, want))
    m = re.search(r"engine \d+: (\d+) connection\(s\), \d+ TIME_WAIT record\(s\), buffers in use (\d+)", log)
    h.check(m is not None and m.group(1) == "0" and m.group(2) == "0",
            "no connection and no buffer left on the engine (%s)" % (m and m.groups(),))


def two_workers(exe, root, count=100):
    """Each worker runs a proxy; a client's pair stays on the worker that
    owns the client's flow (the backend connection's port is chosen so that
    its replies steer there too), so no segment reaches a worker that does
    not know its connection."""
    t = h.Tcpfp(exe, "", lcores="0@0,1@0,2@1", workers=2)
    t.config = h.write_config(os.path.join(root, "config", "proxy.ini"),
                              {("lcores", "workers"): "2", ("proxy", "backend"): "%s:9001" % h.PEER},
                              os.path.join(t.dir, "proxy2.ini"))
    t.start()
    t.peer_up()
    server = Server(echo, 9001)
    concurrent(server, count)
    log = t.stop()
    rows = re.findall(r"proxy (\d+): pairs opened (\d+) closed (\d+) aborted (\d+) active (\d+)", log)
    opened = [int(r[1]) for r in rows]
    h.check(len(rows) == 2 and all(o > 0 for o in opened) and sum(opened) == count,
            "both workers' proxies served pairs %s (sum %d)" % (opened, count))
    h.check(all(r[1] == r[2] and r[3] == "0" and r[4] == "0" for r in rows),
            "every pair closed on its worker, none aborted or left: %s" % rows)
    engines = re.findall(r"engine \d+: (\d+) connection\(s\), \d+ TIME_WAIT record\(s\), buffers in use (\d+)", log)
    h.check(len(engines) == 2 and all(e == ("0", "0") for e in engines),
            "no connection and no buffer left on either engine %s" % engines)
    h.check("rst_no_connection" not in log and "drop no_listener" not in log,
            "no segment reached an engine that does not own its flow")


def main():
    h.enter_namespace()
    exe, root = sys.argv[1], sys.argv[2]
    t = h.Tcpfp(exe, os.path.join(root, "config", "proxy.ini"), prompt=True)
    t.start()
    t.peer_up()
    server = Server(echo)

    bulk_both_ways(server)
    client_half_close(server)
    server_half_close(server)
    server_reset(server)
    concurrent(server, 200, t)
    h.wait_until(lambda: show_proxy(t, "pairs_active") == 0, 60, "show proxy: no pair active")
    out = t.command("show proxy")
    h.check(re.search(r"^pairs_opened\s+204\s+204\s*$", out, re.M) is not None,
            "show proxy: 204 pairs opened on worker 0 and in total")

    log = t.stop()  # checks exit 0 and every mbuf back
    final_checks(log)
    h.check("drop no_buffers" not in log, "the engine never ran out of buffers")

    two_workers(exe, root)


if __name__ == "__main__":
    main()
