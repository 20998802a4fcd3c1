// ARP (RFC 826) for the port: answers requests for every local address,
// resolves next hops into a small cache with expiry, and holds a bounded
// queue of packets waiting for a reply.
#pragma once

#include <rte_mbuf.h>

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "dpdk_app/app_config.hpp"
#include "dpdk_app/drops.hpp"
#include "dpdk_app/tx.hpp"
#include "tcp/wire/arp.hpp"
#include "tcp/wire/ethernet.hpp"

namespace tcpfp::app {

class Arp {
public:
    Arp(const ArpConfig& cfg, const PortConfig& port, wire::MacAddr own, Tx& tx,
        AppCounters& counters);

    // An ARP frame; consumes `m` (replies are built in place). With
    // `answer` false (a copy from the worker that answers) it only learns.
    void input(rte_mbuf* m, const wire::EthernetFrame& eth, std::uint64_t now_ms,
               bool answer = true);
    // An IPv4 packet in `m` after 14 bytes left for the Ethernet header:
    // routes it, fills the header and sends it, or queues it. Consumes `m`.
    void output(rte_mbuf* m, wire::Ipv4Addr dst, std::uint64_t now_ms);
    // Retries outstanding requests and expires queued packets and entries.
    void tick(std::uint64_t now_ms);
    // Gratuitous ARP for every local address.
    void announce();
    // True when `dst`'s next hop is resolved; otherwise starts resolving it.
    bool probe(wire::Ipv4Addr dst, std::uint64_t now_ms);
    // Frees every queued packet (at shutdown).
    void release_all();
    std::size_t queued() const { return queue_.size(); }
    // The cache as text, one entry a line (the prompt's `show arp`).
    std::string dump() const;

private:
    struct Entry {
        wire::Ipv4Addr ip;
        wire::MacAddr mac;
        bool resolved = false;
        std::uint64_t expires_ms = 0;      // resolved entries
        std::uint64_t last_request_ms = 0;  // unresolved entries
        std::uint64_t first_request_ms = 0;
    };
    struct Waiting {
        rte_mbuf* m;
        wire::Ipv4Addr next_hop;
        std::uint64_t since_ms;
    };

    // The next hop for `dst` into `hop`; false without a route. (Not an
    // std::optional: GCC built that in memory with two stores and read it
    // back with one wider load, a store-forwarding stall on every frame
    // sent to a new destination, session 22.)
    bool next_hop(wire::Ipv4Addr dst, wire::Ipv4Addr& hop) const;
    wire::Ipv4Addr source_for(wire::Ipv4Addr next_hop) const;
    bool is_local(wire::Ipv4Addr a) const;
    Entry* find(wire::Ipv4Addr ip);
    Entry& insert(wire::Ipv4Addr ip);
    void learn(wire::Ipv4Addr ip, const wire::MacAddr& mac, std::uint64_t now_ms, bool create);
    void send_arp(wire::ArpOp op, wire::Ipv4Addr sender_ip, const wire::MacAddr& dst_mac,
                  const wire::MacAddr& target_mac, wire::Ipv4Addr target_ip);
    void request(Entry& e, std::uint64_t now_ms);
    void start_resolving(Entry& e, std::uint64_t now_ms);
    void put_header(rte_mbuf* m, const wire::MacAddr& dst);

    ArpConfig cfg_;
    const PortConfig& port_;
    wire::MacAddr own_;
    Tx& tx_;
    AppCounters& counters_;
    std::vector<Entry> cache_;
    std::vector<Waiting> queue_;
    // Where find() last met each address, by a hash of it (cache_ position
    // + 1; 0: none): a lookup is one probe, not a scan of the cache (the
    // pair's server talks to 64 client addresses, and the scan was 4 % of
    // its worker in CPS). Checked against the entry, so a slot left stale by
    // an eviction or an erase costs one scan, never a wrong MAC.
    std::array<std::uint16_t, 256> index_{};
    // The destination output() last sent to, its next hop and the position
    // (+ 1; 0: none) of that hop's entry.
    struct LastSent {
        wire::Ipv4Addr dst;
        wire::Ipv4Addr hop;
        std::uint16_t slot = 0;
    };
    LastSent last_;
};

}  // namespace tcpfp::app
