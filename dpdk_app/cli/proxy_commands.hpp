// The prompt's `show proxy`: the proxy's counters (dpdk_app/apps/proxy.hpp)
// per worker and in total, read from what each worker publishes every
// millisecond (LcoreStats), so no mailbox round trip. Registered in the
// prompt's table like the other families (cli/prompt.hpp).
#pragma once

#include "dpdk_app/cli/prompt.hpp"

namespace tcpfp::app::cli {

void add_proxy_commands(PromptState& st);

}  // namespace tcpfp::app::cli
