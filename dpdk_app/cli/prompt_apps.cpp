#include "dpdk_app/cli/prompt_apps.hpp"

#include "dpdk_app/arp.hpp"
#include "dpdk_app/tx.hpp"
#include "tcp/wire/ethernet.hpp"

namespace tcpfp::app::cli {

namespace {

// The agent's CommandSource: one dequeue from the worker's SPSC mailbox.
Command* take_from_ring(void* ring) {
    void* p = nullptr;
    if (rte_ring_sc_dequeue(static_cast<rte_ring*>(ring), &p) != 0) return nullptr;
    return static_cast<Command*>(p);
}

}  // namespace

std::string WorkerPort::neighbor_table() const { return arp_.dump(); }

std::size_t WorkerPort::acquire(std::span<std::uint8_t*> bufs, std::size_t len) {
    held_count_ = 0;
    const std::size_t want = std::min(bufs.size(), kMaxBurst);
    while (held_count_ < want) {
        rte_mbuf* m = tx_.alloc();  // counted as tx_no_mbuf by the ledger when the pool is dry
        if (m == nullptr) break;
        m->data_len = static_cast<std::uint16_t>(wire::kEthHeaderLen + len);
        m->pkt_len = m->data_len;
        m->ol_flags = 0;  // the app's checksums are complete: no offload asked
        bufs[held_count_] = rte_pktmbuf_mtod(m, std::uint8_t*) + wire::kEthHeaderLen;
        held_[held_count_++] = m;
    }
    return held_count_;
}

void WorkerPort::send(std::size_t n, wire::Ipv4Addr dst, std::uint64_t now_ms) {
    for (std::size_t i = 0; i < held_count_; ++i) {
        // Ethernet header from ARP, then the TX burst; what was not built goes back.
        if (i < n) arp_.output(held_[i], dst, now_ms);
        else tx_.free(held_[i]);
    }
    held_count_ = 0;
}

PromptApps::PromptApps(unsigned worker, rte_ring* mailbox, Arp& arp, Tx& tx, bool& verbose,
                       Responders* responders)
    : port_(arp, tx, verbose),
      agent_(worker, mailbox != nullptr ? CommandSource{&take_from_ring, mailbox} : CommandSource{}),
      gen_(worker),
      flood_(worker, &port_) {
    agent_.attach(&gen_, &flood_, &port_, responders);
}

void PromptApps::add_to(Host& host) {
    host.add(agent_, true);  // polled until a quiet spell; the generator and the
    host.add(gen_);          // flood only while they run (they turn it on)
    host.add(flood_);
}

}  // namespace tcpfp::app::cli
