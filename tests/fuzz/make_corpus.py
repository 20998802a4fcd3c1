#!/usr/bin/env python3
"""Regenerates the seed corpus in tests/fuzz/corpus/ (deterministic).

wire/       the fixtures of tests/fixtures/*.hpp (Ethernet frames, their IPv4
            packets and TCP segments, the seed article's two segments), a few
            truncations, and option byte strings.
engine/     short action sequences (layout in fuzz_engine.cpp and README.md):
            each connection state, then injections, API calls and time steps.
two_engine/ impairment byte strings: clean, lossy, duplicating, reordering,
            corrupting, bursty, over each configuration.
Files named crash-* are regression inputs, and campaign-* inputs a long
campaign found that add coverage; neither is ever touched here.
"""
import os
import random
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, "..", "fixtures")
OUT = os.path.join(HERE, "corpus")


def clean(target):
    d = os.path.join(OUT, target)
    os.makedirs(d, exist_ok=True)
    for f in os.listdir(d):
        if not f.startswith(("crash-", "campaign-")):
            os.remove(os.path.join(d, f))
    return d


def write(d, name, data):
    with open(os.path.join(d, name), "wb") as f:
        f.write(bytes(data))


def fixtures():
    out = {}
    for fn in sorted(os.listdir(FIXTURES)):
        if not fn.endswith(".hpp"):
            continue
        text = open(os.path.join(FIXTURES, fn)).read()
        for m in re.finditer(r"std::vector<std::uint8_t>\s+(\w+)\s*=\s*\{(.*?)\};", text, re.S):
            out[fn[:-4] + "-" + m.group(1)] = [int(x, 16) for x in re.findall(r"0x[0-9a-fA-F]{2}", m.group(2))]
    return out


def checksum(data):
    if len(data) % 2:
        data = data + [0]
    s = sum((data[i] << 8) | data[i + 1] for i in range(0, len(data), 2))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff


def icmp_error(type_, code, mtu, quoted_ip):
    quote = list(quoted_ip[: (quoted_ip[0] & 15) * 4 + 8])
    msg = [type_, code, 0, 0, 0, 0, mtu >> 8, mtu & 0xff] + quote
    c = checksum(msg)
    msg[2], msg[3] = c >> 8, c & 0xff
    return msg


def wire():
    d = clean("wire")
    for name, data in fixtures().items():
        write(d, name, data)
        if name.startswith("linux_frames") and len(data) > 14:
            ip = data[14:]
            write(d, name + "-ipv4", ip)
            if ip[9] == 6:
                write(d, name + "-tcp", ip[(ip[0] & 15) * 4:])
            write(d, name + "-trunc", data[: len(data) // 2])
        if name.startswith("seed_segments"):
            write(d, name + "-options", data[20:])
    write(d, "opts-syn", [2, 4, 5, 0xb4, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0, 1, 3, 3, 7])
    write(d, "opts-sack4", [1, 1, 5, 34] + list(range(32)) + [1, 1])
    write(d, "opts-bad-len", [2, 1, 0, 0])
    write(d, "opts-overrun", [8, 12, 0, 0, 0, 0])
    write(d, "opts-unknown", [30, 6, 1, 2, 3, 4, 0, 0])
    # ICMP errors quoting one of our TCP segments (RFC 792, RFC 1191).
    for name, data in fixtures().items():
        if name.startswith("linux_frames") and len(data) > 14 + 28 and data[14 + 9] == 6:
            write(d, name + "-icmp-frag-needed", icmp_error(3, 4, 1280, data[14:]))
            write(d, name + "-icmp-time-exceeded", icmp_error(11, 0, 0, data[14:]))
            break
    write(d, "vlan-qinq", [0xff] * 6 + [2] * 6 + [0x88, 0xa8, 0, 5, 0x81, 0, 0, 7, 0x08, 0x06] + [0] * 28)


# --- engine ---
PAIR, LISTEN, CONNECT, ACCEPT, SEND, RECV, SHUTDOWN, CLOSE, ABORT, SETOPT, TICK, SLEEP, LINK, \
    RELEASE, INJECT, INJECT_TW, INJECT_RAW, RUNTIME = range(18)


def inject(conn, seqmode, ackmode, flags, window=0xff, opts=0, payload=0, corrupt=0):
    # seq mode 6 / ack mode 7 take no delta; the others take one byte (two for wide ones).
    b = [INJECT, conn, seqmode]
    if seqmode in (0, 2, 3):
        b.append(0)
    elif seqmode == 1:
        b += [0, 0]
    elif seqmode == 4:
        b += [1, 2, 3, 4]
    b.append(ackmode)
    if ackmode in (0, 1, 5):
        b.append(0)
    elif ackmode in (2, 3):
        b += [0, 0]
    elif ackmode == 4:
        b += [9, 9, 9, 9]
    b += flags if isinstance(flags, list) else [flags]  # >= 32: the flag table (mod 16); [n < 32, raw]
    b += window if isinstance(window, list) else [window]  # >= 32: the window table; [n < 32, hi, lo]
    b.append(opts)
    if opts & 8:
        b += [1, 0, 0, 1, 0]
    b.append(payload)
    b.append(corrupt)
    return b


def engine():
    d = clean("engine")
    rnd = random.Random(9)
    headers = [[0xff, 7, 7, 0], [0x00, 0, 0, 1], [0x2f, 14, 0, 2], [0x5f, 3, 9, 0]]
    names = ["listen", "syn_sent", "syn_received", "established", "fin_wait_1", "fin_wait_2",
             "closing", "last_ack", "time_wait", "orphan_fin_wait_2"]
    # flag table indices (fb % 16): 0 ACK, 1 PA, 2 FA, 3 R, 4 RA, 5 S, 6 SA, 7 UA, 9 F
    for kind, name in enumerate(names):
        for h, hdr in enumerate(headers[:2] if kind not in (3, 8) else headers):
            acts = [PAIR, kind, 0, 4]
            acts += inject(rnd.randrange(3), 0, 0, 32 + 1, payload=140)
            acts += [TICK, 80]
            acts += inject(rnd.randrange(3), 6, 7, 32 + rnd.choice([2, 3, 5, 6, 9]))
            acts += [SLEEP, 0, 3, SEND, 1, 4, 0, RECV, 2, 16, 0, SLEEP, 0, 90]
            write(d, f"state-{kind}-{name}-{h}", hdr + acts)
    # Per-state segment storms: every flag combination on each state.
    for kind in (3, 5, 7, 8):
        acts = [PAIR, kind, 1, 2]
        for f in range(16):
            acts += inject(f % 3, f % 7, f % 8, 32 + f, window=32 + f, opts=f)
        write(d, f"storm-{kind}", headers[0] + acts)
    write(d, "tw-reuse", headers[0] + [PAIR, 8, 0, 0, INJECT_TW, 0, 6, 7, 32 + 5, 0xff, 8, 1, 0, 0, 1, 0, 0, 0,
                                       CONNECT, 0, 0, TICK, 10])
    write(d, "api-mix", headers[2] + [LISTEN, 1, 2, 0, 0, CONNECT, 0, 2, 0, TICK, 5, ACCEPT, 0, SEND, 1, 0xff, 0xff,
                                      SETOPT, 2, 3, 64 + 7, SETOPT, 1, 1, 64 + 1, SHUTDOWN, 1, 1, RECV, 2, 1, 0,
                                      CLOSE, 2, SLEEP, 0, 200, ABORT, 1])
    write(d, "zero-window", headers[3] + [PAIR, 3, 0, 0, SEND, 1, 0xff, 0xff, SEND, 2, 0xff, 0xff, SLEEP, 0, 40,
                                          SETOPT, 1, 1, 64 + 1, SLEEP, 1, 0])
    write(d, "link-hold", headers[0] + [PAIR, 3, 0, 0, LINK, 0, 2, SEND, 1, 0x10, 0, TICK, 50, RELEASE, 0, 1,
                                        TICK, 50, LINK, 1, 1, SLEEP, 0, 10, LINK, 1, 0, SLEEP, 0, 100])
    write(d, "raw-offload", headers[0] + [PAIR, 3, 0, 0, INJECT_RAW, 1, 24, 0x45] + [0] * 23 + [1, 1])
    write(d, "runtime", headers[0] + [RUNTIME, 0, 0, 1, PAIR, 8, 0, 0, RUNTIME, 1, 5, 0, PAIR, 9, 1, 0, SLEEP, 0, 8])
    for i in range(6):
        write(d, f"random-{i}", headers[i % 4] + [rnd.randrange(256) for _ in range(rnd.randrange(40, 200))])
    # ICMP errors about live connections (the last operand 200-223), their
    # type and code from the raw flags (type: flags % 8 into 3,3,3,3,11,12,4,5;
    # code: flags >> 3 % 16; bit 7: from a router), the next-hop MTU from the
    # window, the quoted sequence number from the ACK field: fragmentation
    # needed with MTU 1000 (ack at SND.UNA), port unreachable (hard), host
    # unreachable (soft), time exceeded, source quench, and one quoting a
    # sequence number outside SND.UNA..SND.NXT (ack mode 4: 0x09090909).
    icmps = [([0, 0x20 | 0x80], [0, 0x03, 0xe8], 6), ([0, 0x18], 0xff, 6), ([0, 0x08], 0xff, 7),
             ([0, 0x04], 0xff, 6), ([0, 0x06], 0xff, 6), ([0, 0x08], 0xff, 4)]
    for kind in (1, 2, 3, 4):  # SYN_SENT, SYN_RECEIVED, ESTABLISHED, FIN_WAIT_1
        acts = [PAIR, kind, 0, 8, SEND, 1, 0x20, 0]
        for flags, window, ackmode in icmps:
            acts += inject(0, 6, ackmode, flags, window=window, corrupt=200) + [TICK, 20]
        write(d, f"icmp-{names[kind]}", headers[0] + acts + [SLEEP, 0, 5])
    # ECN codepoints on injected data (176-199: low two bits), CE among them.
    acts = [PAIR, 3, 0, 4]
    for cp in (176, 177, 178, 179, 179):
        acts += inject(1, 6, 7, 32 + 1, payload=140, corrupt=cp) + [TICK, 5]
    write(d, "ecn-marks", headers[0] + acts + [SLEEP, 0, 2])
    # RFC 4821 (MTU byte: 12 is 1500 with mtu_probing on, 6 with blackhole):
    # a bulk send probing up; a black hole (B's direction dropping while A
    # sends, three RTOs) healed later; a fragmentation-needed error mid-search.
    LINK_DROP, LINK_DELIVER = 1, 0
    bulk = [SEND, 1, 0xff, 0xff, TICK, 5, RECV, 2, 0xff, 0xff, TICK, 5] * 4
    write(d, "plpmtud-probe-up", [0x0f, 7, 7, 12] + [PAIR, 3, 0, 0] + bulk + [SLEEP, 0, 2])
    write(d, "plpmtud-black-hole", [0x0f, 7, 7, 6] + [PAIR, 3, 0, 0, LINK, 0, LINK_DROP, SEND, 1, 0x40, 0,
                                                      SLEEP, 0, 4, LINK, 0, LINK_DELIVER] + bulk + [SLEEP, 0, 2])
    write(d, "plpmtud-frag-needed", [0x0f, 7, 7, 12] + [PAIR, 3, 0, 0, SEND, 1, 0xff, 0xff, TICK, 3] +
          inject(0, 6, 6, 0x20 | 0x80, window=[0, 0x04, 0xb0], corrupt=200) + bulk + [SLEEP, 0, 2])


def two_engine():
    d = clean("two_engine")
    rnd = random.Random(7)
    configs = [(0xff, 0x1c), (0x00, 0x00), (0x0f, 0x1d), (0x3c, 0x02), (0xd3, 0x3b), (0x6f, 0x1f)]

    def stream(n, pick):
        return [pick() for _ in range(n)]

    kinds = {
        "clean": lambda: 0xff,
        "loss5": lambda: 0 if rnd.random() < 0.05 else 0xff,
        "loss20": lambda: 1 if rnd.random() < 0.2 else 0xef,
        "dup": lambda: 2 if rnd.random() < 0.1 else 0xff,
        "corrupt": lambda: 4 if rnd.random() < 0.05 else 0xff,
        "mixed": lambda: rnd.randrange(256),
    }
    for ci, (bits, sizes) in enumerate(configs):
        for name, pick in kinds.items():
            if ci >= 2 and name in ("clean", "dup"):
                continue
            write(d, f"{name}-{ci}", [bits, sizes] + stream(rnd.randrange(80, 400), pick))
    write(d, "burst", [0xff, 0x1c] + [0xff] * 20 + [0] * 60 + [0xff] * 20)
    write(d, "reorder", [0xff, 0x1c] + [3, 40, 0xff, 0xff] * 50)
    # RFC 4821: sizes 0x7d is mtu_probing on (32 KB), 0x3d blackhole; losses
    # hit probes, and RTOs in a row trigger the black-hole step.
    rnd = random.Random(4821)
    for name, sizes in (("plpmtud-on", 0x7d), ("plpmtud-blackhole", 0x3d)):
        write(d, name + "-loss5", [0x0f, sizes] + stream(300, lambda: 0 if rnd.random() < 0.05 else 0xff))
        write(d, name + "-burst", [0x0f, sizes] + [0xff] * 30 + [0] * 40 + [0xff] * 30)


if __name__ == "__main__":
    wire()
    engine()
    two_engine()
    total = sum(os.path.getsize(os.path.join(r, f)) for r, _, fs in os.walk(OUT) for f in fs)
    print(f"corpus: {total} bytes", file=sys.stderr)
