#!/usr/bin/env python3
"""Writes COVERAGE.md: every MUST and SHLD of RFC 9293 Appendix B with the
scenario scripts that name it (`// MUST-nn: ...` comments), or why none does.

usage: gen_coverage.py RFC9293.txt > COVERAGE.md   (run from tests/scenarios)
"""
import pathlib
import re
import sys

# Why a requirement has no script: it is not visible on the wire, belongs
# to the application interface, or needs a feature the engine lacks yet.
REASONS = {
    "SHLD-27": "PSH collapsing is a sender choice (we set PSH only where a write drains the buffer); not distinguishable by a script",
    "SHLD-14": "our right edge never moves left except by < 1 scale unit (RFC 7323 §2.4): tests/engine and the fuzz engine target check the buffer bound",
    "SHLD-13": "an application guideline, not stack behaviour",
    "MUST-7": "the script language cannot write a malformed option; tests/engine Malformed and tests/unit option table cover it",
    "SHLD-6": "MSS from the MTU: mss/*.pkt show MSS = MTU - 40; icmp/frag-needed.pkt shows it follow the path MTU (RFC 1191)",
    "SHLD-1": "ISN PRF (RFC 6528, SipHash): not observable with relative sequence numbers (tests/crypto)",
    "SHLD-2": "RST with data: accepted as an RST; the script language has no such RST with payload check yet",
    "SHLD-9": "R1 is counted (r1_reached) for the application; API, not wire",
    "SHLD-10": "R1 = 3 retransmissions by default (EngineConfig::r1_retries); configuration, not wire",
    "SHLD-24": "IP source routing is not supported (options are skipped)",
    "SHLD-20": "an app that does not want soft-error reports leaves Handlers::on_soft_error empty (dpdk_app/apps/app.hpp); API, not wire",
    "SHLD-22": "the runner cannot check IP header fields; tests/engine/ip_fields_test.cpp IpFields.IpTtlAndIpTosApplyFromTheNextSegmentOn checks the DSCP on every segment",
    "SHLD-21": "IP_TOS may change at any time, from the next segment on: tests/engine/ip_fields_test.cpp IpFields.IpTtlAndIpTosApplyFromTheNextSegmentOn",
    "SHLD-23": "advice to applications (not to change the Diffserv field mid-connection); our own apps set it once at listen/connect",
    "SHLD-8": "ECN (RFC 3168) is not implemented: ECE/CWR are parsed and ignored",
    "MUST-2": "checksum generation: every captured segment is parsed with its checksum verified by the runner",
    "MUST-3": "checksum verification: the script language cannot write a bad checksum (tests/unit covers it)",
    "MUST-8": "ISN clock (RFC 6528): not observable through relative sequence numbers (tests/crypto covers it)",
    "MUST-9": "ISN secrecy: not observable on the wire (tests/crypto)",
    "MUST-11": "local port selection at OPEN: API property (tests/crypto ephemeral ports)",
    "MUST-19": "slow start and congestion avoidance: tests/engine (congestion_test, Matrix, FastRetransmit)",
    "MUST-22": "SYN backoff in retransmit-rto/syn-backoff.pkt; SYN give-up after 247 s in tests/engine Timeout.SynRetriesGiveEtimedout",
    "MUST-23": "SYN R2 >= 3 minutes: tests/engine Timeout.SynRetriesGiveEtimedout (247 s)",
    "MUST-32": "inform the application of urgent data asynchronously: API, not wire",
    "MUST-33": "application learns urgent data size: API, not wire",
    "MUST-35": "zero-window probing: TODO (zero-window-persist)",
    "MUST-36": "zero-window probing: TODO (zero-window-persist)",
    "MUST-37": "window stays zero indefinitely: TODO (zero-window-persist)",
    "MUST-38": "sender SWS avoidance: partly shown by Nagle tails; TODO dedicated script",
    "MUST-39": "receiver SWS avoidance: TODO",
    "MUST-40": "delayed ACK < 0.5 s: shown by 40 ms ACKs in half-close and urgent scripts (no tag)",
    "MUST-41": "OPEN on an existing connection: API error, not wire",
    "MUST-42": "SEND in SYN-SENT queued: TODO",
    "MUST-43": "local IP selection: API",
    "MUST-44": "ISN before the first SYN: not observable",
    "MUST-45": "ICMP source quench: no ICMP",
    "MUST-46": "ICMP: no ICMP", "MUST-47": "ICMP: no ICMP",
    "MUST-48": "the runner cannot check IP header fields; tests/engine/ip_fields_test.cpp IpFields.IpTtlAndIpTosApplyFromTheNextSegmentOn and AcceptedConnectionsInheritTheListenersFields",
    "MUST-49": "the runner cannot check IP header fields; tests/engine/ip_fields_test.cpp IpFields.EverySegmentCarriesTheConfiguredTtlByDefault ([engine] ttl) and IpTtlAndIpTosApplyFromTheNextSegmentOn (IP_TTL)",
    "MUST-50": "ICMP: no ICMP", "MUST-51": "ICMP: no ICMP",
    "MUST-52": "ICMP: no ICMP", "MUST-53": "ICMP: no ICMP",
    "MUST-57": "broadcast/multicast: the runner sends to one unicast address",
    "MUST-58": "aggregate ACKs: TODO (delayed-ack)",
    "MUST-59": "ACK processing before sending: TODO",
    "MUST-60": "PUSH buffering: API",
    "MUST-62": "urgent pointer on send: the SocketApi has no MSG_OOB",
    "MUST-63": "IP options: the runner sends none",
    "MUST-66": "RST/URG with zero window: TODO",
    "MUST-69": "option padding with zeros: checked by tests/unit (option writer)",
}

REQ = re.compile(r"\|\s*(.*?)\s*\|\s*((?:MUST|SHLD|MAY|REC)-\d+)?\s*\|")


def requirements(rfc_text):
    text = rfc_text.split("Appendix B.  TCP Requirement Summary")[-1]
    rows, current, group = [], None, ""
    for line in text.splitlines():
        if line.strip().startswith("+"):
            if current:
                rows.append(current)
            current = None
            continue
        m = REQ.match(line.strip())
        if not m:
            continue
        feature, req = m.group(1), m.group(2)
        if req:
            current = [req, feature, group]
        elif current:
            current[1] += " " + feature
        elif feature and "Feature" not in feature and "|" not in feature:
            group = feature.strip()
    return [r for r in rows if r[0].startswith(("MUST", "SHLD"))]


def tags():
    found = {}
    for p in sorted(pathlib.Path(".").rglob("*.pkt")):
        for line in p.read_text().splitlines():
            m = re.match(r"\s*//\s*((?:MUST|SHLD)-\d+):", line)
            if m:
                found.setdefault(m.group(1), []).append(str(p))
    return found


def main():
    reqs = requirements(open(sys.argv[1]).read())
    found = tags()
    print("# RFC 9293 Appendix B coverage by scenario scripts\n")
    print("Generated by `gen_coverage.py` from the `// MUST-nn:` and `// SHLD-nn:` comments")
    print("in the scripts. Regenerate after adding a script:\n")
    print("    cd tests/scenarios && ./gen_coverage.py ../../../shared/reference/rfc9293.txt > COVERAGE.md\n")
    print("| requirement | feature | scripts or reason |")
    print("|---|---|---|")
    covered = 0
    for req, feature, _ in reqs:
        feature = re.sub(r"\s+", " ", feature.replace("*", "")).strip()
        scripts = sorted(set(found.get(req, [])))
        if scripts:
            covered += 1
            cell = ", ".join(f"`{s}`" for s in scripts)
        else:
            cell = REASONS.get(req, "not yet covered")
        print(f"| {req} | {feature} | {cell} |")
    print(f"\n{covered} of {len(reqs)} MUST/SHLD requirements are named by a script.\n")
    print("## TODO (features the engine does not have yet)\n")
    for t in ["fast-retransmit", "sack (loss recovery)", "delayed-ack (counting)", "nagle (TCP_NODELAY)",
              "zero-window-persist", "keepalive"]:
        print(f"- {t}")


main()
