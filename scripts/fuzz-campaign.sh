#!/usr/bin/env bash
# A long fuzzing campaign, in two phases per target:
#  1. explore in build-fuzz-fast: clang, libFuzzer, release, no sanitizer.
#     The engine targets run about 4x the executions per CPU second of the
#     ASan+UBSan build (side by side on this machine: fuzz_engine 10.5k
#     against 2.4k, fuzz_two_engine 7.5k against 1.9k), and the corpus they
#     grow in the same CPU time covers more when replayed under the
#     sanitizers. The engine's own invariant checks (FUZZ_CHECK) and the
#     harnesses' checks run in both builds;
#  2. replay everything phase 1 kept in build-fuzz (ASan+UBSan, the build
#     scripts/test.sh uses), so a memory error or undefined behaviour the
#     fast build could not see is still caught, then report coverage there.
#
#   scripts/fuzz-campaign.sh [--runs N] [--targets "wire engine two_engine"] [--out DIR]
#
# Defaults: 10M executions per target, all three targets, as many at once as
# there are CPUs. New inputs go to DIR/<target>/corpus (default
# build-fuzz-fast/campaign), never into tests/fuzz/corpus: merge the ones
# worth keeping by hand (libFuzzer -merge=1). Exits non-zero on any crash,
# leak, timeout or sanitizer report, printing the reproducer.
set -euo pipefail
cd "$(dirname "$0")/.."

runs=10000000
targets="wire engine two_engine"
out=build-fuzz-fast/campaign
while [ $# -gt 0 ]; do
  case $1 in
    --runs) runs=$2; shift 2 ;;
    --targets) targets=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    *) echo "usage: $0 [--runs N] [--targets \"wire engine two_engine\"] [--out DIR]" >&2; exit 2 ;;
  esac
done

configure() {  # dir, extra meson args...
  local dir=$1; shift
  if [ -f "$dir/build.ninja" ]; then
    CC=clang CXX=clang++ meson setup --reconfigure "$dir" "$@" >/dev/null
  else
    CC=clang CXX=clang++ meson setup "$dir" "$@" >/dev/null
  fi
}
configure build-fuzz-fast -Dfuzz=true -Dbuildtype=release -Db_lundef=false
configure build-fuzz -Dfuzz=true -Dbuildtype=debugoptimized -Db_sanitize=address,undefined -Db_lundef=false
bins=""
for t in $targets; do bins="$bins tests/fuzz/fuzz_$t"; done
# shellcheck disable=SC2086
ninja -C build-fuzz-fast $bins >/dev/null
# shellcheck disable=SC2086
ninja -C build-fuzz $bins >/dev/null

# As run_fuzz.sh (see there): the rare-feature threshold and no reloads.
flags=(-entropic_feature_frequency_threshold=16 -reload=0 -timeout=60 -rss_limit_mb=4096)
mkdir -p "$out"

explore() {  # target: phase 1, one process, until $runs executions or a crash
  local t=$1 d=$out/$1
  rm -rf "$d" && mkdir -p "$d/corpus" "$d/artifacts"
  local TIMEFORMAT='%R %U %S'  # wall, user and system seconds (bash's time)
  { time build-fuzz-fast/tests/fuzz/fuzz_$t "${flags[@]}" -runs="$runs" -print_final_stats=1 \
      -artifact_prefix="$d/artifacts/" "$d/corpus" "tests/fuzz/corpus/$t" >"$d/explore.log" 2>&1; } 2>"$d/time"
}

pids=()
for t in $targets; do
  echo "== $t: exploring, $runs executions (log $out/$t/explore.log)"
  explore "$t" & pids+=($!)
done
failed=0
for p in "${pids[@]}"; do wait "$p" || failed=1; done

echo
printf '%-12s %12s %9s %9s %12s %9s  %s\n' target executions wall_s cpu_s "per_cpu_s" corpus "ASan+UBSan replay: cov / ft"
for t in $targets; do
  d=$out/$t
  execs=$(awk '/stat::number_of_executed_units/ {print $2}' "$d/explore.log")
  read -r wall user sys <"$d/time"
  cpu=$(awk -v u="$user" -v s="$sys" 'BEGIN { printf "%.1f", u + s }')
  if [ -n "$(ls -A "$d/artifacts")" ] || [ -z "$execs" ]; then
    echo "FUZZ FINDING: $t (fast build): $(tail -n 5 "$d/explore.log" | tr '\n' ' ')"
    ls -1 "$d/artifacts" | sed "s|^|  reproducer: $d/artifacts/|"
    failed=1
    continue
  fi
  # Phase 2: every input kept, and the checked-in corpus, under the sanitizers.
  if ! ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
      build-fuzz/tests/fuzz/fuzz_$t "${flags[@]}" -runs=0 -artifact_prefix="$d/artifacts/" \
      "$d/corpus" "tests/fuzz/corpus/$t" >"$d/replay.log" 2>&1; then
    echo "FUZZ FINDING: $t (ASan+UBSan replay): see $d/replay.log"
    ls -1 "$d/artifacts" | sed "s|^|  reproducer: $d/artifacts/|"
    failed=1
    continue
  fi
  cov=$(grep -E '(INITED|DONE) ' "$d/replay.log" | tail -n 1 | grep -o 'cov: [0-9]* ft: [0-9]*')
  printf '%-12s %12s %9s %9s %12s %9s  %s\n' "$t" "$execs" "$wall" "$cpu" \
    "$(awk -v e="$execs" -v c="$cpu" 'BEGIN { printf "%d", (c > 0 ? e / c : 0) }')" "$(ls "$d/corpus" | wc -l)" "$cov"
done
exit $failed
