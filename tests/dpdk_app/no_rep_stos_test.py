#!/usr/bin/env python3
"""The per-segment functions zero their small structs without `rep stos`.

GCC's generic x86-64 tuning zeroes a struct of known size from 64 bytes up
with `rep stosq`, whose start-up cost (some 30 cycles on the Xeon that ran
session 19's benchmarks) made it the hottest instruction of
Engine::input_tcp (the received segment's 96-byte InSegment) and of
Engine::loss_state (a loss-recovery record). meson.build asks for a loop
of SSE stores instead (-mmemset-strategy). A flag that stops applying
changes no output, so only the machine code can tell: this test
disassembles the built program and looks for the string instruction in
each function that runs for every segment or every connection.

Usage: no_rep_stos_test.py BUILD_DIR
"""
import re
import sys

from machine_code import functions

PROGRAM = "dpdk_app/tcpfp"
# Functions (demangled-name patterns) that run per segment or per connection.
HOT = [r"tcpfp::tcp::Engine::input_tcp\(", r"tcpfp::tcp::Engine::loss_state\(",
       r"tcpfp::tcp::Engine::connect\(", r"tcpfp::tcp::serialize\("]
REP_STOS = re.compile(r"\srep stos")


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    seen, with_rep = functions(f"{sys.argv[1]}/{PROGRAM}", REP_STOS)
    failures = []
    for pattern in HOT:
        present = [f for f in seen if re.search(pattern, f)]
        if not present:
            # Inlined everywhere: then its body is in a caller this list names.
            print(f"note: no out-of-line copy of {pattern}")
            continue
        bad = [f for f in present if f in with_rep]
        if bad:
            failures.append(f"`rep stos` in {bad[0]}")
        else:
            print(f"ok: {present[0]} has no rep stos")
    if not any(any(re.search(p, f) for f in seen) for p in HOT):
        failures.append("none of the hot functions is in the binary: the names changed; update HOT")
    for f in failures:
        print("FAIL:", f)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
