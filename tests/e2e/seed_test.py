#!/usr/bin/env python3
"""The seed experiment against Linux: tcpfp's client at 172.16.48.13 connects
to `nc -l 5002` at 172.16.48.1, sends one line and closes. nc is paused so
Linux holds the half-closed connection in CLOSE_WAIT, then resumed: Linux
sends its FIN, tcpfp ACKs it from FIN_WAIT_2 and enters TIME_WAIT.

    seed_test.py TCPFP_EXE SOURCE_ROOT
"""
import os
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
import harness as h  # noqa: E402
import segtable  # noqa: E402

LINE = b"my first tcp packet!\n"


def main():
    h.enter_namespace()
    run(sys.argv[1], sys.argv[2])


def run(exe, root, port="tap", config="tap.ini", on_start_exit=None):
    """The experiment and its checks; af_xdp_test.py runs it over net_af_xdp."""
    t = h.Tcpfp(exe, os.path.join(root, "config", config), port=port)
    t.on_start_exit = on_start_exit
    t.start()
    pcap = os.path.join(t.dir, "seed.pcapng")
    cap = h.Capture(pcap, "tcp port 5002")
    nc = subprocess.Popen(["nc", "-l", "5002"], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE)
    h.wait_until(lambda: ":5002" in h.sh("ss", "-ltn").stdout, 5, "nc to listen")
    os.kill(nc.pid, signal.SIGSTOP)  # the application sleeps; its kernel answers

    t.peer_up()
    t.wait_log("-> FIN_WAIT_2", 10)
    time.sleep(0.3)
    ss = h.sh("ss", "-tan").stdout
    print(ss)
    h.check(any("CLOSE-WAIT" in l and ":5002" in l for l in ss.splitlines()),
            "Linux holds the half-closed connection in CLOSE_WAIT")
    os.kill(nc.pid, signal.SIGCONT)
    out, _ = nc.communicate(timeout=5)
    h.check(out == LINE, "Linux received exactly %r (got %r)" % (LINE, out))
    t.wait_log("-> TIME_WAIT", 5)
    cap.stop()
    t.stop()

    segs = segtable.read_segments(pcap)
    segtable.print_table(segs)
    ours = [s for s in segs if not s["ip.src"].endswith(".1")]
    theirs = [s for s in segs if s["ip.src"].endswith(".1")]
    fl = segtable.flags_of
    opts = segtable.options_of
    h.check(len(segs) >= 8, "at least 8 segments captured (%d)" % len(segs))
    syn = ours[0]
    h.check(fl(syn) == "S", "first segment is our SYN")
    h.check(syn["ip.src"] == "172.16.48.13", "the SYN comes from 172.16.48.13")
    for o in ("mss 1460", "sackOK", "TS val", "wscale"):
        h.check(o in opts(syn), "SYN carries %s (%s)" % (o, opts(syn)))
    h.check(fl(theirs[0]) == "S.", "Linux answers SYN-ACK")
    data = [s for s in ours if int(s["tcp.len"]) > 0]
    h.check(len(data) == 1 and int(data[0]["tcp.len"]) == len(LINE), "one data segment of 21 bytes")
    fins = [s for s in ours if "F" in fl(s)]
    h.check(len(fins) == 1, "exactly one FIN from tcpfp")
    fin = fins[0]
    h.check(fl(fin) == "F.", "our FIN is FIN+ACK")
    h.check(fin["tcp.hdr_len"] == "32", "our FIN's TCP header is 32 bytes")
    h.check(opts(fin).startswith("nop,nop,TS val"), "our FIN carries NOP,NOP,TS")
    fin_seq = int(fin["tcp.seq_raw"])
    h.check(any(fl(s) == "." and int(s["tcp.ack_raw"]) == (fin_seq + 1) % 2**32 for s in theirs),
            "Linux ACKs our FIN")
    their_fins = [s for s in theirs if "F" in fl(s)]
    h.check(len(their_fins) == 1, "Linux sends one FIN, after nc resumes")
    h.check(float(their_fins[0]["frame.time_relative"]) - float(fin["frame.time_relative"]) > 0.2,
            "Linux's FIN comes well after ours (half-close held)")
    their_fin_seq = int(their_fins[0]["tcp.seq_raw"])
    last = ours[-1]
    h.check(fl(last) == "." and int(last["tcp.ack_raw"]) == (their_fin_seq + 1) % 2**32,
            "our last segment ACKs Linux's FIN")
    h.check(h.count_matching(pcap, "tcp.checksum.status != 1 or ip.checksum.status != 1") == 0,
            "every IPv4 and TCP checksum verifies")
    bad = ("tcp.analysis.retransmission or tcp.analysis.fast_retransmission or "
           "tcp.analysis.spurious_retransmission or tcp.analysis.lost_segment or "
           "tcp.analysis.out_of_order or tcp.analysis.duplicate_ack or tcp.analysis.zero_window")
    h.check(h.count_matching(pcap, bad) == 0,
            "no retransmission/lost/out-of-order/dup-ack/zero-window in the capture")
    log = t.log()
    for state in ("SYN_SENT", "ESTABLISHED", "FIN_WAIT_1", "FIN_WAIT_2", "TIME_WAIT"):
        h.check("-> " + state in log, "tcpfp logged the transition to " + state)
    return log


if __name__ == "__main__":
    main()
