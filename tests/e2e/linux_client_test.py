#!/usr/bin/env python3
"""Linux as the client: 50 curls in parallel all get the page; 100 MB sent
to the echo service come back with the same sha256; Linux closes first, so
tcpfp's side passes CLOSE_WAIT -> LAST_ACK (counted as a passive close).

    linux_client_test.py TCPFP_EXE SOURCE_ROOT
"""
import os
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
import harness as h  # noqa: E402
import streams  # noqa: E402

BODY = "hello from tcpfp\n"


def main():
    h.enter_namespace()
    exe, root = sys.argv[1], sys.argv[2]
    t = h.Tcpfp(exe, "")
    t.config = h.write_config(os.path.join(root, "config", "tap.ini"),
                              {("services", "seed_client"): "off"},
                              os.path.join(t.dir, "client.ini"))
    t.start()
    t.peer_up()

    curls = [subprocess.Popen(["curl", "-sS", "-m", "10", "http://172.16.48.2/"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(50)]
    outs = [c.communicate() for c in curls]
    ok = sum(1 for c, (out, _) in zip(curls, outs) if c.returncode == 0 and out == BODY)
    h.check(ok == 50, "50 parallel curls get the page (%d ok)" % ok)

    start = time.monotonic()
    sent, got, n = streams.echo_roundtrip("172.16.48.2", 100 * 1000 * 1000)
    secs = time.monotonic() - start
    h.check(n == 100 * 1000 * 1000 and sent == got,
            "100 MB echo round trip matches by sha256 (%d bytes back, %.1f s, %.0f Mbit/s each way)"
            % (n, secs, n * 8 / secs / 1e6))

    log = t.stop()
    m = re.search(r"passive closes \(CLOSE_WAIT -> LAST_ACK\) (\d+)", log)
    # 50 curls close first too; at least the echo connection must show it.
    h.check(m is not None and int(m.group(1)) >= 1,
            "tcpfp's side went CLOSE_WAIT -> LAST_ACK after Linux closed (%s)" % (m and m.group(1)))
    h.check("drop no_buffers" not in log, "the engine never ran out of buffers")


if __name__ == "__main__":
    main()
