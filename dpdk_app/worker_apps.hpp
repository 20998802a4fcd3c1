// The apps one worker runs on its Host (dpdk_app/apps/host.hpp), built from
// the configuration in one place: the built-in servers, the seed client
// (worker 0), and the prompt's agent. Also the worker's side of the app
// API: ARP as Neighbors, rte_log as the apps' log.
#pragma once

#include <cstdio>
#include <memory>
#include <optional>
#include <vector>

#include "dpdk_app/app_config.hpp"
#include "dpdk_app/apps/host.hpp"
#include "dpdk_app/apps/proxy.hpp"
#include "dpdk_app/apps/responders.hpp"
#include "dpdk_app/apps/seed.hpp"

namespace tcpfp::app {

class Arp;
struct LcoreStats;

class ArpNeighbors : public Neighbors {
public:
    explicit ArpNeighbors(Arp& arp) : arp_(arp) {}
    bool resolve(wire::Ipv4Addr addr, std::uint64_t now_ms) override;

private:
    Arp& arp_;
};

// rte_log under tcpfp.seed for the seed client, tcpfp.svc otherwise.
void log_to_rte(void* ctx, LogLevel level, const char* app, const char* text);

struct WorkerApps {
    // Adds the configured apps to `host` (worker 0 also runs the seed client).
    WorkerApps(const AppConfig& cfg, unsigned worker, Host& host);
    void print_stats(unsigned worker) const;
    void print_http_rr(unsigned worker) const;
    // The figures the prompt reads without a round trip (the proxy's).
    void publish(LcoreStats& out) const;

    // Every server runs, for the prompt's `listen ... KIND`; one that
    // [services] turns off has no listener of its own.
    Echo echo;
    Discard discard;
    Chargen chargen;
    Http http;
    Hold hold;
    Rr rr;
    Responders responders{&echo, &discard, &chargen, &http, &hold, &rr};
    std::optional<SeedClient> seed;
    std::optional<Proxy> proxy;  // [proxy]: every worker runs one
    std::vector<std::unique_ptr<App>> configured;  // [apps] run
};

}  // namespace tcpfp::app
