// The prompt's `show proxy`: the proxy's counters (dpdk_app/apps/proxy.hpp)
// per worker and in total, read from what each worker publishes every
// millisecond (LcoreStats), so no mailbox round trip. Registered through
// cli.cpp's table like the generator's commands.
#pragma once

#include "dpdk_app/cli/gen_commands.hpp"

namespace tcpfp::app::cli {

void add_proxy_commands(const GenHost& host, const GenAdd& add);

}  // namespace tcpfp::app::cli
