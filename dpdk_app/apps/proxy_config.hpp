// The [proxy] section of the configuration (config/README.md): a plain
// struct, so the proxy app (dpdk_app/apps/proxy.hpp) and the INI loader
// (dpdk_app/app_config.hpp) share it without either depending on the other.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "tcp/wire/addr.hpp"

namespace tcpfp::app {

struct Endpoint {
    wire::Ipv4Addr addr;
    std::uint16_t port = 0;
};

struct ProxyConfig {
    static constexpr std::size_t kMaxBackends = 64;
    std::optional<Endpoint> listen;  // unset: no proxy
    std::vector<Endpoint> backends;  // round robin, in this order
    std::uint32_t connect_timeout_ms = 3000;

    bool enabled() const { return listen.has_value(); }
};

}  // namespace tcpfp::app
