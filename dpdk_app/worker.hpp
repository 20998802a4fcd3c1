// One worker lcore: owns RX/TX queue 0 of the port, an Engine, ARP and the
// services. Runs until told to stop, then closes connections and drains.
#pragma once

#include <rte_mbuf.h>

#include <atomic>
#include <memory>

#include "dpdk_app/app_config.hpp"
#include "dpdk_app/arp.hpp"
#include "dpdk_app/clock.hpp"
#include "dpdk_app/drops.hpp"
#include "dpdk_app/port.hpp"
#include "dpdk_app/rte_memory_resource.hpp"
#include "dpdk_app/services.hpp"
#include "dpdk_app/tx.hpp"
#include "tcp/engine/engine.hpp"

namespace tcpfp::app {

class Worker {
public:
    Worker(const AppConfig& cfg, const Port& port);
    ~Worker();

    // Allocates the engine (may throw std::bad_alloc) on `socket`.
    void init(int socket);
    // The lcore's loop; returns after stop() once connections are drained.
    int run();
    void stop() { stop_.store(true, std::memory_order_relaxed); }
    bool finished() const { return finished_.load(std::memory_order_acquire); }

    void print_stats() const;

private:
    void rx_frame(rte_mbuf* m, tcp::Instant now);
    void rx_ipv4(rte_mbuf* m, std::size_t l2_len, std::span<const std::uint8_t> packet,
                 tcp::Instant now);
    void icmp_echo(rte_mbuf* m, std::size_t l2_len, tcp::Instant now);
    void drain_output(tcp::Instant now);
    bool is_local(wire::Ipv4Addr a) const;

    const AppConfig& cfg_;
    const Port& port_;
    AppCounters counters_;
    Tx tx_;
    Arp arp_;
    TscClock clock_;
    std::unique_ptr<RteMemoryResource> mr_;
    std::unique_ptr<tcp::Engine> engine_;
    std::unique_ptr<Services> services_;
    std::uint16_t ip_id_ = 0;
    std::atomic<bool> stop_{false};
    std::atomic<bool> finished_{false};
    std::int64_t idle_baseline_ = 0;
};

}  // namespace tcpfp::app
