#!/usr/bin/env bash
# Installs every Debian package tcpfp builds, tests or runs with.
# Idempotent: runs apt-get (and apt-get update) only when something is missing.
set -euo pipefail

packages=(
  # build
  build-essential g++ meson ninja-build pkg-config
  # DPDK 22.11 and its tools (dpdk-devbind.py, dpdk-hugepages.py, dpdk-dumpcap)
  libdpdk-dev dpdk-dev dpdk libnuma-dev libpcap-dev
  # net_af_xdp (scripts/run.sh --port af_xdp): the PMD, and libbpf, which tcpfp
  # asks for the XDP mode (both already pulled in by libdpdk-dev; named here)
  librte-net-af-xdp23 libbpf-dev
  # tests and benchmarks
  libgtest-dev libgmock-dev googletest libbenchmark-dev
  # fuzzing (build-fuzz/): clang with libFuzzer and the sanitizer runtimes
  clang libclang-rt-14-dev llvm
  # end-to-end harness: namespaces, capture, Linux peers
  iproute2 tshark netcat-openbsd socat curl iputils-ping python3
  # e2e/icmp: Linux answers a SYN with ICMP port unreachable (nft reject)
  nftables
  # e2e/nginx_gen: a real HTTP server for the load tester, run in the test's namespace
  nginx-light
  # scripts/bench.sh: kernel-side load generators, lo offload switches, the plot
  iperf3 wrk ethtool gnuplot-nox
  # scripts/stress-ci.sh: the CPU hog
  stress-ng
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  SUDO=sudo
else
  SUDO=
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# tshark asks whether non-root users may capture; answer for it.
echo "wireshark-common wireshark-common/install-setuid boolean false" | $SUDO debconf-set-selections
$SUDO apt-get update
# Installing nginx would start its default site on this host's port 80 (and
# fail if that port is taken); the e2e test runs its own nginx in a private
# namespace. Services may not start while this install runs (policy-rc.d,
# as Debian's container images do), unless a policy is already in place.
policy=/usr/sbin/policy-rc.d
if [[ " ${missing[*]} " == *" nginx-light "* && ! -e $policy ]]; then
  printf '#!/bin/sh\n# install-deps.sh: no service starts during the install\nexit 101\n' | $SUDO tee $policy >/dev/null
  $SUDO chmod 755 $policy
  trap '$SUDO rm -f $policy' EXIT
fi
$SUDO apt-get install -y --no-install-recommends "${missing[@]}"
