#!/usr/bin/env python3
"""Two workers on net_tap (lcores 0-2 on two CPUs: the main lcore, which
mostly sleeps, shares CPU 0 with worker 0) with software steering: 1000 HTTP connections from
Linux (Connection: close, 16 at a time) all succeed, both engines accept
some, frames that arrive on the wrong queue are handed to the owner (and the
counts agree), no ring overflows; the seed client's active open on worker 0
picks a port whose replies come back to worker 0 (PortFilter).

    steering_test.py TCPFP_EXE SOURCE_ROOT
"""
import os
import re
import socket
import sys
import threading
from concurrent.futures import ThreadPoolExecutor

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
import harness as h  # noqa: E402

BODY = b"hello from tcpfp\n"
N = 1000


def one_request(i):
    addr = "172.16.48.2" if i % 2 else "172.16.48.13"
    try:
        with socket.create_connection((addr, 80), timeout=10) as s:
            s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            data = b""
            while True:
                chunk = s.recv(4096)
                if not chunk:
                    break
                data += chunk
        return data.startswith(b"HTTP/1.1 200 OK") and data.endswith(BODY)
    except OSError as e:
        print("request %d: %s" % (i, e), flush=True)
        return False


def seed_listener(got):
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("", 5002))  # the peer address is added later, by peer_up()
    srv.listen(1)
    srv.settimeout(20)
    try:
        c, _ = srv.accept()
        with c:
            c.settimeout(10)
            data = b""
            while not data.endswith(b"\n"):
                chunk = c.recv(100)
                if not chunk:
                    break
                data += chunk
            got.append(data)
    except OSError as e:
        got.append(repr(e).encode())


def main():
    h.enter_namespace()
    exe, root = sys.argv[1], sys.argv[2]
    t = h.Tcpfp(exe, "", lcores="0@0,1@0,2@1", workers=2)
    t.config = h.write_config(os.path.join(root, "config", "tap.ini"),
                              {("lcores", "workers"): "2"},
                              os.path.join(t.dir, "steering.ini"))
    t.start()
    check_log = t.log()
    h.check("steering: software" in check_log, "the port logs software steering on net_tap")
    got = []
    listener = threading.Thread(target=seed_listener, args=(got,))
    listener.start()
    t.peer_up()
    listener.join(25)
    h.check(got == [b"my first tcp packet!\n"],
            "worker 0's active open delivers the seed line (%r)" % got)

    with ThreadPoolExecutor(16) as pool:
        results = list(pool.map(one_request, range(N)))
    ok = sum(results)
    h.check(ok == N, "%d of %d connections succeed" % (ok, N))

    log = t.stop()
    opens = [int(x) for x in re.findall(r"mib  passive_opens\s+(\d+)", log)]
    h.check(len(opens) == 2 and all(o > 0 for o in opens) and sum(opens) >= N,
            "both engines accepted connections %s" % opens)
    ho = {int(w): (int(o), int(i), int(f)) for w, o, i, f in re.findall(
        r"worker (\d): handoff out (\d+) in (\d+) ring_full (\d+)", log)}
    h.check(set(ho) == {0, 1}, "hand-off counters printed for both workers")
    h.check(ho[0][0] + ho[1][0] > 0, "some frames arrived on the wrong queue and were handed off")
    # A frame handed off while its owner was already stopping stays in the
    # ring, and tcpfp says how many did (a stress round saw 1 of 906).
    left = re.search(r"(\d+) frame\(s\) left in hand-off rings at exit", log)
    h.check(left is not None, "the frames left in hand-off rings at exit are reported")
    left = int(left.group(1)) if left else -1
    h.check(ho[1][1] <= ho[0][0] and ho[0][1] <= ho[1][0] and
            ho[0][0] + ho[1][0] == ho[0][1] + ho[1][1] + left,
            "every frame handed off was received by its owner or left in a ring at exit "
            "%s, %d left" % (ho, left))
    h.check(ho[0][2] == 0 and ho[1][2] == 0, "no hand-off ring overflowed")
    h.check("rst_no_connection" not in log and "drop no_listener" not in log,
            "no segment reached an engine that does not own its flow")


if __name__ == "__main__":
    main()
