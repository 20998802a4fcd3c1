#!/usr/bin/env bash
# Two tcpfp processes joined by net_memif (shared memory; no kernel network
# in the path), inside a private network namespace anyway. The server
# (config/pair-server.ini, 172.16.48.1) runs in the background with its
# services; the client (config/pair-client.ini) runs in the foreground with
# the application arguments given after "--" (a prompt by default).
#
#   scripts/pair.sh                                   # client prompt: try 'start gen rr 172.16.48.1:7 conns 10'
#   scripts/pair.sh -- --cmdline-file X.cmd           # run a script on the client, exit with its status
#   scripts/pair.sh --server-config F --client-config F --server-args "..." -- ...
#
# Pinning (two CPUs): the client's worker on CPU 0, the server's on CPU 1,
# both main lcores float. Override with TCPFP_PAIR_CLIENT_LCORES /
# TCPFP_PAIR_SERVER_LCORES. Memory per process: TCPFP_PAIR_MEM (MiB, 2048).
# The server's log is written to $TCPFP_PAIR_LOG (default: a temp file,
# printed at the end).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
bin=${TCPFP_BIN:-$here/build/dpdk_app/tcpfp}
server_cfg=$here/config/pair-server.ini
client_cfg=$here/config/pair-client.ini
server_args=""
while [ $# -gt 0 ]; do
  case "$1" in
    --server-config) server_cfg=$2; shift 2 ;;
    --client-config) client_cfg=$2; shift 2 ;;
    --server-args) server_args=$2; shift 2 ;;
    --) shift; break ;;
    *) echo "pair.sh: unknown option '$1' (see the header of $0)" >&2; exit 2 ;;
  esac
done
[ $# -gt 0 ] || set -- -i
if [ "$(id -u)" != 0 ]; then echo "pair.sh: needs root (DPDK, a private namespace)" >&2; exit 1; fi
if [ ! -x "$bin" ]; then echo "pair.sh: $bin is missing: build first (meson setup build && ninja -C build)" >&2; exit 1; fi

# Re-run inside a private network namespace: nothing here may reach the host's.
if [ -z "${TCPFP_PAIR_IN_NS:-}" ]; then
  export TCPFP_PAIR_IN_NS=1
  exec unshare -n -- "$0" --server-config "$server_cfg" --client-config "$client_cfg" \
       --server-args "$server_args" -- "$@"
fi

tag=$$
dir=$(mktemp -d /tmp/tcpfp-pair.XXXXXX)
sock=$dir/memif.sock
log=${TCPFP_PAIR_LOG:-$dir/server.log}
mem=${TCPFP_PAIR_MEM:-2048}
srv_pid=""
cleanup() {
  if [ -n "$srv_pid" ] && kill -0 "$srv_pid" 2>/dev/null; then
    kill -INT "$srv_pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$srv_pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$srv_pid" 2>/dev/null || true
  fi
  rm -rf "$dir" /var/run/dpdk/pair_srv_$tag /var/run/dpdk/pair_cli_$tag
}
trap cleanup EXIT

# shellcheck disable=SC2086
"$bin" --lcores="${TCPFP_PAIR_SERVER_LCORES:-0@(0-1),1@1}" --no-huge -m "$mem" --no-pci \
  --file-prefix=pair_srv_$tag --vdev=net_memif0,role=server,socket=$sock,socket-abstract=no \
  -- --config "$server_cfg" $server_args >"$log" 2>&1 &
srv_pid=$!
# The socket exists from the server's EAL start, but its device accepts a
# client only once started: a client that connects in between is refused
# ("ID 0 not found"). So wait for the server's worker, which runs after the
# port started (the client also reconnects on its own; see dpdk_app/README.md).
for _ in $(seq 300); do
  grep -q "worker 0 on lcore .* running" "$log" 2>/dev/null && break
  kill -0 "$srv_pid" 2>/dev/null || break
  sleep 0.1
done
if ! grep -q "worker 0 on lcore .* running" "$log" 2>/dev/null; then
  echo "pair.sh: the server did not start; its log:" >&2; cat "$log" >&2; exit 1
fi

set +e
"$bin" --lcores="${TCPFP_PAIR_CLIENT_LCORES:-0@(0-1),1@0}" --no-huge -m "$mem" --no-pci \
  --file-prefix=pair_cli_$tag --vdev=net_memif0,role=client,socket=$sock,socket-abstract=no \
  -- --config "$client_cfg" "$@"
rc=$?
set -e
kill -INT "$srv_pid" 2>/dev/null || true
wait "$srv_pid" 2>/dev/null || true
srv_pid=""
if [ -z "${TCPFP_PAIR_LOG:-}" ]; then echo "=== server log ==="; cat "$log"; fi
exit $rc
