#!/usr/bin/env python3
"""A full connection table over the tap. tcpfp runs with [engine]
max_connections = 16 (its 4 service listeners take 4 control blocks), Linux
fills the other 12 with echo connections and holds them. Then:
  - new SYNs are dropped and counted (drop table_full == SYNs sent while
    full, counted on the tap): a Linux connect times out;
  - the 12 existing connections still echo byte-exact;
  - once Linux closes two of them (tcpfp's side passes LAST_ACK and frees
    its control blocks, no TIME_WAIT on the passive side), new connections
    succeed again.
The same runs again with `[engine] table_full = rst`, where the SYN must be
answered by RST (ECONNREFUSED) and counted as well.

    table_full_test.py TCPFP_EXE SOURCE_ROOT
"""
import errno
import os
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
import rawnet as r  # noqa: E402

h = r.h
MAX_CONN = 16
LISTENERS = 4  # echo, discard, chargen, http


def echo_ok(s, tag):
    data = ("%s %s\n" % (tag, "x" * 100)).encode()
    s.sendall(data)
    got = b""
    while len(got) < len(data):
        c = s.recv(4096)
        if not c:
            return False
        got += c
    return got == data


def syns_to_tcpfp(frames):
    n = 0
    for pkttype, f in frames:
        p = r.parse_tcp(f)
        if p and p["dst"] == r.TCPFP_IP and p["flags"] & r.SYN and not p["flags"] & r.ACK:
            n += 1
    return n


def config(exe, root, d, mode):
    cfg = h.write_config(os.path.join(root, "config", "tap.ini"),
                         {("services", "seed_client"): "off", ("engine", "max_connections"): str(MAX_CONN)},
                         os.path.join(d, "full-%s.ini" % mode))
    if mode == "drop":
        return cfg
    text = open(cfg).read().replace("[engine]\n", "[engine]\ntable_full = %s\n" % mode, 1)
    open(cfg, "w").write(text)
    ok = subprocess.run([exe, "--", "--config", cfg, "--check-config"], capture_output=True).returncode == 0
    return cfg if ok else None


def run(exe, cfg, mode):
    print("=== table_full = %s ===" % mode, flush=True)
    t = r.Tcpfp(exe, cfg)
    t.start()
    t.peer_up()
    r.tcpfp_mac()
    tap = r.Tap()
    held = []
    for i in range(MAX_CONN - LISTENERS):
        s = socket.create_connection((r.TCPFP_IP, 7), timeout=5)
        h.check(echo_ok(s, "fill %d" % i), "connection %d of %d echoes" % (i + 1, MAX_CONN - LISTENERS))
        held.append(s)
    tap.drain()

    # The table is full: a new connection fails (dropped SYNs time out; RST refuses).
    start = time.monotonic()
    try:
        extra = socket.create_connection((r.TCPFP_IP, 7), timeout=2.5)
        extra.close()
        h.fail("a connection beyond max_connections was accepted")
    except socket.timeout:
        outcome = "timeout"
    except OSError as e:
        outcome = "refused" if e.errno == errno.ECONNREFUSED else str(e)
    want = "timeout" if mode == "drop" else "refused"
    h.check(outcome == want, "a connection beyond the table: %s after %.1f s (want %s)"
            % (outcome, time.monotonic() - start, want))
    for i, s in enumerate(held):
        h.check(echo_ok(s, "still %d" % i), "existing connection %d unaffected" % (i + 1))

    # Free two entries: Linux closes first, tcpfp's side goes LAST_ACK -> CLOSED.
    for s in held[:2]:
        s.close()
    held = held[2:]
    time.sleep(0.5)  # Linux's FIN, the echo service's close, the last ACK
    ok = 0
    for _ in range(50):
        try:
            s = socket.create_connection((r.TCPFP_IP, 7), timeout=1)
            ok = echo_ok(s, "after")
            held.append(s)
            break
        except OSError:
            time.sleep(0.1)
    h.check(ok, "service resumes once entries free: a new connection echoes")
    # Every SYN since the table filled was dropped, but the one accepted at the end.
    syns = syns_to_tcpfp(tap.frames(0.3)) - 1
    for s in held:
        s.close()
    time.sleep(0.3)
    st = r.final_stats(t.stop())
    tf = st.get("eng.table_full", 0)
    h.check(syns >= 1 and tf == syns, "drop table_full %d == %d SYN(s) sent while the table was full" % (tf, syns))
    if mode == "rst":
        h.check(st.get("mib.out_rsts", 0) >= syns, "each answered by RST (out_rsts %d)" % st.get("mib.out_rsts", 0))
    h.check(st.get("mib.estab_resets", 0) == 0, "no established connection was reset")
    return tf


def main():
    h.enter_namespace()
    exe, root = sys.argv[1], sys.argv[2]
    r.disable_ipv6()
    d = __import__("tempfile").mkdtemp(prefix="tcpfp-full-")
    run(exe, config(exe, root, d, "drop"), "drop")
    cfg = config(exe, root, d, "rst")
    h.check(cfg is not None, "--check-config accepts [engine] table_full = rst")
    run(exe, cfg, "rst")


if __name__ == "__main__":
    main()
