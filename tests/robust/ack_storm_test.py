#!/usr/bin/env python3
"""ACK storms and old duplicates over the tap, inside a live Linux -> tcpfp
echo connection (sequence numbers and timestamps read off the tap):

  - old duplicates: 2000 copies of already-received data carrying a stale
    TSval -> each dropped by PAWS (RFC 7323 §5.3, drop `paws`);
  - ping-pong bait: 2000 segments far outside the receive window with a
    current TSval -> each dropped as `out_of_window`.

RFC 9293 §3.10.7.4 answers an unacceptable segment with an ACK; answered
one for one, two stacks that disagree about the window ACK each other
forever (an ACK war). tcpfp sends at most one such ACK per connection per
500 ms (as Linux's tcp_invalid_ratelimit): asserted are the exact drop
counts, few ACKs on the wire (at most one per started 500 ms of each storm,
plus one), every other one counted in `oow_acks_limited`, and the
connection still echoing byte-exact afterwards.

    ack_storm_test.py TCPFP_EXE SOURCE_ROOT
"""
import os
import socket
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
import rawnet as r  # noqa: E402
from flow import Conn, echo, pure_acks_from_tcpfp, send_paced  # noqa: E402

h = r.h
N = 2000


def storm(tap, conn, frames, name):
    """Returns tcpfp's ACKs and the frames the tap's own queue dropped: on a
    busy machine tcpfp's worker may not drain it in time (a stress round
    saw 997 of 2000 go), and those never reached tcpfp to be counted."""
    tap.drain()
    before = r.link_stats()["tx_dropped"]
    secs = send_paced(tap, frames)
    acks = pure_acks_from_tcpfp(tap.frames(0.5), conn)
    lost = r.link_stats()["tx_dropped"] - before
    bound = int(secs / 0.5) + 2
    print("%s: %d segments in %.2f s, %d dropped by the tap's queue, %d ACKs from tcpfp (bound %d)"
          % (name, len(frames), secs, lost, acks, bound), flush=True)
    h.check(acks <= bound, "%s: no ACK war: %d ACKs for %d segments (<= %d)" % (name, acks, len(frames), bound))
    h.check(lost < len(frames), "%s: some of the storm reached tcpfp (%d of %d lost in the tap)"
            % (name, lost, len(frames)))
    return acks, lost


def main():
    h.enter_namespace()
    exe, root = sys.argv[1], sys.argv[2]
    r.disable_ipv6()
    t = r.Tcpfp(exe, h.write_config(os.path.join(root, "config", "tap.ini"),
                                    {("services", "seed_client"): "off"},
                                    os.path.join(__import__("tempfile").mkdtemp(prefix="tcpfp-ack-"), "tap.ini")))
    t.start()
    t.peer_up()
    mac = r.tcpfp_mac()
    tap = r.Tap()
    sock = socket.create_connection((r.TCPFP_IP, 7), timeout=10)
    conn = Conn(sock.getsockname()[1])
    first = os.urandom(8192)
    h.check(echo(sock, first) == first, "8 KB echo before the storms")
    time.sleep(0.3)
    conn.learn(tap.frames(0.2))
    h.check(conn.rcv_nxt is not None and conn.ts_tcpfp != 0,
            "sequence numbers and timestamps sniffed (RCV.NXT %s, TSval %d)" % (conn.rcv_nxt, conn.ts_linux))

    # Old duplicates: the last 1000 bytes again, with a TSval from long ago.
    stale = conn.ts_linux - 100000
    old = [conn.segment(mac, conn.rcv_nxt - 1000, conn.snd_nxt, r.ACK | r.PSH, first[-1000:], tsval=stale)
           for _ in range(N)]
    acks_paws, lost_paws = storm(tap, conn, old, "old duplicates (stale TSval)")
    time.sleep(0.6)
    # Out of window: a sequence number a quarter of the space away.
    far = [conn.segment(mac, conn.rcv_nxt + 0x40000000 + 100 * i, conn.snd_nxt, r.ACK, b"x" * 10)
           for i in range(N)]
    acks_oow, lost_oow = storm(tap, conn, far, "out-of-window segments")

    data = os.urandom(64 * 1024)
    h.check(echo(sock, data) == data, "the connection survived: 64 KB echoed byte-exact")
    sock.close()
    time.sleep(0.3)
    s = r.final_stats(t.stop())
    print("engine: paws %d, out_of_window %d, dup_acks_sent %d, oow_acks_limited %d"
          % (s.get("eng.paws", 0), s.get("eng.out_of_window", 0), s.get("mib.dup_acks_sent", 0),
             s.get("mib.oow_acks_limited", 0)), flush=True)
    h.check(s.get("eng.paws", 0) == N - lost_paws, "every old duplicate that arrived dropped by PAWS "
            "(paws %d, %d lost in the tap)" % (s.get("eng.paws", 0), lost_paws))
    h.check(s.get("eng.out_of_window", 0) >= N - lost_oow, "every far segment that arrived dropped out "
            "of window (%d, %d lost in the tap)" % (s.get("eng.out_of_window", 0), lost_oow))
    answered = s.get("mib.dup_acks_sent", 0)
    limited = s.get("mib.oow_acks_limited", 0)
    h.check(limited >= 2 * N - (lost_paws + lost_oow) - (acks_paws + acks_oow) - 2,
            "the rest were suppressed by the limit (oow_acks_limited %d, answered %d)" % (limited, answered))
    h.check(s.get("mib.estab_resets", 0) == 0, "no connection was reset")


if __name__ == "__main__":
    main()
