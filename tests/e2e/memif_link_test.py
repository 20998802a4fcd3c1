#!/usr/bin/env python3
"""The memif link's life, two tcpfp processes over net_memif in a private
namespace, each side started and killed by this test (not scripts/pair.sh):

1. The client starts before any server exists, then the server 1.5 s later:
   the client's link watcher restarts its port with backoff until the server
   accepts it, and an echo round trip works. (DPDK 22.11's memif client
   connects once, at port start, and never again.)
2. Loaded pair, killed: 20 rounds of `start gen rr` (8 connections) against
   the echo service, each ended by SIGKILL of one side mid-run, alternately
   the client and the server. The survivor must not crash (its memif PMD
   tears the link down while its worker polls), logs the link going down,
   and a replacement peer brings the link back: a new client connects to the
   surviving server, and the surviving client reconnects to a new server.
3. At the end each survivor exits 0 on SIGINT with every mbuf back, and its
   final `show port info` counts every link change.

    memif_link_test.py TCPFP_EXE SOURCE_ROOT       env TCPFP_MEMIF_ROUNDS (20)
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
import harness as h  # noqa: E402

ROUNDS = int(os.environ.get("TCPFP_MEMIF_ROUNDS", "20"))


class Side:
    """One tcpfp process on the memif socket; its output goes to a file."""
    count = 0

    def __init__(self, exe, root, d, role, args):
        Side.count += 1
        self.name = "%s%d" % (role, Side.count)
        self.log_path = os.path.join(d, self.name + ".log")
        # The pair's configs, sized down: each round starts a process, and
        # the time goes into zeroing memory.
        cfg = h.write_config(os.path.join(root, "config", "pair-%s.ini" % role),
                             {("mempool", "mbufs"): "8192", ("engine", "max_connections"): "4096",
                              ("engine", "max_time_wait"): "4096", ("engine", "chunk_count"): "8192"},
                             os.path.join(d, role + ".ini"))
        cpu = "1" if role == "server" else "0"
        self.proc = subprocess.Popen(
            [exe, "--lcores=0@(0-1),1@" + cpu, "--no-huge", "-m", "512", "--no-pci",
             "--file-prefix=memif_%s_%d" % (self.name, os.getpid()),
             "--vdev=net_memif0,role=%s,socket=%s,socket-abstract=no" % (role, os.path.join(d, "memif.sock")),
             "--", "--config", cfg] + args,
            stdout=open(self.log_path, "w"), stderr=subprocess.STDOUT, start_new_session=True)
        h._started.append(self.proc)  # a failing check kills it (both sides busy-poll)

    def log(self):
        return open(self.log_path, errors="replace").read()

    def wait_log(self, text, timeout):
        h.wait_until(lambda: text in self.log() or self.proc.poll() is not None, timeout,
                     "%r in %s's log" % (text, self.name))
        if text not in self.log():
            print(self.log()[-3000:], flush=True)
            h.fail("%s exited (rc %s) before %r" % (self.name, self.proc.returncode, text))

    def alive(self):
        return self.proc.poll() is None

    def kill(self):
        self.proc.kill()
        self.proc.wait(timeout=10)
        shutil.rmtree("/var/run/dpdk/memif_%s_%d" % (self.name, os.getpid()), ignore_errors=True)

    def stop(self):
        self.proc.send_signal(2)
        try:
            rc = self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            h.fail("%s did not stop within 20 s of SIGINT" % self.name)
        return rc, self.log()


def client_script(d, name, lines):
    path = os.path.join(d, name + ".cmd")
    open(path, "w").write("\n".join(lines) + "\n")
    return path


def echo_round_trip(n, tag):
    return ["wait arp 172.16.48.1 timeout 30000",
            "connect 172.16.48.13 172.16.48.1:7",
            "wait %d ESTABLISHED timeout 20000" % n,
            'send %d "%s\\n"' % (n, tag),
            'expect recv %d "%s"' % (n, tag),
            "abort %d" % n]


def loaded_client(exe, root, d):
    script = client_script(d, "loaded%d" % Side.count, [
        "wait arp 172.16.48.1 timeout 30000",
        "start gen rr 172.16.48.1:7 conns 8 duration 60",
        "echo LOADED", "sleep 120000"])
    return Side(exe, root, d, "client", ["--cmdline-file", script])


def check_survivor(side, downs_before, what):
    time.sleep(0.5)
    if not side.alive():
        print(side.log()[-3000:], flush=True)
    h.check(side.alive(), "%s: the surviving %s still runs after its peer was killed (rc %s)"
            % (what, side.name, side.proc.returncode))
    h.wait_until(lambda: side.log().count("link down") > downs_before or not side.alive(), 10,
                 "%s to log the link going down" % side.name)


T0 = time.monotonic()


def main():
    h.enter_namespace()
    exe, root = sys.argv[1], sys.argv[2]
    d = tempfile.mkdtemp(prefix="tcpfp-memif-link-")

    # 0. A client whose server never comes still stops on SIGINT, at once,
    #    with every mbuf back (its workers never wait for a port that
    #    never started).
    lonely = Side(exe, root, d, "client", [])
    lonely.wait_log("worker 0 on lcore", 30)
    time.sleep(0.5)
    rc, log = lonely.stop()
    held = re.findall(r"mbufs held (-?\d+) \(idle baseline (-?\d+)\)", log)
    h.check(rc == 0 and held and held[0][0] == "0",
            "a client with no server exits 0 on SIGINT with every mbuf back (rc %d, held %s)" % (rc, held))

    # 1. The client first: it must keep trying until the server appears.
    client = Side(exe, root, d, "client", ["--cmdline-file", client_script(d, "first", echo_round_trip(1, "first") + [
        "echo FIRST-DONE", "sleep 600000"])])
    time.sleep(1.5)
    h.check(client.alive(), "a memif client with no server keeps running (rc %s)" % client.proc.returncode)
    server = Side(exe, root, d, "server", [])
    client.wait_log("FIRST-DONE", 60)
    h.check("memif client restarted" in client.log(),
            "the client restarted its port until the server accepted it")
    print("ok: started before its server, the client reconnected and the echo came back", flush=True)
    client.kill()

    # 2. Loaded pair, one side killed per round; each round's client is new.
    kills = {"client": 0, "server": 0}
    for i in range(ROUNDS):
        client = loaded_client(exe, root, d)
        client.wait_log("LOADED", 60)
        time.sleep(0.3)  # traffic in flight
        if i % 2 == 0:
            downs = server.log().count("link down")
            client.kill()
            kills["client"] += 1
            check_survivor(server, downs, "round %d" % (i + 1))
            continue
        downs, ups = client.log().count("link down"), client.log().count("link up")
        server.kill()
        kills["server"] += 1
        check_survivor(client, downs, "round %d" % (i + 1))
        # A killed server leaves its socket file, which DPDK 22.11's memif
        # server will not reuse ("Address already in use"): tcpfp removes it.
        h.check(os.path.exists(os.path.join(d, "memif.sock")), "the killed server left its socket file")
        server = Side(exe, root, d, "server", [])
        server.wait_log("removed stale memif socket", 30)
        h.wait_until(lambda: client.log().count("link up") > ups or not client.alive(), 30,
                     "the surviving client to reconnect to the new server")
        h.check(client.alive(), "round %d: the surviving client reconnected to a new server" % (i + 1))
        if i + 1 < ROUNDS:
            client.kill()
        print("round %d done at %.1f s" % (i + 1, time.monotonic() - T0), flush=True)
    print("ok: %d rounds, %d clients and %d servers killed under load, no survivor crashed"
          % (ROUNDS, kills["client"], kills["server"]), flush=True)

    # 3. Both survivors stop cleanly and count their link changes.
    for side in (client, server):
        if not side.alive():
            continue
        rc, log = side.stop()
        held = re.findall(r"mbufs held (-?\d+) \(idle baseline (-?\d+)\)", log)
        h.check(rc == 0 and held and held[0][0] == held[0][1],
                "%s exits 0 with every mbuf back (rc %d, held %s)" % (side.name, rc, held))
    import glob
    for run_dir in glob.glob("/var/run/dpdk/memif_*_%d" % os.getpid()):
        shutil.rmtree(run_dir, ignore_errors=True)
    shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    main()
