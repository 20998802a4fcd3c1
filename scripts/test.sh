#!/usr/bin/env bash
# The test command: installs what is missing, builds, and runs every suite,
# once in the release build (build/) and once under ASan+UBSan (build-asan/).
# Exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh

configure() {  # dir, extra meson args...
  local dir=$1; shift
  if [ -f "$dir/build.ninja" ]; then
    meson setup --reconfigure "$dir" "$@" >/dev/null
  else
    meson setup "$dir" "$@"
  fi
}

configure build -Dwerror=true
ninja -C build
meson test -C build --print-errorlogs --num-processes 2

# The sanitizer build runs every suite that needs no DPDK port of its own
# (e2e, cli, robust and bench run the DPDK program against Linux or its pair;
# the release build covers them).
configure build-asan -Dwerror=true -Dbuildtype=debug -Db_sanitize=address,undefined \
  -Db_lundef=false
ninja -C build-asan
UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 ASAN_OPTIONS=detect_leaks=1 \
  meson test -C build-asan --print-errorlogs --num-processes 2 --no-suite e2e --no-suite cli --no-suite robust --no-suite bench

# The fuzz build (clang, libFuzzer, ASan+UBSan): replays each target's corpus,
# then fuzzes each for TCPFP_FUZZ_SECONDS (60 on CI, 10 otherwise).
CC=clang CXX=clang++ configure build-fuzz -Dfuzz=true -Dbuildtype=debugoptimized \
  -Db_sanitize=address,undefined -Db_lundef=false
ninja -C build-fuzz tests/fuzz/fuzz_wire tests/fuzz/fuzz_engine tests/fuzz/fuzz_two_engine
meson test -C build-fuzz --no-rebuild --suite fuzz --print-errorlogs

# One closing line for CI, counted from both builds' Meson test logs.
python3 - build/meson-logs/testlog.json build-asan/meson-logs/testlog.json <<'PY'
import json, sys
passed = failed = skipped = 0
for path in sys.argv[1:]:
    for line in open(path):
        r = json.loads(line).get("result")
        if r in ("OK", "EXPECTEDFAIL"):
            passed += 1
        elif r == "SKIP":
            skipped += 1
        else:
            failed += 1
print(f"{passed} passed, {failed} failed, {skipped} skipped")
PY
