#!/usr/bin/env python3
"""tcpfp on net_af_xdp over a veth pair against Linux, each part in a private
namespace of its own with the veth made inside it (Linux's end tcpfp0 at
172.16.48.1/24, tcpfp's AF_XDP socket on xdp0, config/af_xdp.ini):

  seed      the seed experiment, with every check of seed_test.py;
  services  services_test.py's checks (HTTP on 80, echo 7, discard 9, an
            app) plus chargen on 19, and what tcpfp reports of the port:
            the XDP program's mode, one AF_XDP socket, software checksums;
  checksum  Linux's end left with TX checksum offload on: tcpfp warns at
            start, drops Linux's TCP segments as tcp_bad_checksum (veth hands
            them over with only the pseudo-header summed), and serves once
            `ethtool -K tcpfp0 tx off`;
  mtu       MTU 3438 on both ends (the most an mbuf-sized UMEM chunk
            holds): a 300 KiB echo in full-sized frames, nothing missed.

Where XDP cannot attach (no AF_XDP sockets, the PMD's socket or program
refused), the test prints the kernel's reason and skips, except under
CI=true, where it fails, unless README.md documents that this kernel
(`uname -r`) cannot do XDP on veth (a line "- kernel `RELEASE` cannot do
XDP on veth: REASON"): then it skips with that line printed.

    af_xdp_test.py TCPFP_EXE SOURCE_ROOT [seed|services|checksum|mtu]
"""
import os
import re
import socket
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
import harness as h  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import seed_test  # noqa: E402
import services_test  # noqa: E402

PARTS = ("seed", "services", "checksum", "mtu")
# The PMD's and tcpfp's words when the AF_XDP socket or XDP program is
# refused; any other exit at start is a plain failure.
XDP_FAILURE = re.compile(r"xsk|XDP|xdp|bpf|rte_eth_rx_queue_setup|net_af_xdp", re.I)


def documented_no_xdp(root):
    """README.md's entry for this kernel, if any: a line
    "- kernel `RELEASE` cannot do XDP on veth: REASON" (section "net_af_xdp")."""
    prefix = "- kernel `%s` cannot do XDP on veth" % os.uname().release
    for line in open(os.path.join(root, "README.md")):
        if line.startswith(prefix):
            return line.strip()
    return None


def no_xdp(root, reason):
    """XDP cannot attach here: skip or fail per the CI policy above."""
    print("XDP cannot attach on this kernel (%s): %s" % (os.uname().release, reason), flush=True)
    line = documented_no_xdp(root)
    if line:
        print("SKIP: README.md documents it: " + line, flush=True)
        sys.exit(77)
    if os.environ.get("CI") == "true":
        h.fail("XDP cannot attach (%s) and README.md does not document that kernel %s cannot do "
               "XDP on veth" % (reason, os.uname().release))
    sys.exit(77)


def probe_af_xdp_socket(root):
    """The kernel's own answer first: can this process open an AF_XDP socket?"""
    try:
        socket.socket(socket.AF_XDP if hasattr(socket, "AF_XDP") else 44, socket.SOCK_RAW, 0).close()
    except OSError as e:
        no_xdp(root, "socket(AF_XDP): %s" % (os.strerror(e.errno) if e.errno else e))


def on_start_exit(root):
    def handler(log):
        lines = [l for l in log.splitlines() if XDP_FAILURE.search(l)]
        if lines:
            # The kernel's words first ("Kernel error message: ..."), then the PMD's.
            errors = [l for l in lines if re.search(r"error|fail|cannot|refus|denied|not supported|invalid", l, re.I)]
            no_xdp(root, " | ".join((errors or lines)[-6:]))
    return handler


def port_report(log):
    """tcpfp's one line on what the kernel attached (dpdk_app/af_xdp.cpp)."""
    m = re.search(r"port 0: (iface xdp0 .*)", log)
    h.check(m is not None, "tcpfp logs the kernel's side of the port (%s)" % (m.group(1) if m else None))
    return m.group(1)


def check_report(log):
    r = port_report(log)
    h.check("(veth), up" in r, "xdp0 is a veth, up with carrier")
    mode = re.search(r"XDP program (\d+) in (native \(driver\)|generic \(skb\)) mode", r)
    h.check(mode is not None and int(mode.group(1)) > 0, "an XDP program is attached, native or generic")
    print("XDP mode here: " + mode.group(2), flush=True)
    h.check("1 AF_XDP socket(s)" in r, "tcpfp holds one AF_XDP socket (one queue)")
    h.check("no busy polling" in r, "busy_budget=0 is honoured: no busy polling")
    h.check("veth peer tcpfp0 TX checksum off" in r, "Linux's end computes its own checksums")
    h.check("(net_af_xdp) up" in log and "checksums RX software/TX software" in log,
            "net_af_xdp: software checksums both ways (the PMD offers no offload)")


def chargen(t):
    got = b""
    try:
        with socket.create_connection(("172.16.48.2", 19), timeout=5) as s:
            while len(got) < 200000:
                chunk = s.recv(65536)
                if not chunk:
                    break
                got += chunk
    except OSError as e:  # h.fail also stops tcpfp
        h.fail("chargen: %s after %d bytes" % (e, len(got)))
    lines = got[:74 * 50].split(b"\r\n")
    h.check(len(got) >= 200000, "chargen sends at least 200 kB (%d)" % len(got))
    h.check(all(len(l) == 72 for l in lines[:49]) and lines[0] != lines[1],
            "chargen's lines are RFC 864's 72 rotating characters")


def part_seed(exe, root):
    log = seed_test.run(exe, root, port="af_xdp", config="af_xdp.ini", on_start_exit=on_start_exit(root))
    check_report(log)


def part_services(exe, root):
    log = services_test.run(exe, root, port="af_xdp", config="af_xdp.ini", more=chargen)
    check_report(log)
    h.check("tcp_bad_checksum" not in log, "no TCP segment dropped for its checksum")


def part_checksum(exe, root):
    t = h.Tcpfp(exe, "", port="af_xdp", prompt=True)
    t.config = h.write_config(os.path.join(root, "config", "af_xdp.ini"),
                              {("services", "seed_client"): "off"},
                              os.path.join(t.dir, "checksum.ini"))
    t.peer_tx_checksum = True
    t.on_start_exit = on_start_exit(root)
    t.start()
    h.check("Linux's end tcpfp0 has TX checksum offload on" in t.log() and "ethtool -K tcpfp0 tx off" in t.log(),
            "tcpfp warns that Linux's end leaves TCP checksums to the device, and says the fix")
    info = t.command("show port info 0")
    print(info)
    h.check("Driver: net_af_xdp" in info and "AF_XDP: iface xdp0 (veth)" in info and
            "TX checksum offload ON" in info and "Checksum offload: rx off, tx off" in info,
            "show port info: the driver, the kernel's side and the checksum settings")
    t.peer_up()
    r = h.sh("curl", "-sS", "-m", "3", "http://172.16.48.13/")
    h.check(r.returncode != 0, "with offload on, Linux's TCP segments do not get through (%r)" % r.stderr.strip())
    stats = t.command("show tcp stats")
    m = re.search(r"tcp_bad_checksum\s+(\d+)", stats)
    h.check(m is not None and int(m.group(1)) >= 1,
            "they are counted as tcp_bad_checksum (%s)" % (m.group(1) if m else "absent"))
    h.sh("ethtool", "-K", h.IFACE, "tx", "off", check=True)
    r = h.sh("curl", "-sS", "-m", "5", "http://172.16.48.13/")
    h.check(r.returncode == 0 and r.stdout == "hello from tcpfp\n",
            "after ethtool -K tcpfp0 tx off the same curl succeeds (%r %r)" % (r.stdout, r.stderr))
    t.stop()


def part_mtu(exe, root):
    """The largest MTU an mbuf-sized UMEM chunk holds: frames of 3452 bytes
    each way, which need the XDP headroom port.cpp adds to the data room."""
    t = h.Tcpfp(exe, "", port="af_xdp")
    t.config = h.write_config(os.path.join(root, "config", "af_xdp.ini"),
                              {("services", "seed_client"): "off", ("port0", "mtu"): "3438"},
                              os.path.join(t.dir, "mtu.ini"))
    t.make_veth()
    h.sh("ip", "link", "set", h.IFACE, "mtu", "3438", check=True)
    t.on_start_exit = on_start_exit(root)
    t.start()
    t.peer_up()
    payload = os.urandom(300 * 1024)
    try:
        with socket.create_connection(("172.16.48.2", 7), timeout=5) as s:
            mss = s.getsockopt(socket.IPPROTO_TCP, socket.TCP_MAXSEG)
            got = h.send_then_read_to_eof(s, payload)
    except OSError as e:  # h.fail also stops tcpfp
        h.fail("echo at MTU 3438: %s (full-sized frames lost?)\n%s" % (e, t.log()[-2000:]))
    h.check(mss > 3300, "MTU 3438: Linux's MSS toward tcpfp is %d" % mss)
    h.check(got == payload, "echo returns 300 KiB in full-sized frames unchanged")
    log = t.stop()
    h.check(re.search(r"rx missed 0,", log) is not None, "the kernel dropped no frame for want of room (rx missed 0)")


def main():
    exe, root = sys.argv[1], sys.argv[2]
    if len(sys.argv) > 3:
        h.enter_namespace()  # one namespace, and one veth, per part
        probe_af_xdp_socket(root)
        {"seed": part_seed, "services": part_services, "checksum": part_checksum, "mtu": part_mtu}[sys.argv[3]](exe, root)
        return
    for part in PARTS:
        print("==== part %s" % part, flush=True)
        rc = subprocess.run([sys.executable, os.path.abspath(__file__), exe, root, part]).returncode
        if rc != 0:
            print("==== part %s: exit %d" % (part, rc), flush=True)
            sys.exit(rc)  # 77 (skip) only from the policy above, and then from the first part
    print("==== every part passed", flush=True)


if __name__ == "__main__":
    main()
