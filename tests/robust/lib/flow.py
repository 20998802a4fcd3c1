"""A Linux socket's connection to tcpfp's echo service as an attacker on the
tap sees it: sequence numbers and timestamps read off the wire, segments
forged inside that connection (tests/robust: blind injection, ACK storm)."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rawnet as r  # noqa: E402

h = r.h


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

    def segment(self, mac, seq, ack, flags, payload=b"", tsval=None):
        """A segment from Linux's side of the flow; TSval defaults to Linux's latest."""
        opts = r.opt_nop() + r.opt_nop() + r.opt_ts(self.ts_linux if tsval is None else tsval, self.ts_tcpfp)
        seg = r.tcp(h.PEER, r.TCPFP_IP, self.sport, 7, seq, ack, flags, payload, window=502, options=opts)
        return r.eth(mac, h.KERNEL_MAC, r.ipv4(h.PEER, r.TCPFP_IP, seg))


def acks_from_tcpfp(frames, conn, ack=None):
    """Pure ACKs tcpfp sent on the connection (challenge ACKs look like this)."""
    n = 0
    for pkttype, f in frames:
        p = r.parse_tcp(f)
        if (p and p["sport"] == 7 and p["dport"] == conn.sport and p["flags"] == r.ACK
                and not p["payload"] and p["ack"] == (conn.rcv_nxt if ack is None else ack)):
            n += 1
    return n


def echo(sock, data):
    """What tcpfp's echo service returns for `data`, read while it is sent
    (the connection stays open)."""
    return h.exchange(sock, data, until_eof=False)


def pure_acks_from_tcpfp(frames, conn):
    """Every pure ACK tcpfp sent on the connection, whatever it acknowledges."""
    n = 0
    for pkttype, f in frames:
        p = r.parse_tcp(f)
        if p and p["sport"] == 7 and p["dport"] == conn.sport and p["flags"] == r.ACK and not p["payload"]:
            n += 1
    return n


def send_paced(tap, frames):
    """Writes frames into the tap at about 20k/s (its queue holds 1000)."""
    import time
    start = time.monotonic()
    for i, f in enumerate(frames):
        tap.send(f)
        if i % 50 == 49:
            time.sleep(0.002)
    return time.monotonic() - start
