// The worker's mbuf ledger and TX batching. Every mbuf the worker holds
// (received or allocated) is counted here until it is freed or handed to
// the NIC, so `held()` returns to its idle baseline (ARP-queued packets
// only) once traffic stops: a leak shows as a number that keeps rising.
#pragma once

#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include <cstdint>
#include <vector>

#include "dpdk_app/drops.hpp"
#include "dpdk_app/impair.hpp"

namespace tcpfp::app {

class Tx {
public:
    Tx(std::uint16_t port, std::uint16_t queue, rte_mempool* pool, std::uint32_t burst,
       AppCounters& counters, const ImpairConfig& impair = {})
        : port_(port), queue_(queue), pool_(pool), burst_(burst), counters_(counters),
          impair_(impair, 0x7f4a7c15u + queue) {
        pending_.reserve(burst);
    }

    void received(std::uint16_t n) { held_ += n; }
    // An mbuf made elsewhere (rte_pktmbuf_copy) enters the ledger, or one
    // leaves it for another worker's ring (that worker counts it in).
    void adopt() { ++held_; }
    void handed_off(unsigned n) { held_ -= n; }
    rte_mbuf* alloc() {
        rte_mbuf* m = rte_pktmbuf_alloc(pool_);
        if (m == nullptr) {
            counters_.drop(AppDrop::tx_no_mbuf);
            return nullptr;
        }
        ++held_;
        return m;
    }
    void free(rte_mbuf* m) {
        rte_pktmbuf_free(m);
        --held_;
    }
    void drop(rte_mbuf* m, AppDrop why) {
        counters_.drop(why);
        free(m);
    }
    void send(rte_mbuf* m) {
        pending_.push_back(m);
        if (pending_.size() >= burst_) flush();
    }
    void flush() {
        if (impair_.enabled()) pass_impairment();
        if (pending_.empty()) return;
        send_pending();
    }

private:
    void pass_impairment() {
        const std::uint64_t now = rte_rdtsc();
        for (rte_mbuf* m : pending_) {
            if (!impair_.admit(m, now)) drop(m, AppDrop::impair_loss);
        }
        pending_.clear();
        impair_.release(now, [&](rte_mbuf* m) { pending_.push_back(m); });
    }
    void send_pending() {
        const auto n = static_cast<std::uint16_t>(pending_.size());
        const std::uint16_t sent = rte_eth_tx_burst(port_, queue_, pending_.data(), n);
        held_ -= sent;
        counters_.tx_packets += sent;
        for (std::uint16_t i = sent; i < n; ++i) drop(pending_[i], AppDrop::tx_ring_full);
        pending_.clear();
    }

public:
    std::int64_t held() const { return held_; }
    // At shutdown: frames still in the impairment delay line go out now.
    void release_impaired() {
        impair_.release(UINT64_MAX, [&](rte_mbuf* m) { pending_.push_back(m); });
        if (!pending_.empty()) send_pending();
    }

private:
    std::uint16_t port_;
    std::uint16_t queue_;
    rte_mempool* pool_;
    std::uint32_t burst_;
    AppCounters& counters_;
    std::vector<rte_mbuf*> pending_;
    std::int64_t held_ = 0;
    Impair impair_;
};

}  // namespace tcpfp::app
