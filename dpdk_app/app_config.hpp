// The program's configuration: an INI file (rte_cfgfile) turned into typed
// values, validated in full before EAL or any port is touched.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "dpdk_app/apps/proxy_config.hpp"
#include "dpdk_app/impair.hpp"
#include "tcp/engine/config.hpp"
#include "tcp/wire/addr.hpp"

namespace tcpfp::app {

struct IfAddress {
    wire::Ipv4Addr addr;
    std::uint8_t prefix = 24;

    bool same_subnet(wire::Ipv4Addr other) const {
        const std::uint32_t mask = prefix == 0 ? 0 : ~std::uint32_t{0} << (32 - prefix);
        return (addr.value & mask) == (other.value & mask);
    }
};

struct PortConfig {
    std::vector<IfAddress> addresses;  // the first is the primary
    std::optional<wire::Ipv4Addr> gateway;
    std::uint16_t mtu = 1500;
    std::optional<wire::MacAddr> mac;
    std::uint16_t rx_desc = 1024;
    std::uint16_t tx_desc = 1024;
    bool checksum_offload = true;  // used only when the port reports it
    // TCP segmentation offload: used only when the port reports it (with
    // chained mbufs) and TX checksum offload is in use.
    bool tso = true;
};

struct ArpConfig {
    std::uint32_t entry_ttl_ms = 60000;
    std::uint32_t retry_ms = 500;
    std::uint32_t give_up_ms = 3000;  // queued packets are dropped after this
    std::uint32_t queue = 64;         // packets waiting for resolution
};

struct ServicesConfig {
    bool echo = true;
    bool discard = true;
    bool http = true;
    bool chargen = true;  // TCP 19: sends until the peer closes (RFC 864)
    // SO_KEEPALIVE on every service's connections, timed by [engine]
    // keepalive_ms, keepalive_interval_ms and keepalive_count.
    bool keepalive = false;
    std::string http_body = "hello from tcpfp\n";
    // Request bodies (Content-Length) still arriving that each worker's HTTP
    // server can read at once; one more gets 503 and a close.
    std::uint32_t http_body_slots = 1024;
    bool rr = true;  // request/response with client-chosen sizes (dpdk_app/apps/rr.hpp)
    std::uint16_t rr_port = 5001;
    // The never-reading server (dpdk_app/apps/hold.hpp) on this port; 0: off.
    std::uint16_t hold_port = 0;
    bool seed_client = true;
    wire::Ipv4Addr seed_source = wire::Ipv4Addr::from_octets(172, 16, 48, 13);
    wire::Ipv4Addr seed_target = wire::Ipv4Addr::from_octets(172, 16, 48, 1);
    std::uint16_t seed_port = 5002;
    std::string seed_message = "my first tcp packet!";
};

// `[apps] run = NAME[:ARGS]`: an app from dpdk_app/apps/registry.cpp,
// started on every worker.
struct AppRun {
    std::string name;
    std::string args;
};

inline constexpr unsigned kMaxWorkers = 16;
// How flows reach their worker (dpdk_app/steering.hpp); auto: RSS when the
// port honours it, software otherwise.
enum class SteerChoice : std::uint8_t { automatic, rss, software };

struct AppConfig {
    std::string path;
    PortConfig port;
    unsigned workers = 1;
    SteerChoice steering = SteerChoice::automatic;
    std::uint32_t burst = 32;
    std::uint32_t mbufs = 8192;
    std::uint32_t mbuf_cache = 256;
    ArpConfig arp;
    tcp::EngineConfig engine;
    // Without hugepages, the engine's large tables on transparent huge pages
    // (dpdk_app/rte_memory_resource.hpp).
    bool transparent_hugepages = true;
    bool secret_set = false;  // [engine] secret given: otherwise random per run
    ServicesConfig services;
    std::vector<AppRun> apps;
    ImpairConfig impair;  // test-only loss/delay/reorder on RX and TX
    ProxyConfig proxy;    // [proxy]: off unless listen and backend are given
};

// Loads and validates `path`. On failure returns nullopt and sets `error`
// to "FILE: [section] key: problem".
std::optional<AppConfig> load_config(const std::string& path, std::string& error);

}  // namespace tcpfp::app
