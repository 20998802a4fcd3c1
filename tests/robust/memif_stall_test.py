#!/usr/bin/env python3
"""The memif link that stalled for good (issue 13 §2), under the conditions
that provoked it, made worse on purpose: both processes of the memif pair
and a busy loop share CPU 0, each process has the smallest mbuf pool tcpfp
accepts (1024), and both sides make output that does not wait for input:
the client floods SYNs (the server's SYN-ACKs come back to it), the server
answers 64-byte requests with 1 MB, and 32 KB requests are echoed.

The suspected cause, fixed in dpdk_app/tx.hpp (`Tx::backlog_bound`): a
backlog of frames for a full memif TX ring that empties the pool leaves
memif RX without mbufs (it then leaves the descriptors in the ring and
counts nothing), so the peer's ring stays full; if both sides got there,
neither would move again. What the fix guarantees is asserted: neither
pool ever runs dry (tx_no_mbuf stays 0 on both sides), so memif RX always
finds mbufs. This test failed before the fix: with the old bound (1024
frames, the whole pool) the link all but stopped under this load (59k
frames in 89 s, against 2.1M in 35 s with the fix; the second round's
check could not even connect within 10 s), and the client's pool failed
44M allocations. With load that only answers input (echo and crr, no
flood, no 1 MB responses) the old bound's pools ran dry too but the link
moved on: output that does not wait for input is what starves RX.

ROUNDS rounds of load; after each, the client's script must still answer
and a verified rr run must complete, with no connection failure or data
error. At the end every mbuf is back on both sides. The frames each side
deferred to a full ring, dropped past the backlog and failed to allocate
are reported (they show the rings filled).

    memif_stall_test.py TCPFP_EXE SOURCE_ROOT
    env: TCPFP_STALL_ROUNDS (3), TCPFP_STALL_SECONDS (4 per round)
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
import rawnet as r  # noqa: E402

h = r.h
ROUNDS = int(os.environ.get("TCPFP_STALL_ROUNDS", "3"))
SECONDS = int(os.environ.get("TCPFP_STALL_SECONDS", "4"))
SERVER = "172.16.48.1"
MBUFS = 1024  # the smallest pool [mempool] mbufs accepts
# A round's check: 500 verified rr requests on 4 connections. Under this
# test's own load they took about a second; a stalled link never finishes.
CHECK_TIMEOUT_MS = 60000


def small_pool(src, path, gateway=None):
    cfg = h.write_config(src, {("mempool", "mbufs"): str(MBUFS), ("mempool", "cache"): "32"}, path)
    if gateway:  # the server's SYN-ACKs to the flood's spoofed sources go to the client
        text = open(cfg).read().replace("[port0]\n", "[port0]\ngateway = %s\n" % gateway, 1)
        open(cfg, "w").write(text)
    return cfg


def client_script(d):
    lines = ["wait arp %s timeout 10000" % SERVER]
    for i in range(ROUNDS):
        lines += [
            "echo ROUND-%d-LOAD" % i,
            # Output that does not wait for input, on both sides: the client
            # floods SYNs (answered with SYN-ACKs routed back to it); the
            # server sends 1 MB responses to 64-byte requests (each ACK
            # releases more than one segment); 32 KB requests echoed both ways.
            "start flood syn %s:7 rate 1000000 duration %d" % (SERVER, SECONDS),
            "start gen down rr %s:5001 conns 32 request 64 response 1000000 pipeline 2 duration %d"
            % (SERVER, SECONDS),
            "start gen load rr %s:7 conns 32 size 32768 pipeline 8 duration %d" % (SERVER, SECONDS),
            "wait gen timeout %d" % (1000 * SECONDS + CHECK_TIMEOUT_MS),
            "wait flood",
            "echo ROUND-%d-CHECK" % i,
            "start gen check rr %s:7 conns 4 size 256 count 500 verify" % SERVER,
            "wait gen check timeout %d" % CHECK_TIMEOUT_MS,
            "expect gen check conns_failed == 0",
            "expect gen check errors == 0",
            "expect gen check requests >= 500",
            "echo ROUND-%d-OK" % i,
        ]
    lines += ["show gen json", "echo CLIENT-DONE"]
    path = os.path.join(d, "client.cmd")
    open(path, "w").write("\n".join(lines) + "\n")
    return path


def main():
    r.memif_pair_or_exit(tools=("taskset",))
    exe, root = sys.argv[1], sys.argv[2]
    d = tempfile.mkdtemp(prefix="tcpfp-memif-stall-")
    srv_log = os.path.join(d, "server.log")
    # Every thread of both processes on CPU 0, with a busy loop there too.
    env = dict(os.environ, TCPFP_BIN=exe, TCPFP_PAIR_LOG=srv_log, TCPFP_PAIR_MEM="512",
               TCPFP_PAIR_CLIENT_LCORES="0@0,1@0", TCPFP_PAIR_SERVER_LCORES="0@0,1@0")
    hog = subprocess.Popen(["taskset", "-c", "0", "sh", "-c", "while :; do :; done"],
                           start_new_session=True, preexec_fn=h.die_with_parent)
    t0 = time.monotonic()
    try:
        p = subprocess.run([os.path.join(root, "scripts", "pair.sh"),
                            "--server-config", small_pool(os.path.join(root, "config", "pair-server.ini"),
                                                          os.path.join(d, "server.ini"), "172.16.48.13"),
                            "--client-config", small_pool(os.path.join(root, "config", "pair-client.ini"),
                                                          os.path.join(d, "client.ini")),
                            "--", "--cmdline-file", client_script(d)],
                           env=env, capture_output=True, text=True,
                           timeout=ROUNDS * (SECONDS + 2 * CHECK_TIMEOUT_MS // 1000) + 60)
    finally:
        hog.kill()
    took = time.monotonic() - t0
    client = p.stdout + p.stderr
    server = open(srv_log, errors="replace").read() if os.path.exists(srv_log) else ""
    open(os.path.join(d, "client.log"), "w").write(client)
    print("pair ran %.1f s (exit %d); logs in %s" % (took, p.returncode, d), flush=True)
    rounds_ok = len(re.findall(r"^ROUND-\d+-OK", client, re.M))
    for line in client.splitlines():
        if line.startswith(("ROUND-", "gen", "expect")) or "error" in line.lower() or "FAIL" in line:
            print("  client: " + line[:200], flush=True)
    s, c = r.final_stats(server), r.final_stats(client)
    for side, st, text in (("client", c, client), ("server", s, server)):
        deferred = re.search(r"tx frames deferred by a full TX ring (\d+)", text)
        print("  %s: worker rx %s tx %s frames; deferred by a full TX ring %s, dropped past the backlog "
              "(tx_ring_full) %s, rx no mbuf %s, tx_no_mbuf %s"
              % (side, st.get("rx_frames", "?"), st.get("tx_frames", "?"), deferred.group(1) if deferred else 0,
                 st.get("app.tx_ring_full", 0), st.get("port.rx_no_mbuf", 0), st.get("app.tx_no_mbuf", 0)), flush=True)
    h.check(rounds_ok == ROUNDS and p.returncode == 0 and "CLIENT-DONE" in client,
            "the link moved after every round of load (%d of %d rounds checked: verified rr, no failure)"
            % (rounds_ok, ROUNDS))
    for side, st in (("server", s), ("client", c)):
        h.check(st.get("app.tx_no_mbuf", 0) == 0,  # listed only when not 0
                "%s: the pool never ran dry (tx_no_mbuf %s): the TX backlog is bounded by an eighth of it"
                % (side, st.get("app.tx_no_mbuf", 0)))
    for side, st in (("server", s), ("client", c)):
        h.check(st.get("held", -1) == st.get("baseline", -2), "%s: every mbuf came back (held %s, baseline %s)"
                % (side, st.get("held"), st.get("baseline")))
    shutil.rmtree(d, ignore_errors=True)  # kept only when a check failed


if __name__ == "__main__":
    main()
