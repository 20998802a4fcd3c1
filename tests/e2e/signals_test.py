#!/usr/bin/env python3
"""Stopping. SIGTERM (like SIGINT) stops accepting, closes connections (the
Linux peer of an open connection reads EOF: our FIN), prints the final
statistics with 'mbufs held 0 (idle baseline 0)' and exits 0. A second
signal while connections are still closing exits at once with 128+signal.

    signals_test.py TCPFP_EXE SOURCE_ROOT
"""
import os
import signal
import socket
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
import harness as h  # noqa: E402


def start(exe, root, name):
    t = h.Tcpfp(exe, "")
    t.config = h.write_config(os.path.join(root, "config", "tap.ini"),
                              {("services", "seed_client"): "off"},
                              os.path.join(t.dir, name + ".ini"))
    t.start()
    return t


def sigterm_closes(exe, root):
    t = start(exe, root, "sigterm")
    t.peer_up()
    s = socket.create_connection(("172.16.48.2", 9), timeout=5)
    s.sendall(b"x" * 10000)
    r = h.sh("curl", "-sS", "-m", "5", "http://172.16.48.2/")
    h.check(r.returncode == 0, "traffic before the signal (curl, discard)")
    t.proc.send_signal(signal.SIGTERM)
    s.settimeout(5)
    try:
        eof = s.recv(10) == b""
    except OSError as e:
        eof = False
        print("recv: %r" % e)
    h.check(eof, "after SIGTERM the open connection is closed by tcpfp (Linux reads EOF)")
    s.close()
    rc = t.proc.wait(timeout=15)
    log = t.log()
    print("---- tcpfp log ----\n" + log + "-------------------", flush=True)
    h.check(rc == 0, "tcpfp exits 0 after SIGTERM (%d)" % rc)
    h.check("stopping: closing" in log and "=== tcpfp final statistics ===" in log,
            "it closed its connections and printed the final statistics")
    h.check("worker 0: mbufs held 0 (idle baseline 0)" in log,
            "'worker 0: mbufs held 0 (idle baseline 0)' after traffic")


def second_signal_exits(exe, root):
    t = start(exe, root, "twice")
    t.peer_up()
    # Linux keeps its side open: tcpfp's close waits in FIN_WAIT_2 (up to 2 s).
    s = socket.create_connection(("172.16.48.2", 9), timeout=5)
    s.sendall(b"y")
    time.sleep(0.2)
    t.proc.send_signal(signal.SIGINT)
    t.wait_log("stopping: closing", 5)
    start_ns = time.monotonic()
    t.proc.send_signal(signal.SIGINT)
    rc = t.proc.wait(timeout=5)
    took = time.monotonic() - start_ns
    s.close()
    h.check(rc == 128 + signal.SIGINT and took < 1.0,
            "a second SIGINT exits at once with %d (%d after %.2f s)" % (128 + signal.SIGINT, rc, took))


def main():
    h.enter_namespace()
    exe, root = sys.argv[1], sys.argv[2]
    sigterm_closes(exe, root)
    second_signal_exits(exe, root)


if __name__ == "__main__":
    main()
