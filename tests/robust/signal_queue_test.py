#!/usr/bin/env python3
"""net_tap's RX signals when the kernel cannot queue them.

DPDK 22.11's net_tap learns of each frame from a real-time signal (F_SETSIG),
one queued per frame. The count of queued signals is per user and bounded
by RLIMIT_SIGPENDING; past it, fcntl(2) sends SIGIO instead, whose default
action ends the process. A stress round lost a tcpfp this way (its
ack_storm storms: 1001 and then 2000 frames dropped by the tap's queue,
nobody reading) while other processes of the same user flooded their taps.
And at exit, rte_eal_cleanup() cancels EAL's threads with a real-time signal
too, so the same state hung the exit for good.

Here tcpfp runs with RLIMIT_SIGPENDING 1 and without CAP_SYS_RESOURCE (so it
cannot lift the limit, as in a container): most RX signals cannot be queued.
Asserted: tcpfp survives, answers a 1 MB echo byte-exact, counts the signals
it lost (SIGIO taken by worker 0, which re-raises the RX signal), and exits
0 after SIGINT within the harness's 15 s (the EAL cleanup deadline, 5 s).

    signal_queue_test.py TCPFP_EXE SOURCE_ROOT
"""
import os
import re
import socket
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
import rawnet as r  # noqa: E402
from flow import echo  # noqa: E402

h = r.h


def main():
    h.enter_namespace()
    exe, root = sys.argv[1], sys.argv[2]
    r.disable_ipv6()
    tmp = tempfile.mkdtemp(prefix="tcpfp-sigq-")
    wrapper = os.path.join(tmp, "tcpfp-sigpending-1")
    with open(wrapper, "w") as f:
        f.write("#!/bin/sh\nexec setpriv --bounding-set=-sys_resource prlimit --sigpending=1:1 -- %s \"$@\"\n"
                % exe)
    os.chmod(wrapper, 0o755)
    t = r.Tcpfp(wrapper, h.write_config(os.path.join(root, "config", "tap.ini"),
                                        {("services", "seed_client"): "off"}, os.path.join(tmp, "tap.ini")))
    t.start()
    t.peer_up()
    h.check("RLIMIT_SIGPENDING stays at 1 " in t.log(), "tcpfp says it could not lift RLIMIT_SIGPENDING")
    sock = socket.create_connection((r.TCPFP_IP, 7), timeout=10)
    data = os.urandom(1 << 20)
    h.check(echo(sock, data) == data, "1 MB echoed byte-exact with RX signals unqueued")
    sock.close()
    log = t.stop()  # asserts the exit status 0 and every mbuf back
    lost = re.findall(r"net_tap RX signals the kernel could not queue \(SIGIO\) (\d+)", log)
    h.check(lost and int(lost[0]) > 0, "worker 0 took the SIGIOs and counted them (%s)" % (lost or "none"))



if __name__ == "__main__":
    main()
