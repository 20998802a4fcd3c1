#!/usr/bin/env python3
"""ICMP errors during connect() from the prompt, with Linux as the peer
(RFC 9293 §3.9.2.2 SHLD-26 and MUST-56). Linux's nftables answers SYNs to
port 5999 with ICMP port unreachable (a hard error) and to port 5998 with
host unreachable (a soft one), instead of the RST a closed port draws:

- the connect to 5999 ends within one round trip, well before the first
  SYN retransmission (1 s), counted as icmp_hard_aborts;
- the connect to 5998 keeps retrying (a soft error never aborts), counted
  as icmp_soft_errors.

    icmp_test.py TCPFP_EXE SOURCE_ROOT
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
import harness as h  # noqa: E402


def main():
    h.enter_namespace()
    exe, root = sys.argv[1], sys.argv[2]
    for cmd in (["nft", "add", "table", "inet", "t"],
                ["nft", "add", "chain", "inet", "t", "in", "{ type filter hook input priority 0; }"],
                ["nft", "add", "rule", "inet", "t", "in", "tcp", "dport", "5999", "reject", "with", "icmp",
                 "type", "port-unreachable"],
                ["nft", "add", "rule", "inet", "t", "in", "tcp", "dport", "5998", "reject", "with", "icmp",
                 "type", "host-unreachable"]):
        r = h.sh(*cmd)
        h.check(r.returncode == 0, "nft: %s %s" % (" ".join(cmd[1:4]), r.stderr.strip()))
    t = h.Tcpfp(exe, "")
    t.config = h.write_config(os.path.join(root, "config", "tap.ini"), {("services", "seed_client"): "off"},
                              os.path.join(t.dir, "icmp.ini"))
    script = ["wait arp 172.16.48.1 timeout 5000",
              "connect 172.16.48.2 172.16.48.1:5999",
              "wait 1 closed timeout 500",  # the first SYN retry would come at 1 s
              "expect stat icmp_hard_aborts == 1",
              "expect stat attempt_fails == 1",
              "expect stat in_rsts == 0",
              "connect 172.16.48.2 172.16.48.1:5998",
              "sleep 300",
              "expect conn 2 SYN_SENT",
              "expect stat icmp_soft_errors >= 1",
              "abort 2",
              "echo ICMP-DONE"]
    rc, log = t.run_script(script, 60)
    h.check(rc == 0 and "ICMP-DONE" in log,
            "port unreachable ends connect() within one round trip; host unreachable does not")
    h.check("mbufs held 0 (idle baseline 0)" in log, "every mbuf freed or sent")


if __name__ == "__main__":
    main()
