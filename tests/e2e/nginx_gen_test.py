#!/usr/bin/env python3
"""The load tester against a real HTTP server no one here wrote: Debian's
nginx on the Linux side of the tap (172.16.48.1:80, in the test's private
namespace, with a configuration this test writes), driven by a tcpfp
command script:

- two named profiles at once: `web` (crr, Connection: close, 200 conn/s)
  and `ka` (rr, keep-alive, 500 req/s after a 1 s ramp), 3 s each;
- then `miss`: 50 requests for a path that does not exist (404);
- then `big`: 20 requests for a 1 MiB file of random bytes, each body
  checked by tcpfp against the file's sha256.

What tcpfp counted is then held against nginx's access log (status, method,
path, connection serial and its request number, body bytes):

- per profile and status class, tcpfp's responses (requests + drained)
  equal the log's lines for that profile's path; no drain timeouts, no
  errors, no failed connection, no line for any other path;
- web: one request per connection (the log's connection_requests is 1,
  each line its own connection); ka: every request on the 4 connections
  tcpfp opened;
- miss: 404s only, at least 50; big: 2xx only, every body's digest right,
  1 MiB sent by nginx per line and at least that received per response;
- web and ka: the pacer's schedule (rate_due) is the integral of the rate
  (with the ramp) over the time the profile ran; starts never exceed it;
  any shortfall from it is counted in rate_missed (started + missed >=
  99 % of due); achieved vs target is reported;
- the per-second lines of web and ka interleave (both ran at once);
- nginx's error log has no warning or error; tcpfp exits 0 (every expect
  held) with every mbuf back.

Nothing here depends on the machine being fast: the bounds come from what
tcpfp counted.

    nginx_gen_test.py TCPFP_EXE SOURCE_ROOT
"""
import collections
import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
import harness as h  # noqa: E402

BIG = 1 << 20  # bytes of /big.bin
PATHS = {"web": "/web", "ka": "/ka", "miss": "/missing", "big": "/big.bin"}
# tcpfp waits this long for responses in flight at a profile's end (its
# default is 1 s; a loaded machine must not turn a slow FIN into a timeout).
DRAIN_MS = 5000


def setup_problem(msg):
    """nginx cannot be set up: a failure under CI=true, else a skip."""
    print("cannot set up nginx: " + msg, flush=True)
    sys.exit(1 if os.environ.get("CI") == "true" else 77)


class Nginx:
    """Debian's nginx, master + 1 worker, everything under `d`."""

    def __init__(self, d):
        self.d = d
        self.root = os.path.join(d, "html")
        self.conf = os.path.join(d, "nginx.conf")
        self.access = os.path.join(d, "access.log")
        self.error = os.path.join(d, "error.log")
        self.out = os.path.join(d, "nginx.out")
        self.proc = None

    def write(self):
        os.makedirs(self.root)
        # The worker runs as nobody: it must reach the docroot.
        for p in (self.d, self.root):
            os.chmod(p, 0o755)
        for name, body in (("index.html", b"tcpfp e2e\n"), ("web", b"web\n"), ("ka", b"keep-alive\n")):
            with open(os.path.join(self.root, name), "wb") as f:
                f.write(body)
        data = os.urandom(BIG)
        with open(os.path.join(self.root, "big.bin"), "wb") as f:
            f.write(data)
        for name in os.listdir(self.root):
            os.chmod(os.path.join(self.root, name), 0o644)
        tmp = os.path.join(self.d, "tmp")
        os.makedirs(tmp)
        conf = """
daemon off;
master_process on;
worker_processes 1;
pid {d}/nginx.pid;
error_log {error} warn;
events {{ worker_connections 1024; }}
http {{
    log_format e2e '$status $request_method $request_uri $connection $connection_requests $body_bytes_sent $remote_addr';
    access_log {access} e2e;
    client_body_temp_path {tmp}/body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    types {{ text/html html; application/octet-stream bin; }}
    default_type text/plain;
    keepalive_requests 100000;
    keepalive_timeout 120s;
    log_not_found off;
    server {{
        listen {peer}:80;
        server_name _;
        root {root};
        index index.html;
    }}
}}
""".format(d=self.d, error=self.error, access=self.access, tmp=tmp, peer=h.PEER, root=self.root)
        with open(self.conf, "w") as f:
            f.write(conf)
        return hashlib.sha256(data).hexdigest()

    def start(self):
        exe = shutil.which("nginx") or ("/usr/sbin/nginx" if os.path.exists("/usr/sbin/nginx") else None)
        if exe is None:
            setup_problem("no nginx binary (scripts/install-deps.sh installs nginx-light)")
        # 172.16.48.1 appears on the tap only once tcpfp has created it: nginx
        # binds it before that (a sysctl of this private namespace only).
        try:
            with open("/proc/sys/net/ipv4/ip_nonlocal_bind", "w") as f:
                f.write("1\n")
        except OSError as e:
            setup_problem("net.ipv4.ip_nonlocal_bind in the test's namespace: %s" % e)
        base = [exe, "-p", self.d, "-c", self.conf, "-e", self.error]
        t = h.sh(*(base + ["-t"]))
        if t.returncode != 0:
            setup_problem("nginx -t: %s %s" % (t.stdout, t.stderr))
        self.proc = subprocess.Popen(base, stdout=open(self.out, "w"), stderr=subprocess.STDOUT,
                                     start_new_session=True)
        end = time.monotonic() + 30
        while time.monotonic() < end:
            if self.proc.poll() is not None:
                setup_problem("nginx exited %d: %s %s" % (self.proc.returncode, open(self.out).read(),
                                                          open(self.error).read()))
            ss = h.sh("ss", "-ltnH", "sport = :80").stdout
            if h.PEER + ":80" in ss:
                print("nginx listens on %s:80 (pid %d)" % (h.PEER, self.proc.pid), flush=True)
                return
            time.sleep(0.05)
        setup_problem("nginx did not listen on %s:80 within 30 s" % h.PEER)

    def stop(self):
        """Graceful stop (SIGQUIT): workers finish and flush their logs."""
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGQUIT)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.kill()
            h.fail("nginx did not stop within 30 s of SIGQUIT")

    def kill(self):
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()

    def log_lines(self):
        rows = []
        for line in open(self.access):
            f = line.split()
            if len(f) != 7:
                h.fail("access log line not in the e2e format: %r" % line)
            rows.append({"status": int(f[0]), "method": f[1], "path": f[2], "conn": int(f[3]),
                         "conn_req": int(f[4]), "body": int(f[5]), "addr": f[6]})
        return rows


def script(digest, out):
    common = "drain %d" % DRAIN_MS
    lines = [
        "wait arp %s timeout 20000" % h.PEER,
        # Both at once.
        "start gen web crr %s:80 conns 8 rate 200/s duration 3 path /web %s" % (h.PEER, common),
        "start gen ka rr %s:80 conns 4 rate 500/s ramp 1 duration 3 path /ka %s" % (h.PEER, common),
        "wait gen web",
        "wait gen ka",
        "start gen miss crr %s:80 conns 2 count 50 path /missing %s" % (h.PEER, common),
        "wait gen miss",
        "start gen big rr %s:80 conns 2 count 20 path /big.bin sha256 %s %s" % (h.PEER, digest, common),
        "wait gen big",
        "show gen json",
    ]
    for name in PATHS:
        lines += ["expect gen %s errors == 0" % name,
                  "expect gen %s conns_failed == 0" % name,
                  "expect gen %s drain_timeouts == 0" % name,
                  "save gen %s %s" % (name, os.path.join(out, name))]
    lines += [
        "expect gen web status_2xx > 0",
        "expect gen ka status_2xx > 0",
        "expect gen ka conns_opened == 4",
        "expect gen miss status_4xx >= 50",
        "expect gen miss status_2xx == 0",
        "expect gen big requests >= 20",
        "expect gen big error.digest_mismatch == 0",
        "expect gen big bytes_received >= %d" % (20 * BIG),
        "echo script done",
    ]
    return lines


def due_integral(rate, ramp_s, t):
    """Starts due by time t on a linear ramp from 0 to `rate` over ramp_s."""
    if ramp_s <= 0:
        return rate * t
    if t <= ramp_s:
        return rate * t * t / (2 * ramp_s)
    return rate * ramp_s / 2 + rate * (t - ramp_s)


def check_rate(name, s, rate, ramp_s):
    due, started, missed = s["rate_due"], s["rate_started"], s["rate_missed"]
    elapsed = s["elapsed_s"]
    want = due_integral(rate, ramp_s, elapsed)
    print("%s: target %.1f/s, achieved %.1f/s over %.3f s; due %d (the schedule's integral %.1f), "
          "started %d, missed %d; effective target (due/elapsed) %.1f/s, achieved/effective %.3f, "
          "achieved/target %.3f" % (name, s["target_rate"], s["achieved_rate"], elapsed, due, want,
                                    started, missed, due / elapsed, s["achieved_rate"] * elapsed / max(due, 1),
                                    s["achieved_rate"] / s["target_rate"]), flush=True)
    h.check(s["target_rate"] == rate, "%s: target_rate %.1f is the %d/s asked for" % (name, s["target_rate"], rate))
    # The pacer floors the integral; one start of slack each way.
    h.check(abs(due - want) <= 1 + 0.001 * want,
            "%s: rate_due %d is the rate's integral over the %.3f s it ran (%.1f)" % (name, due, elapsed, want))
    h.check(started <= due, "%s: never started ahead of the schedule (started %d <= due %d)" % (name, started, due))
    h.check(started + missed >= 0.99 * due,
            "%s: any shortfall is counted as missed: started %d + missed %d >= 99%% of due %d"
            % (name, started, missed, due))
    # Exactly: what is neither started nor missed is the pacer's backlog at
    # the end, at most its burst (max(4, 5 ms of the rate), one worker).
    burst = max(4, int(rate * 0.005))
    h.check(due - started - missed <= burst,
            "%s: due - started - missed = %d, within the pacer's burst of %d"
            % (name, due - started - missed, burst))
    if missed == 0:
        h.check(s["achieved_rate"] * elapsed >= 0.9 * due,
                "%s: nothing missed, so achieved is within 10%% of the schedule (%.1f of %.1f/s)"
                % (name, s["achieved_rate"], due / elapsed))
    else:
        print("note: %s missed %d starts (the worker fell behind; counted, not hidden)" % (name, missed),
              flush=True)


def per_second(log, name):
    """(position in the log, t, target) of each per-second line of `name`."""
    return [(m.start(), int(m.group(1)), float(m.group(2)))
            for m in re.finditer(r"^gen %s: t=(\d+)s target=([\d.]+)/s " % name, log, re.M)]


def main():
    h.enter_namespace()
    exe, root = sys.argv[1], sys.argv[2]
    t = h.Tcpfp(exe, "")
    t.config = h.write_config(os.path.join(root, "config", "tap.ini"),
                              {("services", "seed_client"): "off"},
                              os.path.join(t.dir, "gen.ini"))
    # Its own directory: the worker (nobody) cannot enter tcpfp's (0700).
    ng = Nginx(tempfile.mkdtemp(prefix="tcpfp-e2e-nginx-"))
    digest = ng.write()
    print("big.bin: %d bytes, sha256 %s" % (BIG, digest), flush=True)
    out = os.path.join(t.dir, "gen")
    os.makedirs(out)
    try:
        ng.start()
        rc, log = t.run_script(script(digest, out), timeout=600)
        ng.stop()
    finally:
        ng.kill()
    err = open(ng.error).read()
    print("---- nginx error log ----\n" + err + "-------------------------", flush=True)

    h.check(rc == 0, "the script ran to its end, every wait and expect held (exit %d)" % rc)
    h.check("script done" in log, "the script's last line ran")
    held = re.findall(r"mbufs held (-?\d+) \(idle baseline (-?\d+)\)", log)
    h.check(len(held) == 1 and held[0] == ("0", "0"), "every mbuf back at exit (%s)" % held)
    bad = [l for l in err.splitlines() if re.search(r"\[(warn|error|crit|alert|emerg)\]", l)]
    h.check(not bad, "nginx logged no warning or error (%s)" % bad[:5])

    shown = [l for l in log.splitlines() if l.startswith("[{\"name\"")]
    h.check(len(shown) == 1, "show gen json printed one array")
    shown = {p["name"]: p for p in json.loads(shown[0])}
    h.check(sorted(shown) == sorted(PATHS), "show gen json has the four profiles (%s)" % sorted(shown))
    prof = {}
    for name in PATHS:
        with open(os.path.join(out, name + ".json")) as f:
            prof[name] = json.load(f)["summary"]
        for k in ("requests", "drained", "status_2xx", "status_4xx", "errors", "bytes_received"):
            if shown[name][k] != prof[name][k]:
                h.fail("%s: show gen json %s %s, save gen %s" % (name, k, shown[name][k], prof[name][k]))
        s = prof[name]
        print("%s: requests %d drained %d drain_timeouts %d opened %d failed %d 2xx %d 3xx %d 4xx %d 5xx %d "
              "errors %d bytes_received %d p50 %d us p99 %d us"
              % (name, s["requests"], s["drained"], s["drain_timeouts"], s["conns_opened"], s["conns_failed"],
                 s["status_2xx"], s["status_3xx"], s["status_4xx"], s["status_5xx"], s["errors"],
                 s["bytes_received"], s["p50_us"], s["p99_us"]), flush=True)

    rows = ng.log_lines()
    by_path = collections.defaultdict(list)
    for r in rows:
        by_path[r["path"]].append(r)
    h.check(set(by_path) <= set(PATHS.values()),
            "nginx saw only the four profiles' paths (%s)" % sorted(by_path))
    h.check(all(r["method"] == "GET" for r in rows), "every request a GET")

    for name, path in PATHS.items():
        s = prof[name]
        lines = by_path.get(path, [])
        h.check(s["errors"] == 0 and s["conns_failed"] == 0 and all(v == 0 for v in shown[name]["errors_by"].values()),
                "%s: no error, no failed connection (errors_by %s)" % (name, shown[name]["errors_by"]))
        # Responses tcpfp parsed: those counted in the run and those drained after it.
        answered = s["requests"] + s["drained"]
        classes = sum(s["status_%dxx" % c] for c in range(1, 6))
        h.check(classes == answered,
                "%s: every response has a status class (%d = requests %d + drained %d)"
                % (name, classes, s["requests"], s["drained"]))
        # A request whose response the drain gave up on may be in the log
        # too; a clean run has none.
        h.check(s["drain_timeouts"] == 0, "%s: no drain timeout" % name)
        for c in range(1, 6):
            ours = s["status_%dxx" % c]
            theirs = sum(1 for r in lines if r["status"] // 100 == c)
            h.check(ours <= theirs <= ours + s["drain_timeouts"],
                    "%s: %dxx: tcpfp counted %d, nginx logged %d for %s" % (name, c, ours, theirs, path))
        h.check(answered <= len(lines) <= answered + s["drain_timeouts"],
                "%s: nginx logged %d requests for %s, tcpfp answered %d (drain timeouts %d)"
                % (name, len(lines), path, answered, s["drain_timeouts"]))

    web, ka, miss, big = (by_path.get(PATHS[n], []) for n in ("web", "ka", "miss", "big"))
    h.check(all(r["conn_req"] == 1 for r in web) and len({r["conn"] for r in web}) == len(web),
            "web: one request per connection (Connection: close): %d lines, %d connections"
            % (len(web), len({r["conn"] for r in web})))
    h.check(prof["web"]["closed_by_server"] >= prof["web"]["requests"],
            "web: nginx closed each connection (closed_by_server %d >= requests %d)"
            % (prof["web"]["closed_by_server"], prof["web"]["requests"]))
    h.check(prof["web"]["conns_opened"] >= len(web),
            "web: tcpfp opened a connection for each logged request (%d >= %d)"
            % (prof["web"]["conns_opened"], len(web)))
    ka_conns = collections.Counter(r["conn"] for r in ka)
    h.check(len(ka_conns) == prof["ka"]["conns_opened"] == 4,
            "ka: keep-alive, every request on the 4 connections tcpfp opened (%s)" % dict(ka_conns))
    h.check(max(r["conn_req"] for r in ka) > 1, "ka: nginx served several requests per connection")
    h.check(len({r["addr"] for r in web}) == 2,
            "web: both of tcpfp's addresses connected (%s)" % sorted({r["addr"] for r in web}))

    h.check(prof["miss"]["status_4xx"] >= 50 and prof["miss"]["status_2xx"] == 0 and
            all(r["status"] == 404 for r in miss),
            "miss: %d 404s, no 2xx; nginx answered 404 to each" % prof["miss"]["status_4xx"])

    b = prof["big"]
    h.check(b["requests"] >= 20 and b["status_2xx"] == b["requests"] + b["drained"] and
            all(r["status"] == 200 for r in big),
            "big: %d responses, all 200 (requests %d, drained %d)" % (len(big), b["requests"], b["drained"]))
    h.check(all(r["body"] == BIG for r in big), "big: nginx sent the whole %d bytes on each line" % BIG)
    h.check(b["error.digest_mismatch"] == 0 and b["errors"] == 0,
            "big: every body's sha256 is the file's (%s)" % digest)
    h.check(b["bytes_received"] >= (b["requests"] + b["drained"]) * BIG >= 20 * BIG,
            "big: received %d bytes >= %d responses x %d" % (b["bytes_received"], b["requests"] + b["drained"], BIG))

    check_rate("web", prof["web"], 200, 0)
    check_rate("ka", prof["ka"], 500, 1)
    # crr: each start is a connection, which carries one request unless the
    # run ended while it was still connecting (at most the 8 slots).
    w = prof["web"]
    h.check(w["rate_started"] - 8 <= w["requests"] + w["drained"] <= w["rate_started"],
            "web: requests %d + drained %d match the %d connections started (within the 8 slots)"
            % (w["requests"], w["drained"], w["rate_started"]))
    k = prof["ka"]
    h.check(k["requests"] + k["drained"] + k["drain_timeouts"] == k["rate_started"],
            "ka: each started request was answered (requests %d + drained %d = started %d)"
            % (k["requests"], k["drained"], k["rate_started"]))

    lw, lk = per_second(log, "web"), per_second(log, "ka")
    print("per-second lines: web %s, ka %s" % ([(x[1], x[2]) for x in lw], [(x[1], x[2]) for x in lk]))
    h.check({1, 2} <= {x[1] for x in lw} and {1, 2} <= {x[1] for x in lk},
            "per-second lines for t=1s and t=2s of both web and ka")
    h.check(lw and lk and lw[0][0] < lk[-1][0] and lk[0][0] < lw[-1][0],
            "the per-second lines of web and ka interleave: both ran at once")
    h.check(all(x[2] == 200 for x in lw), "web's lines show its target 200/s")
    h.check(any(x[2] == 500 for x in lk) and all(x[2] <= 500 for x in lk),
            "ka's lines show the target ramped to 500/s")
    h.check(prof["web"]["elapsed_s"] >= 3 and prof["ka"]["elapsed_s"] >= 3,
            "web and ka each ran their 3 s (%.3f, %.3f)" % (prof["web"]["elapsed_s"], prof["ka"]["elapsed_s"]))
    shutil.rmtree(ng.d)  # kept when the test fails


if __name__ == "__main__":
    main()
