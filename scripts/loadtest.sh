#!/usr/bin/env bash
# tcpfp's load tester against nginx, with nothing leaving the machine:
#   - a private network namespace `tcpfp-load`;
#   - tcpfp on net_tap (no hugepages, config/tap.ini) owns 172.16.48.2 and .13;
#   - nginx (Debian's nginx-light) serves 172.16.48.1:80 on the tap's kernel
#     side: /, /1k, /16k and /1m (files of that many bytes), /missing is a 404.
#
#   scripts/loadtest.sh               # from a terminal: tcpfp's prompt, then type e.g.
#                                     #   start gen web crr 172.16.48.1:80 conns 32 rate 2000/s ramp 2 duration 10
#                                     #   wait gen web
#   scripts/loadtest.sh FILE.cmd      # run a command script (default without a terminal:
#                                     # scripts/nginx-demo.cmd); exit status = the script's
# nginx's access log is printed at the end (its last lines) and kept.
set -euo pipefail
cd "$(dirname "$0")/.."

NS=${TCPFP_NS:-tcpfp-load}
IFACE=tcpfp0
PEER=172.16.48.1
KERNEL_MAC=02:00:00:00:00:01
WORK=$(mktemp -d /tmp/tcpfp-load.XXXXXX)
script=${1:-}
[ -n "$script" ] || [ -t 0 ] || script=scripts/nginx-demo.cmd

if [ "$(id -u)" -ne 0 ]; then
  echo "loadtest.sh: needs root (network namespaces, net_tap); try: sudo $0" >&2
  exit 1
fi
scripts/install-deps.sh
[ -f build/build.ninja ] || meson setup build
ninja -C build dpdk_app/tcpfp >/dev/null

nginx_pid=
cleanup() {
  set +e
  [ -n "$nginx_pid" ] && kill "$nginx_pid" 2>/dev/null && wait "$nginx_pid" 2>/dev/null
  ip netns del "$NS" 2>/dev/null
  echo "loadtest.sh: namespace $NS removed; nginx's logs in $WORK"
}
trap cleanup EXIT

# nginx: its own config, pid file, logs and docroot under $WORK.
mkdir -p "$WORK/root" "$WORK/tmp"
chmod 755 "$WORK" "$WORK/root"  # nginx's worker (www-data) reads the docroot: mktemp made it 0700
echo "hello from nginx" >"$WORK/root/index.html"
for n in 1k:1024 16k:16384 1m:1048576; do head -c "${n#*:}" /dev/urandom >"$WORK/root/${n%%:*}"; done
chmod 644 "$WORK"/root/*
cat >"$WORK/nginx.conf" <<CONF
daemon off;
worker_processes 1;
pid $WORK/nginx.pid;
error_log $WORK/error.log warn;
events { worker_connections 4096; }
http {
  access_log $WORK/access.log;
  client_body_temp_path $WORK/tmp; proxy_temp_path $WORK/tmp; fastcgi_temp_path $WORK/tmp;
  uwsgi_temp_path $WORK/tmp; scgi_temp_path $WORK/tmp;
  keepalive_requests 1000000;
  log_not_found off;
  server { listen $PEER:80 reuseport; root $WORK/root; }
}
CONF

ip netns del "$NS" 2>/dev/null || true
ip netns add "$NS"
ip netns exec "$NS" ip link set lo up
# nginx binds 172.16.48.1 before the tap (which tcpfp creates) has it.
ip netns exec "$NS" sysctl -qw net.ipv4.ip_nonlocal_bind=1
ip netns exec "$NS" nginx -c "$WORK/nginx.conf" -e "$WORK/error.log" &
nginx_pid=$!
for _ in $(seq 100); do ip netns exec "$NS" ss -ltn | grep -q "$PEER:80" && break; sleep 0.05; done

# The tap's kernel side gets its MAC and address once tcpfp's worker runs
# (net_tap configures the interface until then).
LOG=$WORK/tcpfp.log
: >"$LOG"
(
  for _ in $(seq 600); do grep -q "worker 0 on lcore" "$LOG" && break; sleep 0.05; done
  ip netns exec "$NS" ip link set "$IFACE" address "$KERNEL_MAC"
  ip netns exec "$NS" ip addr add "$PEER/24" dev "$IFACE"
  ip netns exec "$NS" ip link set "$IFACE" up
) &

args=(-i)
[ -n "$script" ] && args=(--cmdline-file "$script")
echo "== nginx at $PEER:80 in namespace $NS; tcpfp at 172.16.48.2 and .13 ($WORK)"
set +e
ip netns exec "$NS" build/dpdk_app/tcpfp -l 0-1 --no-huge -m 1024 --no-pci \
  --vdev=net_tap0,iface=$IFACE --file-prefix="tcpfp-load-$$" -- --config config/tap.ini "${args[@]}" \
  2>&1 | tee "$LOG"
rc=${PIPESTATUS[0]}
set -e
echo "== nginx access log: $(wc -l <"$WORK/access.log") requests; status classes:"
awk '{print $9}' "$WORK/access.log" | cut -c1 | sort | uniq -c | sed 's/$/xx/'
exit "$rc"
