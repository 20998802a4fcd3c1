#!/usr/bin/env python3
"""Packetization-layer PMTUD (RFC 4821) against a real black hole: Linux
(172.16.48.1) drops every IPv4 packet from tcpfp longer than 1200 bytes
(an nftables rule on its input hook) and sends no ICMP error, as a
misconfigured tunnel or firewall would. Linux reads 1 MB from tcpfp's
chargen (port 19), whose segments are full-sized (MSS 1460, 1500-byte
packets).

- `[engine] mtu_probing = off`: nothing gets through (the control; a
  3 s read returns no byte);
- `blackhole`: tcpfp counts a black hole, drops to 1024 bytes and the
  megabyte arrives; its probes back up are reported;
- `on`: tcpfp starts at 1024, probes up, the probes above 1200 are lost,
  and the megabyte arrives without a black hole.

    plpmtud_test.py TCPFP_EXE SOURCE_ROOT
"""
import json
import os
import socket
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
import harness as h  # noqa: E402

TCPFP = "172.16.48.2"
HOLE = 1200  # the largest IPv4 packet Linux accepts from tcpfp
DOWN = 1024 * 1024


def tcp_stats(t):
    out = t.command("show tcp stats json")
    line = next((l for l in out.splitlines() if l.startswith("{")), None)
    if line is None:
        h.fail("show tcp stats json printed no JSON:\n" + out)
    return json.loads(line)["total"]["mib"]


def black_hole():
    h.sh("nft", "add", "table", "ip", "plpmtud_test", check=True)
    h.sh("nft", "add", "chain", "ip", "plpmtud_test", "in", "{ type filter hook input priority 0; }", check=True)
    h.sh("nft", "add", "rule", "ip", "plpmtud_test", "in", "ip", "saddr", TCPFP, "ip", "length", ">", str(HOLE),
         "counter", "drop", check=True)


def dropped():
    out = h.sh("nft", "list", "chain", "ip", "plpmtud_test", "in", check=True).stdout
    words = out.split()
    return int(words[words.index("packets") + 1])


def start(exe, root, mode):
    t = h.Tcpfp(exe, "", prompt=True)
    text = open(os.path.join(root, "config", "tap.ini")).read()
    h.check("[engine]\n" in text, "config/tap.ini has an [engine] section")
    t.config = os.path.join(t.dir, "plpmtud.ini")
    open(t.config, "w").write(text.replace("[engine]\n", "[engine]\nmtu_probing = %s\n" % mode, 1)
                              .replace("seed_client = on", "seed_client = off"))
    t.start()
    t.peer_up()
    return t


def read(limit, timeout):
    """Reads up to `limit` bytes from chargen; returns (bytes, seconds)."""
    got, began = 0, time.monotonic()
    with socket.create_connection((TCPFP, 19), timeout=10) as s:
        s.settimeout(timeout)
        try:
            while got < limit:
                chunk = s.recv(65536)
                if not chunk:
                    break
                got += len(chunk)
        except socket.timeout:
            pass
    return got, time.monotonic() - began


def mode_off(exe, root):
    t = start(exe, root, "off")
    before = dropped()
    got, _ = read(DOWN, 3)
    h.check(got == 0 and dropped() > before,
            "off: the black hole stops the data (%d bytes read in 3 s, %d packets dropped)" % (got, dropped() - before))
    h.check(tcp_stats(t)["plpmtud_black_holes"] == 0, "off: no black hole counted")
    t.stop()


def mode_blackhole(exe, root):
    t = start(exe, root, "blackhole")
    before = dropped()
    # RTOs of 1 s (the first after the handshake's RTT sample is 200 ms+),
    # then doubling: the third comes within a few seconds; 60 s leaves room
    # for a busy machine.
    got, secs = read(DOWN, 60)
    mib = tcp_stats(t)
    h.check(got >= DOWN, "blackhole: 1 MB arrived through the black hole (%d bytes in %.1f s)" % (got, secs))
    h.check(mib["plpmtud_black_holes"] >= 1, "blackhole: a black hole counted (%d)" % mib["plpmtud_black_holes"])
    h.check(dropped() > before, "blackhole: the hole dropped %d packets" % (dropped() - before))
    print("blackhole: probes %d, acked %d, lost %d, inconclusive %d" % (
        mib["plpmtud_probes"], mib["plpmtud_probes_acked"], mib["plpmtud_probes_lost"],
        mib["plpmtud_probes_inconclusive"]), flush=True)
    t.stop()


def mode_on(exe, root):
    t = start(exe, root, "on")
    before = dropped()
    got, secs = read(DOWN, 60)
    mib = tcp_stats(t)
    h.check(got >= DOWN, "on: 1 MB arrived (%d bytes in %.1f s)" % (got, secs))
    h.check(mib["plpmtud_black_holes"] == 0, "on: no black hole (%d): the search found the hole first"
            % mib["plpmtud_black_holes"])
    # A probe lost alone counts as lost; one an RTO overtook (a stalled
    # machine) as inconclusive: either way the hole dropped it.
    failed = mib["plpmtud_probes_lost"] + mib["plpmtud_probes_inconclusive"]
    h.check(failed >= 1 and dropped() - before >= failed,
            "on: probes above %d failed (%d lost, %d inconclusive; %d packets dropped by the hole)"
            % (HOLE, mib["plpmtud_probes_lost"], mib["plpmtud_probes_inconclusive"], dropped() - before))
    h.check(mib["plpmtud_probes_acked"] >= 1, "on: probes at or below %d were acknowledged (%d)"
            % (HOLE, mib["plpmtud_probes_acked"]))
    t.stop()


def main():
    h.enter_namespace()
    exe, root = sys.argv[1], sys.argv[2]
    black_hole()
    mode_off(exe, root)
    mode_blackhole(exe, root)
    mode_on(exe, root)


if __name__ == "__main__":
    main()
