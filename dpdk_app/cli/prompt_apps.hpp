// The prompt's apps on one worker (the agent, the traffic generator and the
// SYN flood, dpdk_app/apps/) and the DPDK side they reach through narrow
// interfaces: the mailbox (an rte_ring of Command pointers), the flood's
// frames (mbufs from the worker's TX ledger, Ethernet header from its ARP)
// and the worker's tools (the ARP table's text, `set verbose`). The worker
// makes one and adds its apps to its Host.
#pragma once

#include <rte_mbuf.h>
#include <rte_ring.h>

#include <cstdint>
#include <string>

#include "dpdk_app/apps/agent.hpp"
#include "dpdk_app/apps/flood.hpp"
#include "dpdk_app/apps/gen.hpp"
#include "dpdk_app/apps/host.hpp"

namespace tcpfp::app {
class Arp;
class Tx;
}  // namespace tcpfp::app

namespace tcpfp::app::cli {

class WorkerPort : public WorkerTools, public FrameSink {
public:
    WorkerPort(Arp& arp, Tx& tx, bool& verbose) : arp_(arp), tx_(tx), verbose_(verbose) {}
    std::string neighbor_table() const override;
    void set_verbose(bool on) override { verbose_ = on; }
    std::size_t acquire(std::span<std::uint8_t*> bufs, std::size_t len) override;
    void send(std::size_t n, wire::Ipv4Addr dst, std::uint64_t now_ms) override;

private:
    static constexpr std::size_t kMaxBurst = 256;
    Arp& arp_;
    Tx& tx_;
    bool& verbose_;
    rte_mbuf* held_[kMaxBurst] = {};
    std::size_t held_count_ = 0;
};

class PromptApps {
public:
    // `mailbox`: the worker's ring from the prompt (nullptr: no prompt).
    PromptApps(unsigned worker, rte_ring* mailbox, Arp& arp, Tx& tx, bool& verbose,
               Responders* responders);
    PromptApps(const PromptApps&) = delete;
    PromptApps& operator=(const PromptApps&) = delete;
    // Adds the agent, the generator and the flood (each polled every iteration).
    void add_to(Host& host);
    void set_proxy(Proxy* proxy) { agent_.set_proxy(proxy); }

private:
    WorkerPort port_;
    Agent agent_;
    Generator gen_;
    SynFlood flood_;
};

}  // namespace tcpfp::app::cli
