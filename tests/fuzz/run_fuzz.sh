#!/usr/bin/env bash
# Runs one libFuzzer target for the suite 'fuzz': replays its checked-in
# corpus, then fuzzes for TCPFP_FUZZ_SECONDS (default 60 when CI=true, else
# 10) from a temporary copy of that corpus, so the repository is never
# written. A corpus input that crashes always fails the test. A finding of
# the timed exploration (a new crash or a slow input) is printed loudly with
# its reproducer, and fails the test only with TCPFP_FUZZ_STRICT=1: the CI
# gate must not turn red on the luck of a 60-second run; findings become
# regression inputs (corpus) or tracked findings (findings/) by hand.
#   run_fuzz.sh <fuzzer binary> <corpus dir> <target name>
set -uo pipefail
bin=$1 corpus=$2 name=$3
if [ -n "${TCPFP_FUZZ_SECONDS:-}" ]; then
  secs=$TCPFP_FUZZ_SECONDS
elif [ "${CI:-}" = "true" ]; then
  secs=60
else
  secs=10
fi
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}

# libFuzzer's entropic schedule looks every feature of a run up in its list
# of rare features with a linear search, and by default a feature stays
# "rare" until it has been seen 255 times: early in a campaign that is every
# feature (~15k for the engine targets), so the lookups took 40-50 % of a
# fuzz_engine run in perf (InputCorpus::UpdateFeatureFrequency). With 16 the
# list holds the 100 rarest features plus those seen fewer than 16 times;
# the schedule still favours inputs with rare features.
# -reload=0: by default libFuzzer lists and rereads its corpus directory
# every (wall) second, for inputs other processes may have added; this one
# is a private copy nothing else writes. With ~1.6k inputs, on a loaded
# machine, the rereads were 5 % of fuzz_engine's CPU time in perf.
fuzz_flags=(-entropic_feature_frequency_threshold=16 -reload=0)

work=$(mktemp -d "${TMPDIR:-/tmp}/tcpfp-fuzz-$name.XXXXXX")
artifacts=$work/artifacts
mkdir -p "$work/corpus" "$artifacts"
cp -r "$corpus"/. "$work/corpus/" 2>/dev/null || true

echo "== $name: replaying $(ls "$corpus" | wc -l) corpus inputs from $corpus"
if ! "$bin" -runs=0 "${fuzz_flags[@]}" -artifact_prefix="$artifacts/" "$work/corpus"; then
  echo "FAIL: $name: a corpus input crashes; find it with: $bin <file> for each file in $corpus"
  ls -1 "$artifacts" 2>/dev/null | sed "s|^|  reproducer: $artifacts/|"
  exit 1
fi

echo "== $name: fuzzing for $secs s (work dir $work)"
"$bin" -max_total_time="$secs" -print_final_stats=1 "${fuzz_flags[@]}" -artifact_prefix="$artifacts/" \
  -timeout=60 -rss_limit_mb=4096 "$work/corpus"
rc=$?
if [ $rc -ne 0 ] || [ -n "$(ls -A "$artifacts")" ]; then
  echo "FUZZ FINDING: $name: libFuzzer exited with $rc"
  for f in "$artifacts"/*; do
    [ -e "$f" ] || continue
    echo "  reproducer: $f"
    echo "  replay with: $bin $f"
    echo "  keep it as a regression input: cp $f $corpus/crash-<short-desc>"
  done
  if [ "${TCPFP_FUZZ_STRICT:-0}" = "1" ]; then exit 1; fi
  echo "== $name: finding reported (set TCPFP_FUZZ_STRICT=1 to fail on it)"
  exit 0
fi
echo "== $name: no crash in $secs s; $(ls "$work/corpus" | wc -l) corpus entries (not kept)"
rm -rf "$work"
