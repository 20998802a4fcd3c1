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
injected payload never appears). Then a burst of RSTs (more than the
engine's 1000 per second) measures the rate limit (RFC 5961 §7): challenge
ACKs on the wire equal the engine's challenge_acks_sent, stay within
1000 per one-second window spanned, the rest count as challenge_acks_limited.

    blind_injection_test.py TCPFP_EXE SOURCE_ROOT
"""
import os
import socket
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
import rawnet as r  # noqa: E402

h = r.h
LIMIT = 1000          # EngineConfig::challenge_ack_per_second
BURST = int(os.environ.get("TCPFP_RST_BURST", "3000"))


class Conn:
    """What an attacker sniffing the tap knows of the Linux <-> tcpfp flow."""

    def __init__(self, sport):
        self.sport = sport
        self.rcv_nxt = None   # tcpfp's RCV.NXT: Linux's next sequence number
        self.snd_nxt = None   # tcpfp's SND.NXT: what Linux acknowledges
        self.ts_linux = 0
        self.ts_tcpfp = 0

    def learn(self, frames):
        for pkttype, f in frames:
            p = r.parse_tcp(f)
            if not p or 7 not in (p["sport"], p["dport"]) or self.sport not in (p["sport"], p["dport"]):
                continue
            ts = r.parse_options(p["options"]).get(8)
            if p["dport"] == 7:  # Linux -> tcpfp
                self.rcv_nxt = (p["seq"] + len(p["payload"]) + (1 if p["flags"] & (r.SYN | r.FIN) else 0)) & 0xFFFFFFFF
                self.snd_nxt = p["ack"]
                if ts:
                    self.ts_linux = int.from_bytes(ts[:4], "big")
            elif ts:
                self.ts_tcpfp = int.from_bytes(ts[:4], "big")

    def segment(self, mac, seq, ack, flags, payload=b""):
        opts = r.opt_nop() + r.opt_nop() + r.opt_ts(self.ts_linux, self.ts_tcpfp)
        seg = r.tcp(h.PEER, r.TCPFP_IP, self.sport, 7, seq, ack, flags, payload, window=502, options=opts)
        return r.eth(mac, h.KERNEL_MAC, r.ipv4(h.PEER, r.TCPFP_IP, seg))


def acks_from_tcpfp(frames, conn):
    """Pure ACKs tcpfp sent on the connection (challenge ACKs look like this)."""
    n = 0
    for pkttype, f in frames:
        p = r.parse_tcp(f)
        if (p and p["sport"] == 7 and p["dport"] == conn.sport and p["flags"] == r.ACK
                and not p["payload"] and p["ack"] == conn.rcv_nxt):
            n += 1
    return n


def echo(sock, data):
    sock.sendall(data)
    got = b""
    while len(got) < len(data):
        chunk = sock.recv(65536)
        if not chunk:
            break
        got += chunk
    return got


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
    secs = time.monotonic() - start
    wire_acks = acks_from_tcpfp(tap.frames(0.5), conn)
    windows = int(secs) + 2  # one-second windows the burst can touch
    print("burst: %d RSTs in %.3f s (%.0f/s), %d challenge ACKs on the wire (limit %d/s, "
          "at most %d windows)" % (BURST, secs, BURST / secs, wire_acks, LIMIT, windows), flush=True)
    h.check(0 < wire_acks <= LIMIT * windows,
            "challenge ACKs for %d RSTs within the rate limit (%d <= %d)" % (BURST, wire_acks, LIMIT * windows))
    if secs < 1.0:
        h.check(wire_acks < BURST, "the limit suppressed some (%d of %d answered)" % (wire_acks, BURST))
    data = os.urandom(16 * 1024)
    h.check(echo(sock, data) == data, "the connection survived the burst: 16 KB echoed byte-exact")
    sock.close()
    time.sleep(0.3)

    s = r.final_stats(t.stop())
    sent, limited = s.get("mib.challenge_acks_sent", 0), s.get("mib.challenge_acks_limited", 0)
    print("engine: challenge_acks_sent %d, challenge_acks_limited %d" % (sent, limited), flush=True)
    h.check(sent == 4 + wire_acks, "challenge_acks_sent %d == 4 + %d seen on the wire" % (sent, wire_acks))
    h.check(sent + limited == 4 + BURST, "every challenge is counted sent or limited (%d + %d == %d)"
            % (sent, limited, 4 + BURST))
    h.check(s.get("eng.rst_challenged", 0) == 1 + BURST, "rst_challenged %d" % s.get("eng.rst_challenged", 0))
    h.check(s.get("eng.syn_challenged", 0) == 1, "syn_challenged %d" % s.get("eng.syn_challenged", 0))
    h.check(s.get("eng.ack_too_old", 0) == 1, "ack_too_old %d" % s.get("eng.ack_too_old", 0))
    h.check(s.get("eng.ack_unsent", 0) == 1, "ack_unsent %d" % s.get("eng.ack_unsent", 0))
    h.check(s.get("mib.estab_resets", 0) == 0, "no connection was reset")


if __name__ == "__main__":
    main()
