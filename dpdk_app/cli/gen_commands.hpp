// The prompt's traffic-generator commands (start/stop/wait/show/expect gen),
// kept apart from cli.cpp: cli.cpp hands over its mailbox call, its failure
// report and its command table's `add`, and the commands compile like the
// others (help, completion, usage on bad arguments).
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "dpdk_app/app_config.hpp"
#include "dpdk_app/cli/mailbox.hpp"
#include "dpdk_app/shared.hpp"
#include "tcp/wire/addr.hpp"

namespace tcpfp::app::cli {

struct GenHost {
    const AppConfig* cfg = nullptr;
    Shared* shared = nullptr;
    const std::atomic<int>* stop = nullptr;
    // Sends a request to a worker and waits for the reply (false: reported).
    std::function<bool(unsigned worker, std::unique_ptr<Request>& r)> call;
    // Marks the current command failed, with the reason.
    std::function<void(const std::string& why)> fail;
};

// A parsed command line, token by token (as cli.cpp's spec strings number them).
struct GenArgs {
    std::array<std::string, 10> s;
    std::array<std::uint32_t, 10> n{};
    std::string rest;
};

using GenAdd = std::function<void(const char* spec, const char* help,
                                  std::function<void(const GenArgs&)> run)>;

// Registers the commands through `add`; `host` is kept for the session.
void add_gen_commands(const GenHost& host, const GenAdd& add);

// Shared by the generator and flood commands: "a.b.c.d:port" (port 1..65535).
bool parse_endpoint(const std::string& s, wire::Ipv4Addr& a, std::uint16_t& port);
// Resolves `raddr`'s next hop on every worker (the first SYNs would otherwise
// wait in ARP's short queue); on timeout (3 s) fails `command` with why.
bool resolve_next_hop(const GenHost& host, wire::Ipv4Addr raddr, const char* command);

// At the prompt's end: stops a running generator and its once-per-second line.
void gen_shutdown();

}  // namespace tcpfp::app::cli
