#!/usr/bin/env bash
# Runs a command (default: a shell) inside the network namespace that
# scripts/run.sh created, where tcpfp answers at 172.16.48.2 and .13:
#   scripts/tcpfp-ns.sh curl http://172.16.48.13/
#   scripts/tcpfp-ns.sh ping -c 3 172.16.48.2
#   scripts/tcpfp-ns.sh nc 172.16.48.2 7        # echo service
set -euo pipefail
ns=${TCPFP_NS:-tcpfp}
if ! ip netns list | grep -qw "$ns"; then
  echo "tcpfp-ns: namespace '$ns' does not exist; start scripts/run.sh first (from a terminal)" >&2
  exit 1
fi
if [ $# -eq 0 ]; then
  set -- bash
fi
exec ip netns exec "$ns" "$@"
