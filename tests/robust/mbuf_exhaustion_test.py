#!/usr/bin/env python3
"""Mbuf pool exhaustion over the tap. tcpfp runs with the smallest pool
([mempool] mbufs = 1024, 64 RX/TX descriptors) and an [impair] delay of
100 ms on RX and TX, so every frame holds its mbuf for 100 ms. A spoofed SYN
flood (tests/robust/synflood, 20k SYN/s for 3 s) then wants ~2000 mbufs in
the delay lines: the pool runs dry, receive allocations fail (the port's
`rx no mbuf`) and so do the SYN-ACKs tcpfp builds (drop `tx_no_mbuf`).
Asserted: both failures are counted; once the flood stops and the delay
lines drain the stack recovers (a 256 KB echo transfer then completes
byte-exact, HTTP works); at exit every mbuf is back (`mbufs held` equals
the idle baseline) and no engine buffer or connection is left.

    mbuf_exhaustion_test.py TCPFP_EXE SOURCE_ROOT   (env TCPFP_SYNFLOOD: the flood tool)
"""
import os
import re
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
import rawnet as r  # noqa: E402

h = r.h


def echo(data):
    s = socket.create_connection((r.TCPFP_IP, 7), timeout=30)
    got = h.send_then_read_to_eof(s, data)
    s.close()
    return got


def main():
    h.enter_namespace()
    exe, root = sys.argv[1], sys.argv[2]
    flood = os.environ.get("TCPFP_SYNFLOOD")
    r.disable_ipv6()
    d = __import__("tempfile").mkdtemp(prefix="tcpfp-mbuf-")
    cfg = h.write_config(os.path.join(root, "config", "tap.ini"),
                         {("services", "seed_client"): "off", ("mempool", "mbufs"): "1024",
                          ("mempool", "cache"): "32", ("impair", "delay_us"): "100000"},
                         os.path.join(d, "mbuf.ini"))
    text = open(cfg).read().replace("[port0]\n", "[port0]\ngateway = 172.16.48.1\nrx_desc = 64\ntx_desc = 64\n", 1)
    open(cfg, "w").write(text)
    t = r.Tcpfp(exe, cfg)
    t.start()
    t.peer_up()
    h.sh("ip", "link", "set", h.IFACE, "txqueuelen", "10000")
    mac = r.tcpfp_mac()
    small = os.urandom(4096)
    h.check(echo(small) == small, "4 KB echo before the exhaustion")

    out = subprocess.run([flood, "--iface", h.IFACE, "--dst-mac", mac, "--src-mac", h.KERNEL_MAC,
                          "--dst", r.TCPFP_IP, "--dport", "80", "--seconds", "3", "--rate", "20000",
                          "--src-net", "10.0.0.0/8"], capture_output=True, text=True, timeout=60).stdout
    print(out.strip(), flush=True)
    time.sleep(1.0)  # the delay lines drain and the mbufs come back

    data = os.urandom(256 * 1024)
    start = time.monotonic()
    got = echo(data)
    h.check(got == data, "after the exhaustion a 256 KB echo completes byte-exact (%d bytes, %.1f s)"
            % (len(got), time.monotonic() - start))
    rc = subprocess.run(["curl", "-sS", "-m", "10", "http://%s/" % r.TCPFP_IP], capture_output=True, text=True)
    h.check(rc.returncode == 0 and "hello from tcpfp" in rc.stdout, "HTTP works after the exhaustion")
    time.sleep(0.5)

    st = r.final_stats(t.stop())
    print("pool exhaustion: port rx no mbuf %d, drop tx_no_mbuf %d, SYN cookies %d"
          % (st.get("port.rx_no_mbuf", 0), st.get("app.tx_no_mbuf", 0), st.get("mib.syncookies_sent", 0)), flush=True)
    h.check(st.get("port.rx_no_mbuf", 0) > 0, "receive allocation failures counted (rx no mbuf %d)"
            % st.get("port.rx_no_mbuf", 0))
    h.check(st.get("app.tx_no_mbuf", 0) > 0, "transmit allocation failures counted (tx_no_mbuf %d)"
            % st.get("app.tx_no_mbuf", 0))
    h.check(st.get("held") == 0, "mbufs held %s (idle baseline %s): every mbuf came back"
            % (st.get("held"), st.get("baseline")))
    h.check(st.get("buffers", -1) == 0, "no engine buffer in use (%s)" % st.get("buffers"))
    h.check(st.get("connections", -1) == 0, "no connection left (%s)" % st.get("connections"))


if __name__ == "__main__":
    main()
