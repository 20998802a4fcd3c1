#!/usr/bin/env python3
"""The body of scripts/bench.sh: tcpfp against the Linux kernel on the same
cores, against the packet-I/O limit of the same link, at scale, and the
microbenchmarks, all in one invocation. Writes results.json, results.md and
results.png into --out. See tests/bench/README.md for what each figure means.

Everything runs inside a private network namespace this script creates
(unshare -n); nothing reaches the host's network. Goals are reported, never
asserted: the exit status is 0 when every workload produced a figure.
"""
import argparse
import contextlib
import datetime
import json
import os
import platform
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "e2e", "lib"))
from streams import CHARGEN_PERIOD  # noqa: E402  (RFC 864's pattern, shared with the e2e tests)

PEER = "172.16.48.1"      # the pair's server and the Linux side of the tap
HOLD_RR_PORT = 5001       # config/pair-server-1m.ini [services] rr_port: answers each request
TCPFP = "172.16.48.13"    # tcpfp's address in the tap test and the client's first address
CLIENT_CPU, SERVER_CPU = 0, 1
KERNEL_MAC = "02:00:00:00:00:01"

GOALS = {"cps": 10.0, "rps": 3.0, "bulk": 1.0, "io_fraction": 0.5,
         "sizeof_tcb": 256, "sizeof_time_wait_record": 64, "bytes_per_conn_1m": 4 * 2**30 / 1e6}

# The workloads of the pair and Linux sections, in the order they run, and
# the unit of each one's headline figure. crr_rate's figure is a latency
# (lower is better); the others are rates.
# cps_sat and rps_sat are CPS and RPS with enough connections in flight to
# keep both workers busy (64 slots and 100 connections are bound by the
# round trip): tcpfp's capacity per core, against issue 16's peer figures.
WORKLOADS = ("cps", "rps", "bulk", "crr_rate", "crr_16k", "cps_sat", "rps_sat")
UNITS = {"cps": "conn/s", "rps": "req/s", "bulk": "Gbit/s", "crr_rate": "us p99", "crr_16k": "conn/s",
         "cps_sat": "conn/s", "rps_sat": "req/s"}
# The minimal peer server's figures on one core (issue 16: dperf 1.9's own
# server over the same memif pair): tcpfp's saturated rates are set beside them.
PEER_SERVER = {"cps_sat": 680000, "rps_sat": 2100000}
# The peer's own client on one core (issue 16: dperf 1.9 against its server):
# the saturated runs drive this rate from tcpfp's one client core too.
PEER_CLIENT = {"cps_sat": 950000, "rps_sat": 2000000}
# Issue 16's goals over the previous engine (--baseline), and in memory.
BASELINE_GOALS = {"cps": 2.0, "rps": 1.5}
MICRO_GOALS = {  # key: (bound, at most?)
    "fast_path_rx_loop_sw_csum_ns": (100.0, True), "bulk_gbit_s": (30.0, False),
    "rr_1_conn_per_s": (1.5e6, False)}
# Paced: the packet rate follows the target, not the stack, so an I/O-limit
# fraction would say nothing.
NO_IO_LIMIT = ("crr_rate",)
RR_PORT = 5001           # tcpfp's rr service (pair-server.ini) and epoll_bench server --rr
RESPONSE_16K = 16384


def rate_met(g):
    """Whether a paced run made (nearly) every start its schedule made due:
    at least 99 %; the rest were missed (no free connection, or the client
    was late by more than the 5 ms backlog)."""
    due, started = g.get("rate_due") or 0, g.get("rate_started") or 0
    return due > 0 and started >= 0.99 * due


def chargen_client(addr, total):
    """Reads exactly `total` bytes from addr:19 (RFC 864's chargen), each
    piece compared with the pattern as it arrives, and prints one JSON line:
    bytes read, seconds from connect() to the last byte, whether every byte
    matched. tap_bulk runs it pinned to CLIENT_CPU in a process of its own."""
    period = CHARGEN_PERIOD
    chunk = 1 << 16
    ref = period * (chunk // len(period) + 2)
    got, ok = 0, True
    t0 = time.monotonic()
    with socket.create_connection((addr, 19), timeout=60) as s:
        while got < total:
            data = s.recv(min(chunk, total - got))
            if not data:
                break
            off = got % len(period)
            ok = ok and data == ref[off:off + len(data)]
            got += len(data)
    print(json.dumps({"bytes": got, "seconds": time.monotonic() - t0, "pattern_ok": ok and got == total}))


def log(msg):
    print("bench: " + msg, flush=True)


def sh(cmd, check=True, **kw):
    r = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if check and r.returncode != 0:
        raise RuntimeError("%s failed (%d): %s%s" % (" ".join(cmd), r.returncode, r.stdout[-2000:], r.stderr[-2000:]))
    return r


def rss_kib(pid):
    """VmRSS and its parts (KiB) of a process; None once it has gone."""
    out = {}
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                k, _, v = line.partition(":")
                if k in ("VmRSS", "RssAnon", "RssFile", "RssShmem"):
                    out[k] = int(v.split()[0])
    except OSError:
        return None
    return out


def engine_memory_outside_heap(log):
    """Bytes of engine memory the workers of one process mapped outside DPDK's
    heap (transparent huge pages without hugepages), from their start-up lines."""
    return sum(int(m) << 20 for m in re.findall(r"engine memory \d+ MiB, (\d+) MiB of it marked for transparent", log))


def text_of(lines):
    return "\n".join(l for _, l in lines)


def heap_alloc(pid):
    """DPDK heap bytes allocated (telemetry /eal/heap_info,0) of a tcpfp process; None if unavailable."""
    m = re.search(r"--file-prefix=(\S+)", cmdline(pid))
    if not m:
        return None
    try:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        s.settimeout(2)
        s.connect("/var/run/dpdk/%s/dpdk_telemetry.v2" % m.group(1))
        s.recv(4096)
        s.send(b"/eal/heap_info,0")
        info = json.loads(s.recv(65536))["/eal/heap_info"]
        s.close()
        return info.get("Alloc_size")
    except (OSError, ValueError, KeyError):
        return None


def children(pid):
    try:
        with open("/proc/%d/task/%d/children" % (pid, pid)) as f:
            return [int(x) for x in f.read().split()]
    except OSError:
        return []


def cmdline(pid):
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            return f.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def write_ini(src, overrides, path, add=None):
    """Copies an INI file with {(section, key): value} replaced; `add` appends
    {(section, key): value} pairs that the file lacks to their section."""
    section, out, seen = None, [], set()
    add = dict(add or {})
    lines = open(src).read().splitlines()
    for i, line in enumerate(lines):
        m = re.match(r"\s*\[(\w+)\]", line)
        if m:
            section = m.group(1)
        m = re.match(r"\s*(\w+)\s*=", line)
        if m and (section, m.group(1)) in overrides:
            line = "%s = %s" % (m.group(1), overrides[(section, m.group(1))])
            seen.add((section, m.group(1)))
        out.append(line)
        nxt = lines[i + 1] if i + 1 < len(lines) else "[end]"
        if section and re.match(r"\s*\[", nxt):
            for (s, k), v in list(add.items()):
                if s == section:
                    out.append("%s = %s" % (k, v))
                    del add[(s, k)]
    for (s, k), v in add.items():
        out.append("[%s]\n%s = %s" % (s, k, v))
    open(path, "w").write("\n".join(out) + "\n")
    return path


class Bench:
    def __init__(self, args):
        self.src = os.path.abspath(args.src)
        self.build = os.path.abspath(args.build)
        self.out = os.path.abspath(args.out)
        self.quick = args.quick
        self.workloads = [w for w in WORKLOADS if not args.workloads or w in args.workloads.split(",")]
        self.profile = args.profile and shutil.which("perf") is not None
        self.tmp = tempfile.mkdtemp(prefix="tcpfp-bench-")
        os.makedirs(self.out, exist_ok=True)
        self.tcpfp = os.path.join(self.build, "dpdk_app", "tcpfp")
        # --baseline: an older build whose pair workloads and engine
        # microbenchmarks run beside this one's, alternating round by round.
        self.baseline = os.path.abspath(args.baseline) if args.baseline else None
        self.rounds = max(1, args.rounds or (3 if self.baseline else 1))
        self.iofwd = os.path.join(self.build, "dpdk_app", "tcpfp-iofwd")
        # The I/O limit is measured right after each of this build's pair
        # rounds (pair_io), so that each fraction sets tcpfp against a
        # forwarder run minutes, not a section, apart: this VM's speed drifts
        # up to 2x between sections. Off with --only without both sections.
        self.paired_io = not args.only or {"pair", "io"} <= set(args.only.split(","))
        self.epoll = os.path.join(self.build, "tests", "bench", "epoll_bench")
        self.res = {"machine": self.machine(), "mode": "quick" if self.quick else "full",
                    "params": {}, "tcpfp": {}, "linux": {}, "io_limit": {}, "http": {}, "tap_bulk": {},
                    "scale": {}, "micro": {}, "baseline": {}, "micro_baseline": {}, "errors": [], "notes": []}
        q = self.quick
        self.p = {
            "duration_s": 2 if q else 10,
            "crr_conns": 64, "rr_conns": 100, "bulk_conns": 1, "size": 64,
            "sat_crr_conns": 256, "sat_rr_conns": 1000,
            # crr_rate: connections started per second by both clients' open-loop
            # schedules; low enough that Linux keeps up on a shared 2-vCPU VM
            # (it closes 13-18k conn/s flat out there when quiet), so the p99 shows
            # each stack's latency, not a queue.
            "crr_rate": args.crr_rate or (2000 if q else 5000),
            "response_16k": RESPONSE_16K,
            "io_duration_s": 2 if q else 5,
            "wrk_duration_s": 3 if q else 10, "wrk_conns": 50,
            "tap_bulk_bytes": 20 * 1000 * 1000 if q else 200 * 1000 * 1000,  # read from chargen per round
            "hold_conns": 10000 if q else 1000000,
            "hold_timewait_ms": 4000 if q else 20000,   # longer than closing them all takes
            "hold_s": 4 if q else 60,                   # from the first SYN until the generator closes
            "hold_request": 64, "hold_response": 1024,  # one rr request on each; the response left unread
            "micro_min_time": 0.02 if q else 0.5,
            "pair_mem_mib": 2048,
            "hold_mem_mib": 1024 if q else 3072,
        }
        self.res["params"] = self.p

    # --- machine ---------------------------------------------------------------

    @staticmethod
    def machine():
        model = "unknown"
        try:
            for line in open("/proc/cpuinfo"):
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
        except OSError:
            pass
        return {"cpu_model": model, "cores": os.cpu_count(), "kernel": platform.release(),
                "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
                "mem_gib": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1)}

    def section(self, name, fn):
        t0 = time.monotonic()
        log("== %s" % name)
        try:
            fn()
        except Exception as e:  # one broken part must not hide the others' figures
            log("%s FAILED: %s" % (name, e))
            self.res["errors"].append("%s: %s" % (name, e))
        log("   %s took %.1f s" % (name, time.monotonic() - t0))

    # --- configs -----------------------------------------------------------------

    def config_ok(self, path, exe=None):
        r = sh([exe or self.tcpfp, "--", "--config", path, "--check-config"], check=False)
        return r.returncode == 0, (r.stdout + r.stderr).strip()

    # Linux autotunes socket buffers up to 4-6 MiB (tcp_wmem/tcp_rmem); the
    # pair gets 1 MiB buffers so bulk is not window-bound where Linux is not.
    BUFFERS = {("engine", "chunk_count"): "262144", ("engine", "buffer_size"): "1048576",
               ("engine", "send_buffer"): "1048576", ("engine", "recv_buffer"): "1048576",
               # An engine from before the chunked buffers (2026-12-03) has a
               # pool of buffer_count whole buffers instead of chunk_count
               # chunks: these are the values the bench gave it then.
               ("engine", "buffer_count"): "512"}

    CLIENT_ADDRESSES = "172.16.48.2-172.16.48.65/24"

    def bench_configs(self, exe=None, src=None, tag="bench"):
        """pair-client.ini / pair-server.ini with 1 MiB buffers, and on the
        client active-open TIME_WAIT reuse when the engine has it (Linux
        applies tcp_tw_reuse=2 on loopback, so both sides reuse). `exe` and
        `src`: an older engine (--baseline) and its own source tree, whose
        configs it understands."""
        src = src or self.src
        srv = write_ini(os.path.join(src, "config", "pair-server.ini"), self.BUFFERS,
                        os.path.join(self.tmp, "%s-server.ini" % tag))
        base = os.path.join(src, "config", "pair-client.ini")
        path = os.path.join(self.tmp, "%s-client.ini" % tag)
        # Source addresses: the 4-tuple space a connect-per-request client
        # churns through. Linux gets one address and 64,512 ports
        # (ip_local_port_range 1024 65535); tcpfp's ephemeral range is
        # IANA's 16,384 ports, so 64 addresses give it a million tuples,
        # as a load generator would use. (With 4 addresses, 65,536 tuples
        # reusable after 1 s cap CPS near 65k, whatever the CPU does.)
        client = dict(self.BUFFERS)
        client[("port0", "addresses")] = self.CLIENT_ADDRESSES
        self.res["params"]["client_addresses"] = self.CLIENT_ADDRESSES
        write_ini(base, client, path, add={("engine", "tw_reuse"): "on"})
        ok, _ = self.config_ok(path, exe)
        self.res["params"]["tw_reuse" if exe is None else "tw_reuse_" + tag] = ok
        if not ok:
            write_ini(base, client, path)
        for f in (srv, path):
            ok, why = self.config_ok(f, exe)
            if not ok:
                raise RuntimeError(why)
        self.res["params"]["buffers"] = "1 MiB send/receive buffers (pair-*.ini have 64 KiB)"
        return path, srv

    # --- the pair ------------------------------------------------------------------

    def run_pair(self, script, client_cfg, server_cfg, mem, on_line=None, timeout=600, exe=None):
        """Runs scripts/pair.sh with `script` as the client's --cmdline-file.
        Returns (rc, [(t, line)], server_log, pids). on_line(t, line, pids)
        may return "stop" to end the client early with SIGINT."""
        cmd = os.path.join(self.tmp, "client-%d.cmd" % int(time.monotonic() * 1000))
        open(cmd, "w").write("\n".join(script) + "\n")
        srv_log = cmd + ".server.log"
        env = dict(os.environ, TCPFP_BIN=exe or self.tcpfp, TCPFP_PAIR_IN_NS="1", TCPFP_PAIR_LOG=srv_log,
                   TCPFP_PAIR_MEM=str(mem),
                   TCPFP_PAIR_CLIENT_LCORES="0@(0-1),1@%d" % CLIENT_CPU,
                   TCPFP_PAIR_SERVER_LCORES="0@(0-1),1@%d" % SERVER_CPU)
        proc = subprocess.Popen([os.path.join(self.src, "scripts", "pair.sh"),
                                 "--server-config", server_cfg, "--client-config", client_cfg,
                                 "--", "--cmdline-file", cmd],
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
                                start_new_session=True)
        lines, pids = [], {}
        killer = threading.Timer(timeout, lambda: os.killpg(proc.pid, signal.SIGKILL))
        killer.start()
        stopped = False
        try:
            for line in proc.stdout:
                t = time.monotonic()
                line = line.rstrip("\n")
                lines.append((t, line))
                if len(pids) < 2:
                    for c in children(proc.pid):
                        cl = cmdline(c)
                        if "role=server" in cl:
                            pids["server"] = c
                        elif "role=client" in cl:
                            pids["client"] = c
                if on_line and not stopped and on_line(t, line, pids) == "stop" and "client" in pids:
                    os.kill(pids["client"], signal.SIGINT)
                    stopped = True
            rc = proc.wait()
        finally:
            killer.cancel()
        server_log = open(srv_log).read() if os.path.exists(srv_log) else ""
        open(cmd + ".client.log", "w").write("\n".join(l for _, l in lines) + "\n")
        return rc, lines, server_log, pids

    @staticmethod
    def port_stats(lines):
        """Every 'show port stats' block as {rx, tx, rx_bytes, tx_bytes}."""
        out = []
        for _, l in lines:
            m = re.search(r"RX-packets:\s*(\d+).*RX-bytes:\s*(\d+)", l)
            if m:
                out.append({"rx": int(m.group(1)), "rx_bytes": int(m.group(2))})
            m = re.search(r"TX-packets:\s*(\d+).*TX-bytes:\s*(\d+)", l)
            if m and out:
                out[-1].update(tx=int(m.group(1)), tx_bytes=int(m.group(2)))
        return out

    @staticmethod
    def gen_json(lines):
        # `show gen json` of the unnamed profile: one object per line, which
        # since named profiles begins with "name" (so match any key order).
        return [json.loads(l[l.index("{"):]) for _, l in lines if "{" in l and '"mode":"' in l]

    def gen_block(self, name, mode, rport, conns, extra="", lead_ms=0):
        """One workload of a pair run. `lead_ms`: a pause after its
        announcement, for a profiler started then to be sampling by the
        time the generator starts."""
        d = self.p["duration_s"]
        return ["echo BENCH-BEGIN %s" % name] + (["sleep %d" % lead_ms] if lead_ms else []) + [
            "show port stats 0",
                "start gen %s %s:%d conns %d %sduration %d" % (mode, PEER, rport, conns, extra, d),
                "wait gen timeout %d" % ((d + 60) * 1000),
                "show port stats 0",
                "show gen json",
                "show lcores",
                "echo BENCH-END %s" % name]

    def tcpfp_workloads(self):
        """The pair workloads, `rounds` times; with --baseline the older
        binary runs each round too, the order alternating, so drift in the
        machine's load falls on both alike. Each workload keeps the round
        with its median figure."""
        configs = {"tcpfp": self.bench_configs()}
        sides = [("tcpfp", self.tcpfp)]
        if self.baseline:
            exe = os.path.join(self.baseline, "dpdk_app", "tcpfp")
            if not os.access(exe, os.X_OK):
                raise RuntimeError("--baseline %s has no dpdk_app/tcpfp" % self.baseline)
            sides.append(("baseline", exe))
            configs["baseline"] = self.bench_configs(exe, self.build_source(self.baseline), "baseline")
            self.res["params"]["baseline"] = {"build": self.baseline, "commit": self.build_commit(self.baseline)}
        self.res["params"]["commit"] = self.build_commit(self.build)
        self.res["params"]["rounds"] = self.rounds
        per = {k: [] for k, _ in sides}
        for r in range(self.rounds):
            for key, exe in (sides if r % 2 == 0 else sides[::-1]):
                log("pair round %d of %d: %s" % (r + 1, self.rounds, key))
                per[key].append(self.pair_round(key, exe, *configs[key],
                                                profile=self.profile and not per[key]))
                if key == "tcpfp" and self.paired_io:
                    self.pair_io(per[key][-1])
        for key, results in per.items():
            for name in results[0]:
                runs = sorted((x[name] for x in results if name in x), key=lambda w: w["value"])
                w = dict(runs[len(runs) // 2])
                w["rounds"] = [x[name]["value"] for x in results if name in x]
                w["io_rounds"] = [x[name]["io"] for x in results if name in x and "io" in x[name]]
                self.res[key][name] = w
                log("%s %s: median %.4g (%s) of %s" % (key, name, w["value"], UNITS[name],
                                                      ", ".join("%.4g" % v for v in w["rounds"])))

    @staticmethod
    def build_source(build):
        """The source tree a build directory was configured from, or None."""
        try:
            info = json.load(open(os.path.join(build, "meson-info", "meson-info.json")))
            return info["directories"]["source"]
        except (OSError, KeyError, ValueError):
            return None

    @classmethod
    def build_commit(cls, build):
        """The commit a build directory was configured from (git describe of its source)."""
        src = cls.build_source(build)
        if src is None:
            return None
        r = sh(["git", "-C", src, "describe", "--always", "--dirty"], check=False)
        return r.stdout.strip() or None

    def pair_round(self, label, exe, client_cfg, server_cfg, profile):
        """One pair run of every selected workload with binary `exe`:
        {name: result}."""
        out_by_name = {}
        size = self.p["size"]
        # One pair run, one workload after the other (name, mode, port, conns,
        # extra). The generator closes first in all of them, so the server's
        # TIME_WAIT count at exit is CPS's own. crr_rate and crr_16k come after
        # the first three, so those run in the same conditions as before the
        # two were added and stay comparable with older results.
        all_ = [("cps", "crr", 7, self.p["crr_conns"], "size %d " % size),
                ("rps", "rr", 7, self.p["rr_conns"], "size %d " % size),
                ("bulk", "bulk", 9, self.p["bulk_conns"], ""),
                ("crr_rate", "crr", 7, self.p["crr_conns"], "size %d rate %d/s " % (size, self.p["crr_rate"])),
                # The rr service answers each 8-byte header with the size it asks for.
                ("crr_16k", "crr", RR_PORT, self.p["crr_conns"],
                 "proto rr request %d response %d " % (size, self.p["response_16k"])),
                # Last, so that the five above run as they always did.
                ("cps_sat", "crr", 7, self.p["sat_crr_conns"], "size %d " % size),
                ("rps_sat", "rr", 7, self.p["sat_rr_conns"], "size %d " % size)]
        runs = [[w for w in all_ if w[0] in self.workloads]]
        for run in runs:
            if not run:
                continue
            script = ["wait arp %s timeout 10000" % PEER]
            for name, mode, port, conns, extra in run:
                script += self.gen_block(name, mode, port, conns, extra, lead_ms=2000 if profile else 0)
            # A perf per workload and process, started at the workload's
            # announcement, on CLOCK_MONOTONIC; each report keeps only the
            # samples inside the generator's run (from its "gen: started" line,
            # less the first and last half second). Beside two busy pollers
            # perf starts sampling seconds late and stops up to ten seconds
            # late: unfiltered, a recording held much of the next workload
            # (session 16's run profiled crr_rate under rps and bulk).
            perf = {"current": None, "procs": [], "windows": {}}

            def on_line(t, line, pids):
                # The workload is the one the script last announced (its
                # `echo BENCH-BEGIN name`), not the count of "gen: started"
                # lines: one line missed must not shift every later profile.
                m = re.match(r"BENCH-BEGIN (\w+)$", line)
                if m:
                    perf["current"] = m.group(1)
                name = perf["current"]
                if profile and m and len(pids) == 2:
                    # The last workload's recordings stop here if still running
                    # (beside two busy pollers they overrun and slow this one's
                    # start); this one's start now, 2 s (lead_ms) before its
                    # generator, and keep only the generator's run (windows).
                    for _, _, _, _, proc in perf["procs"]:
                        if proc.poll() is None:
                            proc.send_signal(signal.SIGINT)
                    d = self.p["duration_s"]
                    for side in ("client", "server"):
                        out = os.path.join(self.out, "perf-%s%s-%s.data" % (
                            "" if label == "tcpfp" else label + "-", name, side))
                        perf["procs"].append((name, side, out, perf["windows"], subprocess.Popen(
                            ["perf", "record", "-g", "-q", "-k", "CLOCK_MONOTONIC", "-o", out, "-p", str(pids[side]),
                             "--", "sleep", str(d + 3)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)))
                if profile and line.startswith("gen: started") and name is not None and name not in perf["windows"]:
                    d = self.p["duration_s"]
                    perf["windows"][name] = (t + 0.5, t + max(1.0, d - 0.5))
                return None

            rc, lines, srv, _ = self.run_pair(script, client_cfg, server_cfg, self.p["pair_mem_mib"], on_line=on_line,
                                              exe=exe)
            for name, side, out, windows, proc in perf["procs"]:
                proc.wait()
                # --baseline's first round is profiled too: the top entries before and after.
                key = "profile" if label == "tcpfp" else "profile_" + label
                if name in windows:
                    self.res.setdefault(key, {}).setdefault(name, {})[side] = self.perf_top(out, window=windows[name])
            stats, gens = self.port_stats(lines), self.gen_json(lines)
            for i, (name, mode, port, conns, _) in enumerate(run):
                if len(gens) <= i or len(stats) < 2 * (i + 1):
                    tail = "\n".join(l for _, l in lines[-30:])
                    raise RuntimeError("%s: no generator result (rc %d); client output ends:\n%s" % (name, rc, tail))
                g, a, b = gens[i], stats[2 * i], stats[2 * i + 1]
                pkts = (b["rx"] - a["rx"]) + (b["tx"] - a["tx"])
                byts = (b["rx_bytes"] - a["rx_bytes"]) + (b["tx_bytes"] - a["tx_bytes"])
                el = g.get("elapsed_s") or self.p["duration_s"]
                w = {"gen": g, "conns": conns, "rport": port, "packets": pkts,
                     "pps": pkts / el if el else 0, "mean_frame_bytes": byts / pkts if pkts else 0,
                     "value": {"cps": g.get("conn_per_s", 0), "rps": g.get("req_per_s", 0),
                               "bulk": g.get("gbit_per_s", 0), "crr_rate": g.get("p99_us", 0),
                               "crr_16k": g.get("conn_per_s", 0), "cps_sat": g.get("conn_per_s", 0),
                               "rps_sat": g.get("req_per_s", 0)}[name]}
                if name == "crr_rate":
                    w.update(target_rate=self.p["crr_rate"], rate_met=rate_met(g))
                if name == "crr_16k":
                    w["response_bytes"] = self.p["response_16k"]
                if name == "cps":
                    w["time_wait_client"] = g.get("time_wait_local")
                    m = re.findall(r"engine \d+: \d+ connection\(s\), (\d+) TIME_WAIT record", srv)
                    w["time_wait_server_final"] = sum(int(x) for x in m) if m else None
                    m = re.findall(r"mib\s+timewait_entered\s+(\d+)", srv)
                    w["server_timewait_entered"] = sum(int(x) for x in m) if m else 0
                    w["tw_reuse"] = self.res["params"]["tw_reuse"]
                out_by_name[name] = w
                log("%s %s: %.4g (%s), %.0f pkt/s, mean frame %.0f B" %
                    (label, name, w["value"], UNITS[name], w["pps"], w["mean_frame_bytes"]))
        return out_by_name

    @staticmethod
    def perf_top(path, n=15, window=None):
        """The n hottest symbols (self time) of a perf recording's worker
        threads, as [(percent of the workers' samples, symbol)]. perf follows
        the whole process: the main lcore's start-up and exit (DPDK zeroes
        its heap, page by page under --no-huge) would otherwise crowd the
        top of the first and last workloads. `window`: (start, stop) on
        CLOCK_MONOTONIC, for a recording made with -k CLOCK_MONOTONIC: only
        the samples inside it count."""
        span = ["--time", "%.6f,%.6f" % window] if window else []
        r = sh(["perf", "report", "-i", path, "--no-children", "--sort", "comm,sym", "--stdio", "-g", "none"] + span,
               check=False)
        rows, total = [], 0.0
        for l in r.stdout.splitlines():
            m = re.match(r"\s*([\d.]+)%\s+(\S+)\s+\[[.k]\]\s+(.*)", l)
            if m and m.group(2).startswith("rte-worker"):
                rows.append((float(m.group(1)), m.group(3).strip()))
                total += float(m.group(1))
        top = [(100 * pct / total, sym) for pct, sym in rows] if total else []
        return sorted(top, reverse=True)[:n]

    # --- the I/O limit -------------------------------------------------------------

    @staticmethod
    def io_size(w):
        return max(60, min(1514, int(round(w["mean_frame_bytes"]))))

    def pair_io(self, round_results):
        """The I/O limit beside one pair round: tcpfp-iofwd at each
        workload's mean frame size, run right after it; the round's fraction
        is tcpfp's packet rate over the forwarder's."""
        for name, w in round_results.items():
            if name in NO_IO_LIMIT or not w.get("pps"):
                continue
            r = self.run_iofwd(self.io_size(w))
            w["io"] = {"size": r["size"], "pps": r["pps"], "fraction": w["pps"] / r["pps"] if r["pps"] else 0}
            log("io limit beside %s (%d B frames): %.0f pkt/s; tcpfp at %.0f%%" %
                (name, r["size"], r["pps"], 100 * w["io"]["fraction"]))

    def io_limit(self):
        """Per workload: the median of the pair rounds' own fractions (each
        round beside its own forwarder run, pair_io), or without those (--only
        io) one forwarder run now against the pair's median round."""
        for name, w in self.res["tcpfp"].items():
            if name in NO_IO_LIMIT:
                continue
            paired = w.get("io_rounds") or []
            if paired:
                fr = sorted(x["fraction"] for x in paired)
                pps = sorted(x["pps"] for x in paired)
                r = {"size": paired[0]["size"], "pps": pps[len(pps) // 2], "fraction": fr[len(fr) // 2],
                     "paired_rounds": len(paired), "round_fractions": [x["fraction"] for x in paired]}
            else:
                r = self.run_iofwd(self.io_size(w))
                r["fraction"] = w["pps"] / r["pps"] if r["pps"] else 0
            self.res["io_limit"][name] = r
            log("io limit for %s (%d B frames): %.0f pkt/s; tcpfp at %.0f%%%s" %
                (name, r["size"], r["pps"], 100 * r["fraction"],
                 " (median of %d rounds' own ratios)" % len(paired) if paired else ""))

    def run_iofwd(self, size):
        d = tempfile.mkdtemp(dir=self.tmp)
        sock = os.path.join(d, "memif.sock")
        tag = "%d_%d" % (os.getpid(), size)
        eal = ["--no-huge", "-m", "512", "--no-pci"]
        refl = subprocess.Popen([self.iofwd, "--lcores=0@(0-1),1@%d" % SERVER_CPU] + eal +
                                ["--file-prefix=iofr_" + tag,
                                 "--vdev=net_memif0,role=server,socket=%s,socket-abstract=no" % sock,
                                 "--", "--role", "reflect"],
                                stdout=open(os.path.join(d, "reflect.log"), "w"), stderr=subprocess.STDOUT)
        try:
            for _ in range(100):
                if os.path.exists(sock):
                    break
                time.sleep(0.1)
            g = sh([self.iofwd, "--lcores=0@(0-1),1@%d" % CLIENT_CPU] + eal +
                   ["--file-prefix=iofg_" + tag,
                    "--vdev=net_memif0,role=client,socket=%s,socket-abstract=no" % sock,
                    "--", "--role", "gen", "--size", str(size), "--duration", str(self.p["io_duration_s"])],
                   timeout=120)
        finally:
            refl.send_signal(signal.SIGINT)
            try:
                refl.wait(timeout=10)
            except subprocess.TimeoutExpired:
                refl.kill()
        for prefix in ("iofr_" + tag, "iofg_" + tag):  # EAL leaves its runtime directory behind
            shutil.rmtree("/var/run/dpdk/" + prefix, ignore_errors=True)
        line = [l for l in g.stdout.splitlines() if l.startswith('{"role"')]
        if not line:
            raise RuntimeError("tcpfp-iofwd printed no result:\n" + g.stdout[-2000:] + g.stderr[-2000:])
        return json.loads(line[0])

    # --- Linux ---------------------------------------------------------------------

    def linux_workloads(self):
        sh(["ip", "link", "set", "lo", "mtu", "1500", "up"])
        # This namespace's own port range; TIME_WAIT reuse on loopback (2) is the default.
        sh(["sysctl", "-qw", "net.ipv4.ip_local_port_range=1024 65535"])
        tw_reuse = open("/proc/sys/net/ipv4/tcp_tw_reuse").read().strip()
        d = self.p["duration_s"]
        want = self.workloads
        servers = [self.start_server(["--port", "7"]), self.start_server(["--port", "9", "--discard"]),
                   self.start_server(["--port", str(RR_PORT), "--rr"])]
        try:
            for name, mode, port, conns in (("cps", "crr", 7, self.p["crr_conns"]),
                                            ("rps", "rr", 7, self.p["rr_conns"])):
                if name not in want:
                    continue
                g = self.linux_client(mode, port, conns, d)
                w = {"client": g, "value": g["conn_per_s"] if name == "cps" else g["req_per_s"]}
                if name == "cps":
                    tw = sh(["ss", "-Htan", "state", "time-wait"]).stdout.splitlines()
                    w["time_wait_client"] = sum(1 for l in tw if not l.split()[2].endswith(":7"))
                    w["time_wait_server"] = len(tw) - w["time_wait_client"]
                    w["tcp_tw_reuse"] = tw_reuse
                self.res["linux"][name] = w
                log("linux %s: %.4g" % (name, w["value"]))
            # Bulk at equal MSS: segmentation offloads off, so each 1448-byte
            # segment crosses the stack as tcpfp's do; the default (GSO/TSO/GRO
            # 64 KiB super-segments) is recorded next to it.
            if "bulk" in want:
                offload = self.lo_offloads(False)
                g = self.linux_client("bulk", 9, 1, d)
                self.res["linux"]["bulk"] = {"client": g, "value": g["gbit_per_s"], "segmentation_offload": not offload}
                self.res["linux"]["bulk_iperf3"] = self.iperf3(d)
                self.lo_offloads(True)
                g = self.linux_client("bulk", 9, 1, d)
                self.res["linux"]["bulk_gso"] = {"client": g, "value": g["gbit_per_s"], "segmentation_offload": True}
                log("linux bulk: %.3g Gbit/s per segment, %.3g with GSO/TSO; iperf3 %.3g" %
                    (self.res["linux"]["bulk"]["value"], g["gbit_per_s"], self.res["linux"]["bulk_iperf3"]["value"]))
            if "crr_rate" in want:
                # Open loop at tcpfp's target rate (epoll_bench's Pacer); the
                # headline p99 is timed as tcpfp's generator times crr requests.
                g = self.linux_client("crr", 7, self.p["crr_conns"], d, ["--rate", str(self.p["crr_rate"])])
                self.res["linux"]["crr_rate"] = {"client": g, "value": g["p99_us"],
                                                 "target_rate": self.p["crr_rate"], "rate_met": rate_met(g)}
                log("linux crr_rate: %.0f/s of %d/s (%d missed), request p50/p99 %.1f/%.1f us, connect p99 "
                    "%.1f us, from the schedule p99 %.1f us" %
                    (g["achieved_rate"], self.p["crr_rate"], g["rate_missed"], g["p50_us"], g["p99_us"],
                     g["connect_p99_us"], g["sched_p99_us"]))
            if "crr_16k" in want:
                # As bulk: the 16 KiB response crosses `lo` as 1448-byte
                # segments, as over the pair; with offloads on as a note.
                args = ["--response", str(self.p["response_16k"])]
                offload = self.lo_offloads(False)
                g = self.linux_client("crr", RR_PORT, self.p["crr_conns"], d, args)
                self.lo_offloads(True)
                gso = self.linux_client("crr", RR_PORT, self.p["crr_conns"], d, args)
                self.res["linux"]["crr_16k"] = {"client": g, "value": g["conn_per_s"],
                                                "segmentation_offload": not offload,
                                                "response_bytes": self.p["response_16k"],
                                                "with_offloads": {"client": gso, "value": gso["conn_per_s"]}}
                log("linux crr_16k: %.4g conn/s per segment, %.4g with GSO/TSO" % (g["conn_per_s"], gso["conn_per_s"]))
        finally:
            for s in servers:
                s.send_signal(signal.SIGINT)
                s.wait(timeout=10)

    @staticmethod
    def lo_offloads(on):
        """Turns lo's segmentation offloads (TSO/GSO/GRO) on or off; False when ethtool failed."""
        v = "on" if on else "off"
        return sh(["ethtool", "-K", "lo", "tso", v, "gso", v, "gro", v], check=False).returncode == 0

    def start_server(self, args, prefix=()):
        p = subprocess.Popen(list(prefix) + [self.epoll, "server", "--cpu", str(SERVER_CPU)] + args,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        line = p.stdout.readline()
        if "ready" not in line:
            raise RuntimeError("epoll_bench server did not start: " + line + p.stdout.read())
        return p

    def linux_client(self, mode, port, conns, d, extra=(), addr="127.0.0.1"):
        r = sh([self.epoll, "client", mode, "--addr", addr, "--port", str(port), "--conns", str(conns),
                "--size", str(self.p["size"]), "--duration", str(d), "--cpu", str(CLIENT_CPU)] + list(extra),
               timeout=d + 60)
        return json.loads(r.stdout.strip().splitlines()[-1])

    def iperf3(self, d):
        srv = subprocess.Popen(["iperf3", "-s", "-1", "-A", str(SERVER_CPU), "-B", "127.0.0.1"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            for _ in range(100):  # listening? (a probe connection would be taken as the one client)
                if sh(["ss", "-Hltn", "sport", "=", ":5201"]).stdout.strip():
                    break
                time.sleep(0.05)
            r = sh(["iperf3", "-c", "127.0.0.1", "-t", str(d), "-A", str(CLIENT_CPU), "-J"], check=False,
                   timeout=d + 30)
            j = json.loads(r.stdout)
            if "error" in j:
                raise RuntimeError("iperf3: " + j["error"])
            bps = j["end"]["sum_received"]["bits_per_second"]
        finally:
            srv.kill()
            srv.wait()
        return {"value": bps / 1e9, "mss": j["start"].get("tcp_mss_default")}

    # --- HTTP over the tap, against wrk -------------------------------------------------

    def wrk(self, url):
        r = sh(["taskset", "-c", str(CLIENT_CPU), "wrk", "-t1", "-c%d" % self.p["wrk_conns"],
                "-d%ds" % self.p["wrk_duration_s"], url], timeout=self.p["wrk_duration_s"] + 60)
        m = re.search(r"Requests/sec:\s*([\d.]+)", r.stdout)
        errs = re.search(r"Non-2xx or 3xx responses: (\d+)|Socket errors: (.*)", r.stdout)
        if not m:
            raise RuntimeError("wrk: no Requests/sec:\n" + r.stdout)
        return {"value": float(m.group(1)), "errors": errs.group(0) if errs else None, "output": r.stdout}

    @staticmethod
    def http_get(host):
        """One keep-alive GET: the exact response bytes (headers and body)."""
        s = socket.create_connection((host, 80), timeout=5)
        s.sendall(("GET / HTTP/1.1\r\nHost: %s\r\n\r\n" % host).encode())
        data = b""
        while b"\r\n\r\n" not in data:
            data += s.recv(4096)
        head, _, body = data.partition(b"\r\n\r\n")
        m = re.search(rb"content-length:\s*(\d+)", head, re.I)
        n = int(m.group(1)) if m else 0
        while len(body) < n:
            body += s.recv(4096)
        s.close()
        return head + b"\r\n\r\n" + body[:n]

    @contextlib.contextmanager
    def tcpfp_up(self, port, name, overrides=None):
        """tcpfp with its worker on SERVER_CPU, its config's services (but the
        seed client) listening on TCPFP: port "tap" (net_tap, config/tap.ini,
        Linux on the tap's kernel side) or "af_xdp" (net_af_xdp on xdp0,
        config/af_xdp.ini, Linux on tcpfp0, the veth's other end, with TX
        checksumming off: dpdk_app/README.md, "af_xdp notes"). `overrides`
        replaces config keys; `name` names the config, the log and the EAL
        file prefix. Yields the log once Linux reaches tcpfp; leaving the
        block stops tcpfp with SIGINT, so the log then ends with its final
        statistics."""
        ini = {("services", "seed_client"): "off", ("engine", "max_connections"): "16384"}
        ini.update(overrides or {})
        cfg = write_ini(os.path.join(self.src, "config", "tap.ini" if port == "tap" else "af_xdp.ini"), ini,
                        os.path.join(self.tmp, "bench-%s.ini" % name))
        logf = os.path.join(self.tmp, "%s.log" % name)
        prefix = "bench_%s_%d" % (name, os.getpid())
        if port == "af_xdp":
            sh(["ip", "link", "add", "tcpfp0", "type", "veth", "peer", "name", "xdp0"])
            sh(["ethtool", "-K", "tcpfp0", "tx", "off"])
            sh(["ip", "link", "set", "xdp0", "up"])
            vdev = "net_af_xdp0,iface=xdp0,start_queue=0,queue_count=1,busy_budget=0"
        else:
            vdev = "net_tap0,iface=tcpfp0"
        p = subprocess.Popen([self.tcpfp, "--lcores=0@(0-1),1@%d" % SERVER_CPU, "--no-huge", "-m", "1024",
                              "--no-pci", "--vdev=" + vdev, "--file-prefix=" + prefix,
                              "--", "--config", cfg], stdout=open(logf, "w"), stderr=subprocess.STDOUT)
        try:
            for _ in range(200):
                if "running" in open(logf).read() or p.poll() is not None:
                    break
                time.sleep(0.1)
            if p.poll() is not None:
                raise RuntimeError("tcpfp on %s exited:\n" % port + open(logf).read()[-3000:])
            if port == "tap":
                sh(["ip", "link", "set", "tcpfp0", "address", KERNEL_MAC])
            sh(["ip", "addr", "add", PEER + "/24", "dev", "tcpfp0"])
            sh(["ip", "link", "set", "tcpfp0", "up"])
            for _ in range(100):
                if sh(["ping", "-c1", "-W1", TCPFP], check=False).returncode == 0:
                    break
            yield logf
        finally:
            p.send_signal(signal.SIGINT)
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
            shutil.rmtree("/var/run/dpdk/" + prefix, ignore_errors=True)
            if port == "af_xdp":
                sh(["ip", "link", "del", "tcpfp0"], check=False)

    def http_tcpfp(self, port):
        """wrk against tcpfp's HTTP service on `port` ("tap" or "af_xdp":
        tcpfp_up): wrk's figure, the exact response bytes, and the port line
        tcpfp logged."""
        with self.tcpfp_up(port, port) as logf:
            response = self.http_get(TCPFP)
            w = self.wrk("http://%s/" % TCPFP)
        detail = re.search(r"port 0: (iface .*)", open(logf).read())
        return w, response, detail.group(1) if detail else None

    def http_tap(self):
        w, response, _ = self.http_tcpfp("tap")
        self.res["http"]["tcpfp"] = {"value": w["value"], "errors": w["errors"], "response_bytes": len(response)}
        self.res["http"]["wrk_tcpfp_output"] = w["output"]
        log("wrk against tcpfp over net_tap: %.0f req/s (%d-byte responses)" % (w["value"], len(response)))
        # Beside it, in the same run: tcpfp on net_af_xdp over a veth, the
        # path the kernel's own figure below takes too.
        try:
            wx, rx, detail = self.http_tcpfp("af_xdp")
            self.res["http"]["af_xdp"] = {"value": wx["value"], "errors": wx["errors"], "response_bytes": len(rx),
                                          "port": detail}
            self.res["http"]["wrk_af_xdp_output"] = wx["output"]
            log("wrk against tcpfp over net_af_xdp: %.0f req/s (%s)" % (wx["value"], detail))
        except Exception as e:  # the tap and kernel figures still count
            self.res["errors"].append("http over af_xdp: %s" % e)
            log("http over af_xdp FAILED: %s" % e)
        resp_file = os.path.join(self.tmp, "response.http")
        open(resp_file, "wb").write(response)
        self.http_kernel(resp_file, len(response))

    def http_kernel(self, resp_file, nbytes):
        """The same wrk against the kernel over a veth pair: the server in a
        namespace of its own (unshare -n), pinned like tcpfp's worker."""
        srv = self.start_server(["--port", "80", "--http", resp_file], prefix=["unshare", "-n", "--"])
        try:
            sh(["ip", "link", "add", "bvc0", "type", "veth", "peer", "name", "bvs0"])
            sh(["ip", "link", "set", "bvs0", "netns", str(srv.pid)])
            ns = ["nsenter", "-t", str(srv.pid), "-n"]
            sh(ns + ["ip", "link", "set", "lo", "up"])
            sh(ns + ["ip", "addr", "add", TCPFP + "/24", "dev", "bvs0"])
            sh(ns + ["ip", "link", "set", "bvs0", "up"])
            sh(["ip", "addr", "add", PEER + "/24", "dev", "bvc0"])
            sh(["ip", "link", "set", "bvc0", "up"])
            for _ in range(100):
                if sh(["ping", "-c1", "-W1", TCPFP], check=False).returncode == 0:
                    break
            same = self.http_get(TCPFP) == open(resp_file, "rb").read()
            w = self.wrk("http://%s/" % TCPFP)
        finally:
            srv.send_signal(signal.SIGINT)
            srv.wait(timeout=10)
            sh(["ip", "link", "del", "bvc0"], check=False)
        self.res["http"]["linux"] = {"value": w["value"], "errors": w["errors"], "response_bytes": nbytes,
                                     "same_bytes": same}
        self.res["http"]["wrk_linux_output"] = w["output"]
        log("wrk against the kernel over veth: %.0f req/s" % w["value"])

    # --- bulk over the tap, TSO on and off -------------------------------------------------

    @staticmethod
    def tx_stats(text):
        """tcpfp's TX figures from its final statistics, workers summed:
        frames handed to the port (rte_eth_tx_burst), TCP segments sent,
        super-segments and the segments they carried (0 without a tso line),
        and the port's TX packets (net_tap counts each segment it cuts)."""
        w = re.findall(r"worker \d+: rx \d+ frames, tx (\d+) frames, tcp in \d+ out (\d+)", text)
        port = re.search(r"port 0: rx \d+ packets \d+ bytes, tx (\d+) packets", text)
        if not w or not port:
            raise RuntimeError("no final statistics in tcpfp's log:\n" + text[-3000:])
        tso = re.findall(r"worker \d+: tso (\d+) super-segments carrying (\d+) segments", text)
        return {"frames": sum(int(f) for f, _ in w), "segments": sum(int(o) for _, o in w),
                "super_segments": sum(int(n) for n, _ in tso), "segments_in_super": sum(int(c) for _, c in tso),
                "port_tx_packets": int(port.group(1))}

    def tap_bulk_round(self, tso, k):
        """One read of tap_bulk_bytes from tcpfp's chargen over net_tap with
        `[port0] tso` on or off; the client pinned to CLIENT_CPU."""
        n = self.p["tap_bulk_bytes"]
        here = os.path.dirname(os.path.abspath(__file__))
        with self.tcpfp_up("tap", "tap_tso_%s_%d" % (tso, k), {("port0", "tso"): tso}) as logf:
            r = sh(["taskset", "-c", str(CLIENT_CPU), sys.executable, "-c",
                    "import sys; sys.path.insert(0, %r); import run_bench; run_bench.chargen_client(%r, %d)" %
                    (here, TCPFP, n)], timeout=180)
        c = json.loads(r.stdout.strip().splitlines()[-1])
        if c["bytes"] != n or not c["pattern_ok"]:
            raise RuntimeError("tso %s: read %d of %d chargen bytes, pattern %s" %
                               (tso, c["bytes"], n, "ok" if c["pattern_ok"] else "wrong"))
        s = self.tx_stats(open(logf).read())
        s.update(bytes=c["bytes"], seconds=c["seconds"], gbit_s=8 * c["bytes"] / c["seconds"] / 1e9)
        log("tap bulk, tso %s: %d B in %.2f s (%.3g Gbit/s), %d frames for %d segments (%d super-segments "
            "carrying %d), port tx %d packets" % (tso, n, c["seconds"], s["gbit_s"], s["frames"], s["segments"],
                                                   s["super_segments"], s["segments_in_super"],
                                                   s["port_tx_packets"]))
        return s

    def tap_bulk(self):
        """Linux reads the same bytes from tcpfp's chargen over net_tap with
        TSO on and off, alternating for `rounds` rounds; each figure is its
        median over the rounds. The goal: with TSO, at most a third of the
        frames handed to the port per byte."""
        per = {"on": [], "off": []}
        for k in range(self.rounds):
            for tso in (("on", "off") if k % 2 == 0 else ("off", "on")):
                per[tso].append(self.tap_bulk_round(tso, k + 1))
        res = {}
        for tso, runs in per.items():
            med = {key: sorted(r[key] for r in runs)[len(runs) // 2] for key in runs[0]}
            med["rounds"] = runs
            res["tso_" + tso] = med
        on, off = res["tso_on"], res["tso_off"]
        ratio = (on["frames"] / on["bytes"]) / (off["frames"] / off["bytes"])
        res.update(frame_ratio=ratio, goal="<= 1/3", goal_met=ratio <= 1 / 3)
        self.res["tap_bulk"] = res
        log("tap bulk: frames per byte with TSO / without %.3f (goal <= 1/3: %s)" %
            (ratio, "met" if ratio <= 1 / 3 else "missed"))

    # --- scale and memory ------------------------------------------------------------

    def hold_configs(self):
        """Client and server for the hold test: config/pair-*-1m.ini (64
        client source addresses, written as a range)."""
        n = self.p["hold_conns"]
        cli = os.path.join(self.src, "config", "pair-client-1m.ini")
        ok, why = self.config_ok(cli)
        if not ok:
            raise RuntimeError(why)
        line = [l for l in open(cli) if re.match(r"\s*addresses\s*=", l)][0].split("=", 1)[1]
        count = 0
        for item in line.split(","):
            ends = [sum(int(o) << (8 * (3 - i)) for i, o in enumerate(x.split("/")[0].strip().split(".")))
                    for x in item.split("-")]
            count += ends[-1] - ends[0] + 1
        per_addr = 16384 * 96 // 100  # RFC 6056 ephemeral range 49152-65535, kept under full
        if n > count * per_addr:
            self.res["notes"].append("scale: %d connections need %d addresses; the config has %d: holding %d" %
                                      (n, -(-n // per_addr), count, count * per_addr))
            n = count * per_addr
        if self.quick:
            # The client's chunk pool is sized for a million unread 1 KB
            # responses (four 256-byte chunks each): --quick's few thousand,
            # in --quick's smaller DPDK memory, need a share of it.
            chunks = max(65536, n * 4 * 9 // 8)
            cli = write_ini(cli, {("engine", "chunk_count"): str(chunks)},
                            os.path.join(self.tmp, "pair-client-hold.ini"))
        srv = os.path.join(self.src, "config", "pair-server-1m.ini")
        ok, why = self.config_ok(srv)
        if not ok:
            raise RuntimeError(why)
        return cli, srv, n, count

    def scale(self):
        cli, srv, n, naddr = self.hold_configs()
        sizes = json.loads(sh([os.path.join(self.build, "tests", "bench", "bench_sizes")]).stdout)
        self.res["scale"].update(sizes)
        tw_ms = self.p["hold_timewait_ms"]
        hold_s = self.p["hold_s"]
        script = ["wait arp %s timeout 10000" % PEER,
                  "set timewait %d" % tw_ms,
                  "echo BENCH-IDLE", "sleep 1500",
                  # Data in flight: each connection's 64 B request is answered by
                  # the server's rr service with 1 KB, which the client's hold
                  # leaves unread in its receive buffer.
                  "start gen hold %s:%d conns %d proto rr request %d response %d duration %d" %
                  (PEER, HOLD_RR_PORT, n, self.p["hold_request"], self.p["hold_response"], hold_s),
                  "wait gen timeout %d" % ((hold_s + 120) * 1000),
                  "echo BENCH-CLOSED", "show gen json"]
        # Polled until every record has expired (the client is stopped then).
        script += ["show lcores", "sleep 100"] * int((tw_ms / 1000 + (30 if self.quick else 120)) * 10)
        st = {"idle": None, "held": None, "held_active": 0, "tw_peak": 0, "tw_samples": []}

        def sample(pids):
            out = {k: rss_kib(pids[k]) for k in ("client", "server") if k in pids}
            for k in out:
                if out[k] is not None:
                    out[k]["heap_alloc"] = heap_alloc(pids[k])
            return out

        def on_line(t, line, pids):
            if line.startswith("BENCH-IDLE"):
                time.sleep(0.5)
                st["idle"] = sample(pids)
            m = re.search(r"gen: t=\S+ .*active=(\d+)", line)
            if m and int(m.group(1)) >= st["held_active"] and int(m.group(1)) > 0:
                st["held_active"] = int(m.group(1))
                st["held"] = sample(pids)
            # The close begins with the run's last report line (its end);
            # the generator's drain closes every connection, at most
            # close-window FINs unanswered, before `wait gen` returns.
            if line.startswith("gen: t=") and "closed_at" not in st:
                st["close_began"] = t
            if line.startswith("gen hold") and "finished after" in line and "close_began" in st:
                st["drained_at"] = t
            if line.startswith("BENCH-CLOSED"):
                st["closed_at"] = t
                st.setdefault("close_began", t)
            m = re.search(r"(\d+) TIME_WAIT, handoff", line)
            if m and "closed_at" in st:
                tw = int(m.group(1))
                st["tw_samples"].append((t - st["close_began"], tw))
                if tw >= st["tw_peak"] and tw > 0:
                    st["tw_peak"] = tw
                    st["tw_mem"] = sample(pids)
                if tw == 0 and st["tw_peak"] > 0:
                    return "stop"
            return None

        rc, lines, srv_text, _ = self.run_pair(script, cli, srv, self.p["hold_mem_mib"], on_line=on_line,
                                        timeout=900)
        gens = self.gen_json(lines)
        if not gens or not st["idle"] or not st["held"]:
            raise RuntimeError("hold: no result (rc %d): %s" % (rc, "\n".join(l for _, l in lines[-30:])))
        held = st["held_active"]
        s = self.res["scale"]
        m = re.findall(r"from (\d+) local address", "\n".join(l for _, l in lines))
        if m and int(m[0]) < naddr:
            self.res["notes"].append("scale: the config has %d client addresses, the generator rotates over %s"
                                     % (naddr, m[0]))
        s["gen_local_addresses"] = int(m[0]) if m else None
        s["request_per_held_conn"] = self.p["hold_request"]
        s["response_per_held_conn"] = self.p["hold_response"]
        s.update(target_conns=self.p["hold_conns"], attempted_conns=n, client_addresses=naddr,
                 held_conns=held, gen=gens[-1], rss_kib={"idle": st["idle"], "held": st["held"],
                                                         "time_wait_peak": st.get("tw_mem")},
                 time_wait_ms=tw_ms, time_wait_peak=st["tw_peak"])
        for side in ("client", "server"):
            d = st["held"][side]["VmRSS"] - st["idle"][side]["VmRSS"]
            s["bytes_per_conn_" + side] = d * 1024 / held if held else 0
        s["bytes_per_conn"] = s["bytes_per_conn_client"] + s["bytes_per_conn_server"]
        if st.get("tw_mem") and st["tw_peak"]:
            d = st["tw_mem"]["client"]["VmRSS"] - st["held"]["client"]["VmRSS"]
            s["bytes_per_time_wait"] = max(d, 0) * 1024 / st["tw_peak"]
        for side in ("client", "server"):
            s["rss_held_mib_" + side] = st["held"][side]["VmRSS"] / 1024
        s["rss_held_bytes_per_conn"] = (s["rss_held_mib_client"] + s["rss_held_mib_server"]) * 2**20 / held \
            if held else 0
        # What the engines preallocated (DPDK heap, mbufs and buffers included) for their capacity.
        caps = {}
        # Without hugepages the engine's large tables sit outside that heap,
        # on transparent huge pages; each worker logs how much.
        outside = {"client": engine_memory_outside_heap(text_of(lines)),
                   "server": engine_memory_outside_heap(srv_text)}
        for side, path in (("client", cli), ("server", srv)):
            txt = open(path).read()
            caps[side] = int(re.search(r"max_connections\s*=\s*(\d+)", txt).group(1))
            ha = st["held"][side].get("heap_alloc")
            ha = ha + outside[side] if ha else None
            s["heap_alloc_mib_" + side] = ha / 2**20 if ha else None
            s["heap_bytes_per_capacity_" + side] = ha / caps[side] if ha else None
        s["capacity"] = caps
        # The client's final statistics (printed after it was stopped): how the close went.
        text = "\n".join(l for _, l in lines)
        for k in ("timewait_entered", "timewait_expired", "output_dropped", "retrans_segs"):
            m = re.findall(r"mib\s+%s\s+(\d+)" % k, text)
            s["client_" + k] = int(m[-1]) if m else 0
        m = re.findall(r"drop tx_ring_full\s+(\d+)", text)
        s["client_tx_ring_full"] = int(m[-1]) if m else 0
        if st["tw_peak"] < held:
            self.res["notes"].append(
                "scale: while the generator closed %d connections, at most %d were in TIME_WAIT together (the "
                "close took longer than TIME_WAIT, %d ms; client: %d entered, %d FINs lost to a full output queue, "
                "%d frames to a full TX ring, %d retransmissions)" %
                (held, st["tw_peak"], tw_ms, s["client_timewait_entered"], s["client_output_dropped"],
                 s["client_tx_ring_full"], s["client_retrans_segs"]))
        samples = st["tw_samples"]
        peak_t = next((t for t, v in samples if v == st["tw_peak"]), None)
        first_drop = next((t for t, v in samples if peak_t is not None and t > peak_t and v < st["tw_peak"]), None)
        zero = next((t for t, v in samples if v == 0 and peak_t is not None and t > peak_t), None)
        # The last record entered when the count last rose; the wheel is late by
        # how much the last deletion trails that record's 2*MSL deadline.
        # Sampling starts once `wait gen` returned: when the count never rose
        # after that, every record had entered by the first sample.
        last_rise = max((t2 for (t1, v1), (t2, v2) in zip(samples, samples[1:]) if v2 > v1),
                        default=samples[0][0] if samples else None)
        s["close_drain_s"] = st["drained_at"] - st["close_began"] if "drained_at" in st else None
        s["time_wait_last_entered_s"] = last_rise
        s["time_wait_expiry_lateness_s"] = (zero - last_rise - tw_ms / 1000) if zero and last_rise else None
        s["time_wait_zero_after_close_s"] = zero
        s["time_wait_expiry_span_s"] = (zero - first_drop) if zero is not None and first_drop is not None else None
        s["tw_samples"] = samples[:: max(1, len(samples) // 200)]
        log("scale: %d held, %.0f B/conn (client %.0f + server %.0f), TIME_WAIT peak %d, %.0f B each, all gone "
            "%.2f s after close (expiry span %s s)" %
            (held, s["bytes_per_conn"], s["bytes_per_conn_client"], s["bytes_per_conn_server"], st["tw_peak"],
             s.get("bytes_per_time_wait") or 0, zero or -1, s["time_wait_expiry_span_s"]))

    # --- overload -------------------------------------------------------------------

    def overload_of(self, exe):
        """tests/robust/overload_pair_test.py against `exe`: its peak, then
        6x that offered open loop to a server whose 128-block table is its
        capacity. The test's own checks (70 %) may fail; the figures stand."""
        path = os.path.join(self.tmp, "overload-%d.json" % len(os.listdir(self.tmp)))
        test = os.path.join(self.src, "tests", "robust", "overload_pair_test.py")
        r = sh([sys.executable, test, exe, self.src], check=False, timeout=600,
               env=dict(os.environ, TCPFP_OVERLOAD_RESULT=path))
        if not os.path.exists(path):
            raise RuntimeError("overload: no result (rc %d): %s" % (r.returncode, r.stdout[-2000:]))
        res = json.load(open(path))
        res["test_passed"] = r.returncode == 0
        return res

    def overload(self):
        o = self.res.setdefault("overload", {})
        o["tcpfp"] = self.overload_of(os.path.join(self.build, "dpdk_app", "tcpfp"))
        log("overload: peak %.0f/s, offered %.1fx, served %.0f %% of the peak" %
            (o["tcpfp"]["peak"], o["tcpfp"]["offered_x"], 100 * o["tcpfp"]["served_fraction"]))
        if self.baseline:
            try:
                o["baseline"] = self.overload_of(os.path.join(self.baseline, "dpdk_app", "tcpfp"))
            except RuntimeError as e:
                self.res["notes"].append("overload, previous engine: %s" % str(e)[:300])

    # --- microbenchmarks ---------------------------------------------------------------

    MICRO = [  # (key, binary, filter, counter or None for real_time, unit label)
        ("parse_checksum_87B_ns", "bench/bench_wire", "BM_ParseFrame$", None),
        ("parse_checksum_mss_ns", "bench/bench_wire", "BM_ParseFrameMss$", None),
        ("checksum_1460_ns", "bench/bench_wire", "BM_Checksum/1460$", None),
        ("checksum_portable_1460_ns", "bench/bench_wire", "BM_ChecksumPortable/1460$", None),
        ("copy_then_checksum_1448_ns", "bench/bench_wire", "BM_CopyThenChecksum/1448$", None),
        ("copy_checksum_1448_ns", "bench/bench_wire", "BM_CopyAccumulate/1448$", None),
        # tcp::serialize of an ACK with timestamps, bare and with 64 bytes, and of a SYN (the worker's TX).
        ("serialize_ack_ns", "bench/bench_wire", "BM_SerializeSegment/0$", None),
        ("serialize_64B_ns", "bench/bench_wire", "BM_SerializeSegment/64$", None),
        ("serialize_syn_ns", "bench/bench_wire", "BM_SerializeSyn$", None),
        ("table_lookup_hit_1M_ns", "table/bench_table", "BM_ConnFindHit/1048576$", None),
        ("table_lookup_hit_1K_ns", "table/bench_table", "BM_ConnFindHit/1024$", None),
        ("wheel_arm_cancel_ns", "timer/bench_timer", "BM_ArmCancel$", None),
        ("wheel_rearm_ns", "timer/bench_timer", "BM_Rearm$", None),
        ("wheel_expire_ns", "timer/bench_timer", "BM_ExpireTimeWait/step_us:1000/shuffled:0/", "per_expiry"),
        ("fast_path_rx_segment_sw_csum_ns", "engine/bench_engine", "BM_ReceiveInOrderSegment/0$", "ns/segment"),
        ("fast_path_rx_segment_hw_csum_ns", "engine/bench_engine", "BM_ReceiveInOrderSegment/1$", "ns/segment"),
        # The same loop timed alone (without the timer pauses' clock reads).
        ("fast_path_rx_loop_sw_csum_ns", "engine/bench_engine", "BM_ReceiveInOrderSegmentLoop/0/", "ns/segment"),
        ("fast_path_rx_loop_hw_csum_ns", "engine/bench_engine", "BM_ReceiveInOrderSegmentLoop/1/", "ns/segment"),
        # Rates, as the benchmark reports them (no unit conversion).
        ("bulk_gbit_s", "engine/bench_engine", "BM_BulkTransfer$", "=Gbit/s"),
        ("rr_1_conn_per_s", "engine/bench_engine", "BM_RequestResponse/1$", "=transactions/s"),
        ("rr_100_conns_per_s", "engine/bench_engine", "BM_RequestResponse/100$", "=transactions/s"),
        ("lifecycle_ns", "engine/bench_engine", "BM_ConnectionLifecycle$", None),
        ("lifecycle_at_scale_ns", "engine/bench_engine", "BM_ConnectionLifecycleAtScale/262144/", "ns/conn"),
    ]
    # What --baseline's older build runs too: the engine's own figures.
    MICRO_BASELINE = ("engine/bench_engine",)

    def micro(self):
        self.micro_of(self.build, self.res["micro"])
        if self.baseline:
            self.micro_of(self.baseline, self.res["micro_baseline"], self.MICRO_BASELINE)

    def micro_of(self, build, dest, binaries=None):
        by_bin = {}
        for key, b, flt, counter in self.MICRO:
            if binaries is None or b in binaries:
                by_bin.setdefault(b, []).append((key, flt, counter))
        for b, items in by_bin.items():
            exe = os.path.join(build, "tests", b)
            if not os.access(exe, os.X_OK):
                raise RuntimeError("%s: not built" % exe)
            flt = "|".join(f for _, f, _ in items)
            jf = os.path.join(self.tmp, os.path.basename(b) + ".json")
            sh([exe, "--benchmark_filter=" + flt, "--benchmark_out=" + jf, "--benchmark_out_format=json",
                "--benchmark_min_time=%g" % self.p["micro_min_time"]], timeout=600)
            bm = json.load(open(jf))["benchmarks"]
            for key, f, counter in items:
                hit = [x for x in bm if re.search(f, x["name"])]
                if not hit and binaries is not None:
                    continue  # an older build (--baseline) may not have this benchmark yet
                if not hit:
                    raise RuntimeError("%s: no benchmark matches %s" % (b, f))
                x = hit[0]
                if counter and counter.startswith("="):
                    v = x[counter[1:]]
                elif counter:
                    v = x[counter] * 1e9  # kIsRate|kInvert counters are seconds per item
                else:
                    scale = {"ns": 1, "us": 1e3, "ms": 1e6, "s": 1e9}[x.get("time_unit", "ns")]
                    v = x["real_time"] * scale
                dest[key] = v
        log("micro (%s): " % build + ", ".join("%s %.4g" % kv for kv in dest.items()))

    # --- results ------------------------------------------------------------------------

    def rows(self):
        """(label, unit, tcpfp, linux, ratio, io_fraction, goal_ratio) per workload."""
        rows = []
        t, l, io = self.res["tcpfp"], self.res["linux"], self.res["io_limit"]
        for key, label, unit in (("cps", "CPS: connect, 64 B request/response, close (%d slots)" %
                                  self.p["crr_conns"], "conn/s"),
                                 ("rps", "RPS: 64 B request/response, %d connections" % self.p["rr_conns"], "req/s"),
                                 ("bulk", "Bulk: 1 connection, MSS 1460", "Gbit/s")):
            tv = t.get(key, {}).get("value")
            lv = l.get(key, {}).get("value")
            rows.append((key, label, unit, tv, lv, tv / lv if tv and lv else None,
                         io.get(key, {}).get("fraction"), GOALS[key]))
        for key, label, unit in (("crr_rate", "CRR at %s/s (open loop): p99 request latency, 64 B request/response, "
                                  "at most %d connections" % (self.fmt(self.p["crr_rate"]), self.p["crr_conns"]),
                                  "us"),
                                 ("crr_16k", "CRR: 64 B request, %s B response (rr framing), %d slots" %
                                  (self.fmt(self.p["response_16k"]), self.p["crr_conns"]), "conn/s")):
            tv = t.get(key, {}).get("value")
            lv = l.get(key, {}).get("value")
            rows.append((key, label, unit, tv, lv, tv / lv if tv and lv else None,
                         io.get(key, {}).get("fraction"), None))
        for key, label, unit in (("cps_sat", "CPS, %d slots (both workers busy): capacity per core" %
                                  self.p["sat_crr_conns"], "conn/s"),
                                 ("rps_sat", "RPS, %d connections (both workers busy): capacity per core" %
                                  self.p["sat_rr_conns"], "req/s")):
            tv = t.get(key, {}).get("value")
            rows.append((key, label, unit, tv, None, None, io.get(key, {}).get("fraction"), None))
        h = self.res["http"]
        tv, lv = h.get("tcpfp", {}).get("value"), h.get("linux", {}).get("value")
        rows.append(("http", "HTTP: wrk -t1 -c%d, tcpfp on net_tap vs kernel on veth" % self.p["wrk_conns"],
                     "req/s", tv, lv, tv / lv if tv and lv else None, None, None))
        xv = h.get("af_xdp", {}).get("value")
        rows.append(("http_af_xdp", "HTTP: wrk -t1 -c%d, tcpfp on net_af_xdp (veth) vs kernel on veth" %
                     self.p["wrk_conns"], "req/s", xv, lv, xv / lv if xv and lv else None, None, None))
        return rows

    def write(self):
        os.makedirs(self.out, exist_ok=True)
        rows = self.rows()
        self.res["table"] = [dict(zip(("key", "workload", "unit", "tcpfp", "linux", "ratio", "io_fraction", "goal"), r))
                             for r in rows]
        self.res["goals"] = [dict(zip(("goal", "figure", "status", "profile"), r)) for r in self.goal_rows()]
        with open(os.path.join(self.out, "results.json"), "w") as f:
            json.dump(self.res, f, indent=1, default=str)
        open(os.path.join(self.out, "results.md"), "w").write(self.markdown(rows))
        self.plot(rows)

    @staticmethod
    def fmt(v, unit=""):
        if v is None:
            return "—"
        if unit == "Gbit/s" or abs(v) < 100:
            return "%.3g" % v if abs(v) < 10 else "%.1f" % v
        return "{:,.0f}".format(v)

    def markdown(self, rows):
        m = self.res["machine"]
        o = ["# tcpfp benchmark (%s run)" % self.res["mode"], "",
             "%s, %s cores, %s GiB, Linux %s, %s. tcpfp client worker on CPU %d, server worker on CPU %d; "
             "the Linux client and server pinned the same way." %
             (m["cpu_model"], m["cores"], m["mem_gib"], m["kernel"], m["date"], CLIENT_CPU, SERVER_CPU), "",
             "| workload | unit | tcpfp | Linux | tcpfp / Linux (goal) | tcpfp packet rate / I/O limit (goal 50 %) |",
             "|---|---|---:|---:|---:|---:|"]
        for key, label, unit, tv, lv, ratio, frac, goal in rows:
            g = ""
            if ratio is not None and goal:
                g = " (≥ %g×: %s)" % (goal, "met" if ratio >= goal else "missed by %.0f %%" % (100 * (1 - ratio / goal)))
            f = "%.0f %%" % (100 * frac) if frac is not None else "—"
            if key in PEER_SERVER and tv:
                g = " (no Linux run; the peer's server: %s, tcpfp %.0f %% of it)" % (self.fmt(PEER_SERVER[key]),
                                                                       100 * tv / PEER_SERVER[key])
            if key == "crr_rate" and ratio:
                g = " (latency: lower is better; tcpfp's p99 is %.2g× %s)" % (
                    1 / ratio if ratio < 1 else ratio, "lower" if ratio < 1 else "higher")
            o.append("| %s | %s | %s | %s | %s%s | %s |" % (label, unit, self.fmt(tv, unit), self.fmt(lv, unit),
                                                           "%.2f×" % ratio if ratio else "—", g, f))
        o.append("")
        t, l, io, s = self.res["tcpfp"], self.res["linux"], self.res["io_limit"], self.res["scale"]
        if "cps" in t:
            c = t["cps"]
            o.append("- **TIME_WAIT after CPS**: the client closes first, so the client holds TIME_WAIT: tcpfp client "
                     "%s records at the end (server: %s at exit, %s entered); Linux client %s (server %s). "
                     "Client TIME_WAIT reuse for active opens: tcpfp `[engine] tw_reuse` %s; Linux "
                     "net.ipv4.tcp_tw_reuse = %s (2: on loopback)." %
                     (c.get("time_wait_client"), c.get("time_wait_server_final"), c.get("server_timewait_entered"),
                      l.get("cps", {}).get("time_wait_client"), l.get("cps", {}).get("time_wait_server"),
                      "on" if c.get("tw_reuse") else "not available in this build (off)",
                      l.get("cps", {}).get("tcp_tw_reuse")))
            o.append("- **Source addresses**: tcpfp's client uses %s (64 addresses x IANA's 16,384 "
                     "ephemeral ports); the Linux client one address with ports 1024-65535. With the "
                     "4-address pair config (65,536 tuples, each reusable 1 s after TIME_WAIT began) "
                     "tcpfp's CPS is capped near 46k by the tuple space, not by CPU." %
                     self.res["params"].get("client_addresses", "pair-client.ini's addresses"))
        if "crr_rate" in t or "crr_rate" in l:
            o.append(self.crr_rate_note(t.get("crr_rate"), l.get("crr_rate")))
        if "crr_16k" in t or "crr_16k" in l:
            lw = l.get("crr_16k", {})
            o.append("- **CRR with a %s B response**: tcpfp `start gen crr %s:%d ... proto rr request %d response %d` "
                     "against its rr service; Linux `epoll_bench client crr --response %d` against `epoll_bench "
                     "server --rr` (the same 8-byte header asks for the size), with `lo`'s segmentation offloads "
                     "off as for bulk (with GSO/TSO/GRO on: %s conn/s). Request p50/p99: tcpfp %s/%s us, "
                     "Linux %s/%s us." %
                     (self.fmt(self.p["response_16k"]), PEER, RR_PORT, self.p["size"], self.p["response_16k"],
                      self.p["response_16k"], self.fmt(lw.get("with_offloads", {}).get("value")),
                      self.fmt(t.get("crr_16k", {}).get("gen", {}).get("p50_us")),
                      self.fmt(t.get("crr_16k", {}).get("gen", {}).get("p99_us")),
                      self.fmt(lw.get("client", {}).get("p50_us")), self.fmt(lw.get("client", {}).get("p99_us"))))
        stalls = [(k, t[k]["gen"].get("stalls"), t[k]["gen"].get("max_gap_us")) for k in WORKLOADS
                  if k in t and t[k]["gen"].get("stalls") is not None]
        if stalls:
            o.append("- **Scheduling noise** (the client worker's loop paused > 1 ms: descheduled by the OS, not TCP): " +
                     "; ".join("%s %d times, longest %.1f ms" % (k, n, (g or 0) / 1000) for k, n, g in stalls) +
                     ". On a quiet machine these are near 0.")
        if io:
            o.append("- **I/O limit** (tcpfp-iofwd: frames forwarded over the same memif pair and lcores with no "
                     "TCP work, at tcpfp's mean frame size; run right after each pair round, the fraction the "
                     "median of the rounds' own): " + "; ".join(
                         "%s %s pkt/s at %d B (tcpfp %s pkt/s)" % (k, self.fmt(v["pps"]), v["size"],
                                                                    self.fmt(t[k]["pps"])) for k, v in io.items()))
        if "bulk" in l:
            o.append("- **Linux bulk** is measured with segmentation offloads off on `lo` (each 1448-byte segment "
                     "crosses the stack, as in tcpfp); with GSO/TSO/GRO on (64 KiB super-segments): %s Gbit/s; "
                     "iperf3 (sanity check of the kernel client, offloads off): %s Gbit/s." %
                     (self.fmt(l.get("bulk_gso", {}).get("value"), "Gbit/s"),
                      self.fmt(l.get("bulk_iperf3", {}).get("value"), "Gbit/s")))
        o += self.tap_bulk_table()
        if s.get("held_conns"):
            o += ["", "| scale and memory | figure | goal |", "|---|---:|---|",
                  "| `sizeof(Tcb)` / `sizeof(TimeWaitRecord)` | %s B / %s B | ≤ 256 / ≤ 64 |" %
                  (s.get("sizeof_tcb"), s.get("sizeof_time_wait_record")),
                  "| concurrent ESTABLISHED connections held (target %s, %d client addresses), each with a %s B "
                  "request answered by a %s B response left unread in the client's receive buffer | %s | "
                  "1,000,000 |" %
                  (self.fmt(s["target_conns"]), s["client_addresses"], s.get("request_per_held_conn", 0),
                   s.get("response_per_held_conn", 0), self.fmt(s["held_conns"])),
                  "| resident memory per connection, client + server (RSS delta idle → held / connections; pools are "
                  "partly touched at start) | %.0f B (%.0f + %.0f) | |" %
                  (s["bytes_per_conn"], s["bytes_per_conn_client"], s["bytes_per_conn_server"]),
                  "| resident memory of the processes holding them, client / server (whole RSS, DPDK memory "
                  "included) | %.0f MiB / %.0f MiB (%.0f B per connection) | 1M with data in flight in < 4 GiB (both: %s) |" %
                  (s.get("rss_held_mib_client", 0), s.get("rss_held_mib_server", 0),
                   s.get("rss_held_bytes_per_conn", 0),
                   ("met" if s.get("rss_held_bytes_per_conn", 0) * 1e6 < 4 * 2**30 else "missed")
                   if s["held_conns"] >= 1000000 else "needs 1M held"),
                  "| DPDK heap allocated (telemetry `/eal/heap_info`: engine pools, tables, buffers, mbufs; plus the engine "
                  "memory marked for transparent huge pages each worker logs), "
                  "client / server, per connection of capacity (%s / %s) | %s MiB / %s MiB (%s B / %s B) | |" %
                  (self.fmt(s.get("capacity", {}).get("client")), self.fmt(s.get("capacity", {}).get("server")),
                   self.fmt(s.get("heap_alloc_mib_client")), self.fmt(s.get("heap_alloc_mib_server")),
                   self.fmt(s.get("heap_bytes_per_capacity_client")),
                   self.fmt(s.get("heap_bytes_per_capacity_server"))),
                  "| resident memory per TIME_WAIT record (client RSS delta held → TIME_WAIT peak / records, %s records; "
                  "the record pool is partly touched before) | %s B | |" %
                  (self.fmt(s.get("time_wait_peak")), self.fmt(s.get("bytes_per_time_wait"))),
                  "| the generator's close of all of them (`close-window` 1024 FINs unanswered at most): closed "
                  "within / FINs retransmitted / frames dropped at the client's full TX ring | %s s / %s / %s | |" %
                  (self.fmt(s.get("close_drain_s")), self.fmt(s.get("client_retrans_segs")),
                   self.fmt(s.get("client_tx_ring_full"))),
                  "| TIME_WAIT (%d ms): last record entered (at most) / none left, after the close began; the last "
                  "deletion trails its 2*MSL deadline by (100 ms sampling) | %s s / %s s; %s s | |" %
                  (s["time_wait_ms"], self.fmt(s.get("time_wait_last_entered_s")),
                   self.fmt(s.get("time_wait_zero_after_close_s")),
                   self.fmt(s.get("time_wait_expiry_lateness_s")))]
        for key, who in (("profile", ""), ("profile_baseline", "previous engine (`--baseline`), ")):
            for name, sides in self.res.get(key, {}).items():
                for side, top in sides.items():
                    o.append("- **profile %s%s, %s** (perf, self time): %s" %
                             (who, name, side, ", ".join("%s %.1f %%" % (sym, pct) for pct, sym in top[:8])))
        ov = self.res.get("overload", {})
        if ov.get("tcpfp"):
            def ov_line(v):
                return "%.0f %% of the peak %s/s at %.1fx offered" % (100 * v["served_fraction"], self.fmt(v["peak"]),
                                                                     v["offered_x"])
            x = ov["tcpfp"]
            o += ["", "| overload over the pair (`tests/robust/overload_pair_test.py`: a server whose 128-block table "
                  "is its capacity, offered 6x its measured peak open loop) | figure | goal |", "|---|---:|---|",
                  "| served under overload, this build | %s | ≥ 90 %% (%s) |" %
                  (ov_line(x), "met" if x["served_fraction"] >= 0.9 else "missed")]
            if ov.get("baseline"):
                o.append("| the same, previous engine (`--baseline`) | %s | |" % ov_line(ov["baseline"]))
        o += self.baseline_table()
        o += self.goals_table()
        mi = self.res["micro"]
        if mi:
            o += ["", "| microbenchmark (Google Benchmark, one thread) | figure |", "|---|---:|"]
            labels = {"parse_checksum_87B_ns": "parse Ethernet+IPv4+TCP+options with both checksums, 87 B frame",
                      "parse_checksum_mss_ns": "the same, full-MSS frame",
                      "checksum_1460_ns": "Internet checksum of 1460 B (AVX2 where the CPU has it)",
                      "checksum_portable_1460_ns": "the same, the portable 8-byte loop",
                      "copy_then_checksum_1448_ns": "a 1448 B payload copied, then summed (two passes)",
                      "copy_checksum_1448_ns": "the same summed while it is copied (one pass, as transmit does)",
                      "table_lookup_hit_1M_ns": "connection table lookup (hit), 1M entries",
                      "table_lookup_hit_1K_ns": "connection table lookup (hit), 1K entries",
                      "wheel_arm_cancel_ns": "timer wheel arm + cancel",
                      "wheel_rearm_ns": "timer wheel re-arm",
                      "wheel_expire_ns": "timer wheel expiry per TIME_WAIT record (1M)",
                      "fast_path_rx_segment_sw_csum_ns": "fast-path receive per in-order segment, software checksums",
                      "fast_path_rx_segment_hw_csum_ns": "fast-path receive per in-order segment, NIC-verified checksums",
                      "fast_path_rx_loop_sw_csum_ns": "the same loop timed alone (no timer pauses' clock reads), "
                                                      "software checksums",
                      "fast_path_rx_loop_hw_csum_ns": "the same loop timed alone, NIC-verified checksums"}
            labels.update(self.MICRO_LABELS)
            for k, v in mi.items():
                o.append("| %s | %s |" % (labels.get(k, k), self.micro_fmt(k, v)))
        problems = self.res["notes"] + self.res["errors"]
        if problems:
            o += ["", "**Not measured / problems:**", ""] + ["- " + e.replace("\n", " ")[:400] for e in problems]
        o += ["", "Goals are reported, never asserted. Every figure comes from this one invocation "
              "(`scripts/bench.sh%s`); on a shared machine only the ratios are meaningful." %
              (" --quick" if self.quick else ""), ""]
        return "\n".join(o)

    @staticmethod
    def goal_status(value, bound, at_most=False):
        """'met', or 'missed by N %' of the bound, or '—' without a figure."""
        if value is None or not bound:
            return "—"
        if (value <= bound) if at_most else (value >= bound):
            return "met"
        return "missed by %.0f %%" % (100 * abs(value - bound) / bound)

    def profile_of(self, name):
        """The top three of a profiled pair workload, per side."""
        sides = self.res.get("profile", {}).get(name, {})
        return "; ".join("%s: %s" % (side, ", ".join("`%s` %.1f %%" % (sym, pct) for pct, sym in top[:3]))
                         for side, top in sorted(sides.items()))

    def goal_rows(self):
        """(goal, figure, status, profile) for each of issue 16's goals with a figure in this run;
        profile None where no pair workload is behind the figure."""
        t, l, io, s, mi = self.res["tcpfp"], self.res["linux"], self.res["io_limit"], self.res["scale"], self.res["micro"]
        rows = []
        for key in ("cps", "rps", "bulk"):
            frac = io.get(key, {}).get("fraction")
            if frac is not None:
                rows.append(("%s: packet rate ≥ 50 %% of the I/O limit" % key, "%.0f %%" % (100 * frac),
                             self.goal_status(frac, GOALS["io_fraction"]), self.profile_of(key)))
        for key, who, goal in [(k, "server", v) for k, v in PEER_SERVER.items()] + \
                              [(k, "generator", v) for k, v in PEER_CLIENT.items()]:
            v = t.get(key, {}).get("value")
            if v is not None:
                rows.append(("%s: %s rate per core ≥ the peer's %s %s" % (key, who, self.fmt(goal), UNITS[key]),
                             "%s (%.0f %%)" % (self.fmt(v), 100 * v / goal), self.goal_status(v, goal),
                             self.profile_of(key)))
        b = self.res["baseline"]
        for key, goal in BASELINE_GOALS.items():
            r = self.paired_ratio(key)
            if r is not None:
                rows.append(("%s ≥ %g× the previous engine (%s)" % (key, goal,
                                                                      self.res["params"]["baseline"].get("commit")),
                             "%.2f×" % r, self.goal_status(r, goal), self.profile_of(key)))
        ov = self.res.get("overload", {}).get("tcpfp")
        if ov:
            rows.append(("served under %.1fx overload ≥ 90 %% of the peak" % ov["offered_x"],
                         "%.0f %%" % (100 * ov["served_fraction"]), self.goal_status(ov["served_fraction"], 0.9), None))
        if s.get("held_conns", 0) >= 1000000:
            mib = s.get("rss_held_mib_client", 0) + s.get("rss_held_mib_server", 0)
            rows.append(("1M connections with a request answered in flight < 4 GiB, both sides",
                         "%.0f MiB" % mib, self.goal_status(mib, 4096, at_most=True), None))
        for key, (bound, at_most) in MICRO_GOALS.items():
            if key in mi:
                rows.append(("in memory: %s %s %s" % (key, "≤" if at_most else "≥", self.fmt(bound)),
                             self.micro_fmt(key, mi[key]), self.goal_status(mi[key], bound, at_most), None))
        tv, gso = t.get("bulk", {}).get("value"), l.get("bulk_gso", {}).get("value")
        if tv and gso:
            rows.append(("bulk ≥ Linux with its segmentation offloads (%s Gbit/s)" % self.fmt(gso, "Gbit/s"),
                         "%.2f×" % (tv / gso), self.goal_status(tv / gso, 1.0), self.profile_of("bulk")))
        tb = self.res.get("tap_bulk")
        if tb:
            rows.append(("bulk over the tap with TSO ≤ 1/3 of the frames", "%.3f" % tb["frame_ratio"],
                         self.goal_status(tb["frame_ratio"], 1 / 3, at_most=True), None))
        h = self.res["http"]
        xv, lv = h.get("af_xdp", {}).get("value"), h.get("linux", {}).get("value")
        if xv and lv:
            rows.append(("wrk over af_xdp ≥ the kernel over veth", "%.2f×" % (xv / lv),
                         self.goal_status(xv / lv, 1.0), None))
        return rows

    def goals_table(self):
        """Issue 16's goals in one table: the figure, met or missed by how much,
        and for a missed pair goal the profile's top entries (--profile)."""
        rows = self.goal_rows()
        if not rows:
            return []
        o = ["", "| issue 16's goal | figure | status | profile of the pair workload, top 3 (`--profile`) |",
             "|---|---:|---|---|"]
        for goal, fig, status, prof in rows:
            missed = status.startswith("missed")
            cell = "" if not missed or prof is None else (prof or "not profiled in this run")
            o.append("| %s | %s | %s | %s |" % (goal, fig, status, cell))
        return o

    def tap_bulk_table(self):
        """Bulk over the tap, TSO on beside off, and the goal on frames."""
        tb = self.res["tap_bulk"]
        if not tb:
            return []
        on, off, r = tb["tso_on"], tb["tso_off"], tb["frame_ratio"]
        o = ["", "| bulk over the tap: Linux (CPU %d) reads %s B from tcpfp's chargen (port 19, worker on CPU %d, "
             "net_tap), median of %d round(s) | `tso = on` | `tso = off` | goal |" %
             (CLIENT_CPU, self.fmt(on["bytes"]), SERVER_CPU, len(on["rounds"])), "|---|---:|---:|---|"]
        for key, label in (("frames", "frames tcpfp handed to the port"), ("segments", "TCP segments sent"),
                           ("super_segments", "super-segments (segmentation offload)"),
                           ("segments_in_super", "segments they carried"),
                           ("port_tx_packets", "the port's TX packets (net_tap counts each segment it cuts)")):
            o.append("| %s | %s | %s | |" % (label, self.fmt(on[key]), self.fmt(off[key])))
        o.append("| throughput, Gbit/s (connect() to the last byte) | %s | %s | |" %
                 (self.fmt(on["gbit_s"], "Gbit/s"), self.fmt(off["gbit_s"], "Gbit/s")))
        o.append("| **Bulk over the tap with TSO: at most a third of the frames** (frames per byte, on / off) | "
                 "%.3f | | ≤ 1/3 (%s) |" % (r, "met" if r <= 1 / 3 else "missed"))
        return o

    MICRO_LABELS = {"bulk_gbit_s": "bulk between two engines in one thread, MSS 1460, software checksums (Gbit/s)",
                    "rr_1_conn_per_s": "64 B request/response, both sides in one thread, 1 connection (transactions/s)",
                    "rr_100_conns_per_s": "the same, 100 connections (transactions/s)",
                    "lifecycle_ns": "one connection's whole lifecycle, both sides, 9 segments (ns)",
                    "lifecycle_at_scale_ns": "the same per connection with 256 in flight from 64 addresses, "
                                             "TIME_WAIT kept and reused, the pair client's tables (ns)"}

    def micro_fmt(self, key, v):
        if key.endswith("_ns"):
            return "%.1f ns" % v
        return self.fmt(v, "Gbit/s" if key == "bulk_gbit_s" else "")

    def paired_ratio(self, name):
        """now / previous for a pair workload of --baseline: the median of
        each round's own ratio. A round runs both binaries back to back, so
        a machine that speeds up or slows down between rounds (this VM's
        speed drifts by up to 2x within a run) moves both runs of a round
        alike, while the medians of each binary's rounds may come from
        different phases. Falls back to the medians' ratio."""
        b, t = self.res["baseline"].get(name), self.res["tcpfp"].get(name)
        if not b or not t:
            return None
        pr, nr = b.get("rounds", []), t.get("rounds", [])
        ratios = sorted(n / p for p, n in zip(pr, nr) if p)
        if ratios and len(pr) == len(nr):
            return ratios[len(ratios) // 2]
        return t["value"] / b["value"] if b["value"] else None

    def baseline_table(self):
        """--baseline: this build against the older one, workload by workload."""
        b, t = self.res["baseline"], self.res["tcpfp"]
        if not b and not self.res["micro_baseline"]:
            return []
        pb = self.res["params"].get("baseline", {})
        o = ["", "**Against the previous engine** (`--baseline`: %s at %s, this build at %s; the pair workloads ran "
             "%d round(s) per binary, alternating, each figure the median round; now / previous is the median of the "
             "rounds' own ratios, each round running both binaries back to back):" %
             (pb.get("build"), pb.get("commit"), self.res["params"].get("commit"), self.res["params"].get("rounds", 1)),
             "", "| workload | unit | previous | now | now / previous | rounds: previous; now |", "|---|---|---:|---:|---:|---|"]
        for name in WORKLOADS:
            if name not in b or name not in t:
                continue
            pv, nv = b[name]["value"], t[name]["value"]
            r = self.paired_ratio(name)
            note = " (latency: lower is better)" if name == "crr_rate" else ""
            o.append("| %s | %s | %s | %s | %s%s | %s; %s |" % (
                name, UNITS[name], self.fmt(pv, UNITS[name]), self.fmt(nv, UNITS[name]),
                "%.2f×" % r if r else "—", note,
                ", ".join(self.fmt(v, UNITS[name]) for v in b[name].get("rounds", [])),
                ", ".join(self.fmt(v, UNITS[name]) for v in t[name].get("rounds", []))))
        mb, mi = self.res["micro_baseline"], self.res["micro"]
        for k, pv in mb.items():
            nv = mi.get(k)
            if nv is None:
                continue
            unit = "ns" if k.endswith("_ns") else ("Gbit/s" if k == "bulk_gbit_s" else "1/s")
            lower_better = k.endswith("_ns")
            r = (pv / nv if lower_better else nv / pv) if pv and nv else None
            o.append("| micro: %s | %s | %s | %s | %s%s | |" % (
                k, unit, self.micro_fmt(k, pv), self.micro_fmt(k, nv), "%.2f×" % r if r else "—",
                " (speed-up: time per item)" if lower_better else ""))
        return o

    def crr_rate_note(self, tw, lw):
        """The paced crr row in full: rates, misses and each latency both sides have."""
        r = self.p["crr_rate"]

        def side(name, w, extra):
            if not w:
                return "%s: not measured" % name
            g = w.get("gen") or w.get("client") or {}
            return ("%s achieved %s/s of %s/s (%s of %s due starts made, %s missed: %s), request p50/p99 %s/%s us, "
                    "connect p99 %s us%s" %
                    (name, self.fmt(g.get("achieved_rate")), self.fmt(r), self.fmt(g.get("rate_started")),
                     self.fmt(g.get("rate_due")), self.fmt(g.get("rate_missed")),
                     "rate met" if w.get("rate_met") else "**rate missed**", self.fmt(g.get("p50_us")),
                     self.fmt(g.get("p99_us")), self.fmt(g.get("connect_p99_us")), extra(g)))

        tcp = side("tcpfp", tw, lambda g: ", first byte p99 %s us" % self.fmt(g.get("ttfb_p99_us")))
        lin = side("Linux", lw, lambda g: "; from the schedule (start lag, connect and request) p50/p99 %s/%s us, "
                   "start lag p99 %s us (max %s)" % (self.fmt(g.get("sched_p50_us")), self.fmt(g.get("sched_p99_us")),
                                                     self.fmt(g.get("lag_p99_us")), self.fmt(g.get("lag_max_us"))))
        cr = None
        if tw and lw and tw["gen"].get("connect_p99_us") and lw["client"].get("connect_p99_us"):
            cr = tw["gen"]["connect_p99_us"] / lw["client"]["connect_p99_us"]
        return ("- **CRR at %s/s** (`start gen crr %s:7 conns %d size %d rate %d/s`; `epoll_bench client crr --rate "
                "%d`: connection k is due at t0 + k/R, at most %d open, a backlog beyond 5 ms of starts is missed as "
                "tcpfp's pacer does): %s; %s. The row compares request latency timed alike on both sides (the "
                "request's first write to its response's last byte; connect() to ESTABLISHED for connect p99, "
                "tcpfp / Linux %s). tcpfp's generator does not time a crr start from its schedule (a late start "
                "shows as missed beyond 5 ms, or in `stalls`); Linux's from-the-schedule figure shows what queueing "
                "adds there." %
                (self.fmt(r), PEER, self.p["crr_conns"], self.p["size"], r, r, self.p["crr_conns"], tcp, lin,
                 "%.2f×" % cr if cr else "—"))

    def plot(self, rows):
        dat = os.path.join(self.tmp, "plot.dat")
        with open(dat, "w") as f:
            for key, label, unit, tv, lv, ratio, frac, goal in rows:
                name = key.upper()
                if key == "crr_rate":
                    # A latency: plotted as Linux / tcpfp so that, as for the
                    # rates beside it, a taller bar means tcpfp does better.
                    name, ratio = "P99@%s/s" % self.fmt(self.p["crr_rate"]), 1 / ratio if ratio else 0
                f.write('"%s" %s %s %s\n' % (name, ratio if ratio else 0, 100 * frac if frac else 0,
                                             goal if goal else 0))
        png = os.path.join(self.out, "results.png")
        gp = """set terminal pngcairo size 1300,480 noenhanced font ",10"
set output '%s'
set multiplot layout 1,2 title "tcpfp %s benchmark — %s, %s cores, %s"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set boxwidth 0.9
set grid ytics
set yrange [0:*]
set title "tcpfp / Linux (same cores, same run; p99: Linux / tcpfp)"
set ylabel "ratio"
plot '%s' using 2:xtic(1) title "tcpfp / Linux" lc rgb "#2060c0", \\
     '' using 4 title "goal" lc rgb "#c0c0c0"
set title "tcpfp packet rate, %% of the I/O limit"
set ylabel "%%"
set yrange [0:110]
plot '%s' using 3:xtic(1) title "%% of I/O limit" lc rgb "#30a050", 50 title "goal 50 %%" lc rgb "red" dt 2
unset multiplot
""" % (png, self.res["mode"], self.res["machine"]["cpu_model"], self.res["machine"]["cores"],
       self.res["machine"]["date"], dat, dat)
        gpf = os.path.join(self.tmp, "plot.gp")
        open(gpf, "w").write(gp)
        r = sh(["gnuplot", gpf], check=False)
        if r.returncode != 0 or not os.path.exists(png):
            self.res["errors"].append("plot: gnuplot failed: " + r.stderr[-500:])

    def run(self):
        self.section("microbenchmarks", self.micro)
        self.section("tcpfp pair: CPS, RPS, bulk, CRR at a rate, CRR 16 KB", self.tcpfp_workloads)
        self.section("I/O limit (tcpfp-iofwd)", self.io_limit)
        self.section("Linux: CPS, RPS, bulk, CRR at a rate, CRR 16 KB", self.linux_workloads)
        self.section("HTTP over tap / af_xdp / veth (wrk)", self.http_tap)
        self.section("bulk over the tap, TSO on / off (chargen)", self.tap_bulk)
        self.section("scale and memory", self.scale)
        self.section("overload over the pair (tests/robust/overload_pair_test.py)", self.overload)
        self.write()
        # Write again so a plotting problem is in the JSON too.
        with open(os.path.join(self.out, "results.json"), "w") as f:
            json.dump(self.res, f, indent=1, default=str)
        print(open(os.path.join(self.out, "results.md")).read())
        log("results in %s/results.{json,md,png}" % self.out)
        if self.res["errors"] or os.environ.get("TCPFP_BENCH_KEEP"):
            log("work files kept in " + self.tmp)
        else:
            shutil.rmtree(self.tmp, ignore_errors=True)
        return 1 if self.res["errors"] else 0


def enter_namespace():
    if os.environ.get("TCPFP_BENCH_NETNS") == "1":
        # Killed by a timeout (bench_quick under Meson), it takes the pairs,
        # reflectors and servers it started with it (tests/e2e/cleanup_test.py).
        sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "e2e", "lib"))
        import harness  # noqa: E402
        harness.own_descendants()
        sh(["ip", "link", "set", "lo", "up"])
        return
    if os.geteuid() != 0:
        print("bench: needs root (DPDK, network namespaces, a tap)", flush=True)
        sys.exit(1 if os.environ.get("CI") == "true" else 77)
    env = dict(os.environ, TCPFP_BENCH_NETNS="1")
    os.execvpe("unshare", ["unshare", "-n", sys.executable] + sys.argv, env)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--src", required=True)
    ap.add_argument("--build", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--profile", action="store_true", help="perf record both tcpfp processes during each workload")
    ap.add_argument("--only", default="",
                    help="comma-separated sections (debugging): micro,pair,io,linux,http,tapbulk,scale,overload")
    ap.add_argument("--workloads", default="",
                    help="comma-separated workloads of the pair and linux sections: " + ",".join(WORKLOADS))
    ap.add_argument("--baseline", default="",
                    help="an older build directory: its pair workloads and engine microbenchmarks run beside "
                         "this build's, alternating")
    ap.add_argument("--rounds", type=int, default=0,
                    help="pair runs per binary, each workload's median kept (default 1; 3 with --baseline)")
    ap.add_argument("--crr-rate", type=int, default=0,
                    help="crr_rate's target, connections per second (default 5000; 2000 with --quick)")
    args = ap.parse_args()
    bad = [w for w in args.workloads.split(",") if w and w not in WORKLOADS]
    if bad:
        ap.error("unknown workload(s) %s (known: %s)" % (",".join(bad), ",".join(WORKLOADS)))
    enter_namespace()
    b = Bench(args)
    if args.only:
        names = {"micro": b.micro, "pair": b.tcpfp_workloads, "io": b.io_limit, "linux": b.linux_workloads,
                 "http": b.http_tap, "tapbulk": b.tap_bulk, "scale": b.scale, "overload": b.overload}
        for n in args.only.split(","):
            b.section(n, names[n])
        b.write()
        print(open(os.path.join(b.out, "results.md")).read())
        log("work files in " + b.tmp)
        sys.exit(1 if b.res["errors"] else 0)
    sys.exit(b.run())


if __name__ == "__main__":
    main()
