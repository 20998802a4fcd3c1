#!/usr/bin/env bash
# The benchmark, side by side in one invocation (tests/bench/README.md):
# tcpfp <-> tcpfp over the memif pair (CPS, RPS, bulk, crr at a target rate,
# crr with a 16 KB response), the same workloads on the Linux kernel with the
# same pinning, the packet-I/O limit of the pair (tcpfp-iofwd), wrk against
# tcpfp on net_tap and on net_af_xdp (veth) and against a kernel server on
# veth, bulk over the tap with TSO on and off, 1M held connections with
# memory and TIME_WAIT expiry, and the microbenchmarks. Writes results.json,
# results.md and results.png.
#
#   scripts/bench.sh [--quick] [--out DIR] [--build DIR] [--no-build] [--profile] [--only SECTIONS]
#                    [--workloads LIST] [--crr-rate R] [--baseline BUILD_DIR|COMMIT] [--rounds N]
#
# --quick: about a minute (CI smoke; 10,000 held connections). Default: a few
# minutes. --out: default build/bench. --build: default build. --profile: perf
# record both tcpfp processes during each pair workload (hot symbols in
# results.md, perf-*.data in --out). --only: micro,pair,io,linux,http,tapbulk,
# scale,overload. --workloads: which of cps,rps,bulk,crr_rate,crr_16k the pair
# and linux sections run (default all). --crr-rate: crr_rate's target in
# connections per second (default 5000, 2000 with --quick). --baseline: the
# previous engine side by side: an older build directory, or a commit, which
# is then checked out in build/baseline/<commit>/src and built there
# (release); its pair workloads and engine microbenchmarks run beside this
# build's, alternating. --rounds: pair runs per binary (and tapbulk rounds),
# the median kept (default 1, 3 with --baseline). Needs root; everything runs
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
baseline=""
rounds=()
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
    --baseline) baseline=$2; shift 2 ;;
    --rounds) rounds=(--rounds "$2"); shift 2 ;;
    -h|--help) sed -n '2,27p' "$0"; exit 0 ;;
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
base_args=()
if [ -n "$baseline" ]; then
  if [ -f "$baseline/build.ninja" ]; then
    base_args=(--baseline "$(cd "$baseline" && pwd)")
  else
    sha=$(git -C "$here" rev-parse --verify --short "$baseline^{commit}") ||
      { echo "bench.sh: --baseline '$baseline' is neither a build directory nor a commit" >&2; exit 2; }
    wt=$build/baseline/$sha
    if [ ! -d "$wt/src" ]; then
      mkdir -p "$wt"
      git -C "$here" worktree add --detach "$wt/src" "$sha" >/dev/null
    fi
    [ -f "$wt/build/build.ninja" ] || meson setup "$wt/build" "$wt/src" --buildtype=release >/dev/null
    ninja -C "$wt/build" dpdk_app/tcpfp tests/engine/bench_engine
    base_args=(--baseline "$wt/build")
  fi
fi
# Debian's python3: the orchestration uses the standard library only.
py=/usr/bin/python3
[ -x $py ] || py=python3
exec "$py" "$here/tests/bench/run_bench.py" --src "$here" --build "$build" --out "$out" "${quick[@]}" "${profile[@]}" "${only[@]}" \
  "${workloads[@]}" "${crr_rate[@]}" "${base_args[@]}" "${rounds[@]}"
