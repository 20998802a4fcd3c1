#!/usr/bin/env python3
"""ICMP echo: Linux pings both of tcpfp's addresses.

    ping_test.py TCPFP_EXE SOURCE_ROOT
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
import harness as h  # noqa: E402


def main():
    h.enter_namespace()
    exe, root = sys.argv[1], sys.argv[2]
    t = h.Tcpfp(exe, "")
    t.config = h.write_config(os.path.join(root, "config", "tap.ini"),
                              {("services", "seed_client"): "off"},
                              os.path.join(t.dir, "ping.ini"))
    t.start()
    t.peer_up()
    for addr in ("172.16.48.2", "172.16.48.13"):
        r = h.sh("ping", "-c", "3", "-i", "0.2", "-W", "2", addr)
        print(r.stdout)
        h.check(r.returncode == 0 and " 0% packet loss" in r.stdout, "ping -c 3 %s" % addr)
    r = h.sh("ping", "-c", "1", "-W", "1", "172.16.48.99")
    h.check(r.returncode != 0, "no answer for an address tcpfp does not own")
    log = t.stop()
    h.check("icmp echo replies 6" in log, "tcpfp counted 6 echo replies")


if __name__ == "__main__":
    main()
