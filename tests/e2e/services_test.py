#!/usr/bin/env python3
"""Built-in services against Linux clients: HTTP on 80 (curl: one request,
keep-alive reuse, Connection: close, 200 sequential requests), echo on 7
(256 KiB round trip), discard on 9, and an app started by the config
(`[apps] run = upper:7000`, the example of dpdk_app/apps/README.md).

    services_test.py TCPFP_EXE SOURCE_ROOT
"""
import os
import socket
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
import harness as h  # noqa: E402

BODY = "hello from tcpfp\n"
URL = "http://172.16.48.13/"


def curl(*args):
    return h.sh("curl", "-sS", "-m", "5", *args)


def main():
    h.enter_namespace()
    run(sys.argv[1], sys.argv[2])


def run(exe, root, port="tap", config="tap.ini", more=None):
    """The checks; af_xdp_test.py runs them over net_af_xdp, with `more(t)`
    called before tcpfp stops."""
    t = h.Tcpfp(exe, "", port=port)
    t.config = h.write_config(os.path.join(root, "config", config),
                              {("services", "seed_client"): "off"},
                              os.path.join(t.dir, "services.ini"))
    with open(t.config, "a") as f:
        f.write("\n[apps]\nrun = upper:7000\n")
    t.start()
    t.peer_up()

    r = curl(URL)
    h.check(r.returncode == 0 and r.stdout == BODY, "curl %s returns the body (%r %s)" % (URL, r.stdout, r.stderr))
    r = curl("-v", URL, URL, "http://172.16.48.2/")
    h.check(r.stdout == BODY * 3, "three requests on one curl")
    h.check("Re-using existing connection" in r.stderr or "Reusing existing connection" in r.stderr,
            "curl reuses the keep-alive connection")
    r = curl("-v", "-H", "Connection: close", URL)
    h.check(r.stdout == BODY and "Connection: close" in r.stderr, "Connection: close is honoured")
    r = curl("-I", URL)
    h.check(r.stdout.startswith("HTTP/1.1 200 OK"), "HEAD answers 200 without a body")

    failures = 0
    for _ in range(200):
        r = curl(URL)
        failures += r.returncode != 0 or r.stdout != BODY
    h.check(failures == 0, "200 sequential curls succeed (%d failed)" % failures)

    payload = os.urandom(256 * 1024)
    with socket.create_connection(("172.16.48.2", 7), timeout=5) as s:
        got = h.send_then_read_to_eof(s, payload)
    h.check(got == payload, "echo returns 256 KiB unchanged and closes after EOF")

    with socket.create_connection(("172.16.48.13", 9), timeout=5) as s:
        s.sendall(b"x" * 100000)
        s.shutdown(socket.SHUT_WR)
        h.check(s.recv(10) == b"", "discard swallows 100 kB and closes after EOF")

    with socket.create_connection(("172.16.48.13", 7000), timeout=5) as s:
        got = h.send_then_read_to_eof(s, b"hello, app layer\n" * 1000)
    h.check(got == b"HELLO, APP LAYER\n" * 1000, "the configured app 'upper' answers in upper case")

    if more:
        more(t)
    log = t.stop()
    h.check("drop no_buffers" not in log, "the engine never ran out of buffers")
    return log


if __name__ == "__main__":
    main()
