#!/usr/bin/env bash
# The benchmark, side by side in one invocation (tests/bench/README.md):
# tcpfp <-> tcpfp over the memif pair (CPS, RPS, bulk, crr at a target rate,
# crr with a 16 KB response), the same workloads on the Linux kernel with the
# same pinning, the packet-I/O limit of the pair (tcpfp-iofwd), wrk against
# tcpfp on net_tap and on net_af_xdp (veth) and against a kernel server on
# veth, 1M held connections with memory and TIME_WAIT expiry, and the
# microbenchmarks. Writes results.json, results.md and results.png.
#
#   scripts/bench.sh [--quick] [--out DIR] [--build DIR] [--no-build] [--profile] [--only SECTIONS]
#                    [--workloads LIST] [--crr-rate R]
#
# --quick: about a minute (CI smoke; 10,000 held connections). Default: a few
# minutes. --out: default build/bench. --build: default build. --profile: perf
# record both tcpfp processes during each pair workload (hot symbols in
# results.md, perf-*.data in --out). --only: micro,pair,io,linux,http,scale.
# --workloads: which of cps,rps,bulk,crr_rate,crr_16k the pair and linux
# sections run (default all). --crr-rate: crr_rate's target in connections
# per second (default 5000, 2000 with --quick). Needs root; everything runs
# in a private network namespace. Goals are reported, never asserted: the
# status is 0 when every workload produced a figure.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
build=$here/build
out=""
quick=()
only=()
workloads=()
crr_rate=()
profile=()
do_build=1
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) quick=(--quick); shift ;;
    --out) out=$2; shift 2 ;;
    --build) build=$(cd "$2" 2>/dev/null && pwd || echo "$2"); shift 2 ;;
    --no-build) do_build=0; shift ;;
    --only) only=(--only "$2"); shift 2 ;;
    --workloads) workloads=(--workloads "$2"); shift 2 ;;
    --crr-rate) crr_rate=(--crr-rate "$2"); shift 2 ;;
    --profile) profile=(--profile); shift ;;
    -h|--help) sed -n '2,21p' "$0"; exit 0 ;;
    *) echo "bench.sh: unknown option '$1' (see --help)" >&2; exit 2 ;;
  esac
done
[ -n "$out" ] || out=$build/bench
if [ "$(id -u)" != 0 ]; then echo "bench.sh: needs root (DPDK, network namespaces, a tap)" >&2; exit 1; fi

if [ $do_build = 1 ]; then
  "$here/scripts/install-deps.sh"
  [ -f "$build/build.ninja" ] || meson setup "$build" "$here"
  ninja -C "$build"
fi
# Debian's python3: the orchestration uses the standard library only.
py=/usr/bin/python3
[ -x $py ] || py=python3
exec "$py" "$here/tests/bench/run_bench.py" --src "$here" --build "$build" --out "$out" "${quick[@]}" "${profile[@]}" "${only[@]}" \
  "${workloads[@]}" "${crr_rate[@]}"
