#!/usr/bin/env python3
"""Bad configuration files and bad arguments: a clear one-line error naming
FILE, [section] and key, and a non-zero exit, before EAL touches anything
(so this test needs neither root nor a namespace).

    bad_config_test.py TCPFP_EXE SOURCE_ROOT
"""
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
import harness as h  # noqa: E402

CASES = [
    # (overrides or raw text, expected fragment of the error)
    ({("port0", "addresses"): "172.16.48.300/24"}, "[port0] addresses: bad IPv4 address"),
    ({("port0", "addresses"): "172.16.48.2/40"}, "[port0] addresses: bad prefix length"),
    ({("port0", "mtu"): "jumbo"}, "[port0] mtu: not a number"),
    ({("port0", "mtu"): "100"}, "[port0] mtu: out of range"),
    ({("engine", "max_connections"): "-5"}, "[engine] max_connections: not a number"),
    ({("services", "echo"): "maybe"}, "[services] echo: not a boolean"),
    ("[port0]\naddresses = 10.0.0.1/24\n[engine]\ntransparent_hugepages = madvise\n",
     "[engine] transparent_hugepages: not a boolean"),
    ("[port0]\naddresses = 10.0.0.1/24\n[engine]\nbuffer_count = 4096\n",
     "[engine] buffer_count: replaced by chunk_count and chunk_size"),
    ({("engine", "chunk_size"): "128"}, "[engine] chunk_size: out of range"),
    ({("engine", "chunk_size"): "3000"}, "[engine] chunk_size: not a power of two"),
    ("[port0]\naddresses = 10.0.0.1/24\nmtu = 9000\n[engine]\nchunk_size = 1024\n",
     "[engine] chunk_size: at least (mtu - 40) / 7 = 1280 for [port0] mtu 9000"),
    ({("services", "seed_target"): "172.16.48.1"}, "[services] seed_target: expected ADDRESS:PORT"),
    ({("services", "seed_source"): "172.16.48.77"}, "[services] seed_source: 172.16.48.77 is not one"),
    ("[port0]\naddresses = 10.0.0.1/24\ncolour = blue\n", "[port0] colour: unknown key"),
    ("[port0]\naddresses = 10.0.0.1/24\n[bogus]\nx = 1\n", "[bogus]: unknown section"),
    ("[port0]\naddresses = 10.0.0.1/24\n[port1]\n", "[port1]: only [port0] is supported"),
    ("[engine]\nmax_connections = 100\n", "[port0]: missing section"),
    ("[port0]\naddresses = 10.0.0.1/24\n[engine]\nmtu_probing = always\n",
     "[engine] mtu_probing: expected off, blackhole or on, got 'always'"),
    ("[port0]\naddresses = 10.0.0.1/24\n[apps]\nrun = nope\n", "[apps] run: unknown app 'nope' (known: upper"),
    ("[port0]\naddresses = 10.0.0.1/24\n[apps]\nrun = upper:http\n",
     "[apps] run: upper: expected a TCP port (1..65535), got 'http' (args: PORT)"),
    ("[services]\nseed_client = off\n[port0]\ngateway = 10.0.0.1\n", "[port0] addresses: missing"),
    ("[services]\nseed_client = off\nhold_port = 7\n[port0]\naddresses = 10.0.0.1/24\n",
     "[services] hold_port: port 7 is taken by echo"),
    ("[services]\nseed_client = off\nrr_port = 9\n[port0]\naddresses = 10.0.0.1/24\n",
     "[services] rr_port: port 9 is taken by discard"),
    (("proxy.ini", {("proxy", "listen"): "172.16.48.2"}), "[proxy] listen: expected ADDRESS:PORT"),
    (("proxy.ini", {("proxy", "listen"): "172.16.48.77:8080"}), "[proxy] listen: 172.16.48.77 is not one"),
    (("proxy.ini", {("proxy", "listen"): "172.16.48.2:80"}), "[proxy] listen: port 80 is taken"),
    (("proxy.ini", {("proxy", "backend"): "172.16.48.1:9000, 172.16.48.1:0"}), "[proxy] backend: out of range"),
    (("proxy.ini", {("proxy", "backend"): "0.0.0.0:9000"}), "[proxy] backend: not a usable address"),
    (("proxy.ini", {("proxy", "connect_timeout_ms"): "5"}), "[proxy] connect_timeout_ms: out of range"),
    ("[services]\nseed_client = off\n[port0]\naddresses = 10.0.0.1/24\n[proxy]\nbackend = 10.0.0.2:1\n", "[proxy] listen: missing"),
    ("[services]\nseed_client = off\n[port0]\naddresses = 10.0.0.1/24\n[proxy]\nlisten = 10.0.0.1:1\n", "[proxy] backend: missing"),
]


def run(exe, *args):
    return subprocess.run([exe, *args], capture_output=True, text=True, timeout=10)


def main():
    exe, root = sys.argv[1], sys.argv[2]
    tap = os.path.join(root, "config", "tap.ini")
    d = tempfile.mkdtemp(prefix="tcpfp-badcfg-")
    for i, (case, expected) in enumerate(CASES):
        path = os.path.join(d, "bad%d.ini" % i)
        if isinstance(case, tuple):  # (a file in config/, overrides)
            h.write_config(os.path.join(root, "config", case[0]), case[1], path)
        elif isinstance(case, dict):
            h.write_config(tap, case, path)
        else:
            open(path, "w").write(case)
        r = run(exe, "--", "--config", path)
        line = r.stderr.strip()
        h.check(r.returncode != 0 and line.startswith(path + ": ") and expected in line
                and "EAL" not in r.stdout + r.stderr,
                "%s -> exit %d, %r" % (expected, r.returncode, line))
    r = run(exe, "--", "--config", os.path.join(d, "missing.ini"))
    h.check(r.returncode != 0 and "cannot read" in r.stderr, "missing file: %r" % r.stderr.strip())
    for args, expected in ((["--", "--bogus"], "unknown option '--bogus'"),
                           (["--", "--config"], "--config needs a value"),
                           (["--", "--cmdline-file"], "--cmdline-file needs a value"),
                           (["--", "--cmdline-file", "x"], "--cmdline-file x: cannot read")):
        r = run(exe, *args)
        h.check(r.returncode != 0 and expected in r.stderr, "%s -> %r" % (" ".join(args), r.stderr.strip()))
    r = run(exe, "--help")
    h.check(r.returncode == 0 and "--config FILE" in r.stdout, "--help prints usage and exits 0")
    # Every shipped file, so that one added later cannot fall behind a key
    # change (af_xdp.ini kept buffer_count when the chunk pool replaced it).
    shipped = sorted(n for n in os.listdir(os.path.join(root, "config")) if n.endswith(".ini"))
    h.check(len(shipped) >= 8, "config/ holds the shipped files (%s)" % shipped)
    for name in shipped:
        r = run(exe, "--", "--config", os.path.join(root, "config", name), "--check-config")
        h.check(r.returncode == 0 and r.stdout.strip().endswith(": ok"),
                "config/%s validates (%r)" % (name, r.stdout.strip() + r.stderr.strip()))


if __name__ == "__main__":
    main()
