#!/usr/bin/env python3
"""Writes COVERAGE.md: every MUST and SHLD row of RFC 9293 Appendix B with
the scenario scripts that name it (`// MUST-nn: ...` comments), or why none
does.

usage: gen_coverage.py RFC9293.txt > COVERAGE.md   (run from tests/scenarios)

Appendix B gives some ids to several rows (MUST-15 and SHLD-5 for IPv4 and
IPv6, MUST-20 for R1 and R2, MUST-46 and MUST-57 in two groups, MUST-56 for
three ICMP cases). A key "ID" applies to every row of that id; a key
"ID|words" only to the row whose feature text contains those words.

Every row gets exactly one of:
- the scripts whose tag names its id (a NOTES entry may add what they leave
  out);
- NOT_SHOWN[key]: scripts tag the id, but they show another row of it;
- REASONS[key]: no script; why, and where else it is checked, or that it is
  not implemented.
The script stops with an error if a row has no scripts and no reason, or if
a REASONS/NOT_SHOWN/NOTES key matches no row or a row it does not fit, so a
new tag cannot leave a stale reason behind.
"""
import pathlib
import re
import sys


# Rows that no script names.
REASONS = {
    "SHLD-13": "advice to applications (new ones should not use URG), not stack behaviour; the SocketApi cannot send urgent data (no MSG_OOB: tcpfp never sends URG)",
    "MUST-7": "the script language writes only well-formed options; tests/engine/malformed_test.cpp Malformed.EachFrameIsDroppedUnderItsOwnReason: a zero option length, an option past the header and an MSS of length 3 are dropped and counted, with no state and no answer (the RFC only suggests a reset)",
    "MUST-69": "tests/unit/wire_tcp_options_test.cpp TcpOptions.WriterPadsToFourBytes; scripts compare option lists, not the pad bytes",
    "MUST-2": "checked by every script without a tag: Runner::drain fails any segment the engine emits whose checksum does not verify (parse_captured)",
    "MUST-3": "the script language cannot write a bad checksum (the runner fills it in); tests/engine/malformed_test.cpp 'bad TCP checksum' (dropped as wire_tcp_bad_checksum) and tests/unit/wire_tcp_test.cpp Tcp.AnyBitFlipIsCaught",
    "MUST-8": "ISN = 4 µs clock + SipHash (RFC 6528, tcp/crypto/isn.hpp); scripts see relative sequence numbers only; tests/crypto/isn_test.cpp Isn.ClockTicksEveryFourMicroseconds and Isn.AdvancesByTheTickCount",
    "SHLD-1": "SipHash-2-4 of the 4-tuple under a secret key (RFC 6528); scripts see relative sequence numbers only; tests/crypto/isn_test.cpp Isn.IsClockPlusTruncatedSipHashOfTheTuple",
    "MUST-9": "the PRF key is a per-engine random secret, never on the wire; tests/crypto/isn_test.cpp Isn.DifferentSecretsGiveDifferentIsns",
    "MUST-44": "Engine::connect, with no local address bound, takes the engine's first configured address before the SYN is built (there is no routing table to ask); the runner's engine has one address, and no engine test picks among several",
    "MUST-45": "every segment of a connection is built from its 4-tuple, fixed at connect() or from the SYN's destination on a passive open; the runner has one local address, so no script can show another being avoided",
    "MUST-43": "bind() before connect() passes the local address (ConnectParams::local_ip; EADDRNOTAVAIL if not ours); the runner maps every bind() address to its single local address, and no engine test connects from a second one",
    "SHLD-9": "no event: the application can read ConnInfo::retries/backoff (Engine::info) and R1 is counted (Mib::r1_reached); the runner's SocketApi has no TCP_INFO to read them",
    "SHLD-10": "R1 = 3 retransmissions (EngineConfig::r1_retries, the RFC's value); it only feeds a counter, nothing on the wire",
    "MUST-50": "this row is about IP options passed up by the IP layer (RFC 9293 §3.9.2.1; TCP options are MUST-6, options/ignored-options.pkt), and packetdrill has no syntax for IP options; Engine::parse starts the TCP header at IHL*4 and reads no IP option: tests/engine/ip_options_test.cpp IpOptions.AHandshakeAndDataCarryingIpOptionsGoAsWithout (Router Alert on a SYN, Record Route on data: answered and delivered, nothing dropped) and tests/unit/wire_ipv4_icmp_test.cpp Ipv4.SkipsOptions",
    "MUST-51": "**not implemented**: no API to give a source route; tcpfp writes no IP options",
    "MUST-52": "**not implemented**: source routes are neither given (MUST-51) nor read from datagrams",
    "MUST-53": "**not implemented**: a received source route is ignored (IP options are skipped); replies go by the normal next hop",
    "SHLD-24": "**not implemented**: IP source routes are ignored (MUST-53)",
    "MUST-47": "soft errors reach the application as EventKind::soft_error and ConnInfo::soft_error: tests/engine/icmp_test.cpp IcmpError.HostUnreachableInEstablishedIsSoftAndReported; the SocketApi the runner drives keeps SO_ERROR at 0 for them (as Linux), so icmp/soft-error.pkt shows only that the connection survives",
    "SHLD-20": "an application that wants no soft-error reports leaves Handlers::on_soft_error empty (dpdk_app/apps/app.hpp, the default); API, not wire",
    "SHLD-23": "advice to applications (not to change the Diffserv field mid-connection); tcpfp's own apps set it once, at listen or connect",
}

# Rows that share an id whose tagged scripts show a different row.
NOT_SHOWN = {
    "SHLD-5|IPv6": "not applicable: tcpfp is IPv4 only (the IPv4 row above)",
    "MUST-15|IPv6": "not applicable: tcpfp is IPv4 only (the IPv4 row above)",
    "MUST-20|Negative advice": "not applicable: there is no IP routing to advise (a fast path with a fixed next hop); reaching R1 is counted (Mib::r1_reached, Engine::on_rto) and the retransmissions go on; retransmit-rto/r2-timeout.pkt shows R2",
}

# What the tagged scripts of a row leave out.
NOTES = {
    "MUST-62": "receiving; tcpfp never sends URG (the SocketApi has no MSG_OOB)",
    "MUST-46": "tcpfp refuses with EINVAL; Linux answers ENETUNREACH",
    "SHLD-26": "in synchronized states tcpfp keeps the connection (RFC 5461 §4), as icmp/hard-error-established.pkt shows",
    "MUST-6": "the script language writes only known kinds; an unassigned kind: tests/unit/wire_tcp_options_test.cpp TcpOptionTable",
}

REQ = re.compile(r"\|\s*(.*?)\s*\|\s*((?:MUST|SHLD|MAY|REC)-\d+)?\s*\|")
GROUP = re.compile(r"^\|\s*([^|]*?\S)\s*\|$")  # a row of one cell: the group's title


def requirements(rfc_text):
    text = rfc_text.split("Appendix B.  TCP Requirement Summary")[-1]
    rows, current, group = [], None, ""
    for line in text.splitlines():
        if line.strip().startswith("+"):
            if current:
                rows.append(current)
            current = None
            continue
        g = GROUP.match(line.strip())
        if g:
            group = g.group(1)
            continue
        m = REQ.match(line.strip())
        if not m:
            continue
        feature, req = m.group(1), m.group(2)
        if req:
            current = [req, feature, group]
        elif current:
            current[1] += " " + feature
    return [r for r in rows if r[0].startswith(("MUST", "SHLD"))]


def tags():
    found = {}
    for p in sorted(pathlib.Path(".").rglob("*.pkt")):
        for line in p.read_text().splitlines():
            m = re.match(r"\s*//\s*((?:MUST|SHLD)-\d+):", line)
            if m:
                found.setdefault(m.group(1), []).append(str(p))
    return found


def lookup(table, req, feature, used):
    for key, value in table.items():
        kreq, _, words = key.partition("|")
        if kreq == req and words and words in feature:
            used.add(key)
            return value
    if req in table:
        used.add(req)
        return table[req]
    return None


def main():
    reqs = requirements(open(sys.argv[1]).read())
    found = tags()
    rows, errors, used = [], [], set()
    covered = 0
    for req, feature, group in reqs:
        feature = re.sub(r"\s+", " ", feature.replace("*", "")).strip()
        scripts = sorted(set(found.get(req, [])))
        not_shown = lookup(NOT_SHOWN, req, feature, used)
        reason = lookup(REASONS, req, feature, used)
        note = lookup(NOTES, req, feature, used)
        if scripts and not not_shown:
            if reason:
                errors.append(f"{req} ({feature}): named by {scripts[0]}; drop its REASONS entry")
            covered += 1
            cell = ", ".join(f"`{s}`" for s in scripts)
            if note:
                cell += f" ({note})"
        elif not_shown:
            cell = not_shown
        elif reason:
            if note:
                errors.append(f"{req}: a NOTES entry for a row no script names")
            cell = reason
        else:
            errors.append(f"{req} ({feature}): no script and no reason")
            cell = "?"
        rows.append((req, group, feature, cell))
    for table in (REASONS, NOT_SHOWN, NOTES):
        errors += [f"{k}: matches no row" for k in table if k not in used]
    if errors:
        sys.exit("gen_coverage.py:\n  " + "\n  ".join(errors))

    print("# RFC 9293 Appendix B coverage by scenario scripts\n")
    print(f"**{covered} of {len(reqs)} requirements named by a script** (rows of Appendix B with")
    print("MUST or SHOULD; an id that Appendix B gives to several rows counts once per row).")
    print("Every other row says why no script names it, where else it is checked, or that")
    print("tcpfp does not implement it.\n")
    print("Generated by `gen_coverage.py` from the `// MUST-nn:` and `// SHLD-nn:` comments")
    print("in the scripts. Regenerate after adding a script:\n")
    print("    cd tests/scenarios && ./gen_coverage.py ../../../shared/reference/rfc9293.txt > COVERAGE.md\n")
    print("| requirement | group | feature | scripts or reason |")
    print("|---|---|---|---|")
    for req, group, feature, cell in rows:
        print(f"| {req} | {group} | {feature} | {cell} |")
    missing = [f"{req} ({feature})" for req, _, feature, cell in rows if "**not implemented**" in cell]
    print("\n## Not implemented\n")
    for m in missing:
        print(f"- {m}")


main()
