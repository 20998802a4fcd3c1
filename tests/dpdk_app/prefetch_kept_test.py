#!/usr/bin/env python3
"""The binary still prefetches where the source asks it to.

GCC's link-time optimizer found Worker::prefetch_burst (peek at each frame
of an RX burst, hash its 4-tuple, __builtin_prefetch the connection-table
bucket) free of side effects and deleted its call: from 3256a04 until
tcp/base/prefetch.hpp, no tcpfp binary prefetched a bucket on RX, while the
profile showed 76 % of input_tcp's time on that bucket's load. A hint that
disappears changes no output, so only the machine code can tell: this test
disassembles the built programs and looks for the prefetch instruction in
each function that must hold one (inlined there, or in the named helper
when the build inlines less).

Usage: prefetch_kept_test.py BUILD_DIR
"""
import re
import sys

from machine_code import functions

# (program, functions that may hold the RX burst's prefetch, what it is)
CHECKS = [
    ("dpdk_app/tcpfp",
     [r"tcpfp::app::Worker::run\(\)", r"tcpfp::app::Worker::prefetch_burst\(",
      r"tcpfp::prefetch_line\("],
     "the RX burst's connection-table bucket (Worker::prefetch_burst)"),
    ("dpdk_app/tcpfp",
     [r"tcpfp::tcp::Engine::connect\(", r"tcpfp::prefetch_line\("],
     "connect()'s next candidate bucket (Engine::connect)"),
    ("dpdk_app/tcpfp",
     [r"tcpfp::tcp::TimerWheel::cascade\(", r"tcpfp::prefetch_line\("],
     "the timer wheel's cascade walk (TimerWheel::cascade)"),
]
PREFETCH = re.compile(r"\sprefetch(t0|t1|t2|nta|w)?\s")


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    build = sys.argv[1]
    cache, failures = {}, []
    for program, holders, what in CHECKS:
        if program not in cache:
            cache[program] = functions(f"{build}/{program}", PREFETCH)[1]
        hits = [f for f in cache[program] if any(re.search(h, f) for h in holders)]
        if hits:
            print(f"ok: {what}: prefetch in {hits[0]}")
        else:
            failures.append(f"{program}: no prefetch instruction for {what}; "
                            f"functions with one: {sorted(cache[program]) or 'none'}")
    for f in failures:
        print("FAIL:", f)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
