#!/usr/bin/env python3
"""rte_pdump: dpdk-dumpcap, a DPDK secondary process, captures from the
running tcpfp (found by its --file-prefix) while curl talks to it; the
pcapng holds both directions of the HTTP connections (to and from port 80).

dpdk-dumpcap can attach only to a primary that runs on hugepages: with
--no-huge the primary's memory is anonymous (no hugepage files, no
hugepage_info for the secondary), and dumpcap's EAL fails with "Cannot get
hugepage information" (dpdk_app/README.md, Observability). So this test
reserves 2 MiB hugepages for the run, mounts a private hugetlbfs for tcpfp's
--huge-dir, and gives both back at the end.

    pdump_test.py TCPFP_EXE SOURCE_ROOT
"""
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
import harness as h  # noqa: E402

NR = "/proc/sys/vm/nr_hugepages"
PAGES = 192  # 384 MiB: tcpfp with tap.ini takes ~110 MiB, dumpcap's pool ~20 MiB


def cannot(msg):
    print("cannot set up hugepages: " + msg, flush=True)
    sys.exit(1 if os.environ.get("CI") == "true" else 77)


class Hugepages:
    """Adds PAGES 2 MiB pages to the pool and mounts a hugetlbfs; undoes both."""

    def __init__(self):
        self.mnt = tempfile.mkdtemp(prefix="tcpfp-huge-")
        self.old = int(open(NR).read())
        self.mounted = False

    def __enter__(self):
        try:
            open(NR, "w").write(str(self.old + PAGES))
        except OSError as e:
            cannot("%s: %s" % (NR, e))
        got = int(open(NR).read()) - self.old
        if got < PAGES:
            self.__exit__()
            cannot("only %d of %d pages reserved" % (got, PAGES))
        r = h.sh("mount", "-t", "hugetlbfs", "-o", "pagesize=2M", "nodev", self.mnt)
        if r.returncode != 0:
            self.__exit__()
            cannot("mount hugetlbfs: " + r.stderr)
        self.mounted = True
        return self

    def __exit__(self, *exc):
        if self.mounted:
            h.sh("umount", self.mnt)
        os.rmdir(self.mnt)
        open(NR, "w").write(str(self.old))


def main():
    h.enter_namespace()
    exe, root = sys.argv[1], sys.argv[2]
    with Hugepages() as huge:
        run(exe, root, huge.mnt)


def run(exe, root, huge_dir):
    t = h.Tcpfp(exe, "", huge_dir=huge_dir)
    t.config = h.write_config(os.path.join(root, "config", "tap.ini"),
                              {("services", "seed_client"): "off"},
                              os.path.join(t.dir, "pdump.ini"))
    t.start()
    t.peer_up()
    h.check("pdump ready" in t.log(), "tcpfp initialised rte_pdump")

    cap = os.path.join(t.dir, "dumpcap.pcapng")
    err = open(os.path.join(t.dir, "dumpcap.log"), "w+")
    dumpcap = subprocess.Popen(["dpdk-dumpcap", "--file-prefix=" + t.prefix, "-i", "0",
                                "-w", cap, "-c", "40"], stdout=err, stderr=subprocess.STDOUT)
    h.wait_until(lambda: os.path.exists(cap) or dumpcap.poll() is not None, 20,
                 "dpdk-dumpcap to attach")
    time.sleep(0.5)  # the primary enables its RX/TX callbacks on dumpcap's request
    curls = 0
    end = time.monotonic() + 20
    while dumpcap.poll() is None and time.monotonic() < end:
        r = h.sh("curl", "-sS", "-m", "5", "http://172.16.48.2/")
        curls += r.returncode == 0
    if dumpcap.poll() is None:
        dumpcap.kill()
    dumpcap.wait()
    err.seek(0)
    out = err.read()
    print("---- dpdk-dumpcap ----\n" + out + "----------------------", flush=True)
    h.check(dumpcap.returncode == 0 and curls > 0,
            "dpdk-dumpcap captured 40 frames and exited 0 (rc %d, %d curls)"
            % (dumpcap.returncode, curls))
    to80 = h.count_matching(cap, "tcp.dstport == 80")
    from80 = h.count_matching(cap, "tcp.srcport == 80")
    syns = h.count_matching(cap, "tcp.flags.syn == 1 && tcp.flags.ack == 0 && tcp.dstport == 80")
    h.check(to80 > 0 and from80 > 0 and syns > 0,
            "the capture holds TCP segments to port 80 (%d, %d SYNs) and from it (%d)"
            % (to80, syns, from80))
    h.check(h.count_matching(cap, 'http.response.code == 200') > 0,
            "the capture holds tcpfp's HTTP responses (TX side)")
    t.stop()


if __name__ == "__main__":
    main()
