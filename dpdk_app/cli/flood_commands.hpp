// The prompt's SYN flood commands (start/stop/wait/show flood, cli/flood.hpp),
// registered through cli.cpp's table like the generator's.
#pragma once

#include "dpdk_app/cli/gen_commands.hpp"

namespace tcpfp::app::cli {

// Registers the commands through `add`; `host` is kept for the session.
void add_flood_commands(const GenHost& host, const GenAdd& add);

// At the prompt's end: stops a running flood.
void flood_shutdown();

}  // namespace tcpfp::app::cli
