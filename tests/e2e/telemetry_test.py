#!/usr/bin/env python3
"""rte_telemetry endpoints, queried with DPDK's dpdk-telemetry.py while tcpfp
runs with two workers: /tcpfp/info describes the port and workers;
/tcpfp/stats counts the curls' passive opens (totals and per worker, MIB,
states, drop reasons); /tcpfp/conns lists the listeners and an open
connection from Linux (with its worker's lcore), and filters by state; bad
parameters get an error reply; DPDK's /ethdev/stats,0 and /ethdev/xstats,0
give the port's counters. The workers answer connection snapshots from
their millisecond tick; the telemetry thread never touches an engine.

    telemetry_test.py TCPFP_EXE SOURCE_ROOT
"""
import os
import socket
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
import harness as h  # noqa: E402

BODY = "hello from tcpfp\n"


def main():
    h.enter_namespace()
    exe, root = sys.argv[1], sys.argv[2]
    t = h.Tcpfp(exe, "", lcores="0@0,1@0,2@1", workers=2)
    t.config = h.write_config(os.path.join(root, "config", "tap.ini"),
                              {("services", "seed_client"): "off", ("lcores", "workers"): "2"},
                              os.path.join(t.dir, "telemetry.ini"))
    t.start()
    t.peer_up()

    info = h.telemetry(t.prefix, "/tcpfp/info")
    h.check(info and info["driver"] == "net_tap" and info["workers"] == 2 and info["queues"] == 2,
            "/tcpfp/info: net_tap, 2 workers, 2 queues (%s)" % info)
    h.check(info["steering"].startswith("software") and info["pdump"] == "on" and
            "172.16.48.2/24" in info["addresses"] and "http:80" in info["services"] and
            len(info["lcores"]) == 2, "/tcpfp/info: steering, pdump, addresses, services, lcores")

    ok = 0
    for addr in ["172.16.48.2", "172.16.48.13"] * 3:
        r = h.sh("curl", "-sS", "-m", "5", "http://%s/" % addr)
        ok += r.returncode == 0 and r.stdout == BODY
    h.check(ok == 6, "6 curls get the page (%d)" % ok)

    # A connection that stays ESTABLISHED while we look at it.
    held = socket.create_connection(("172.16.48.2", 9), timeout=5)
    held.sendall(b"x" * 1000)
    peer_port = held.getsockname()[1]
    time.sleep(0.1)  # counters are published once a millisecond

    stats = h.telemetry(t.prefix, "/tcpfp/stats")
    total = stats["total"]
    h.check(stats["workers"] == 2 and total["passive_opens"] >= 7 and
            total["mib_passive_opens"] == total["passive_opens"],
            "/tcpfp/stats: total passive_opens >= 7 (%d)" % total["passive_opens"])
    w0, w1 = stats["worker_0"], stats["worker_1"]
    h.check(w0["passive_opens"] + w1["passive_opens"] == total["passive_opens"] and
            w0["lcore"] != w1["lcore"], "/tcpfp/stats: per-worker blocks add up to the total")
    h.check(total["state_LISTEN"] == 8 and total["state_ESTABLISHED"] >= 1,
            "/tcpfp/stats: connections by state (LISTEN %d, ESTABLISHED %d)"
            % (total["state_LISTEN"], total["state_ESTABLISHED"]))
    h.check(total["mib_in_segs"] > 0 and total["rx_packets"] > 0 and total["mbufs_held"] == 0,
            "/tcpfp/stats: MIB and frame counters move, no mbuf held while idle")
    h.check(total["loop_iterations"] > total["loop_rx_bursts"] > 0 and
            0 < total["loop_busy_us"] < 1e6 * 2 * 60 and
            total["loop_rx_bursts"] <= total["rx_packets"] + total["handoff_in"],
            "/tcpfp/stats: the poll loop's iterations (%d), those with frames (%d), busy %d us"
            % (total["loop_iterations"], total["loop_rx_bursts"], total["loop_busy_us"]))
    only = h.telemetry(t.prefix, "/tcpfp/stats,1")
    h.check(list(only) == ["workers", "worker_1"], "/tcpfp/stats,1: only worker 1's block")
    h.check(h.telemetry(t.prefix, "/tcpfp/stats,7") is None, "/tcpfp/stats,7: error reply")

    conns = h.telemetry(t.prefix, "/tcpfp/conns")
    rows = [v for v in conns.values() if isinstance(v, dict)]
    mine = [r for r in rows if r["peer"] == "172.16.48.1:%d" % peer_port]
    h.check(conns["unanswered"] == 0 and conns["shown"] == len(rows) == conns["matched"],
            "/tcpfp/conns: both workers answered, %d rows" % len(rows))
    h.check(len([r for r in rows if r["state"] == "LISTEN"]) == 8,
            "/tcpfp/conns: 4 listeners on each worker")
    h.check(len(mine) == 1 and mine[0]["state"] == "ESTABLISHED" and
            mine[0]["local"] == "172.16.48.2:9" and
            mine[0]["lcore"] == info["lcores"][mine[0]["worker"]],
            "/tcpfp/conns: the open connection, with its worker's lcore (%s)" % mine)
    est = h.telemetry(t.prefix, "/tcpfp/conns,established")
    h.check(est["filter"] == "ESTABLISHED" and est["matched"] == 1 and est["0"]["peer"] == mine[0]["peer"],
            "/tcpfp/conns,established: only that connection")
    h.check(h.telemetry(t.prefix, "/tcpfp/conns,NOSUCHSTATE") is None,
            "/tcpfp/conns,NOSUCHSTATE: error reply")
    held.close()

    # Port counters come from DPDK's own ethdev telemetry commands.
    port = h.telemetry(t.prefix, "/ethdev/stats,0")
    xstats = h.telemetry(t.prefix, "/ethdev/xstats,0")
    h.check(port and port["ipackets"] > 0 and port["opackets"] > 0 and len(xstats) > 0,
            "/ethdev/stats,0 and /ethdev/xstats,0 report the port (%d in, %d out, %d xstats)"
            % (port["ipackets"], port["opackets"], len(xstats)))

    t.stop()


if __name__ == "__main__":
    main()
