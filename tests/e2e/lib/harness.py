"""Shared pieces of the end-to-end tests: a private network namespace, tcpfp
on net_tap inside it (or on net_af_xdp over a veth pair, af_xdp_test.py),
the Linux peer at 172.16.48.1/24 on the tap, and captures. Traffic never leaves the namespace the test creates.

Exit codes follow Meson: 0 pass, 1 fail, 77 skip. Without root, unshare or
/dev/net/tun a test skips, except under CI=true, where it fails.
"""
import ctypes
import os
import re
import select
import signal
import socket
import subprocess
import sys
import tempfile
import time

PEER = "172.16.48.1"
KERNEL_MAC = "02:00:00:00:00:01"  # the tap's kernel side must not share tcpfp's MAC
IFACE = "tcpfp0"


# tcpfp processes started by this test (own sessions): a failing test kills
# them, so nothing outlives it holding a tap, memory or a DPDK prefix.
_started = []


def fail(msg):
    print("FAIL: " + msg, flush=True)
    for p in _started:
        if p.poll() is None:
            p.kill()
            p.wait()
    sys.exit(1)


def check(cond, msg):
    if not cond:
        fail(msg)
    print("ok: " + msg, flush=True)


def _environment_problem():
    if os.geteuid() != 0:
        return "not root"
    if not os.path.exists("/dev/net/tun"):
        return "/dev/net/tun missing"
    if subprocess.run(["unshare", "-n", "true"], capture_output=True).returncode != 0:
        return "unshare -n not permitted"
    return None


def _descendants(root):
    """Every process below `root`, from /proc (children before grandchildren)."""
    children = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % entry) as f:
                stat = f.read()
        except OSError:
            continue
        # "pid (comm) state ppid ...": comm may hold spaces and parentheses.
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry))
    out, todo = [], [root]
    while todo:
        for c in children.get(todo.pop(), []):
            out.append(c)
            todo.append(c)
    return out


def _on_sigterm(signum, frame):
    """Meson ends a test that times out with SIGTERM, and SIGKILL 0.5 s
    later. The processes the test started (tcpfp in a session of its own,
    peers, captures) would outlive it and busy-poll through the rest of the
    suite, so they are killed first."""
    victims = _descendants(os.getpid())
    for pid in victims:
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
    print("FAIL: terminated by signal %d (a timeout?); killed %d processes it had started"
          % (signum, len(victims)), flush=True)
    os._exit(1)


def die_with_parent():
    """preexec_fn for a child that must not outlive the test process even
    when that is killed with SIGKILL: PR_SET_PDEATHSIG."""
    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL, 0, 0, 0)


def own_descendants():
    """Orphans of the test's children re-parent to the test process
    (PR_SET_CHILD_SUBREAPER), so _on_sigterm finds them too."""
    ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0)
    signal.signal(signal.SIGTERM, _on_sigterm)


def enter_namespace():
    """Re-runs this script inside a fresh network namespace (once)."""
    if os.environ.get("TCPFP_E2E_NETNS") == "1":
        own_descendants()
        subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
        return
    problem = _environment_problem()
    if problem:
        print("cannot set up a private namespace with a tap: " + problem, flush=True)
        sys.exit(1 if os.environ.get("CI") == "true" else 77)
    env = dict(os.environ, TCPFP_E2E_NETNS="1")
    os.execvpe("unshare", ["unshare", "-n", sys.executable] + sys.argv, env)


def wait_until(pred, timeout, what):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return
        time.sleep(0.05)
    fail("timed out waiting for " + what)


def sh(*args, **kw):
    return subprocess.run(list(args), capture_output=True, text=True, **kw)


# A whole log line another thread printed: "tcpfp.app: ...", "EAL: ...".
_LOG_LINE = r"(?:(?:tcpfp\.\w+|[A-Z][A-Z_]*): [^\n]*\n)*"
# DPDK's cmdline writes the prompt one character at a time (rdline), so a
# worker's log line can land inside it: "tcp" "tcpfp.app: worker 0 ...\n"
# "fp> " (an overload test once waited 60 s for a prompt printed so).
_PROMPT = re.compile(_LOG_LINE.join(re.escape(c) for c in "tcpfp> "))


def find_prompt(text, start=0):
    """Where the prompt `tcpfp> ` begins at or after `start` (log lines
    printed inside it allowed), or -1."""
    m = _PROMPT.search(text, start)
    return m.start() if m else -1


def write_config(src, overrides, path):
    """Copies an INI file, replacing `key = value` lines: {(section, key): value}.
    Every key must be in the file: an override that replaced nothing would
    leave the test running on the file's value (or the default) unawares."""
    section = None
    out = []
    replaced = set()
    for line in open(src):
        m = re.match(r"\s*\[(\w+)\]", line)
        if m:
            section = m.group(1)
        m = re.match(r"\s*(\w+)\s*=", line)
        if m and (section, m.group(1)) in overrides:
            line = "%s = %s\n" % (m.group(1), overrides[(section, m.group(1))])
            replaced.add((section, m.group(1)))
        out.append(line)
    missing = sorted(set(overrides) - replaced)
    if missing:
        raise ValueError("write_config: %s has no %s" % (src, ", ".join("[%s] %s" % k for k in missing)))
    open(path, "w").write("".join(out))
    return path


XDP_IFACE = "xdp0"  # tcpfp's end of the veth when port="af_xdp"; Linux keeps IFACE


class Tcpfp:
    """tcpfp on net_tap (port="tap") or on net_af_xdp over a veth pair
    (port="af_xdp": Linux's end IFACE, tcpfp's end XDP_IFACE) in the
    current (private) namespace."""

    def __init__(self, exe, config, lcores="0-1", workers=1, huge_dir=None, prompt=False, port="tap"):
        self.exe = exe
        self.port = port
        # af_xdp: leave Linux's TX checksum offload on (tcpfp then drops its
        # TCP segments as bad checksums and warns); normally turned off.
        self.peer_tx_checksum = False
        # Called with the log when tcpfp exits at start, instead of failing
        # (af_xdp_test tells "XDP cannot attach here" from a failure).
        self.on_start_exit = None
        # prompt: the tcpfp> prompt reads commands from a pipe (command());
        # stop() then types quit instead of sending SIGINT.
        self.prompt = prompt
        self.config = config
        self.lcores = lcores
        self.workers = workers
        # --file-prefix: telemetry's socket and secondary processes find us by it.
        self.prefix = "e2e-%d" % os.getpid()
        # None: --no-huge -m 1024; else a hugetlbfs mount (secondary processes
        # such as dpdk-dumpcap can attach only to a primary on hugepages).
        self.huge_dir = huge_dir
        # With [impair] on, the idle baseline is taken while the gratuitous
        # ARPs still sit in the TX delay line, so it may be above 0.
        self.impaired = False
        self.dir = tempfile.mkdtemp(prefix="tcpfp-e2e-")
        self.log_path = os.path.join(self.dir, "tcpfp.log")
        self.proc = None
        self.extra_args = []  # after the config: e.g. --cmdline-file FILE

    def make_veth(self):
        """af_xdp: the veth pair, both ends up (a veth has carrier only then);
        Linux's end gets its address in peer_up(), as with the tap."""
        sh("ip", "link", "add", IFACE, "type", "veth", "peer", "name", XDP_IFACE, check=True)
        if not self.peer_tx_checksum:
            # Otherwise Linux leaves TCP checksums to the "device" and veth
            # hands the segments to AF_XDP with only the pseudo-header summed.
            sh("ethtool", "-K", IFACE, "tx", "off", check=True)
        sh("ip", "link", "set", XDP_IFACE, "up", check=True)
        sh("ip", "link", "set", IFACE, "up", check=True)

    def vdev(self):
        if self.port == "af_xdp":  # busy_budget=0: dpdk_app/README.md, "af_xdp notes"
            return "net_af_xdp0,iface=%s,start_queue=0,queue_count=%d,busy_budget=0" % (XDP_IFACE, self.workers)
        return "net_tap0,iface=" + IFACE

    def start(self):
        if self.port == "af_xdp" and sh("ip", "link", "show", XDP_IFACE).returncode != 0:
            self.make_veth()
        log = open(self.log_path, "w")
        self.proc = subprocess.Popen(
            [self.exe, "--lcores" if "@" in self.lcores else "-l", self.lcores] +
            (["--no-huge", "-m", "1024"] if self.huge_dir is None else ["--huge-dir=" + self.huge_dir]) +
            ["--no-pci", "--vdev=" + self.vdev(), "--file-prefix=" + self.prefix,
             "--", "--config", self.config] + (["-i"] if self.prompt else []) + self.extra_args,
            stdin=subprocess.PIPE if self.prompt else None,
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True, preexec_fn=die_with_parent)
        _started.append(self.proc)
        wait_until(lambda: len(re.findall(r"worker \d+ on lcore \d+ running", self.log())) >=
                   self.workers or self.proc.poll() is not None, 20, "tcpfp's workers to start")
        if self.proc.poll() is not None:
            print(self.log())
            if self.on_start_exit:
                self.on_start_exit(self.log())
            fail("tcpfp exited at start")
        if self.port == "tap":  # a veth's ends have MACs of their own
            sh("ip", "link", "set", IFACE, "address", KERNEL_MAC, check=True)

    def run_script(self, lines, timeout):
        """Runs `lines` as a command script (--cmdline-file, no -i): starts
        tcpfp, brings the peer up and waits for tcpfp to exit, which it does
        with 0 only if every command and expect held. Returns (rc, log)."""
        path = os.path.join(self.dir, "script.cmd")
        open(path, "w").write("\n".join(lines) + "\n")
        self.extra_args = ["--cmdline-file", path]
        self.start()
        self.peer_up()
        wait_until(lambda: self.proc.poll() is not None, timeout, "the script to end")
        log = self.log()
        print("---- tcpfp log ----\n" + log + "-------------------", flush=True)
        return self.proc.returncode, log

    def peer_up(self):
        sh("ip", "addr", "add", PEER + "/24", "dev", IFACE, check=True)
        sh("ip", "link", "set", IFACE, "up", check=True)

    def log(self):
        with open(self.log_path) as f:
            return f.read()

    def wait_log(self, text, timeout):
        wait_until(lambda: text in self.log(), timeout, repr(text) + " in tcpfp's log")

    def command(self, line, timeout=20):
        """Types one line at the prompt; returns the log text it printed
        (up to the next prompt)."""
        start = len(self.log())
        self.proc.stdin.write((line + "\n").encode())
        self.proc.stdin.flush()
        wait_until(lambda: find_prompt(self.log(), start + len(line)) >= 0, timeout,
                   "the prompt to answer " + repr(line))
        out = self.log()[start:]
        return out[: find_prompt(out, len(line))]

    def stop(self):
        """SIGINT (or quit at the prompt), then the final statistics; checks
        the exit status and mbufs."""
        if self.prompt:
            self.proc.stdin.write(b"quit\n")
            self.proc.stdin.close()
        else:
            self.proc.send_signal(signal.SIGINT)
        try:
            rc = self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            fail("tcpfp did not stop within 15 s of SIGINT")
        log = self.log()
        print("---- tcpfp log ----\n" + log + "-------------------", flush=True)
        check(rc == 0, "tcpfp exited 0 after SIGINT (got %d)" % rc)
        # The ledger's final line per worker: what it holds after traffic and
        # the close, against what it held when idle at start (both 0).
        held = re.findall(r"mbufs held (-?\d+) \(idle baseline (-?\d+)\)", log)
        check(len(held) == self.workers and
              all(h[0] == "0" and (h[1] == "0" or self.impaired) for h in held),
              "every mbuf freed or sent: 'mbufs held 0 (idle baseline 0)' on each worker (%s)"
              % held)
        return log


class Capture:
    def __init__(self, path, bpf):
        self.path = path
        self.err = path + ".log"
        self.proc = subprocess.Popen(["tshark", "-i", IFACE, "-w", path, "-f", bpf],
                                     stdout=subprocess.DEVNULL, stderr=open(self.err, "w"))
        wait_until(lambda: "Capturing on" in open(self.err).read(), 20, "tshark to capture")
        # "Capturing on" can come before the capture is live: on a busy
        # machine the seed test once lost its first five segments. dumpcap
        # writes the file's header only after the interface is open and
        # filtered, so a non-empty file means packets from now on are seen.
        wait_until(lambda: os.path.exists(path) and os.path.getsize(path) > 0, 20, "tshark's capture file")

    def stop(self):
        time.sleep(0.3)  # let the last frames reach the ring
        self.proc.send_signal(signal.SIGINT)
        self.proc.wait(timeout=10)


def exchange(sock, data, until_eof):
    """Sends `data` while reading what the peer sends back, and returns what
    was read: everything up to the peer's FIN (`until_eof`: our FIN goes
    once all is sent), or else as many bytes as were sent (the socket stays
    open). Reading as it sends is what an echo of any size needs: sending
    all first deadlocks once the four buffers on the way (ours and the
    peer's, each way) are full, and how much they hold depends on how far
    Linux's send buffer has grown with its cwnd. The socket's timeout
    bounds each wait for progress (TimeoutError)."""
    timeout = sock.gettimeout()
    sock.setblocking(False)
    view = memoryview(data)
    sent, got, eof = 0, bytearray(), False
    if until_eof and not data:
        sock.shutdown(socket.SHUT_WR)
    try:
        while not eof and (until_eof or len(got) < len(data)):
            writers = [sock] if sent < len(data) else []
            readable, writable, _ = select.select([sock], writers, [], timeout)
            if not readable and not writable:
                raise TimeoutError("no progress for %s s: %d of %d bytes sent, %d read"
                                   % (timeout, sent, len(data), len(got)))
            if writable:
                sent += sock.send(view[sent:sent + 65536])
                if until_eof and sent == len(data):
                    sock.shutdown(socket.SHUT_WR)
            if readable:
                chunk = sock.recv(65536)
                eof = not chunk
                got += chunk
    finally:
        sock.settimeout(timeout)
    return bytes(got)


def send_then_read_to_eof(sock, data):
    """Sends `data`, shuts the write side (our FIN) once all is sent, and
    returns everything the peer sends until its own FIN: an echo-style
    exchange, read while it is sent (exchange())."""
    return exchange(sock, data, until_eof=True)


def count_matching(pcap, display_filter):
    out = sh("tshark", "-r", pcap, "-o", "tcp.check_checksum:TRUE", "-o",
             "ip.check_checksum:TRUE", "-Y", display_filter, "-T", "fields", "-e", "frame.number")
    if out.returncode != 0:
        fail("tshark -Y %r: %s" % (display_filter, out.stderr))
    return len([l for l in out.stdout.splitlines() if l.strip()])


def telemetry(prefix, command):
    """Sends one command to a DPDK process's telemetry socket with DPDK's own
    client, dpdk-telemetry.py -f PREFIX (Debian package dpdk), and returns the
    reply's value (dict, list or None for an error reply)."""
    import json
    r = sh("dpdk-telemetry.py", "-f", prefix, input=command + "\n", timeout=20)
    lines = [l for l in r.stdout.splitlines() if l.startswith("{")]
    # Without a terminal it prints only the replies, one JSON line each.
    if r.returncode != 0 or not lines:
        fail("dpdk-telemetry.py -f %s %s: rc %d, %r %r" % (prefix, command, r.returncode,
                                                            r.stdout, r.stderr))
    reply = json.loads(lines[-1])
    if command.split(",")[0] not in reply:
        fail("telemetry reply without %s: %r" % (command, reply))
    return reply[command.split(",")[0]]
