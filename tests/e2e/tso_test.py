#!/usr/bin/env python3
"""TCP segmentation offload over net_tap: Linux reads 100 MB from tcpfp's
chargen (RFC 864's pattern, hashed) and gets them byte-exact, and the
frames tcpfp hands to the port are at most a tenth of the TCP segments it
sends; an echo round trip (data and ACK numbers moving under the sender)
stays byte-exact too, and so do reads with an odd MSS and with an MSS under
the ports' minimum cut, with no checksum error counted by Linux. With `tso = off` every segment is a frame of its own.

The frame count is tcpfp's (`show port stats`: "TX-frames handed to the
port"), not the port's TX-packets: net_tap's TSO is software segmentation
inside the PMD (rte_gso_segment, drivers/net/tap/rte_eth_tap.c, DPDK
22.11), which writes and counts each segment it cuts. That TX-packets
reaches the segment count shows the PMD did the cutting; Linux's checksums
and the hash show it cut right.

    tso_test.py TCPFP_EXE SOURCE_ROOT
"""
import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
import harness as h  # noqa: E402
import streams  # noqa: E402

ADDR = "172.16.48.2"


def tx_figures(t):
    """(frames handed to the port, TCP segments sent, super-segments,
    segments in them, the port's TX-packets) from `show port stats`."""
    out = t.command("show port stats 0")
    print(out, flush=True)
    frames = re.search(r"TX-frames handed to the port: (\d+)\s+TCP segments sent: (\d+)", out)
    tso = re.search(r"TSO (?:on|off): (\d+) super-segments carrying (\d+) segments", out)
    port = re.search(r"TX-packets: (\d+)", out)
    if not (frames and tso and port):
        h.fail("show port stats lacks tcpfp's TX figures")
    return (int(frames.group(1)), int(frames.group(2)), int(tso.group(1)), int(tso.group(2)),
            int(port.group(1)))


def start(exe, root, tso):
    t = h.Tcpfp(exe, "", prompt=True)
    t.config = h.write_config(os.path.join(root, "config", "tap.ini"),
                              {("services", "seed_client"): "off", ("port0", "tso"): tso},
                              os.path.join(t.dir, "tso.ini"))
    t.start()
    t.peer_up()
    return t


def chargen(total):
    digest, got = streams.chargen_read(ADDR, total, timeout=120)
    h.check(got == total and digest == streams.chargen_expected(total),
            "Linux read %d chargen bytes, byte-exact (%d read)" % (total, got))


def csum_errors():
    """Linux's TCP InCsumErrors in this namespace (/proc/net/snmp)."""
    rows = [l.split() for l in open("/proc/net/snmp") if l.startswith("Tcp:")]
    return int(rows[1][rows[0].index("InCsumErrors")])


def chargen_with_mss(total, mss):
    """Reads `total` chargen bytes on a connection whose SYN offers `mss`
    (tcpfp's segments carry 12 bytes less, beside the timestamps).
    Returns (sha256, bytes read)."""
    import hashlib
    import socket
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_MAXSEG, mss)
    s.settimeout(60)
    s.connect((ADDR, 19))
    digest, got = hashlib.sha256(), 0
    while got < total:
        data = s.recv(min(1 << 16, total - got))
        if not data:
            break
        digest.update(data)
        got += len(data)
    s.close()
    return digest.hexdigest(), got


def with_tso(exe, root):
    t = start(exe, root, "on")
    info = t.command("show port info 0")
    h.check(re.search(r"TSO: on \(net_tap: segments sent up to IPv4 1486 bytes", info) is not None,
            "show port info: TSO on, segments 14 bytes short of the tap's MTU")
    errors = csum_errors()
    chargen(100 * 1000 * 1000)
    frames, segments, supers, carried, port_packets = tx_figures(t)
    print("TSO on: %d frames for %d segments (%.3f), %d super-segments carrying %d; the port wrote %d"
          % (frames, segments, frames / max(segments, 1), supers, carried, port_packets), flush=True)
    h.check(segments >= 100 * 1000 * 1000 // 1434, "at least 100 MB / 1434 B segments sent (%d)" % segments)
    h.check(frames * 10 <= segments, "frames handed to the port <= 1/10 of the segments (%d vs %d)"
            % (frames, segments))
    h.check(port_packets >= segments, "the PMD cut and wrote every segment (TX-packets %d >= %d)"
            % (port_packets, segments))
    sent, got, n = streams.echo_roundtrip(ADDR, 20 * 1000 * 1000, timeout=120)
    h.check(n == 20 * 1000 * 1000 and sent == got, "a 20 MB echo round trip is byte-exact (%d bytes back)" % n)
    after = tx_figures(t)
    h.check(after[2] > supers, "the echo's replies went out in super-segments too (%d more)" % (after[2] - supers))
    # net_tap checksums the pieces it cuts right only for even cut sizes
    # (tcp::TsoLimits::even_cut): 989-byte segments must go unmerged.
    digest, got = chargen_with_mss(5 * 1000 * 1000, 1001)
    h.check(got == 5 * 1000 * 1000 and digest == streams.chargen_expected(got),
            "with MSS 1001 (989-byte segments) 5 MB arrive byte-exact (%d read)" % got)
    # Segments under 256 bytes go unmerged (tcp::TsoLimits::min_cut, a
    # NIC's floor), one frame each.
    digest, got = chargen_with_mss(1000 * 1000, 200)
    h.check(got == 1000 * 1000 and digest == streams.chargen_expected(got),
            "with MSS 200 (188-byte segments) 1 MB arrives byte-exact (%d read)" % got)
    h.check(csum_errors() == errors, "Linux counted no TCP checksum error (InCsumErrors +%d)"
            % (csum_errors() - errors))
    log = t.stop()
    h.check("tx_serialize" not in log and "tx_no_mbuf" not in log, "no frame failed to build")


def without_tso(exe, root):
    t = start(exe, root, "off")
    info = t.command("show port info 0")
    h.check("TSO: off ([port0] tso = off)" in info, "show port info: TSO off by the configuration")
    chargen(10 * 1000 * 1000)
    frames, segments, supers, carried, _ = tx_figures(t)
    h.check(supers == 0 and carried == 0 and frames >= segments,
            "tso = off: every segment its own frame (%d frames, %d segments)" % (frames, segments))
    t.stop()


def main():
    h.enter_namespace()
    with_tso(sys.argv[1], sys.argv[2])
    without_tso(sys.argv[1], sys.argv[2])


if __name__ == "__main__":
    main()
