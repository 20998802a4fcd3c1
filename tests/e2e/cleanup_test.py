#!/usr/bin/env python3
"""A test that dies takes the processes it started with it (found in
session 6: a timed-out e2e test left tcpfp busy-polling through the rest of
the suite). Meson ends a test that times out with SIGTERM, then SIGKILL
0.5 s later. A stand-in test (harness.enter_namespace, then children as the
real tests start them) is killed both ways:
- SIGTERM: its handler kills every descendant, including a child in a
  session of its own (as harness.start runs tcpfp) and an orphan whose
  parent exited (re-parented to the test by PR_SET_CHILD_SUBREAPER);
- SIGKILL: no handler runs; a child started with die_with_parent
  (PR_SET_PDEATHSIG, as harness.start runs tcpfp) dies with it.

Usage: cleanup_test.py <tcpfp> <source root> (both unused but by Meson's
convention for this suite).
"""
import os
import signal
import subprocess
import sys
import time

LIB = os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib")
sys.path.insert(0, LIB)
import harness as h  # noqa: E402

STANDIN = r"""
import subprocess, sys, time
sys.path.insert(0, %r)
import harness as h
h.enter_namespace()
session = subprocess.Popen(["sleep", "600"], start_new_session=True)
tied = subprocess.Popen(["sleep", "600"], start_new_session=True, preexec_fn=h.die_with_parent)
shell = subprocess.Popen(["sh", "-c", "sleep 600 & echo $!"], stdout=subprocess.PIPE)
orphan = int(shell.stdout.readline())
shell.wait()
print(session.pid, tied.pid, orphan, flush=True)
# Short sleeps: a SIGTERM that lands between the print's write and the
# sleep's system call would not interrupt one long sleep, and Python runs
# its handler only when bytecode runs again (stress-ci round, session 8).
for _ in range(12000):
    time.sleep(0.05)
""" % LIB


def alive(pid):
    """Running, not a zombie waiting for its new parent to reap it."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def start_standin():
    p = subprocess.Popen([sys.executable, "-c", STANDIN], stdout=subprocess.PIPE, text=True)
    pids = [int(x) for x in p.stdout.readline().split()]
    h.check(len(pids) == 3 and all(alive(x) for x in pids),
            "the stand-in started a session child, a tied child and an orphan (%s)" % pids)
    return p, pids


def gone_within(pids, seconds):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if not any(alive(x) for x in pids):
            return True
        time.sleep(0.05)
    return False


def main():
    h.enter_namespace()
    p, pids = start_standin()
    p.send_signal(signal.SIGTERM)
    out = p.stdout.read()
    rc = p.wait(timeout=10)
    print("".join("  stand-in: " + l for l in out.splitlines(True)), end="")
    h.check(rc == 1 and "killed 3 processes" in out, "SIGTERM: the stand-in failed and said what it killed")
    # The handler killed them before the stand-in exited (which was awaited
    # above, inside Meson's 0.5 s grace); dying takes CPU a busy machine may
    # not give at once, so their end is awaited generously.
    h.check(gone_within(pids, 10), "SIGTERM: all three were killed by the stand-in's handler")

    p, pids = start_standin()
    session, tied, orphan = pids
    p.kill()
    p.wait(timeout=10)
    h.check(gone_within([tied], 10), "SIGKILL: the child started with die_with_parent died with the test")
    for pid in (session, orphan):  # what only the SIGTERM path covers
        if alive(pid):
            os.kill(pid, signal.SIGKILL)


if __name__ == "__main__":
    main()
