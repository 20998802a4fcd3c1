#!/usr/bin/env python3
"""scripts/loadtest.sh, the README's two-line load test against nginx, run
as a newcomer would without a terminal: it must start nginx and tcpfp in
their own namespace, run scripts/nginx-demo.cmd (every expect met), and
report nginx's access log, whose 2xx count must equal what tcpfp counted.

    loadtest_script_test.py TCPFP_EXE SOURCE_ROOT

Needs root and unshare: exit 77 (skip) without them, a failure under CI=true.
"""
import os
import re
import shutil
import subprocess
import sys


def check(cond, msg):
    if not cond:
        print("FAIL: " + msg, flush=True)
        sys.exit(1)
    print("ok: " + msg, flush=True)


def main():
    root = sys.argv[2]
    problem = None
    if os.geteuid() != 0:
        problem = "not root"
    elif shutil.which("ip") is None:
        problem = "no ip(8)"
    if problem:
        print("cannot run scripts/loadtest.sh: " + problem, flush=True)
        sys.exit(1 if os.environ.get("CI") == "true" else 77)
    env = dict(os.environ, TCPFP_NS="tcpfp-loadtest-%d" % os.getpid())
    p = subprocess.run([os.path.join(root, "scripts", "loadtest.sh")], cwd=root, env=env,
                       stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       text=True, timeout=240)
    out = p.stdout
    print(out[-6000:], flush=True)
    check(p.returncode == 0, "loadtest.sh exits 0 (got %d)" % p.returncode)
    check("scripts/nginx-demo.cmd: every command succeeded" in out, "the demo script's expects all held")
    check(re.search(r"gen web: t=1s target=\d+/s", out) is not None, "per-second lines while it ran")
    m = re.search(r"== nginx access log: (\d+) requests", out)
    check(m is not None, "the access log is summarised")
    logged = int(m.group(1))
    ok2 = re.search(r"(\d+) 2xx", out)
    check(ok2 is not None and int(ok2.group(1)) == logged, "every logged request was a 2xx")
    shown = re.search(r"requests:\s+(\d+) \([\d.]+/s\); after the end: (\d+) drained, (\d+) drain timeouts", out)
    check(shown is not None, "tcpfp printed the profile's summary")
    counted = int(shown.group(1)) + int(shown.group(2))
    check(counted <= logged <= counted + int(shown.group(3)),
          "nginx logged what tcpfp counted (%d logged, %d counted)" % (logged, counted))
    check("namespace tcpfp-loadtest-" in out and "removed" in out, "the namespace is removed")


if __name__ == "__main__":
    main()
