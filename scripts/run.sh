#!/usr/bin/env bash
# The main job. Installs what is missing, builds, and runs tcpfp.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
if [ ! -f build/build.ninja ]; then
  meson setup build
fi
ninja -C build

exec build/dpdk_app/tcpfp --help
