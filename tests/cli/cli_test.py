#!/usr/bin/env python3
"""Runs a tcpfp command script non-interactively (--cmdline-file, no -i) in a
private network namespace with the Linux peer at 172.16.48.1 on the tap, and
plays the Linux side (sockets in this process, nc) when the script prints a
marker line:

  PEER-RESUME         (seed-half-close.cmd) check Linux holds CLOSE-WAIT, SIGCONT nc
  PEER-CONNECT        (passive-close.cmd)   a Linux client sends a line and closes
  PEER-REPLY          (half-close-shutdown.cmd) the peer reads to EOF, then answers
  PEER-CONNECT-FIRST, PEER-CONNECT-AGAIN (timewait-reuse.cmd) a client from port 40000
  PEER-DRAIN          (abort-linger.cmd) the peer starts reading

    cli_test.py TCPFP_EXE SOURCE_ROOT CASE

CASE: seed-half-close | passive-close | half-close-shutdown | half-close-bulk
| timewait-reuse | abort-linger | two-workers (scripts/CASE.cmd must exit 0;
two-workers runs with [lcores] workers = 2), simultaneous-close (two tcpfp
over scripts/pair.sh, each with its own script), or a negative case:
expect-fails | unknown-command | bad-argument | bad-number | wait-timeout |
expect-recv-fails | expect-seen-fails | bad-log-level (the script must exit
non-zero naming its line). Under CI=true a missing root/namespace/tap fails
the test instead of skipping it.
"""
import atexit
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "e2e", "lib"))
import harness as h  # noqa: E402

NEGATIVE = {
    # case: (script text, line that fails, words the error must contain)
    "expect-fails": ("# a failing assertion\nset timewait 1000\nexpect stat active_opens == 5\necho never\n",
                     3, ["expect stat active_opens == 5", "expected active_opens == 5, found 0"]),
    "unknown-command": ("show lcores\n\n# comment\nfrobnicate 12   # no such command\n",
                        4, ["frobnicate 12", "unknown command 'frobnicate'"]),
    "bad-argument": ("show conn\nconnect 172.16.48:80\n",
                     2, ["connect 172.16.48:80", "bad argument", "not ADDR:PORT"]),
    "bad-number": ("sleep 10\nsleep soon\n", 2, ["sleep soon", "bad arguments", "sleep <ms>"]),
    # Linux refuses port 1 with a RST: the connection is gone, never ESTABLISHED.
    "wait-timeout": ("wait arp 172.16.48.1 timeout 15000\nconnect 172.16.48.1:1\n"
                     "wait 1 ESTABLISHED timeout 2000\necho never\n",
                     3, ["wait 1 ESTABLISHED timeout 2000",
                         "connection 1 expected ESTABLISHED within 2000 ms, found closed"]),
    # The peer on 5017 sends "hello from linux\n" (peer_greeter).
    "expect-recv-fails": ("wait arp 172.16.48.1 timeout 15000\nconnect 172.16.48.1:5017\n"
                          "wait 1 ESTABLISHED\nexpect recv 1 \"goodbye\"\necho never\n",
                          4, ['expect recv 1 "goodbye"',
                              'connection 1 expected "goodbye", found "hello from linux\\n"']),
    "expect-seen-fails": ("wait arp 172.16.48.1 timeout 15000\nconnect 172.16.48.1:1\nsleep 200\n"
                          "expect seen 1 ESTABLISHED\necho never\n",
                          4, ["expect seen 1 ESTABLISHED",
                              "connection 1 expected ESTABLISHED among the states seen, found closed"]),
    "bad-log-level": ("set log tcpfp.arp debug\nset log tcpfp.arp loud\necho never\n",
                      2, ["set log tcpfp.arp loud", "level 'loud'"]),
}

# Scenario scripts: extra checks on their output.
VERBOSE_SYN_ACK = re.compile(
    r"^IN  172\.16\.48\.1\.5012 > 172\.16\.48\.13\.\d+: Flags \[S\.\], seq \d+, ack \d+, "
    r"win \d+, options \[mss 1460,sackOK,TS val \d+ ecr \d+,nop,wscale \d+\], length 0$", re.M)
VERBOSE_SYN = re.compile(
    r"^OUT 172\.16\.48\.13\.\d+ > 172\.16\.48\.1\.5012: Flags \[S\], seq \d+, win \d+, "
    r"options \[mss \d+,.*\], length 0$", re.M)
VERBOSE_DATA = re.compile(
    r"^OUT 172\.16\.48\.13\.\d+ > 172\.16\.48\.1\.5012: Flags \[P\.\], seq (\d+):(\d+), "
    r"ack \d+, win \d+, options \[nop,nop,TS val \d+ ecr \d+\], length 21$", re.M)


class Peer:
    """The Linux side: sockets in this (namespaced) process, driven by markers."""

    def __init__(self):
        self.events = {}
        self.results = {}
        self.errors = []
        self.threads = []

    def event(self, name):
        return self.events.setdefault(name, threading.Event())

    def thread(self, fn, *args):
        def run():
            try:
                fn(*args)
            except Exception as e:  # reported by check_errors
                self.errors.append("%s: %r" % (fn.__name__, e))
        t = threading.Thread(target=run, daemon=True)
        t.start()
        self.threads.append(t)

    def check_errors(self):
        for t in self.threads:
            t.join(timeout=10)
        h.check(not self.errors, "the Linux peer saw no error (%s)" % "; ".join(self.errors))


def listener(port, rcvbuf=None):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if rcvbuf:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    s.bind(("0.0.0.0", port))  # the tap's address comes up later
    s.listen(32)
    s.settimeout(60)
    return s


def read_to_eof(c):
    data = b""
    while True:
        d = c.recv(65536)
        if not d:
            return data
        data += d


def peer_half_close_shutdown(peer, ls):
    c, _ = ls.accept()
    c.settimeout(30)
    peer.event("PEER-REPLY").wait(30)
    peer.results["request"] = read_to_eof(c)   # our line, then our FIN
    c.sendall(b"late data from linux\n")        # after our FIN
    c.close()


def peer_bulk(peer, ls):
    c, _ = ls.accept()
    c.settimeout(30)
    peer.results["request"] = read_to_eof(c)
    c.sendall(b"".join(bytes([97 + i % 26]) for i in range(26)) * (1000000 // 26) +
              b"x" * (1000000 % 26) + b"END-OF-BULK\n")
    c.close()


def peer_reuse_client(peer, line):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((h.PEER, 40000))
    s.settimeout(30)
    s.connect(("172.16.48.2", 5005))
    s.sendall(line)
    peer.results.setdefault("reuse", []).append(read_to_eof(s))  # tcpfp closes first
    s.close()


def peer_abort_linger(peer, ls):
    # 1. abort: our read fails with a reset.
    c, _ = ls.accept()
    c.settimeout(30)
    try:
        read_to_eof(c)
        peer.results["abort"] = "eof"
    except ConnectionResetError:
        peer.results["abort"] = "reset"
    c.close()
    # 2. linger: do not read until PEER-DRAIN, then read everything.
    c, _ = ls.accept()
    c.settimeout(30)
    peer.event("PEER-DRAIN").wait(30)
    peer.results["linger"] = len(read_to_eof(c))
    c.close()
    # 3. linger 0: reset.
    c, _ = ls.accept()
    c.settimeout(30)
    try:
        read_to_eof(c)
        peer.results["linger0"] = "eof"
    except ConnectionResetError:
        peer.results["linger0"] = "reset"
    c.close()


def peer_greeter(peer, ls, count=1):
    for _ in range(count):
        c, _ = ls.accept()
        c.sendall(b"hello from linux\n")
        peer.results.setdefault("greeted", []).append(c)  # kept open


def peer_pong(peer, ls):
    c, _ = ls.accept()
    c.settimeout(30)
    line = b""
    while not line.endswith(b"\n"):
        d = c.recv(100)
        if not d:
            break
        line += d
    c.sendall(b"pong\n")
    peer.results["ping"] = line
    peer.results["pong_conn"] = c


def peer_clients(peer, n):
    """n Linux clients to 172.16.48.2:5006, each sends a line and closes."""
    for i in range(n):
        s = socket.create_connection(("172.16.48.2", 5006), timeout=30)
        s.sendall(b"hello from linux\n")
        s.shutdown(socket.SHUT_WR)
        peer.results.setdefault("clients", []).append(s)


def run_script(exe, cfg, script, on_line, lcores=("-l", "0-1")):
    out_path = os.path.join(os.path.dirname(cfg), "tcpfp.out")
    out = open(out_path, "w")
    proc = subprocess.Popen(
        [exe, *lcores, "--no-huge", "-m", "1024", "--no-pci",
         "--vdev=net_tap0,iface=" + h.IFACE, "--file-prefix=cli-%d" % os.getpid(),
         "--", "--config", cfg, "--cmdline-file", script],
        stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    # As harness.Tcpfp.start: the kernel side gets its own MAC once the port is up.
    h.wait_until(lambda: "worker 0 on lcore" in open(out_path).read() or
                 proc.poll() is not None, 20, "tcpfp's worker to start")
    if proc.poll() is None:
        h.sh("ip", "link", "set", h.IFACE, "address", h.KERNEL_MAC)
        h.sh("ip", "addr", "add", h.PEER + "/24", "dev", h.IFACE)
        h.sh("ip", "link", "set", h.IFACE, "up")
    seen = set()
    end = time.monotonic() + 60
    while proc.poll() is None and time.monotonic() < end:
        for line in open(out_path).read().splitlines():
            if line.startswith("PEER-") and line not in seen:
                seen.add(line)
                on_line(line)
        time.sleep(0.05)
    if proc.poll() is None:
        proc.kill()
        proc.wait()
        print(open(out_path).read())
        h.fail("tcpfp did not finish the script within 60 s")
    text = open(out_path).read()
    print("---- tcpfp output ----\n" + text + "----------------------", flush=True)
    return proc.returncode, text


def main():
    h.enter_namespace()
    exe, root, case = sys.argv[1], sys.argv[2], sys.argv[3]
    d = tempfile.mkdtemp(prefix="tcpfp-cli-")
    cfg = h.write_config(os.path.join(root, "config", "tap.ini"),
                         {("services", "seed_client"): "off"}, os.path.join(d, "tap.ini"))
    if case == "simultaneous-close":
        return simultaneous_close(exe, root, d)
    peer = Peer()
    if case in NEGATIVE:
        text, line, words = NEGATIVE[case]
        script = os.path.join(d, case + ".cmd")
        open(script, "w").write(text)
        if case == "expect-recv-fails":
            peer.thread(peer_greeter, peer, listener(5017))
        rc, out = run_script(exe, cfg, script, lambda _: None)
        h.check(rc != 0, "a failing script exits non-zero (got %d)" % rc)
        h.check("%s:%d: error in" % (script, line) in out, "the error names %s:%d" % (script, line))
        for w in words:
            h.check(w in out, "the error says %r" % w)
        h.check("echo never" not in out, "the script stops at the failure")
        h.check("mbufs held 0" in out, "every mbuf freed or sent")
        return

    script = os.path.join(root, "scripts", case + ".cmd")
    procs = {}

    def cleanup():
        for p in procs.values():
            if p.poll() is None:
                p.kill()
    atexit.register(cleanup)
    if case == "seed-half-close":
        procs["nc"] = subprocess.Popen(["nc", "-l", "5002"], stdin=subprocess.DEVNULL,
                                       stdout=subprocess.PIPE)
        h.wait_until(lambda: ":5002" in h.sh("ss", "-ltn").stdout, 5, "nc to listen")
        os.kill(procs["nc"].pid, signal.SIGSTOP)  # the application sleeps; its kernel answers
    lcores = ("-l", "0-1")
    if case == "half-close-shutdown":
        peer.thread(peer_half_close_shutdown, peer, listener(5012))
    elif case == "half-close-bulk":
        peer.thread(peer_bulk, peer, listener(5013))
    elif case == "abort-linger":
        peer.thread(peer_abort_linger, peer, listener(5015, rcvbuf=4096))
    elif case == "two-workers":
        cfg = h.write_config(os.path.join(root, "config", "tap.ini"),
                             {("services", "seed_client"): "off", ("lcores", "workers"): "2"},
                             os.path.join(d, "tap2.ini"))
        lcores = ("--lcores=0@0,1@0,2@1",)  # main and worker 0 share CPU 0
        peer.thread(peer_pong, peer, listener(5016))

    def on_line(line):
        if line == "PEER-RESUME":
            ss = h.sh("ss", "-tan").stdout
            print(ss, flush=True)
            h.check(any("CLOSE-WAIT" in l and ":5002" in l for l in ss.splitlines()),
                    "Linux holds the half-closed connection in CLOSE_WAIT")
            os.kill(procs["nc"].pid, signal.SIGCONT)
        elif line == "PEER-CONNECT":
            procs["client"] = subprocess.Popen(
                "printf 'hello from linux\\n' | nc -N 172.16.48.2 5003", shell=True,
                stdout=subprocess.PIPE)
        elif line == "PEER-CONNECT-FIRST":
            peer.thread(peer_reuse_client, peer, b"first\n")
        elif line == "PEER-CONNECT-AGAIN":
            peer.thread(peer_reuse_client, peer, b"second\n")
        elif line == "PEER-CLIENTS":
            peer.thread(peer_clients, peer, 16)
        elif line.startswith("PEER-"):
            peer.event(line).set()

    rc, out = run_script(exe, cfg, script, on_line, lcores)
    if peer.errors:
        print("Linux peer errors: " + "; ".join(peer.errors), flush=True)
    h.check(rc == 0, "%s exits 0 (got %d)" % (case, rc))
    h.check("every command succeeded" in out, "the script reports success")
    h.check("mbufs held 0" in out, "every mbuf freed or sent")
    if case == "seed-half-close":
        data, _ = procs["nc"].communicate(timeout=5)
        h.check(data == b"my first tcp packet!\n", "Linux received the line (%r)" % data)
    if case == "passive-close":
        procs["client"].communicate(timeout=5)
        h.check(procs["client"].returncode == 0, "the Linux client finished cleanly")
        h.check(re.search(r"^tcpfp> show conn limit 1\n[^\n]*\n- +LISTEN [^\n]*\n(?: +app:\w+\n)?\(5 more not shown", out, re.M),
                "show conn limit 1: one row, then how many of the six (five listeners, one connection) were left out")
    peer.check_errors()
    if case == "half-close-shutdown":
        check_half_close_shutdown(peer, out)
    elif case == "half-close-bulk":
        h.check(peer.results.get("request") == b"send me the bulk\n",
                "Linux read our request, then our FIN (%r)" % peer.results.get("request"))
        h.check(re.search(r"^Driver: net_tap\n", out, re.M) and "Steering: single queue" in out,
                "show port info: driver and steering")
        m = re.search(r"NIC statistics for port 0 #+\n +RX-packets: (\d+) .*RX-bytes: (\d+)", out)
        h.check(m and 1000000 < int(m.group(2)) < 2000000,
                "show port stats: the 1 MB reply counted since clear port stats all (%s)" %
                (m and m.group(2)))
        h.check(re.search(r"NIC extended statistics for port 0 .*\nrx_good_packets: \d+\n", out),
                "show port xstats: named extended counters")
    elif case == "timewait-reuse":
        h.check(peer.results.get("reuse") == [b"", b""], "both Linux connections saw our FIN")
        h.check(re.search(r"^1 +TIME_WAIT .*172\.16\.48\.1:40000 .*timer:\(time_wait,", out, re.M),
                "show conn lists the TIME_WAIT record with its timer")
        rows = [json.loads(l) for l in out.splitlines() if l.startswith("[{")]
        h.check(len(rows) == 2, "show conn ... json printed two JSON arrays")
        tw, est = rows[0][0], rows[1][0]
        h.check(tw["state"] == "TIME_WAIT" and tw["timer"] == "time_wait" and
                50000 < tw["timer_left_ms"] <= 60001 and tw["peer"] == "172.16.48.1:40000" and tw["ts"],
                "JSON: the TIME_WAIT record, its timer and time left (%r)" % tw)
        h.check(est["id"] == 2 and est["state"] == "ESTABLISHED" and est["snd_wnd"] > 0 and
                est["rcv_wnd"] > 0 and est["cwnd"] > 0 and est["rto_ms"] >= 200 and est["sack"],
                "JSON: the reopened connection with windows, cwnd and RTO (%r)" % est)
    elif case == "abort-linger":
        sent = [int(n) for n in re.findall(r"connection 2: sent (\d+) byte", out)]
        h.check(peer.results.get("abort") == "reset", "abort: the peer's read fails with a reset")
        h.check(sent and peer.results.get("linger") == sent[0],
                "linger: every byte reached the peer after the timeout (%r of %r)" %
                (peer.results.get("linger"), sent))
        h.check(peer.results.get("linger0") == "reset", "linger 0: the peer sees a reset")
        # The closed window is probed with one byte of data (RFC 9293 §3.8.6.1):
        # the timer is the persist timer, or the retransmission timer of the probe.
        h.check(re.search(r"^2 +ESTABLISHED +0 +[1-9]\d* .*timer:\((persist|retransmit),\d+ms,\d+\)\n.* snd_wnd:0 ",
                          out, re.M),
                "show conn: unacknowledged data, a closed peer window and its probe timer")
    elif case == "two-workers":
        h.check(peer.results.get("ping") == b"ping\n", "the prompt's connection reached Linux")
        h.check(len(peer.results.get("clients", [])) == 16, "16 Linux clients connected")
        h.check(re.search(r"^worker 1: lcore 2", out, re.M), "show lcores lists worker 1 on lcore 2")
        for lc in ("1", "2"):
            h.check(re.search(r"^\d+ +CLOSE_WAIT +\d+ +\d+ +\S+ +\S+ +%s( |$)" % lc, out, re.M),
                    "show conn lists connections owned by lcore %s" % lc)


def check_half_close_shutdown(peer, out):
    h.check(peer.results.get("request") == b"my first tcp packet!\n",
            "Linux read our line, then EOF (%r)" % peer.results.get("request"))
    h.check(VERBOSE_SYN.search(out), "verbose: our SYN, decoded")
    h.check(VERBOSE_SYN_ACK.search(out), "verbose: Linux's SYN-ACK, decoded like tcpdump")
    m = VERBOSE_DATA.search(out)
    h.check(m and int(m.group(2)) - int(m.group(1)) == 21, "verbose: the 21-byte line, seq a:b")
    after = out.split("verbose off")[-1]
    h.check("\nIN  " not in after and "\nOUT " not in after, "verbose off: no more segment lines")
    h.check(re.search(r"^1 +FIN_WAIT_2 +0 +0 +172\.16\.48\.13:\d+ +172\.16\.48\.1:5012 ", out, re.M),
            "show conn: FIN_WAIT_2 with the local and peer addresses")
    h.check(re.search(r"^ +ts sack wscale:\d+,\d+ mss:\d+ .*rto:\d+ rtt:[\d.]+/[\d.]+ms pmtu:\d+ cwnd:\d+ "
                      r".*snd_wnd:\d+ rcv_wnd:\d+", out, re.M),
            "show conn: options, RTT, congestion and windows")
    h.check(re.search(r"^1 +TIME_WAIT .*timer:\(time_wait,\d+ms,0\)", out, re.M),
            "show conn: the TIME_WAIT record with the time left")
    h.check(re.search(r"^  time_wait +1 +\d+ms$", out, re.M), "show timers: one TIME_WAIT timer")


def simultaneous_close(exe, root, d):
    """Two tcpfp processes over net_memif (scripts/pair.sh), each running its
    own script, with 50 ms of delay at each side's RX and TX so the FINs cross."""
    confs = {}
    for side in ("server", "client"):
        path = os.path.join(d, "pair-%s.ini" % side)
        h.write_config(os.path.join(root, "config", "pair-%s.ini" % side),
                       {("engine", "max_connections"): "1024", ("engine", "max_time_wait"): "1024",
                        ("engine", "chunk_count"): "8192", ("mempool", "mbufs"): "8192"}, path)
        open(path, "a").write("\n[impair]\ndelay_us = 50000\n")
        confs[side] = path
    server_log = os.path.join(d, "server.log")
    env = dict(os.environ, TCPFP_BIN=exe, TCPFP_PAIR_MEM="512", TCPFP_PAIR_LOG=server_log)
    try:
        p = subprocess.run(
            [os.path.join(root, "scripts", "pair.sh"), "--server-config", confs["server"],
             "--client-config", confs["client"], "--server-args",
             "--cmdline-file " + os.path.join(root, "scripts", "simultaneous-close-server.cmd"),
             "--", "--cmdline-file", os.path.join(root, "scripts", "simultaneous-close.cmd")],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=80)
    except subprocess.TimeoutExpired as e:
        print(e.stdout or "")
        h.fail("the pair did not finish within 80 s")
    server = open(server_log).read() if os.path.exists(server_log) else ""
    print("---- client ----\n" + p.stdout + "---- server ----\n" + server + "----", flush=True)
    h.check(p.returncode == 0, "the client's script exits 0 (got %d)" % p.returncode)
    h.check("simultaneous-close.cmd: every command succeeded" in p.stdout, "the client's script succeeded")
    h.check("simultaneous-close-server.cmd: every command succeeded" in server,
            "the server's script succeeded")
    for name, text in (("client", p.stdout), ("server", server)):
        h.check("ok: connection 1 was seen in CLOSING" in text, "the %s passed through CLOSING" % name)
        h.check("connection 1: TIME_WAIT" in text, "the %s reached TIME_WAIT" % name)
        h.check("mbufs held 0" in text, "the %s freed or sent every mbuf" % name)


if __name__ == "__main__":
    main()
