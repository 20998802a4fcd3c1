#!/usr/bin/env python3
"""SYN flood (RFC 4987) over the tap. tests/robust/synflood (C++, AF_PACKET,
sendmmsg, precomputed frames) sends SYNs to tcpfp's HTTP port from random
spoofed sources in 10.0.0.0/8 and random ports. tcpfp routes its SYN-ACKs
to those sources through the gateway 172.16.48.1 (Linux, which does not
forward and drops them), so every spoofed SYN costs tcpfp a full SYN-ACK.

Phase 1 (2 s) floods as fast as the tool can write, to measure the ceiling:
SYN/s offered, and how many the tap passes to tcpfp (net_tap reads one frame
per syscall; the kernel drops the rest in the tap's queue). Phase 2
(TCPFP_FLOOD_SECONDS, 5) floods at 80 % of that ceiling while a Linux client
keeps fetching http://172.16.48.2/ (connect, GET, read to close). Asserted:
  - every legitimate fetch succeeds, and some went through SYN cookies
    (syncookies_ok > 0) once the listener's SYN queue (128) was full;
  - the SYN-ACKs Linux received carry MSS, window scale, SACK-permitted and
    timestamps (RFC 4987 §3.6: encoded in the ISN and TSval);
  - the counters show the flood (syncookies_sent for most frames received);
  - memory stays bounded: control blocks <= [engine] max_connections in every
    one-second sample (the script's `expect stat connections <= ...`), RSS
    growth under 64 MiB, every mbuf back;
  - the tool offered at least TCPFP_FLOOD_MIN_RATE (20000) SYN/s.
The rates are printed (`ceiling:`, `flood:`, `total:` lines).

    syn_flood_test.py TCPFP_EXE SOURCE_ROOT     (env TCPFP_SYNFLOOD: the flood tool)
"""
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
import rawnet as r  # noqa: E402

h = r.h
SECONDS = float(os.environ.get("TCPFP_FLOOD_SECONDS", "5"))
CEILING_SECONDS = 2
MIN_RATE = float(os.environ.get("TCPFP_FLOOD_MIN_RATE", "20000"))
# No cap by default: the flood runs at 80 % of what the tap passed. (It was
# capped at 100k SYN/s after a run at 172k/s on an idle machine stopped the
# prompt for 40 s: net_tap's per-frame RX signal woke every other thread,
# dpdk_app/README.md "net_tap notes"; now only worker 0 takes it.)
MAX_RATE = float(os.environ.get("TCPFP_FLOOD_MAX_RATE", "inf"))
MAX_CONN = 4096
BODY = b"hello from tcpfp\n"


def fetch(trace=None):
    """One HTTP fetch; `trace` (a dict) learns the local port and the step
    reached, so a failure says where it stopped."""
    trace = {} if trace is None else trace
    trace["step"] = "connect"
    s = socket.create_connection((r.TCPFP_IP, 80), timeout=30)
    trace["port"] = s.getsockname()[1]
    trace["step"] = "request"
    s.sendall(b"GET / HTTP/1.1\r\nHost: tcpfp\r\nConnection: close\r\n\r\n")
    data = b""
    trace["step"] = "response"
    while True:
        c = s.recv(65536)
        if not c:
            break
        data += c
    s.close()
    trace["step"] = "done (%d bytes)" % len(data)
    return data.endswith(BODY) and data.startswith(b"HTTP/1.1 200")


def legit_loop(stop, result):
    while not stop.is_set():
        t0 = time.monotonic()
        trace = {}
        try:
            ok = fetch(trace)
        except OSError as e:
            ok = False
            result["errors"].append("%s at %s, local port %s, after %.1f s"
                                    % (e, trace.get("step"), trace.get("port"), time.monotonic() - t0))
            result["ports"].append(trace.get("port"))
        result["ok" if ok else "failed"] += 1
        result["slowest"] = max(result.get("slowest", 0.0), time.monotonic() - t0)
        time.sleep(0.02)


def runqueue_wait_s(pid):
    """Per thread, seconds tcpfp's main thread (the prompt) and its workers
    have spent runnable but not running, as the kernel counts it
    (schedstat's second field): time a busy machine took from them, which
    no flood caused."""
    waits = {}
    for tid in os.listdir("/proc/%d/task" % pid):
        try:
            comm = open("/proc/%d/task/%s/comm" % (pid, tid)).read().strip()
            if tid != str(pid) and not comm.startswith("rte-worker"):
                continue
            waits[tid] = int(open("/proc/%d/task/%s/schedstat" % (pid, tid)).read().split()[1]) / 1e9
        except (OSError, IndexError, ValueError):
            pass
    return waits


def waited(a, b):
    """The longest any one of those threads waited for a CPU between two
    readings (the prompt's round trip needs each of them in turn)."""
    return max((b[tid] - a.get(tid, b[tid]) for tid in b), default=0.0)


def watch_prompt(t, stop, seen):
    """Notes when each of the script's one-second samples appears in the log,
    with the run-queue wait so far: the gaps show whether the prompt kept
    making progress during the flood, and the wait how much of a gap the
    machine's other work took."""
    count = 0
    while not stop.is_set():
        n = t.log().count('{"lcores":')
        if n != count:
            count = n
            seen.append((time.monotonic(), runqueue_wait_s(t.proc.pid)))
        time.sleep(0.02)
    # The end of the watch closes the last gap: a prompt stuck since its
    # last sample shows as one long gap, not as nothing.
    seen.append((time.monotonic(), runqueue_wait_s(t.proc.pid), "end"))


def script(path, samples):
    lines = ["wait arp %s timeout 10000" % h.PEER, "echo PEER-FLOOD"]
    for _ in range(samples):
        lines += ["show tcp stats json", "expect stat connections <= %d" % MAX_CONN, "sleep 1000"]
    # The test stops it (SIGINT ends a sleep at once) when every legitimate
    # fetch has ended: under outside load the tap's kernel queue drops some
    # of their frames during the flood, and Linux's retransmissions may come
    # many seconds later; tcpfp must still be there to answer them. So the
    # samples go on for far longer than the flood and its setup take.
    lines += ["show tcp stats json", "expect stat syncookies_sent > 0"]
    open(path, "w").write("\n".join(lines) + "\n")
    return path


def main():
    h.enter_namespace()
    exe, root = sys.argv[1], sys.argv[2]
    flood = os.environ.get("TCPFP_SYNFLOOD") or os.path.join(os.path.dirname(exe), "..", "tests",
                                                              "robust", "synflood")
    r.disable_ipv6()
    d = __import__("tempfile").mkdtemp(prefix="tcpfp-flood-")
    cfg = h.write_config(os.path.join(root, "config", "tap.ini"),
                         {("services", "seed_client"): "off", ("engine", "max_connections"): str(MAX_CONN)},
                         os.path.join(d, "flood.ini"))
    text = open(cfg).read().replace("[port0]\n", "[port0]\ngateway = 172.16.48.1\n", 1)
    open(cfg, "w").write(text)
    t = r.Tcpfp(exe, cfg, ["--cmdline-file", script(os.path.join(d, "flood.cmd"), 300)])
    t.start()
    t.peer_up()
    h.sh("ip", "link", "set", h.IFACE, "txqueuelen", "10000")
    h.wait_until(lambda: "PEER-FLOOD" in t.log(), 15, "the script to start")
    mac = r.tcpfp_mac()
    h.check(fetch(), "a fetch before the flood works")
    cap = h.Capture(os.path.join(d, "synack.pcap"),
                    "src host 172.16.48.2 and dst host 172.16.48.1 and "
                    "tcp[tcpflags] & (tcp-syn|tcp-ack) == (tcp-syn|tcp-ack)")
    rss0 = t.rss_kib()

    def flood_run(seconds, rate):
        link0 = r.link_stats()
        proc = subprocess.Popen([flood, "--iface", h.IFACE, "--dst-mac", mac, "--src-mac", h.KERNEL_MAC,
                                 "--dst", r.TCPFP_IP, "--dport", "80", "--seconds", str(seconds),
                                 "--rate", str(int(rate)), "--src-net", "10.0.0.0/8"],
                                stdout=subprocess.PIPE, text=True)
        return proc, link0

    def flood_result(proc, link0):
        out, _ = proc.communicate(timeout=60)
        link1 = r.link_stats()
        print(out.strip(), flush=True)
        m = re.search(r"sent (\d+) frames in ([\d.]+) s .*, (\d+) send errors", out)
        h.check(proc.returncode == 0 and m is not None, "the flood tool ran")
        # Offered: accepted by the tap, or refused because its queue was full.
        return dict(offered=int(m.group(1)) + int(m.group(3)), secs=float(m.group(2)),
                    passed=link1["tx_packets"] - link0["tx_packets"],
                    dropped=link1["tx_dropped"] - link0["tx_dropped"])

    # Phase 1: as fast as possible, to measure what the tap carries into tcpfp.
    a = flood_result(*flood_run(CEILING_SECONDS, 0))
    ceiling = a["passed"] / a["secs"]
    print("ceiling: %d SYNs offered in %.1f s = %.0f SYN/s; the tap passed %d = %.0f SYN/s to tcpfp "
          "(%.1f %%), dropped %d in its queue" % (a["offered"], a["secs"], a["offered"] / a["secs"],
                                                  a["passed"], ceiling, 100.0 * a["passed"] / max(a["offered"], 1),
                                                  a["dropped"]), flush=True)
    h.check(a["offered"] / a["secs"] >= MIN_RATE, "the flood tool offered %.0f SYN/s (>= %.0f)"
            % (a["offered"] / a["secs"], MIN_RATE))

    # Phase 2: at 80 % of that ceiling (the tap then loses few legitimate frames)
    # while a Linux client keeps fetching.
    cap = h.Capture(os.path.join(d, "synack.pcap"),
                    "src host 172.16.48.2 and dst host 172.16.48.1 and "
                    "tcp[tcpflags] & (tcp-syn|tcp-ack) == (tcp-syn|tcp-ack)")
    legit = h.Capture(os.path.join(d, "legit.pcap"), "host 172.16.48.1 and tcp port 80")
    stop, result = threading.Event(), {"ok": 0, "failed": 0, "errors": [], "ports": []}
    seen = []
    watcher = threading.Thread(target=watch_prompt, args=(t, stop, seen))
    watcher.start()
    # 80 % of the ceiling (on a quiet machine the tap passes over 200k/s).
    proc, link0 = flood_run(SECONDS, min(0.8 * ceiling, MAX_RATE))
    time.sleep(0.3)  # the SYN queue fills within milliseconds; fetch from then on
    client = threading.Thread(target=legit_loop, args=(stop, result))
    client.start()
    b = flood_result(proc, link0)
    stop.set()
    client.join(timeout=60)
    watcher.join(timeout=10)
    samples = len(seen) - 1  # the last entry marks the end of the watch
    gaps = [b2[0] - a2[0] for a2, b2 in zip(seen, seen[1:])]
    # What of each gap tcpfp could not run for: the run-queue wait of its
    # prompt and workers over the gap (the machine's other work, not the flood).
    starved = [waited(a2[1], b2[1]) for a2, b2 in zip(seen, seen[1:])]
    rss1 = t.rss_kib()
    cap.stop()
    legit.stop()
    for port in result["ports"]:  # what the wire shows of each failed fetch
        print("failed fetch, port %s, on the tap:\n%s" % (port, h.sh(
            "tshark", "-r", legit.path, "-Y", "tcp.port == %s" % port if port else "tcp.flags.syn == 1",
            "-T", "fields", "-e", "frame.time_relative", "-e", "ip.src", "-e", "tcp.srcport",
            "-e", "tcp.flags.str", "-e", "tcp.seq", "-e", "tcp.ack", "-e", "tcp.len").stdout[-4000:]),
            flush=True)
    print("flood: %d SYNs offered in %.1f s = %.0f SYN/s; the tap passed %d (%d dropped); "
          "%d legitimate fetches" % (b["offered"], b["secs"], b["offered"] / b["secs"], b["passed"],
                                     b["dropped"], result["ok"]), flush=True)

    late = [g - w for g, w in zip(gaps, starved)]
    print("prompt: %d one-second samples during the flood, longest gap %.2f s (%.2f s of it waiting for a "
          "CPU); slowest legitimate fetch %.2f s" % (samples, max(gaps, default=0.0),
                                                    starved[gaps.index(max(gaps))] if gaps else 0.0,
                                                    result.get("slowest", 0.0)), flush=True)
    # The script sleeps 1 s between samples: a gap past 2 s is the prompt
    # (or the worker answering it) waiting over a second on the flood, once
    # the time the kernel kept them waiting for a CPU is taken out (on an
    # idle machine that is ~0; under stress-ci's load it was seconds).
    h.check(samples >= 2 and max(late, default=9.9) < 2.0,
            "the prompt kept making progress: %d samples, none more than a second late beyond the time it "
            "waited for a CPU (longest gap %.2f s, %.2f s of it waiting)"
            % (samples, max(gaps, default=0.0), starved[gaps.index(max(gaps))] if gaps else 0.0))
    t.proc.send_signal(signal.SIGINT)
    rc, log = t.wait_exit(30)  # first, so a failure below shows tcpfp's counters
    h.check(result["ok"] > 0 and result["failed"] == 0,
            "every legitimate fetch during the flood succeeded (%d ok, %d failed %s)"
            % (result["ok"], result["failed"], result["errors"][:3]))
    # SIGINT ends the script in its sampling loop ("stopped by a signal", exit 1).
    h.check("stopped by a signal" in log and "expect stat: expected" not in log and "error in" not in log,
            "the script's bounds held until the test stopped it (control blocks <= %d every second; exit %d)"
            % (MAX_CONN, rc))
    samples = r.stats_json_lines(log)
    peak = max(s["connections"] for s in samples)
    s = r.final_stats(log)
    rx = s.get("rx_frames", 0)
    cookies, cookies_ok = s.get("mib.syncookies_sent", 0), s.get("mib.syncookies_ok", 0)
    offered = a["offered"] + b["offered"]
    print("total: %d SYNs offered; tcpfp received %d frames (%.1f %% of those offered; port rx %d, "
          "rx missed %d), sent %d SYN cookies; peak control blocks %d; RSS %d -> %d KiB"
          % (offered, rx, 100.0 * rx / max(offered, 1), s.get("port.rx", 0), s.get("port.rx_missed", 0),
             cookies, peak, rss0, rss1), flush=True)
    h.check(cookies >= rx // 2, "the counters show the flood: %d SYN cookies for %d frames received" % (cookies, rx))
    h.check(cookies_ok > 0, "legitimate connections completed through SYN cookies (syncookies_ok %d)" % cookies_ok)
    h.check(peak <= MAX_CONN, "control blocks peaked at %d <= %d" % (peak, MAX_CONN))
    h.check(rss1 - rss0 < 64 * 1024, "RSS grew by %d KiB (< 64 MiB)" % (rss1 - rss0))
    h.check(s.get("held", -1) == s.get("baseline", -2), "every mbuf came back (held %s, baseline %s)"
            % (s.get("held"), s.get("baseline")))

    # RFC 4987 §3.6 / RFC 7323: the SYN-ACKs Linux got keep their options.
    fields = h.sh("tshark", "-r", cap.path, "-T", "fields", "-e", "tcp.options.mss_val",
                  "-e", "tcp.options.wscale.shift", "-e", "tcp.options.sack_perm",
                  "-e", "tcp.options.timestamp.tsval").stdout.splitlines()
    full = [f for f in fields if all(x.strip() for x in f.split("\t"))]
    h.check(len(fields) >= result["ok"] and len(full) == len(fields),
            "all %d SYN-ACKs to the legitimate client carry MSS, window scale, SACK-permitted and "
            "timestamps (e.g. %r)" % (len(fields), fields[-1] if fields else None))


if __name__ == "__main__":
    main()
