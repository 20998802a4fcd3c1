#!/usr/bin/env python3
"""The stack-to-stack pair (scripts/pair.sh: two tcpfp processes joined by
net_memif, in a private namespace): a client script connects to the
server's echo service, sends a line, expects it back, closes first and waits
through TIME_WAIT until the record is gone. pair.sh exits 0 (every command
and expect succeeded), the server's final statistics show the accepted
connection, and both processes end with every mbuf returned.

    pair_test.py TCPFP_EXE SOURCE_ROOT
"""
import os
import re
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
import harness as h  # noqa: E402

SCRIPT = """\
# tests/e2e/pair_test.py: the client's side
set timewait 1000
wait arp 172.16.48.1 timeout 5000
connect 172.16.48.13 172.16.48.1:7
wait 1 ESTABLISHED
send 1 "hello over memif\\n"
expect recv 1 "hello over memif"
close 1
wait 1 TIME_WAIT timeout 3000
wait 1 closed timeout 3000
expect stat active_opens == 1
expect stat timewait_entered == 1
expect stat timewait_expired == 1
"""


def main():
    if os.geteuid() != 0 or subprocess.run(["unshare", "-n", "true"]).returncode != 0:
        print("cannot run the pair: needs root and unshare -n", flush=True)
        sys.exit(1 if os.environ.get("CI") == "true" else 77)
    exe, root = sys.argv[1], sys.argv[2]
    d = tempfile.mkdtemp(prefix="tcpfp-pair-test-")
    cmd = os.path.join(d, "client.cmd")
    open(cmd, "w").write(SCRIPT)
    server_log = os.path.join(d, "server.log")
    env = dict(os.environ, TCPFP_BIN=exe, TCPFP_PAIR_LOG=server_log)
    try:
        r = subprocess.run([os.path.join(root, "scripts", "pair.sh"), "--", "--cmdline-file", cmd],
                           env=env, capture_output=True, text=True, timeout=100)
    except subprocess.TimeoutExpired:
        h.fail("scripts/pair.sh did not finish within 100 s")
    client = r.stdout + r.stderr
    server = open(server_log).read() if os.path.exists(server_log) else ""
    print("---- client ----\n" + client + "---- server ----\n" + server + "----------------", flush=True)
    h.check(r.returncode == 0, "scripts/pair.sh exits 0: the client script succeeded (rc %d)"
            % r.returncode)
    h.check("connection 1: received" in client or "received \"hello over memif" in client,
            "the echo came back over memif")
    m = re.search(r"mib  passive_opens\s+(\d+)", server)
    h.check(m is not None and int(m.group(1)) == 1,
            "the server's statistics show the connection (passive_opens %s)" % (m and m.group(1)))
    h.check("net_memif" in server and "=== tcpfp final statistics ===" in server,
            "the server ran on net_memif and stopped in order")
    for name, log in (("client", client), ("server", server)):
        held = re.findall(r"mbufs held (-?\d+) \(idle baseline (-?\d+)\)", log)
        h.check(held and all(x == ("0", "0") for x in held),
                "%s: 'mbufs held 0 (idle baseline 0)' (%s)" % (name, held))


if __name__ == "__main__":
    main()
