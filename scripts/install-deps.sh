#!/usr/bin/env bash
# Installs every Debian package tcpfp builds, tests or runs with.
# Idempotent: runs apt-get (and apt-get update) only when something is missing.
set -euo pipefail

packages=(
  # build
  build-essential g++ meson ninja-build pkg-config
  # DPDK 22.11 and its tools (dpdk-devbind.py, dpdk-hugepages.py, dpdk-dumpcap)
  libdpdk-dev dpdk-dev dpdk libnuma-dev libpcap-dev
  # tests and benchmarks
  libgtest-dev libgmock-dev googletest libbenchmark-dev
  # fuzzing (build-fuzz/): clang with libFuzzer and the sanitizer runtimes
  clang libclang-rt-14-dev llvm
  # end-to-end harness: namespaces, capture, Linux peers
  iproute2 tshark netcat-openbsd socat curl iputils-ping python3
  # e2e/icmp: Linux answers a SYN with ICMP port unreachable (nft reject)
  nftables
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
$SUDO apt-get install -y --no-install-recommends "${missing[@]}"
