// The worker's mbuf ledger and TX batching. Every mbuf the worker holds
// (received or allocated) is counted here until it is freed or handed to
// the NIC, so `held()` returns to its idle baseline (ARP-queued packets
// only) once traffic stops: a leak shows as a number that keeps rising.
#pragma once

#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include <algorithm>
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
          max_backlog_(backlog_bound(pool)),
          impair_(impair, 0x7f4a7c15u + queue) {
        pending_.reserve(burst + max_backlog_ + 1);
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
    // An mbuf to chain behind one already held: the ledger counts a chain
    // once, by its first mbuf, and freeing or sending the first releases it all.
    rte_mbuf* alloc_continuation() {
        rte_mbuf* m = rte_pktmbuf_alloc(pool_);
        if (m == nullptr) counters_.drop(AppDrop::tx_no_mbuf);
        return m;
    }
    // Payload bytes one of our mbufs holds behind its headroom.
    std::uint32_t mbuf_room() const {
        return pool_ == nullptr ? 0 : rte_pktmbuf_data_room_size(pool_) - RTE_PKTMBUF_HEADROOM;
    }
    void free(rte_mbuf* m) {
        rte_pktmbuf_free(m);
        --held_;
    }
    void drop(rte_mbuf* m, AppDrop why) {
        counters_.drop(why);
        free(m);
    }
    // Frames longer than this are refused here, with their own reason: a
    // PMD may reject them silently or take the rest of the burst down too.
    void set_max_frame(std::uint32_t bytes) { max_frame_ = bytes; }
    void send(rte_mbuf* m) {
        // A super-segment for the port's TSO is larger on purpose.
        if (rte_pktmbuf_pkt_len(m) > max_frame_ && (m->ol_flags & RTE_MBUF_F_TX_TCP_SEG) == 0) {
            return drop(m, AppDrop::tx_oversize);
        }
        pending_.push_back(m);
        if (pending_.size() >= burst_ + backlog_) flush();
    }
    void flush() {
        if (impair_.enabled()) pass_impairment();
        if (pending_.empty()) return;
        if (port_held_) return keep_for_restart();
        send_pending();
    }
    // While the link watcher restarts the port (dpdk_app/link.hpp) the
    // worker must not call the PMD: frames wait, as for a full ring.
    void hold_port(bool held) { port_held_ = held; }

private:
    // The backlog (the first backlog_ frames) passed the stage already: only
    // frames new since the last flush enter it, or a deferred frame could be
    // lost or delayed twice.
    void pass_impairment() {
        const std::uint64_t now = rte_rdtsc();
        for (std::size_t i = backlog_; i < pending_.size(); ++i) {
            if (!impair_.admit(pending_[i], now)) drop(pending_[i], AppDrop::impair_loss);
        }
        pending_.resize(backlog_);
        impair_.release(now, [&](rte_mbuf* m) { pending_.push_back(m); });
    }
    // A full TX ring is usually momentary (the NIC frees descriptors as it
    // sends): retry a little, then keep up to max_backlog_ frames for the
    // next flush, which comes on the next loop iteration. Freeing them at
    // once would turn a burst of closes into a burst of retransmissions.
    // At most 1024 frames wait, and never more than an eighth of the pool:
    // a backlog that empties the pool leaves RX no mbufs, so a memif peer's
    // ring stays full, its own backlog empties its pool the same way, and
    // neither side moves again (a deadlock by exhaustion; memif's RX leaves
    // descriptors in the ring when an allocation fails and counts nothing).
    static std::size_t backlog_bound(const rte_mempool* pool) {
        constexpr std::size_t kMaxBacklog = 1024;
        return pool == nullptr ? kMaxBacklog : std::min<std::size_t>(kMaxBacklog, pool->size / 8);
    }
    void send_pending() {
        constexpr int kRetries = 4;
        std::size_t done = 0;
        for (int attempt = 0; attempt < kRetries && done < pending_.size(); ++attempt) {
            const auto n = static_cast<std::uint16_t>(std::min<std::size_t>(pending_.size() - done, 0xffff));
            const std::uint16_t sent = rte_eth_tx_burst(port_, queue_, pending_.data() + done, n);
            held_ -= sent;
            counters_.tx_packets += sent;
            done += sent;
            if (sent == 0 && attempt > 0) break;
        }
        std::size_t keep = pending_.size() - done;
        for (std::size_t i = done + std::min(keep, max_backlog_); i < pending_.size(); ++i) {
            drop(pending_[i], AppDrop::tx_ring_full);
        }
        keep = std::min(keep, max_backlog_);
        // Count each frame once, when a full ring first defers it: the
        // backlog's older frames (the first backlog_) were counted before.
        const std::size_t first_new = std::max<std::size_t>(done, backlog_);
        if (done + keep > first_new) counters_.tx_deferred += done + keep - first_new;
        std::copy(pending_.begin() + static_cast<std::ptrdiff_t>(done),
                  pending_.begin() + static_cast<std::ptrdiff_t>(done + keep), pending_.begin());
        pending_.resize(keep);
        backlog_ = static_cast<std::uint32_t>(keep);
    }

    // The port is held: keep what the backlog takes, free the rest.
    void keep_for_restart() {
        const std::size_t cap = max_backlog_;
        for (std::size_t i = cap; i < pending_.size(); ++i) drop(pending_[i], AppDrop::tx_link_down);
        if (pending_.size() > cap) pending_.resize(cap);
        backlog_ = static_cast<std::uint32_t>(pending_.size());
    }

public:
    std::int64_t held() const { return held_; }
    // Frames waiting for room in the TX ring (part of held()).
    std::int64_t queued() const { return static_cast<std::int64_t>(pending_.size()); }
    // At shutdown: frames still in the impairment delay line go out now.
    void release_impaired() {
        impair_.release(UINT64_MAX, [&](rte_mbuf* m) { pending_.push_back(m); });
        if (!pending_.empty() && !port_held_) send_pending();
        // Whatever the ring still refuses at exit is freed, counted.
        for (rte_mbuf* m : pending_) drop(m, port_held_ ? AppDrop::tx_link_down : AppDrop::tx_ring_full);
        pending_.clear();
        backlog_ = 0;
    }

private:
    std::uint16_t port_;
    std::uint16_t queue_;
    rte_mempool* pool_;
    std::uint32_t burst_;
    AppCounters& counters_;
    std::vector<rte_mbuf*> pending_;  // the backlog first, then this burst
    std::uint32_t backlog_ = 0;       // frames a full ring refused last time
    std::uint32_t max_frame_ = UINT32_MAX;
    bool port_held_ = false;
    std::size_t max_backlog_;
    std::int64_t held_ = 0;
    Impair impair_;
};

}  // namespace tcpfp::app
