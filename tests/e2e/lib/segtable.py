#!/usr/bin/env python3
"""Prints a capture's TCP segments as a table, like the seed article's
dissection: time, direction, flags, raw seq/ack, window, length, options.

    segtable.py CAPTURE.pcapng [LOCAL_PREFIX]

LOCAL_PREFIX (default "172.16.48.") plus a host other than .1 is tcpfp's side.
"""
import subprocess
import sys

FIELDS = ["frame.time_relative", "ip.src", "tcp.srcport", "ip.dst", "tcp.dstport",
          "tcp.flags.str", "tcp.seq_raw", "tcp.ack_raw", "tcp.window_size_value", "tcp.len",
          "tcp.hdr_len", "tcp.option_kind", "tcp.options.mss_val", "tcp.options.wscale.shift",
          "tcp.options.timestamp.tsval", "tcp.options.timestamp.tsecr"]

def read_segments(pcap):
    """One dict per TCP segment in the capture (tshark -T fields)."""
    cmd = ["tshark", "-r", pcap, "-Y", "tcp", "-T", "fields", "-E", "separator=|",
           "-E", "occurrence=a", "-E", "aggregator=,"]
    for f in FIELDS:
        cmd += ["-e", f]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    segs = []
    for line in out.splitlines():
        vals = line.split("|")
        segs.append(dict(zip(FIELDS, vals)))
    return segs


def flags_of(seg):
    """tcpdump-style flags ("S", "S.", "P.", "F.", ".") from tshark's flag string."""
    s = seg["tcp.flags.str"]
    return "".join(c for c in "SFRP" if c in s) + ("." if "A" in s else "")


def options_of(seg):
    kinds = [k for k in seg["tcp.option_kind"].split(",") if k]
    out = []
    for k in kinds:
        k = int(k)
        if k == 1:
            out.append("nop")
        elif k == 2:
            out.append("mss " + seg["tcp.options.mss_val"])
        elif k == 3:
            out.append("wscale " + seg["tcp.options.wscale.shift"])
        elif k == 4:
            out.append("sackOK")
        elif k == 8:
            out.append("TS val %s ecr %s" % (seg["tcp.options.timestamp.tsval"],
                                              seg["tcp.options.timestamp.tsecr"]))
        elif k == 5:
            out.append("sack")
        else:
            out.append("kind %d" % k)
    return ",".join(out)


def is_peer(ip):
    return ip.endswith(".1")


def print_table(segs, out=sys.stdout):
    print("%9s  %-34s %-5s %10s %10s %6s %4s %3s  %s" % (
        "time(s)", "direction", "flags", "seq", "ack", "win", "len", "hdr", "options"), file=out)
    for s in segs:
        arrow = "<-" if is_peer(s["ip.src"]) else "->"
        left, right = ((s["ip.dst"], s["tcp.dstport"]), (s["ip.src"], s["tcp.srcport"])) \
            if arrow == "<-" else ((s["ip.src"], s["tcp.srcport"]), (s["ip.dst"], s["tcp.dstport"]))
        direction = "%s:%s %s %s:%s" % (left[0], left[1], arrow, right[0], right[1])
        print("%9.6f  %-34s %-5s %10s %10s %6s %4s %3s  %s" % (
            float(s["frame.time_relative"]), direction, flags_of(s), s["tcp.seq_raw"],
            s["tcp.ack_raw"], s["tcp.window_size_value"], s["tcp.len"], s["tcp.hdr_len"],
            options_of(s)), file=out)


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    print_table(read_segments(sys.argv[1]))
