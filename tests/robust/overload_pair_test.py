#!/usr/bin/env python3
"""Graceful overload over the memif pair (issue 16): offered three times
what the server can serve, the server still serves at least 70 % of its
peak, measured in the same run.

The server's capacity here is its connection table, not its CPU: with two
equal tcpfp on two CPUs, a client cannot offer three times what a server
can serve when both spend the same per packet. So the server
(pair-server.ini) gets max_connections MAX_CONN, and `[impair] delay_us`
DELAY_US in each direction, which makes each connection hold a control
block for several round trips of 2 x DELAY_US. That bounds its rate near
MAX_CONN / lifetime (about 1-2k conn/s), far below what either CPU can do
even on a busy machine. It is the overload the issue saw: a table and
buffers full, not a CPU.

The client (pair-client.ini, TIME_WAIT reuse on) runs at the prompt, driven
through its stdin:
  1. peak: `start gen crr 172.16.48.1:7 conns 64 size 64 duration PHASE_S
     verify`, closed loop (served C), then open loop at 2C, and at 4C if the
     server still served 90 % of what the client started; the best served
     rate is the peak P (served = request/response transactions completed per
     second of the phase);
  2. overload: the same open loop at `rate 6P/s` (see OVERLOAD), with a concurrency cap
     and a window of SYNs in flight far above what the server holds
     (OVERLOAD_CONNS), so the client keeps offering while the server sheds.
     Only transactions completed within the phase count (the drain's are
     `drained`). A client so starved of CPU that it started less than 3 P
     runs the phase again with its schedule scaled up (OVERLOAD_TRIES).
Asserted, from what each side counted:
  - the client offered at least 3 P new connections a second (the rate it
    started, from its own schedule), so the load really was 3x or more;
  - the served rate under overload is at least 70 % of P;
  - the server was under pressure and shed load as designed: SYN cookies
    instead of state (syncookies_overload > 0), and no connection got a
    block beyond the table (its script sampled connections <= MAX_CONN);
  - every transaction served was byte-exact (verify: no error), and every
    mbuf came back on both sides.
The figures (peak, offered, served, shed) are printed; with
TCPFP_OVERLOAD_RESULT=PATH they are also written there as JSON, before any
check, for scripts/bench.sh (which reports the 90 % goal).

    overload_pair_test.py TCPFP_EXE SOURCE_ROOT
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
import rawnet as r  # noqa: E402

h = r.h
SERVER = "172.16.48.1"
MAX_CONN = 128          # the server's control blocks (its listeners take a few)
DELAY_US = 10000        # each direction, at the server: 20 ms more per round trip
PHASE_S = 4
PEAK_CONNS = 64         # closed loop, half the table
# The schedule asks for 6x the peak: a client descheduled for more than
# its pacer's 5 ms misses those starts rather than bursting (on a CPU
# shared 50/50 with stress-ng it started about 75 % of its schedule; half
# would still do), and what it really started must still be at least 3x.
OVERLOAD = 6.0
OVERLOAD_CONNS = 100000  # the client's cap while overloading: never the bound
MIN_SERVED = 0.7        # of the peak, under OVERLOAD x the peak offered
MIN_OFFERED = 3.0       # x the peak: what the client must really have started
# A client starved harder than that (stress-ci's load 'both': stress-ng and
# a busy-polling DPDK pair beside it) started 48 % of its schedule, 2.9x
# the peak. The overload phase then runs again with its schedule scaled up
# by what the client really started, at most OVERLOAD_TRIES phases in all:
# what is asserted is the served rate under at least 3x offered.
OVERLOAD_TRIES = 3


def add_keys(path, section, lines):
    text = open(path).read()
    head = "[%s]\n" % section
    if head in text:
        text = text.replace(head, head + "".join(l + "\n" for l in lines), 1)
    else:
        text += "\n" + head + "".join(l + "\n" for l in lines)
    open(path, "w").write(text)


def configs(root, d):
    srv = h.write_config(os.path.join(root, "config", "pair-server.ini"),
                         {("engine", "max_connections"): str(MAX_CONN), ("timers", "msl_ms"): "2000"},
                         os.path.join(d, "server.ini"))
    add_keys(srv, "impair", ["delay_us = %d" % DELAY_US])
    cli = h.write_config(os.path.join(root, "config", "pair-client.ini"), {("timers", "msl_ms"): "2000"},
                         os.path.join(d, "client.ini"))
    add_keys(cli, "engine", ["tw_reuse = on"])
    return srv, cli


def server_script(d, seconds):
    lines = ["echo SERVER-SAMPLING"]
    for _ in range(2 * seconds):
        lines += ["show tcp stats json", "expect stat connections <= %d" % MAX_CONN, "sleep 500"]
    lines += ["echo SERVER-SAMPLING-DONE", "sleep 600000"]
    path = os.path.join(d, "server.cmd")
    open(path, "w").write("\n".join(lines) + "\n")
    return path


class Client:
    """The client's prompt, through pair.sh's stdin; its output in a file."""

    def __init__(self, proc, out_path):
        self.proc, self.out_path = proc, out_path

    def text(self):
        return open(self.out_path, errors="replace").read()

    def command(self, line, timeout=30):
        start = len(self.text())
        self.proc.stdin.write((line + "\n").encode())
        self.proc.stdin.flush()
        h.wait_until(lambda: h.find_prompt(self.text(), start) >= 0 or self.proc.poll() is not None, timeout,
                     "the client's prompt to answer " + repr(line))
        if self.proc.poll() is not None:
            h.fail("the client exited during %r:\n%s" % (line, self.text()[-3000:]))
        return self.text()[start:]

    def gen(self, args, seconds):
        self.command("start gen crr %s:7 %s size 64 duration %d verify" % (SERVER, args, seconds))
        out = self.command("wait gen timeout %d" % (1000 * (seconds + 60)), timeout=seconds + 70)
        h.check("expect" not in out and "timed out" not in out, "the generator finished: start gen crr ... " + args)
        js = [l for l in self.command("show gen json").splitlines() if l.startswith('{"name"')]
        h.check(len(js) == 1, "show gen json printed the profile")
        return json.loads(js[0])


def open_loop(rate):
    # syn-window: SYNs the full table drops wait a second for their
    # retransmission; the client's attempts in flight must not cap the
    # offered rate (with the default 1024 it offered 2.3k/s of 13k/s).
    return "conns %d rate %d/s syn-window %d drain 1000" % (OVERLOAD_CONNS, int(rate), OVERLOAD_CONNS)


def served_rate(g, seconds):
    # Completed transactions over the phase: the drain's stragglers count,
    # the drain's time does not, alike in every phase.
    return g["requests"] / seconds


def overload_phase(c, peak):
    """The open loop at OVERLOAD x the peak; again, with the schedule scaled
    up by the shortfall, while the client started less than MIN_OFFERED x
    the peak (see OVERLOAD_TRIES). Returns the last phase's profile, its
    target, the rate the client really started, and the verify errors of
    every phase run (checked by the caller once the JSON is written)."""
    target, errors = OVERLOAD * peak, 0
    for attempt in range(1, OVERLOAD_TRIES + 1):
        g = c.gen(open_loop(target), PHASE_S)
        offered, served = g["rate_started"] / PHASE_S, served_rate(g, PHASE_S)
        print("overload phase %d: target %.0f/s (%.1fx the peak), offered %.0f/s (started %d, missed %d), "
              "served %.0f/s = %.0f %% of the peak; failed %d, errors %d, retransmissions %d, p99 %d us"
              % (attempt, target, target / peak, offered, g["rate_started"], g["rate_missed"], served,
                 100 * served / peak, g["conns_failed"], g["errors"], g["retrans"], g["p99_us"]), flush=True)
        errors += g["errors"]
        if offered >= MIN_OFFERED * peak or attempt == OVERLOAD_TRIES:
            return g, target, offered, errors
        target *= min(4.0, OVERLOAD * peak / max(offered, 1.0))


def main():
    r.memif_pair_or_exit()
    exe, root = sys.argv[1], sys.argv[2]
    d = tempfile.mkdtemp(prefix="tcpfp-overload-pair-")
    srv_cfg, cli_cfg = configs(root, d)
    srv_log, cli_out = os.path.join(d, "server.log"), os.path.join(d, "client.out")
    env = dict(os.environ, TCPFP_BIN=exe, TCPFP_PAIR_LOG=srv_log)
    t0 = time.monotonic()
    total_s = (3 + OVERLOAD_TRIES) * (PHASE_S + 8) + 40
    proc = subprocess.Popen([os.path.join(root, "scripts", "pair.sh"), "--server-config", srv_cfg,
                             "--client-config", cli_cfg,
                             "--server-args", "--cmdline-file " + server_script(d, total_s),
                             "--", "-i"],
                            env=env, stdin=subprocess.PIPE, stdout=open(cli_out, "w"), stderr=subprocess.STDOUT,
                            start_new_session=True)
    c = Client(proc, cli_out)
    try:
        h.wait_until(lambda: h.find_prompt(c.text()) >= 0 or proc.poll() is not None, 60, "the client's prompt")
        out = c.command("wait arp %s timeout 10000" % SERVER, timeout=20)
        h.check("timed out" not in out, "the client resolved the server")
        # The peak: a closed loop first (it stalls on SYNs the full table
        # drops, each retried after a second, so it understates what the
        # server can serve), then open loops above it; the best served rate.
        g = c.gen("conns %d" % PEAK_CONNS, PHASE_S)
        closed = served_rate(g, PHASE_S)
        print("peak phase, %d connections closed loop: served %.0f/s (p99 %d us, failed %d, errors %d)"
              % (PEAK_CONNS, closed, g["p99_us"], g["conns_failed"], g["errors"]), flush=True)
        h.check(g["errors"] == 0 and closed > 0, "closed loop: transactions served, every response byte-exact")
        # Open loop, doubling until the server serves clearly less than it
        # is offered (it is then past its capacity): at most two rounds.
        peak, rate = closed, 2 * closed
        for _ in range(2):
            g = c.gen(open_loop(rate), PHASE_S)
            offered_here, served_here = g["rate_started"] / PHASE_S, served_rate(g, PHASE_S)
            print("peak phase, open loop at %.0f/s: offered %.0f/s, served %.0f/s (p99 %d us, errors %d)"
                  % (rate, offered_here, served_here, g["p99_us"], g["errors"]), flush=True)
            h.check(g["errors"] == 0, "open loop at %.0f/s: every response byte-exact" % rate)
            peak = max(peak, served_here)
            if served_here < 0.9 * offered_here:
                break
            rate *= 2
        print("peak: %.0f transactions/s" % peak, flush=True)
        g, target, offered, errors = overload_phase(c, peak)
        served = served_rate(g, PHASE_S)
        if os.environ.get("TCPFP_OVERLOAD_RESULT"):
            with open(os.environ["TCPFP_OVERLOAD_RESULT"], "w") as f:
                json.dump({"peak": peak, "target": target, "offered": offered, "served": served,
                           "offered_x": offered / peak, "served_fraction": served / peak,
                           "errors": errors, "p99_us": g["p99_us"]}, f)
        h.check(errors == 0, "under overload every response served was byte-exact (verify)")
        h.check(offered >= MIN_OFFERED * peak,
                "the client offered %.0f new connections/s, at least %.1fx the peak of %.0f/s"
                % (offered, MIN_OFFERED, peak))
        h.check(served >= MIN_SERVED * peak,
                "served %.0f/s under %.1fx overload: at least %.0f %% of the peak %.0f/s"
                % (served, offered / peak, 100 * MIN_SERVED, peak))
        c.command("show tcp stats")
        proc.stdin.write(b"quit\n")
        proc.stdin.close()
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, 9)
            proc.wait()
    client, server = c.text(), open(srv_log, errors="replace").read() if os.path.exists(srv_log) else ""
    s, k = r.final_stats(server), r.final_stats(client)
    print("server: syncookies_overload %d, syncookies_ok %d, table_full %d, syn_recv_pruned %d, passive opens %d"
          % (s.get("mib.syncookies_overload", 0), s.get("mib.syncookies_ok", 0), s.get("eng.table_full", 0),
             s.get("mib.syn_recv_pruned", 0), s.get("mib.passive_opens", 0)), flush=True)
    h.check("SERVER-SAMPLING" in server and "expect stat: expected" not in server,
            "the server's control blocks stayed <= %d in every half-second sample" % MAX_CONN)
    h.check(s.get("mib.syncookies_overload", 0) > 0,
            "the server answered SYNs with cookies under pressure, keeping no state for them")
    # The server's idle baseline counts a frame its delay line held at start.
    for side, st in (("server", s), ("client", k)):
        h.check(st.get("held", -1) == 0, "%s: every mbuf came back (held %s, idle baseline %s)"
                % (side, st.get("held"), st.get("baseline")))
    print("test took %.1f s" % (time.monotonic() - t0), flush=True)
    shutil.rmtree(d, ignore_errors=True)  # kept only when a check failed


if __name__ == "__main__":
    main()
