#!/usr/bin/env bash
# Runs the suites that start DPDK processes (robust, e2e, cli, bench) N times
# while other work keeps both CPUs busy, and prints the failures per test.
# A test that passes only on an idle machine fails here.
#
#   scripts/stress-ci.sh N [--load cpu|dpdk|both|none] [--suite S ...] [--test NAME ...]
#
# Loads (default: both):
#   cpu   stress-ng --cpu 2: two busy processes at normal priority;
#   dpdk  a busy-polling DPDK pair: tcpfp-iofwd gen (CPU 0) and reflect
#         (CPU 1) forwarding frames over their own net_memif link, in a
#         network namespace of their own, with their own EAL file prefix.
# The build in build/ is used (built first if needed). Exits non-zero when any
# round had a failure. Each round's Meson log is kept in build/stress-ci/.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"

rounds=${1:-}
case "$rounds" in ''|*[!0-9]*) echo "usage: $0 N [--load cpu|dpdk|both|none] [--suite S ...]" >&2; exit 2 ;; esac
shift
load=both
suites=()
tests=()
while [ $# -gt 0 ]; do
  case "$1" in
    --load) load=$2; shift 2 ;;
    --suite) suites+=("$2"); shift 2 ;;
    --test) tests+=("$2"); shift 2 ;;
    *) echo "stress-ci: unknown option '$1'" >&2; exit 2 ;;
  esac
done
[ ${#suites[@]} -gt 0 ] || suites=(robust e2e cli bench)
case "$load" in cpu|dpdk|both|none) ;; *) echo "stress-ci: --load cpu|dpdk|both|none" >&2; exit 2 ;; esac
if [ "$(id -u)" != 0 ]; then echo "stress-ci: needs root (the suites and the DPDK load do)" >&2; exit 1; fi

scripts/install-deps.sh >/dev/null
[ -f build/build.ninja ] || meson setup build -Dwerror=true >/dev/null
ninja -C build >/dev/null

logdir=build/stress-ci
rm -rf "$logdir"
mkdir -p "$logdir"
load_pids=()
# Each load runs in a session of its own (setsid): stopping it kills the
# whole group, so no busy-polling process outlives this script.
stop_load() {
  for p in "${load_pids[@]}"; do kill -TERM -- "-$p" 2>/dev/null || true; done
  sleep 1
  for p in "${load_pids[@]}"; do kill -KILL -- "-$p" 2>/dev/null || true; done
  load_pids=()
  rm -rf /var/run/dpdk/stress_r_* /var/run/dpdk/stress_g_*
}
trap stop_load EXIT

start_cpu_load() {
  setsid stress-ng --cpu 2 --timeout 0 --quiet >"$logdir/stress-ng.log" 2>&1 &
  load_pids+=($!)
}

# Two tcpfp-iofwd processes in their own namespace; both busy-poll for as
# long as the rounds last (gen's --duration is a day).
start_dpdk_load() {
  local iofwd=$here/build/dpdk_app/tcpfp-iofwd
  setsid unshare -n -- bash -c '
    set -e
    dir=$(mktemp -d /tmp/tcpfp-stress.XXXXXX)
    sock=$dir/memif.sock
    trap "rm -rf \$dir" EXIT
    "$1" --lcores="0@(0-1),1@1" --no-huge -m 512 --no-pci --file-prefix=stress_r_$$ \
      --vdev=net_memif0,role=server,socket=$sock,socket-abstract=no -- --role reflect &
    r=$!
    for _ in $(seq 100); do [ -S "$sock" ] && break; sleep 0.1; done
    "$1" --lcores="0@(0-1),1@0" --no-huge -m 512 --no-pci --file-prefix=stress_g_$$ \
      --vdev=net_memif0,role=client,socket=$sock,socket-abstract=no -- --role gen --duration 86400 &
    g=$!
    wait
  ' stress-load "$iofwd" >"$logdir/iofwd.log" 2>&1 &
  load_pids+=($!)
}

case "$load" in
  cpu) start_cpu_load ;;
  dpdk) start_dpdk_load ;;
  both) start_cpu_load; start_dpdk_load ;;
esac
sleep 2
echo "stress-ci: $rounds round(s) of suites ${suites[*]} under load '$load'"

suite_args=()
for s in "${suites[@]}"; do suite_args+=(--suite "$s"); done
for i in $(seq "$rounds"); do
  start=$(date +%s)
  set +e
  CI=true meson test -C build --no-rebuild "${suite_args[@]}" --num-processes 1 \
    --logbase "stress-$i" "${tests[@]}" >"$logdir/round-$i.out" 2>&1
  set -e
  cp build/meson-logs/stress-$i.json "$logdir/round-$i.json" 2>/dev/null || true
  summary=$(grep -E "^(Ok|Fail|Timeout):" "$logdir/round-$i.out" | tr -s ' ' | paste -sd' ')
  echo "round $i: $summary ($(( $(date +%s) - start )) s)"
done

# Failures per test over all rounds.
python3 - "$logdir" "$rounds" <<'PY'
import glob, json, os, sys
logdir, rounds = sys.argv[1], int(sys.argv[2])
runs, fails = {}, {}
for path in sorted(glob.glob(os.path.join(logdir, "round-*.json"))):
    for line in open(path):
        t = json.loads(line)
        name = t["name"]
        runs[name] = runs.get(name, 0) + 1
        if t["result"] not in ("OK", "EXPECTEDFAIL"):
            fails.setdefault(name, []).append(t["result"])
width = max((len(n) for n in runs), default=10)
print("%-*s  runs  failures" % (width, "test"))
for name in sorted(runs):
    f = fails.get(name, [])
    print("%-*s  %4d  %8d%s" % (width, name, runs[name], len(f), ("  " + ",".join(sorted(set(f)))) if f else ""))
total = sum(len(f) for f in fails.values())
print("stress-ci: %d failure(s) in %d round(s)" % (total, rounds))
sys.exit(1 if total else 0)
PY
