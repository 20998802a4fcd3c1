#!/usr/bin/env python3
"""RFC 5961 blind injection over the tap. A Linux client holds a connection
to tcpfp's echo service (7); the test reads the connection's sequence
numbers and timestamps off the tap and injects, as an off-path attacker
who guessed the window would:

  - RST in the window but not at RCV.NXT    -> challenge ACK (RFC 5961 §3.2)
  - SYN in a synchronized state             -> challenge ACK (RFC 5961 §4.2)
  - data whose ACK is too old / unsent      -> challenge ACK, data dropped (§5.2)

Each challenge ACK must be seen on the wire, and the connection must
survive: afterwards 64 KB through the echo come back byte-exact (the
injected payload never appears). The cases are 600 ms apart: a connection
answers refused segments (challenge ACKs and ACKs for unacceptable
segments alike) at most once per 500 ms, as Linux does. Then a burst of
RSTs meets that per-connection budget first (the engine-wide RFC 5961 §7
limit of 1000 per second comes after it; tests/engine covers it across
connections): challenge ACKs on the wire equal the engine's
challenge_acks_sent, at most one per started 500 ms, and every other RST
counts as oow_acks_limited or challenge_acks_limited.

    blind_injection_test.py TCPFP_EXE SOURCE_ROOT
"""
import os
import socket
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
import rawnet as r  # noqa: E402
from flow import Conn, acks_from_tcpfp, echo  # noqa: E402

h = r.h
LIMIT = 1000          # EngineConfig::challenge_ack_per_second
PERIOD = 0.5          # one ACK for a refused segment per connection per 500 ms
BURST = int(os.environ.get("TCPFP_RST_BURST", "3000"))


def main():
    h.enter_namespace()
    exe, root = sys.argv[1], sys.argv[2]
    r.disable_ipv6()
    t = h.Tcpfp(exe, "")
    t.config = h.write_config(os.path.join(root, "config", "tap.ini"),
                              {("services", "seed_client"): "off"}, os.path.join(t.dir, "tap.ini"))
    t.start()
    t.peer_up()
    mac = r.tcpfp_mac()
    tap = r.Tap()
    sock = socket.create_connection((r.TCPFP_IP, 7), timeout=10)
    conn = Conn(sock.getsockname()[1])
    h.check(echo(sock, b"hello before the attack\n") == b"hello before the attack\n", "echo works")
    time.sleep(0.3)  # let delayed ACKs settle: the flow is idle from here
    conn.learn(tap.frames(0.2))
    h.check(conn.rcv_nxt is not None and conn.ts_linux and conn.ts_tcpfp,
            "sequence numbers and timestamps sniffed off the tap (RCV.NXT %s, SND.NXT %s)"
            % (conn.rcv_nxt, conn.snd_nxt))
    tap.drain()

    cases = [
        ("RST in window, not at RCV.NXT", conn.segment(mac, conn.rcv_nxt + 1000, 0, r.RST)),
        ("SYN in ESTABLISHED", conn.segment(mac, conn.rcv_nxt + 77, 0, r.SYN)),
        ("data with an ACK too old", conn.segment(mac, conn.rcv_nxt, conn.snd_nxt - 0x40000000,
                                                  r.ACK | r.PSH, b"EVIL-OLD")),
        ("data with an ACK for unsent data", conn.segment(mac, conn.rcv_nxt, conn.snd_nxt + 0x100000,
                                                          r.ACK | r.PSH, b"EVIL-NEW")),
    ]
    for name, frame in cases:
        tap.send(frame)
        n = acks_from_tcpfp(tap.frames(0.3), conn)
        h.check(n == 1, "%s: one challenge ACK on the wire (%d)" % (name, n))
        time.sleep(0.3)  # the next case falls outside this one's 500 ms

    data = os.urandom(64 * 1024)
    h.check(echo(sock, data) == data, "the connection survived: 64 KB echoed byte-exact, no injected byte")
    time.sleep(0.3)
    conn.learn(tap.frames(0.2))
    tap.drain()
    time.sleep(1.1)  # a fresh one-second rate-limit window

    frames = [conn.segment(mac, conn.rcv_nxt + 1 + i, 0, r.RST) for i in range(BURST)]
    start = time.monotonic()
    for i, f in enumerate(frames):
        tap.send(f)
        if i % 50 == 49:
            time.sleep(0.002)  # paced so the tap's queue (1000 frames) never overflows
    sent_secs = time.monotonic() - start
    # Read until the tap is quiet: on a loaded machine tcpfp may still be
    # working through the tap's queue after the last RST left, and its
    # answers then fall into later one-second windows.
    wire_acks, last = 0, time.monotonic()
    while time.monotonic() - start < 15:
        n = acks_from_tcpfp(tap.frames(0.5), conn)
        if n == 0:
            break
        wire_acks += n
        last = time.monotonic()
    secs = max(sent_secs, last - start)
    periods = int(secs / PERIOD) + 2  # 500 ms periods the answers can touch
    print("burst: %d RSTs in %.3f s (%.0f/s), %d challenge ACKs on the wire (one per %.1f s per "
          "connection, at most %d periods)" % (BURST, secs, BURST / secs, wire_acks, PERIOD, periods),
          flush=True)
    h.check(0 < wire_acks <= min(periods, LIMIT * (int(secs) + 2)),
            "challenge ACKs for %d RSTs within the per-connection budget (%d <= %d)"
            % (BURST, wire_acks, periods))
    data = os.urandom(16 * 1024)
    h.check(echo(sock, data) == data, "the connection survived the burst: 16 KB echoed byte-exact")
    sock.close()
    time.sleep(0.3)

    s = r.final_stats(t.stop())
    sent, limited = s.get("mib.challenge_acks_sent", 0), s.get("mib.challenge_acks_limited", 0)
    oow = s.get("mib.oow_acks_limited", 0)
    print("engine: challenge_acks_sent %d, challenge_acks_limited %d, oow_acks_limited %d"
          % (sent, limited, oow), flush=True)
    h.check(sent == 4 + wire_acks, "challenge_acks_sent %d == 4 + %d seen on the wire" % (sent, wire_acks))
    # What tcpfp received, as it counted it: on a busy machine the tap's
    # kernel queue drops part of a 3000-frame burst before tcpfp reads it
    # (net_tap reads one frame per system call), so the number injected is
    # only an upper bound. Each segment that reached the engine and called
    # for a challenge was counted under its reason.
    challenged = sum(s.get("eng." + k, 0) for k in
                     ("rst_challenged", "syn_challenged", "ack_too_old", "ack_unsent"))
    print("engine: %d challenges for %d injected (%d RSTs; the rest lost before tcpfp read them)"
          % (challenged, 4 + BURST, s.get("eng.rst_challenged", 0)), flush=True)
    h.check(4 < challenged <= 4 + BURST,
            "the injected segments that tcpfp received were challenged (4 < %d <= %d)"
            % (challenged, 4 + BURST))
    h.check(sent + limited + oow == challenged,
            "every challenge is counted sent or limited (%d + %d + %d == %d)" % (sent, limited, oow, challenged))
    rsts = s.get("eng.rst_challenged", 0)
    h.check(1 < rsts <= 1 + BURST, "rst_challenged %d: the first RST and the %d of the burst that "
            "reached tcpfp (of %d)" % (rsts, rsts - 1, BURST))
    h.check(s.get("eng.syn_challenged", 0) == 1, "syn_challenged %d" % s.get("eng.syn_challenged", 0))
    h.check(s.get("eng.ack_too_old", 0) == 1, "ack_too_old %d" % s.get("eng.ack_too_old", 0))
    h.check(s.get("eng.ack_unsent", 0) == 1, "ack_unsent %d" % s.get("eng.ack_unsent", 0))
    h.check(s.get("mib.estab_resets", 0) == 0, "no connection was reset")


if __name__ == "__main__":
    main()
