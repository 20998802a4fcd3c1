#!/usr/bin/env python3
"""Path MTU discovery against Linux as a router (RFC 1191): tcpfp sends 300 kB
to a server behind Linux whose far link has MTU 1280. Linux answers tcpfp's
1500-byte DF packets with ICMP "fragmentation needed, next-hop MTU 1280";
tcpfp must lower its MSS to 1228 (1280 - 40 - 12 bytes of timestamps),
resend at once (no retransmission timeout) and deliver every byte (sha256).

    tcpfp (172.16.48.2) --tap-- Linux (172.16.48.1 | 10.99.0.1, mtu 1280) --veth-- far (10.99.0.2, mtu 1500)

The far host is a second network namespace owned by the server process
(unshare -n), so it disappears with it. Nothing leaves the test's namespace.

    pmtu_test.py TCPFP_EXE SOURCE_ROOT
"""
import hashlib
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
import harness as h  # noqa: E402

FAR = "10.99.0.2"
PORT = 9000
SENDS, CHUNK = 5, 60000

# Binds once the address is there, reads to EOF, answers with the sha256.
SERVER = r"""
import hashlib, socket, sys, time
end = time.time() + 20
while True:
    try:
        s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("%s", %d)); break
    except OSError:
        if time.time() > end: sys.exit("no address")
        time.sleep(0.05)
s.listen(1); print("listening", flush=True)
c, _ = s.accept(); d = hashlib.sha256(); n = 0
while True:
    b = c.recv(65536)
    if not b: break
    d.update(b); n += len(b)
c.sendall(("%%d %%s\n" %% (n, d.hexdigest())).encode()); c.close()
""" % (FAR, PORT)


def far_host():
    server = subprocess.Popen(["unshare", "-n", sys.executable, "-c", SERVER],
                              stdout=subprocess.PIPE, text=True, start_new_session=True)
    pid = str(server.pid)
    ns = ["nsenter", "-t", pid, "-n"]
    for cmd in (["ip", "link", "add", "v0", "type", "veth", "peer", "name", "v1"],
                ["ip", "link", "set", "v1", "netns", pid],
                ["ip", "addr", "add", "10.99.0.1/24", "dev", "v0"],
                ["ip", "link", "set", "v0", "mtu", "1280", "up"],
                ns + ["ip", "link", "set", "lo", "up"],
                ns + ["ip", "addr", "add", FAR + "/24", "dev", "v1"],
                # The far host's own link takes 1500 (it announces MSS 1460):
                # only the router's egress is narrow, as on a real path.
                ns + ["ip", "link", "set", "v1", "mtu", "1500", "up"],
                ns + ["ip", "route", "add", "default", "via", "10.99.0.1"],
                ["sysctl", "-qw", "net.ipv4.ip_forward=1"]):
        r = h.sh(*cmd)
        h.check(r.returncode == 0, "set up: %s %s" % (" ".join(cmd), r.stderr.strip()))
    h.check(server.stdout.readline().strip() == "listening", "the far server listens on %s:%d" % (FAR, PORT))
    return server


def main():
    h.enter_namespace()
    exe, root = sys.argv[1], sys.argv[2]
    t = h.Tcpfp(exe, "")
    t.config = h.write_config(os.path.join(root, "config", "tap.ini"), {("services", "seed_client"): "off"},
                              os.path.join(t.dir, "pmtu.ini"))
    cfg = open(t.config).read().replace("[port0]\n", "[port0]\ngateway = 172.16.48.1\n", 1)
    open(t.config, "w").write(cfg)
    server = far_host()

    pattern = bytes(ord("a") + i % 26 for i in range(CHUNK))  # what `send ID N` sends
    digest = hashlib.sha256(pattern * SENDS).hexdigest()
    script = ["wait arp 172.16.48.1 timeout 5000",
              "connect 172.16.48.2 %s:%d" % (FAR, PORT),
              "wait 1 ESTABLISHED"]
    for _ in range(SENDS):
        script += ["send 1 %d" % CHUNK, "sleep 300"]
    script += ["show conn",  # while ESTABLISHED: the MSS in use
               "shutdown 1 wr",
               'expect recv 1 "%d %s"' % (CHUNK * SENDS, digest),
               "expect stat pmtu_lowered == 1",
               "expect stat rto_expirations == 0",
               "echo PMTU-DONE"]
    rc, log = t.run_script(script, 90)
    h.check(rc == 0 and "PMTU-DONE" in log,
            "300 kB reach the far host byte-exact (sha256), the MSS lowered once, no RTO")
    h.check(" mss:1228 " in log, "show conn reports MSS 1228 (1280 - 40 - 12)")
    h.check("mbufs held 0 (idle baseline 0)" in log, "every mbuf freed or sent")
    server.wait(timeout=10)


if __name__ == "__main__":
    main()
