#!/usr/bin/env bash
# Runs the microbenchmarks (Google Benchmark) and prints their tables.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
[ -f build/build.ninja ] || meson setup build
ninja -C build
mkdir -p build/bench
for b in $(find build/tests -maxdepth 2 -type f -name "bench_*" -perm -u+x | sort); do
  [ -x "$b" ] || continue
  name=$(basename "$b")
  echo "== $name"
  "$b" --benchmark_out="build/bench/$name.json" --benchmark_out_format=json "$@"
done
