#!/usr/bin/env python3
"""Malformed-frame corpus over the tap: every frame below is written into
tcpfp's tap with an AF_PACKET socket and must be dropped under its own
drop-reason counter, and nothing else may be counted (IPv6 is off in the
namespace, so Linux sends nothing unasked). Exact counts are asserted per
reason; a frame counted under another reason fails the test by name.

What the tap cannot carry: a frame shorter than an Ethernet header (the
kernel refuses it: EINVAL), so the Ethernet layer is truncated at a VLAN
tag instead; bare-Ethernet truncation is covered by the wire unit tests
(tests/unit/wire_truncation_test.cpp).

    malformed_frames_test.py TCPFP_EXE SOURCE_ROOT
"""
import os
import struct
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
import rawnet as r  # noqa: E402

h = r.h
P, T = h.PEER, r.TCPFP_IP  # Linux's address and tcpfp's primary


def vectors(mac):
    """(name, expected counter, frame). Sources: RFC 791 §3.1 (IPv4 header),
    RFC 9293 §3.1-3.2 (TCP header and options), RFC 1071 (checksums),
    RFC 1122 §3.2.1.3 (source addresses), IEEE 802.3 §3.2.3 (MAC source)."""
    K = h.KERNEL_MAC

    def frame(ip_payload, **ip):
        return r.eth(mac, K, r.ipv4(P, T, ip_payload, **ip))

    def seg(flags=r.ACK, **kw):
        return r.tcp(P, T, 40001, 80, 1000, 1, flags, **kw)

    syn = seg(r.SYN)
    v = [
        # Ethernet: 802.1Q type with no tag behind it (IEEE 802.1Q §9.3).
        ("eth: VLAN tag truncated", "app.eth_malformed", r.eth(mac, K, b"\x00\x01", 0x8100)),
        ("eth: multicast source MAC", "app.eth_bad_source",
         r.mac_bytes(mac) + r.mac_bytes("01:00:5e:00:00:01") + b"\x08\x00" + r.ipv4(P, T, syn)),
        ("eth: broadcast source MAC", "app.eth_bad_source",
         r.mac_bytes(mac) + b"\xff" * 6 + b"\x08\x00" + r.ipv4(P, T, syn)),
        # IPv4 (RFC 791 §3.1).
        ("ip: empty", "app.ip_truncated", r.eth(mac, K, b"")),
        ("ip: 12 of 20 header bytes", "app.ip_truncated", r.eth(mac, K, r.ipv4(P, T, syn)[:12])),
        ("ip: version 6 in an IPv4 frame", "app.ip_bad_version", frame(syn, version=6)),
        ("ip: IHL 4", "app.ip_bad_ihl", frame(syn, ihl=4)),
        ("ip: IHL 15 past the frame", "app.ip_bad_ihl", r.eth(mac, K, r.ipv4(P, T, b"", ihl=15))),
        ("ip: total length below the header", "app.ip_bad_length", frame(syn, total=16)),
        ("ip: total length past the frame", "app.ip_bad_length", frame(syn, total=1400)),
        ("ip: bad header checksum", "app.ip_bad_checksum", frame(syn, bad_checksum=True)),
        ("ip: first fragment (MF)", "app.ip_fragment", frame(syn, frag=0x2000)),
        ("ip: later fragment (offset 8)", "app.ip_fragment", frame(syn, frag=0x0001)),
        ("ip: TTL 0", "app.ip_ttl_zero", frame(syn, ttl=0)),
        # RFC 1122 §3.2.1.3: a source is never broadcast or multicast.
        ("ip: broadcast source", "app.ip_bad_source",
         r.eth(mac, K, r.ipv4("255.255.255.255", T, r.tcp("255.255.255.255", T, 1, 80, 1, 0, r.SYN)))),
        ("ip: multicast source", "app.ip_bad_source",
         r.eth(mac, K, r.ipv4("224.0.0.5", T, r.tcp("224.0.0.5", T, 1, 80, 1, 0, r.SYN)))),
        ("ip: LAND (source == destination)", "app.ip_land",
         r.eth(mac, K, r.ipv4(T, T, r.tcp(T, T, 80, 80, 1, 0, r.SYN)))),
        # TCP header (RFC 9293 §3.1).
        ("tcp: 12 of 20 header bytes", "eng.tcp_truncated", frame(syn[:12])),
        ("tcp: data offset 4", "eng.tcp_bad_data_offset", frame(seg(r.SYN, doff=4))),
        ("tcp: data offset 15 past the segment", "eng.tcp_header_truncated",
         frame(seg(r.SYN, doff=15))),
        ("tcp: bad checksum", "eng.tcp_bad_checksum", frame(seg(r.SYN, bad_checksum=True))),
        # TCP options (RFC 9293 §3.2): every option but EOL/NOP has a length >= 2.
        ("tcp opt: kind without length byte", "eng.tcp_opt_truncated",
         frame(seg(r.SYN, options=b"\x01\x01\x01\x02"))),
        ("tcp opt: zero-length option", "eng.tcp_opt_bad_length",
         frame(seg(r.SYN, options=b"\x63\x00\x01\x01"))),
        ("tcp opt: option runs past the header", "eng.tcp_opt_overrun",
         frame(seg(r.SYN, options=b"\x01\x01\x63\x0c"))),
        ("tcp opt: MSS length 3", "eng.tcp_opt_mss_length",
         frame(seg(r.SYN, options=b"\x02\x03\x05\x01"))),
        # Flag combinations no valid segment has (RFC 9293 §3.10.7.2: a SYN to a
        # listener; scans set SYN+FIN or nothing).
        ("tcp: SYN+FIN", "eng.syn_fin", frame(seg(r.SYN | r.FIN))),
        ("tcp: null flags", "eng.no_control_flags", frame(seg(0))),
        ("tcp: FIN+PSH+URG (Xmas)", "eng.no_control_flags", frame(seg(r.FIN | r.PSH | r.URG))),
    ]
    return v


def main():
    h.enter_namespace()
    exe, root = sys.argv[1], sys.argv[2]
    r.disable_ipv6()
    t = h.Tcpfp(exe, "")
    t.config = h.write_config(os.path.join(root, "config", "tap.ini"),
                              {("services", "seed_client"): "off"},
                              os.path.join(t.dir, "tap.ini"))
    t.start()
    t.peer_up()
    mac = r.tcpfp_mac()
    tap = r.Tap()
    vs = vectors(mac)
    for name, _, f in vs:
        try:
            tap.send(f)
        except OSError as e:
            h.fail("the tap refused %r: %s" % (name, e))
        time.sleep(0.002)
    time.sleep(0.5)
    stats = r.final_stats(t.stop())
    expected = {}
    for _, counter, _ in vs:
        expected[counter] = expected.get(counter, 0) + 1
    # The engine also counts tcpInErrs for header/option/checksum errors (RFC 4022).
    got = r.drops(stats)
    for name, counter, _ in vs:
        print("vector %-40s -> %s" % (name, counter))
    for counter, n in sorted(expected.items()):
        h.check(got.get(counter, 0) == n, "%s counted %d time(s) (got %d)" % (counter, n, got.get(counter, 0)))
    extra = {k: v for k, v in got.items() if k not in expected}
    h.check(not extra, "no frame counted under another reason (extra: %s)" % extra)
    h.check(stats.get("connections", -1) == 0, "no connection was created by any of them")
    h.check(stats.get("mib.out_rsts", 0) == 0, "none was answered with RST")


if __name__ == "__main__":
    main()
