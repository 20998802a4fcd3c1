#!/usr/bin/env bash
# The main job: install what is missing, build, and run the seed experiment
# (README.md) against Linux inside a private network namespace:
#   - tcpfp on net_tap (no hugepages) owns 172.16.48.2 and 172.16.48.13;
#   - Linux is 172.16.48.1/24 on the kernel side of the tap, running `nc -l 5002`;
#   - tcpfp's seed client connects from .13, sends one line and closes;
#   - nc is paused (SIGSTOP) so Linux holds the half-closed connection in
#     CLOSE_WAIT, as the article's server does, then resumed to close it.
# Prints the captured segments and tcpfp's state transitions. From a terminal
# tcpfp keeps serving (echo 7, discard 9, HTTP 80) until Ctrl-C; use
# scripts/tcpfp-ns.sh to reach it. Nothing leaves the namespace.
# TCPFP_CONFIG=FILE runs another configuration (default config/tap.ini),
# for example one that adds `[apps] run = ...` (dpdk_app/apps/README.md).
#
#   scripts/run.sh [--port tap|af_xdp]        (or TCPFP_PORT=af_xdp)
#
# --port af_xdp runs the same experiment with tcpfp on net_af_xdp instead: a
# veth pair made inside the namespace, Linux on its end tcpfp0, tcpfp's
# AF_XDP socket on the other end xdp0 (config/af_xdp.ini; what the kernel
# needs: dpdk_app/README.md, "af_xdp notes").
set -euo pipefail
cd "$(dirname "$0")/.."

PORT=${TCPFP_PORT:-tap}
while [ $# -gt 0 ]; do
  case "$1" in
    --port) PORT=${2:-}; shift 2 || shift ;;
    --port=*) PORT=${1#--port=}; shift ;;
    -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
    *) echo "run.sh: unknown argument '$1' (try --help)" >&2; exit 2 ;;
  esac
done
case "$PORT" in
  tap) VDEV=net_tap0,iface=tcpfp0; DEFAULT_CONFIG=config/tap.ini ;;
  # busy_budget=0: no recvfrom() per empty RX burst (dpdk_app/README.md, "af_xdp notes")
  af_xdp) VDEV=net_af_xdp0,iface=xdp0,start_queue=0,queue_count=1,busy_budget=0; DEFAULT_CONFIG=config/af_xdp.ini ;;
  *) echo "run.sh: --port must be tap or af_xdp (got '$PORT')" >&2; exit 2 ;;
esac

NS=${TCPFP_NS:-tcpfp}
IFACE=tcpfp0  # Linux's interface: the tap's kernel side, or Linux's end of the veth
PEER=172.16.48.1
KERNEL_MAC=02:00:00:00:00:01  # the tap's kernel side must not share tcpfp's MAC
WORK=$(mktemp -d /tmp/tcpfp-run.XXXXXX)
LOG=$WORK/tcpfp.log
PCAP=$WORK/seed.pcapng

if [ "$(id -u)" -ne 0 ]; then
  echo "run.sh: needs root (network namespaces, net_tap); try: sudo $0" >&2
  exit 1
fi
scripts/install-deps.sh
[ -f build/build.ninja ] || meson setup build
ninja -C build dpdk_app/tcpfp

tcpfp_pid= tshark_pid= nc_pid=
cleanup() {
  set +e
  [ -n "$nc_pid" ] && kill -CONT "$nc_pid" 2>/dev/null && kill "$nc_pid" 2>/dev/null
  [ -n "$tshark_pid" ] && kill "$tshark_pid" 2>/dev/null
  if [ -n "$tcpfp_pid" ] && kill -0 "$tcpfp_pid" 2>/dev/null; then
    kill -INT "$tcpfp_pid"; wait "$tcpfp_pid"
    sed -n '/=== tcpfp final statistics ===/,$p' "$LOG"
  fi
  ip netns del "$NS" 2>/dev/null
  echo "run.sh: namespace $NS removed; logs and capture kept in $WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

wait_for() {  # seconds, description, command...
  local t=$1 what=$2; shift 2
  for _ in $(seq $((t * 20))); do "$@" >/dev/null 2>&1 && return 0; sleep 0.05; done
  echo "run.sh: timed out waiting for $what (log: $LOG)" >&2
  tail -20 "$LOG" >&2
  return 1
}
in_ns() { ip netns exec "$NS" "$@"; }

ip netns del "$NS" 2>/dev/null || true
ip netns add "$NS"
in_ns ip link set lo up
if [ "$PORT" = af_xdp ]; then
  # Both ends up before tcpfp starts (a veth has carrier only when both are);
  # Linux gets its address later, once nc listens, as with the tap.
  in_ns ip link add "$IFACE" type veth peer name xdp0
  # veth hands Linux's TCP segments over with the checksum left to the
  # device (CHECKSUM_PARTIAL); AF_XDP delivers them as they are and tcpfp
  # would drop them as bad checksums. With TX checksumming off Linux
  # computes them itself.
  in_ns ethtool -K "$IFACE" tx off >/dev/null
  in_ns ip link set xdp0 up
  in_ns ip link set "$IFACE" up
fi

echo "== starting tcpfp on $PORT in namespace $NS (log $LOG)"
# setsid: Ctrl-C reaches tcpfp once, through the trap, not twice.
setsid ip netns exec "$NS" build/dpdk_app/tcpfp -l 0-1 --no-huge -m 1024 --no-pci \
  --vdev=$VDEV --file-prefix="tcpfp-run-$$" -- --config "${TCPFP_CONFIG:-$DEFAULT_CONFIG}" \
  >"$LOG" 2>&1 &
tcpfp_pid=$!
wait_for 20 "tcpfp's worker" grep -q "worker 0 on lcore" "$LOG"
# The tap's kernel side starts with tcpfp's MAC; a veth end has its own.
if [ "$PORT" = tap ]; then in_ns ip link set "$IFACE" address "$KERNEL_MAC"; fi

ip netns exec "$NS" tshark -i "$IFACE" -w "$PCAP" -f "tcp port 5002" >"$WORK/tshark.log" 2>&1 &
tshark_pid=$!
wait_for 20 "tshark" grep -q "Capturing on" "$WORK/tshark.log"

ip netns exec "$NS" nc -l 5002 >"$WORK/nc.out" &
nc_pid=$!
wait_for 5 "nc -l 5002" sh -c "ip netns exec $NS ss -ltn | grep -q ':5002'"
kill -STOP "$nc_pid"  # the server application sleeps: its kernel still answers

echo "== Linux peer $PEER/24 on $IFACE; the seed client starts once ARP resolves"
in_ns ip addr add "$PEER/24" dev "$IFACE"
in_ns ip link set "$IFACE" up
wait_for 10 "FIN_WAIT_2" grep -q -- "-> FIN_WAIT_2" "$LOG"
sleep 0.5
echo "== half-close: Linux's socket while nc is paused"
in_ns ss -tan | grep -E "^State|:5002"
kill -CONT "$nc_pid"
wait_for 10 "TIME_WAIT" grep -q -- "-> TIME_WAIT" "$LOG"
wait "$nc_pid" || true
nc_pid=
sleep 0.5
kill -INT "$tshark_pid"; wait "$tshark_pid" || true
tshark_pid=

echo "== what nc (Linux) received"
cat "$WORK/nc.out"
echo "== segments on $IFACE (-> from tcpfp, <- from Linux)"
python3 tests/e2e/lib/segtable.py "$PCAP"
echo "== tcpfp's seed client"
grep "tcpfp.seed" "$LOG"

if [ -t 0 ]; then
  cat <<MSG

tcpfp keeps running (TIME_WAIT ends after 2*MSL = 60 s). From another terminal:
  scripts/tcpfp-ns.sh curl http://172.16.48.13/
  scripts/tcpfp-ns.sh ping -c 3 172.16.48.2
  scripts/tcpfp-ns.sh nc 172.16.48.2 7      # echo; port 9 discards
Ctrl-C stops tcpfp and prints its statistics.
MSG
  # Until Ctrl-C, which the INT trap turns into an orderly stop (EXIT trap).
  # A sleep loop rather than `wait`: bash defers a trapped SIGINT during wait.
  while kill -0 "$tcpfp_pid" 2>/dev/null; do sleep 1; done
fi
# Not a terminal: the EXIT trap stops tcpfp now and prints its statistics.
