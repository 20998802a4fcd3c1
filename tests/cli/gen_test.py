#!/usr/bin/env python3
"""Runs traffic-generator command scripts over the stack-to-stack pair
(scripts/pair.sh: two tcpfp processes joined by net_memif inside a private
network namespace; no kernel network in the path).

    gen_test.py TCPFP_EXE SOURCE_ROOT CASE

CASE: gen-pair | gen-http | gen-options (scripts/CASE.cmd must exit 0 with every expect
met), or gen-expect-fails (a generator expectation that cannot hold) and
gen-bad-argument (conflicting options): the script must exit non-zero,
naming the line and what was wrong. Needs
root and unshare -n: exit 77 (skip) without them, a failure under CI=true.
"""
import json
import os
import subprocess
import sys
import tempfile

NEGATIVE = {
    # case: (script, failing line, words the error must contain)
    # A count, not a duration: a duration of 0.3 s on a busy machine could
    # end with no request done, and "requests == 0" then held (a stress
    # round, 2026-12-05). A count of 10 always ends with requests done.
    "gen-expect-fails": (
        "wait arp 172.16.48.1\n"
        "start gen rr 172.16.48.1:7 conns 2 count 10\n"
        "wait gen\n"
        "expect gen requests == 0\n"
        "echo never\n",
        4, ["expect gen requests == 0", "expect gen: expected requests == 0, found "]),
    "gen-bad-argument": (
        "start gen rr 172.16.48.1:7 conns 4 duration 1 count 5\n"
        "echo never\n",
        1, ["duration and count exclude each other"]),
}


def fail(msg):
    print("FAIL: " + msg, flush=True)
    sys.exit(1)


def check(cond, msg):
    if not cond:
        fail(msg)
    print("ok: " + msg, flush=True)


def environment_problem():
    if os.geteuid() != 0:
        return "not root"
    if subprocess.run(["unshare", "-n", "true"], capture_output=True).returncode != 0:
        return "unshare -n not permitted"
    return None


def run_pair(exe, root, script):
    env = dict(os.environ, TCPFP_BIN=exe, TCPFP_PAIR_MEM="1024")
    env.pop("TCPFP_PAIR_LOG", None)  # pair.sh prints the server's log at the end
    try:
        p = subprocess.run([os.path.join(root, "scripts", "pair.sh"), "--", "--cmdline-file", script],
                           env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                           timeout=150)
    except subprocess.TimeoutExpired as e:
        print(e.stdout or "")
        fail("the pair did not finish %s within 150 s" % script)
    print("---- pair output ----\n" + p.stdout + "---------------------", flush=True)
    return p.returncode, p.stdout


def main():
    exe, root, case = sys.argv[1], sys.argv[2], sys.argv[3]
    problem = environment_problem()
    if problem:
        print("cannot run the pair: " + problem, flush=True)
        sys.exit(1 if os.environ.get("CI") == "true" else 77)
    if case in NEGATIVE:
        text, line, words = NEGATIVE[case]
        d = tempfile.mkdtemp(prefix="tcpfp-gen-")
        script = os.path.join(d, case + ".cmd")
        open(script, "w").write(text)
        rc, out = run_pair(exe, root, script)
        check(rc != 0, "a failing generator expectation exits non-zero (got %d)" % rc)
        check("%s:%d: error in" % (script, line) in out, "the error names %s:%d" % (script, line))
        for w in words:
            check(w in out, "the error says %r" % w)
        check("\nnever\n" not in out, "the script stops at the failure")
        return
    script = os.path.join(root, "scripts", case + ".cmd")
    saved = "/tmp/tcpfp-gen-options-web"
    for ext in (".json", ".series.csv", ".latency.csv", ".png"):
        if os.path.exists(saved + ext):
            os.unlink(saved + ext)
    rc, out = run_pair(exe, root, script)
    check(rc == 0, "%s exits 0 (got %d)" % (case, rc))
    check("every command succeeded" in out, "the script reports success")
    check(out.count("mbufs held 0 ") >= 2, "both sides freed or sent every mbuf")
    if case == "gen-options":
        check_saved(saved)


def check_saved(path):
    """save gen's files: the JSON parses and agrees with its CSVs."""
    doc = json.load(open(path + ".json"))
    rows = open(path + ".series.csv").read().strip().split("\n")
    check(doc["profile"] == "web", "the JSON names the profile")
    check(len(doc["series"]) == len(rows) - 1 >= 2, "a row per second in both (%d)" % (len(rows) - 1))
    check(doc["summary"]["status_2xx"] > 100, "the summary has the status classes")
    hist = doc["histograms"]["request"]
    check(sum(b[2] for b in hist) == doc["summary"]["samples"], "the histogram holds every request")
    cdf = open(path + ".latency.csv").read().strip().split("\n")[1:]
    check(abs(float(cdf[-1].split(",")[1]) - 1.0) < 1e-6, "the latency CDF ends at 1")
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    p = subprocess.run([os.path.join(root, "scripts", "plot-gen.sh"), path], capture_output=True, text=True)
    check(p.returncode == 0, "scripts/plot-gen.sh draws it (%s)" % (p.stdout + p.stderr).strip())
    check(open(path + ".png", "rb").read(8) == b"\x89PNG\r\n\x1a\n", "PATH.png is a PNG")


if __name__ == "__main__":
    main()
