"""Hand-built frames, an AF_PACKET socket on the tap's kernel side, and the
parser for tcpfp's final statistics, shared by the robust suite.

Frames are only ever written into the tap inside the test's own network
namespace (harness.enter_namespace). Field layouts: Ethernet II (IEEE
802.3), IPv4 (RFC 791 §3.1), TCP (RFC 9293 §3.1), TCP options (RFC 9293
§3.2, RFC 7323 §3), Internet checksum (RFC 1071).
"""
import os
import re
import select
import shutil
import socket
import struct
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "e2e", "lib"))
import harness as h  # noqa: E402

ETH_P_ALL = 0x0003
ETH_P_IP = 0x0800
FIN, SYN, RST, PSH, ACK, URG = 0x01, 0x02, 0x04, 0x08, 0x10, 0x20
TCPFP_IP = "172.16.48.2"


def mac_bytes(mac):
    return bytes(int(x, 16) for x in mac.split(":"))


def csum(data):
    """RFC 1071 one's-complement sum, folded and complemented."""
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


def eth(dst, src, payload, ethertype=ETH_P_IP):
    return mac_bytes(dst) + mac_bytes(src) + struct.pack("!H", ethertype) + payload


def ipv4(src, dst, payload, proto=6, ttl=64, ident=1, frag=0x4000, ihl=5, total=None,
         options=b"", bad_checksum=False, version=4):
    """RFC 791 header; `total`/`ihl` may be set to lie about the lengths."""
    hl = 20 + len(options)
    tl = total if total is not None else hl + len(payload)
    hdr = struct.pack("!BBHHHBBH4s4s", (version << 4) | ihl, 0, tl, ident, frag, ttl, proto, 0,
                      socket.inet_aton(src), socket.inet_aton(dst)) + options
    c = csum(hdr)
    if bad_checksum:
        c ^= 0x5555
    return hdr[:10] + struct.pack("!H", c) + hdr[12:] + payload


def tcp(src, dst, sport, dport, seq, ack, flags, payload=b"", window=65535, options=b"",
        doff=None, bad_checksum=False):
    """RFC 9293 §3.1 header with the pseudo-header checksum (RFC 9293 §3.1)."""
    opts = options + b"\0" * ((4 - len(options) % 4) % 4)
    off = doff if doff is not None else (20 + len(opts)) // 4
    hdr = struct.pack("!HHIIBBHHH", sport, dport, seq & 0xFFFFFFFF, ack & 0xFFFFFFFF, off << 4,
                      flags, window, 0, 0) + opts
    seg = hdr + payload
    pseudo = socket.inet_aton(src) + socket.inet_aton(dst) + struct.pack("!BBH", 0, 6, len(seg))
    c = csum(pseudo + seg)
    if bad_checksum:
        c ^= 0x5555
    return seg[:16] + struct.pack("!H", c) + seg[18:]


def opt_mss(v):
    return struct.pack("!BBH", 2, 4, v)


def opt_ts(val, ecr):
    return struct.pack("!BBII", 8, 10, val & 0xFFFFFFFF, ecr & 0xFFFFFFFF)


def opt_nop():
    return b"\x01"


class Tap:
    """AF_PACKET socket on the tap's kernel side: what we write enters tcpfp."""

    def __init__(self, iface=h.IFACE):
        self.s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
        # SO_RCVBUFFORCE (root) passes rmem_max: bursts of thousands of frames
        # are read after the fact.
        self.s.setsockopt(socket.SOL_SOCKET, 33, 64 << 20)
        self.s.bind((iface, 0))
        self.iface = iface

    def send(self, frame):
        self.s.send(frame)

    def drain(self):
        while select.select([self.s], [], [], 0)[0]:
            self.s.recvfrom(65536)

    def frames(self, timeout, pred=lambda f: True):
        """Frames seen on the tap (both directions) for `timeout` seconds."""
        out = []
        end = time.monotonic() + timeout
        while True:
            left = end - time.monotonic()
            if left <= 0 or not select.select([self.s], [], [], left)[0]:
                return out
            data, addr = self.s.recvfrom(65536)
            if pred(data):
                out.append((addr[2], data))  # pkttype: 4 = outgoing (from Linux)

    def close(self):
        self.s.close()


def parse_tcp(frame):
    """(src, dst, sport, dport, seq, ack, flags, window, options, payload) of an
    IPv4/TCP Ethernet frame, or None."""
    if len(frame) < 34 or frame[12:14] != b"\x08\x00" or frame[23] != 6:
        return None
    ihl = (frame[14] & 0xF) * 4
    tl = struct.unpack("!H", frame[16:18])[0]
    t = frame[14 + ihl:14 + tl]
    if len(t) < 20:
        return None
    sport, dport, seq, ack, off, flags, win = struct.unpack("!HHIIBBH", t[:16])
    doff = (off >> 4) * 4
    return dict(src=socket.inet_ntoa(frame[26:30]), dst=socket.inet_ntoa(frame[30:34]),
                sport=sport, dport=dport, seq=seq, ack=ack, flags=flags, window=win,
                options=t[20:doff], payload=t[doff:])


def parse_options(opts):
    """{kind: value bytes} of a TCP option block (RFC 9293 §3.2)."""
    out, i = {}, 0
    while i < len(opts):
        k = opts[i]
        if k == 0:
            break
        if k == 1:
            i += 1
            continue
        if i + 1 >= len(opts) or opts[i + 1] < 2:
            break
        n = opts[i + 1]
        out[k] = opts[i + 2:i + n]
        i += n
    return out


def tcpfp_mac(addr=TCPFP_IP):
    """tcpfp's MAC as Linux's neighbour table learnt it (ping resolves it)."""
    h.sh("ping", "-c", "1", "-W", "2", addr)
    for _ in range(50):
        m = re.search(r"lladdr ([0-9a-f:]{17})", h.sh("ip", "neigh", "show", addr).stdout)
        if m:
            return m.group(1)
        time.sleep(0.1)
    h.fail("no neighbour entry for tcpfp at " + addr)


def disable_ipv6():
    """Linux's IPv6 router/neighbour solicitations would add eth_unknown_type
    drops that no test sent; new interfaces in this namespace get no IPv6."""
    for k in ("all", "default"):
        h.sh("sysctl", "-qw", "net.ipv6.conf.%s.disable_ipv6=1" % k)


def memif_pair_or_exit(tools=()):
    """The memif pair's needs (scripts/pair.sh): root, `unshare -n`, and the
    named programs. Without them: skip (77), or fail under CI=true."""
    problem = None
    if os.geteuid() != 0:
        problem = "not root"
    elif subprocess.run(["unshare", "-n", "true"], capture_output=True).returncode != 0:
        problem = "unshare -n not permitted"
    else:
        missing = [t for t in tools if shutil.which(t) is None]
        if missing:
            problem = "no %s" % ", ".join(missing)
    if problem:
        print("cannot run the memif pair: " + problem, flush=True)
        sys.exit(1 if os.environ.get("CI") == "true" else 77)


def final_stats(log):
    """Counters from tcpfp's final statistics, summed over workers:
    app.NAME (dpdk_app drops), eng.NAME (engine drops), mib.NAME, port.KEY,
    held / baseline (mbuf ledger), connections, time_wait, buffers, timers."""
    text = log[log.rfind("=== tcpfp final statistics ==="):]
    if not text:
        h.fail("no final statistics in tcpfp's output")
    c = {}

    def add(k, v):
        c[k] = c.get(k, 0) + int(v)
    section = "app"
    for line in text.splitlines():
        m = re.match(r"worker \d+: mbufs held (-?\d+) \(idle baseline (-?\d+)\)", line)
        if m:
            add("held", m.group(1))
            add("baseline", m.group(2))
            section = "app"
            continue
        m = re.match(r"engine \d+: (\d+) connection\(s\), (\d+) TIME_WAIT record\(s\)", line)
        if m:
            add("connections", m.group(1))
            add("time_wait", m.group(2))
            section = "eng"
            m2 = re.search(r"buffers in use (\d+)", line)
            if m2:
                add("buffers", m2.group(1))
            m2 = re.search(r"timers armed (\d+)", line)
            if m2:
                add("timers", m2.group(1))
            m2 = re.search(r"loss states (\d+)", line)
            if m2:
                add("loss_states", m2.group(1))
            continue
        m = re.match(r"\s+drop (\w+)\s+(\d+)", line)
        if m:
            add(section + "." + m.group(1), m.group(2))
            continue
        m = re.match(r"\s+mib\s+(\w+)\s+(\d+)", line)
        if m:
            add("mib." + m.group(1), m.group(2))
            continue
        m = re.match(r"worker \d+: rx (\d+) frames, tx (\d+) frames, tcp in (\d+) out (\d+)", line)
        if m:
            add("rx_frames", m.group(1))
            add("tx_frames", m.group(2))
            add("tcp_in", m.group(3))
            add("tcp_out", m.group(4))
            continue
        m = re.match(r"port \d+: rx (\d+) packets \d+ bytes, tx (\d+) packets .*rx missed (\d+), "
                     r"rx errors (\d+), tx errors (\d+), rx no mbuf (\d+)", line)
        if m:
            for k, v in zip(("rx", "tx", "rx_missed", "rx_errors", "tx_errors", "rx_no_mbuf"),
                            m.groups()):
                add("port." + k, v)
    return c


def drops(stats):
    return {k: v for k, v in stats.items() if k.startswith(("app.", "eng.")) and v}


class Tcpfp(h.Tcpfp):
    """harness.Tcpfp with extra application arguments (e.g. --cmdline-file):
    with a script and no -i, tcpfp exits by itself when the script ends."""

    def __init__(self, exe, config, app_args=(), lcores="0-1", workers=1):
        super().__init__(exe, config, lcores, workers)
        self.app_args = list(app_args)

    def start(self):
        import subprocess
        log = open(self.log_path, "w")
        self.proc = subprocess.Popen(
            [self.exe, "-l", self.lcores, "--no-huge", "-m", "1024", "--no-pci",
             "--vdev=net_tap0,iface=" + h.IFACE, "--file-prefix=robust-%d" % os.getpid(),
             "--", "--config", self.config] + self.app_args,
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        import atexit
        atexit.register(self._cleanup)
        h.wait_until(lambda: len(re.findall(r"worker \d+ on lcore \d+ running", self.log())) >=
                     self.workers or self.proc.poll() is not None, 20, "tcpfp's workers to start")
        if self.proc.poll() is not None:
            print(self.log())
            h.fail("tcpfp exited at start")
        h.sh("ip", "link", "set", h.IFACE, "address", h.KERNEL_MAC, check=True)

    def stop(self):
        """SIGINT, then the final statistics. As harness.Tcpfp.stop, but the
        idle baseline may be non-zero: with an [impair] delay the start-up
        gratuitous ARPs still sit in the TX delay line when it is taken."""
        import signal
        import subprocess
        self.proc.send_signal(signal.SIGINT)
        try:
            rc = self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            h.fail("tcpfp did not stop within 15 s of SIGINT")
        log = self.log()
        print("---- tcpfp log ----\n" + log + "-------------------", flush=True)
        h.check(rc == 0, "tcpfp exited 0 after SIGINT (got %d)" % rc)
        held = re.findall(r"mbufs held (-?\d+) \(idle baseline (-?\d+)\)", log)
        h.check(len(held) == self.workers and all(x == "0" for x, _ in held),
                "every mbuf freed or sent: 'mbufs held 0' on each worker (held, baseline: %s)" % held)
        return log

    def _cleanup(self):
        """A test that failed half way must not leave tcpfp polling a CPU."""
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
            print("---- tcpfp log (killed at exit) ----\n" + self.log()[-4000:], flush=True)

    def rss_kib(self):
        for line in open("/proc/%d/status" % self.proc.pid):
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        return 0

    def wait_exit(self, timeout):
        """For script mode: the exit status once the script has run."""
        import subprocess
        try:
            rc = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            print(self.log())
            h.fail("tcpfp did not finish its script within %d s" % timeout)
        log = self.log()
        brief = "\n".join(l if not l.startswith('{"lcores"') else l[:100] + "..." for l in log.splitlines())
        print("---- tcpfp log ----\n" + brief + "\n-------------------", flush=True)
        return rc, log


def stats_json_lines(log):
    """Every `show tcp stats json` total printed so far, in order."""
    import json
    out = []
    for line in log.splitlines():
        if line.startswith('{"lcores":'):
            out.append(json.loads(line)["total"])
    return out


def link_stats(iface=h.IFACE):
    """Kernel-side counters of the tap (tx = towards tcpfp)."""
    import json
    j = json.loads(h.sh("ip", "-j", "-s", "link", "show", iface).stdout)[0]["stats64"]
    return {"tx_packets": j["tx"]["packets"], "tx_dropped": j["tx"]["dropped"],
            "rx_packets": j["rx"]["packets"], "rx_dropped": j["rx"]["dropped"]}
