// ARP's resolver cache (dpdk_app/arp.hpp) against a real ethdev (net_ring):
// every IPv4 frame Arp::output sends carries the MAC its next hop
// announced, through the hashed index in front of the cache, evictions of
// a full cache and erased entries included. The peers are made up here
// (172.16.0.0/16 on an in-process ring; nothing reaches a network).
#include <gtest/gtest.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include <algorithm>
#include <string>
#include <vector>

#include "dpdk_app/arp.hpp"
#include "ring_port.hpp"
#include "tcp/wire/arp.hpp"
#include "tcp/wire/ethernet.hpp"

namespace tcpfp::app {
namespace {

const wire::MacAddr kOwn{{0x02, 0, 0, 0, 0, 0x01}};
constexpr wire::Ipv4Addr kOwnIp = wire::Ipv4Addr::from_octets(172, 16, 0, 1);

wire::Ipv4Addr peer_ip(unsigned i) {
    return wire::Ipv4Addr::from_octets(172, 16, static_cast<std::uint8_t>(1 + i / 250),
                                       static_cast<std::uint8_t>(1 + i % 250));
}
wire::MacAddr peer_mac(unsigned i) {
    return wire::MacAddr{{0x02, 0xaa, 0, 0, static_cast<std::uint8_t>(i >> 8), static_cast<std::uint8_t>(i)}};
}

// net_ring keeps a port's name until the process ends: one per test.
std::string fresh_name() {
    static unsigned n = 0;
    return "arp" + std::to_string(n++);
}

struct ArpFixture : ::testing::Test {
    std::string name = fresh_name();
    RingPort port{name.c_str(), 2048};
    AppCounters counters;
    Tx tx{port.id, 0, port.pool, 32, counters};
    ArpConfig cfg;
    PortConfig port_cfg;
    std::unique_ptr<Arp> arp;

    void SetUp() override {
        port_cfg.addresses = {{kOwnIp, 16}};
        arp = std::make_unique<Arp>(cfg, port_cfg, kOwn, tx, counters);
    }
    void TearDown() override {
        arp->release_all();
        tx.release_impaired();
        port.drain();
    }

    // Peer i asks for our address: we learn its MAC (and answer).
    void announce(unsigned i, std::uint64_t now_ms) {
        rte_mbuf* m = tx.alloc();
        ASSERT_NE(m, nullptr);
        auto* p = reinterpret_cast<std::uint8_t*>(rte_pktmbuf_append(m, 60));
        std::fill(p, p + 60, std::uint8_t{0});
        (void)wire::emit_ethernet({wire::MacAddr::broadcast(), peer_mac(i), wire::ethertype::arp},
                                  {p, wire::kEthHeaderLen});
        (void)wire::emit_arp({wire::ArpOp::request, peer_mac(i), peer_ip(i), {}, kOwnIp},
                             {p + wire::kEthHeaderLen, wire::kArpLen});
        auto eth = wire::parse_ethernet({p, 60});
        ASSERT_TRUE(eth.ok());
        arp->input(m, *eth, now_ms);
        flush_and_read();
    }

    // The frames the port sent since the last call.
    std::vector<std::vector<std::uint8_t>> flush_and_read() {
        tx.flush();
        std::vector<std::vector<std::uint8_t>> out;
        rte_mbuf* m[kRingSlots];
        const unsigned n = rte_ring_dequeue_burst(port.wire, reinterpret_cast<void**>(m), kRingSlots, nullptr);
        for (unsigned k = 0; k < n; ++k) {
            auto* d = rte_pktmbuf_mtod(m[k], std::uint8_t*);
            out.emplace_back(d, d + rte_pktmbuf_data_len(m[k]));
        }
        rte_pktmbuf_free_bulk(m, n);
        return out;
    }

    // An IPv4 packet to peer i through Arp::output: the frame it sent, or
    // nothing when the packet was queued for resolution.
    std::vector<std::vector<std::uint8_t>> send_to(unsigned i, std::uint64_t now_ms) {
        rte_mbuf* m = tx.alloc();
        EXPECT_NE(m, nullptr);
        auto* p = reinterpret_cast<std::uint8_t*>(rte_pktmbuf_append(m, 60));
        std::fill(p, p + 60, std::uint8_t{0x45});
        arp->output(m, peer_ip(i), now_ms);
        return flush_and_read();
    }

    // True when peer i's packet went out at once to peer i's MAC.
    bool delivered_to(unsigned i, std::uint64_t now_ms) {
        const auto frames = send_to(i, now_ms);
        if (frames.size() != 1) return false;
        auto eth = wire::parse_ethernet(frames[0]);
        return eth.ok() && eth->ethertype == wire::ethertype::ipv4 && eth->dst == peer_mac(i) &&
               eth->src == kOwn;
    }
};

// 200 peers, each looked up many times in a scrambled order: every frame
// goes to its own peer's MAC.
TEST_F(ArpFixture, EveryFrameGoesToItsNextHopsMac) {
    constexpr unsigned kPeers = 200;
    for (unsigned i = 0; i < kPeers; ++i) announce(i, 1);
    unsigned wrong = 0;
    for (unsigned round = 0; round < 5; ++round) {
        for (unsigned k = 0; k < kPeers; ++k) {
            const unsigned i = (k * 73 + round * 31) % kPeers;
            wrong += !delivered_to(i, 2);
        }
    }
    EXPECT_EQ(wrong, 0u);
    EXPECT_EQ(tx.held(), 0);
}

// 300 peers into a 256-entry cache: the 44 learned first are evicted for
// the last ones, their index slots left pointing at entries that now hold
// other addresses. Those still cached are reached at their own MAC; the
// evicted are resolved again (a request goes out, the packet waits).
TEST_F(ArpFixture, EvictionsNeverSendToAnotherPeersMac) {
    constexpr unsigned kPeers = 300;
    for (unsigned i = 0; i < kPeers; ++i) {
        announce(i, 1 + i);  // later peers expire later: the first are evicted
        if (i < 60) {
            EXPECT_TRUE(delivered_to(i, 1 + i));  // each put in the index before it is evicted
        }
    }
    unsigned delivered = 0, requested = 0, wrong = 0;
    for (unsigned i = 0; i < kPeers; ++i) {
        const auto frames = send_to(i, 400);
        ASSERT_LE(frames.size(), 1u);
        if (frames.empty()) {
            ++requested;  // queued behind an outstanding request
            continue;
        }
        auto eth = wire::parse_ethernet(frames[0]);
        ASSERT_TRUE(eth.ok());
        if (eth->ethertype == wire::ethertype::arp) {
            auto a = wire::parse_arp(eth->payload);
            ASSERT_TRUE(a.ok());
            EXPECT_EQ(a->target_ip, peer_ip(i));
            ++requested;
        } else {
            delivered += eth->dst == peer_mac(i);
            wrong += eth->dst != peer_mac(i);
        }
    }
    EXPECT_EQ(wrong, 0u);
    EXPECT_GE(requested, kPeers - 256);  // the evicted, and what re-resolving them evicted
    EXPECT_GE(delivered, 200u);
    EXPECT_EQ(delivered + requested, kPeers);
}

// Entries given up by tick() are erased and the rest move down the cache:
// the index's positions go stale, and lookups still find the right entry.
TEST_F(ArpFixture, ErasedEntriesLeaveNoWrongLookup) {
    // Ten unknown next hops first, asked for and never answered...
    for (unsigned i = 1000; i < 1010; ++i) EXPECT_EQ(send_to(i, 1).size(), 1u);  // the request
    for (unsigned i = 0; i < 50; ++i) announce(i, 1);
    for (unsigned i = 0; i < 50; ++i) ASSERT_TRUE(delivered_to(i, 2));
    // ...are given up and erased: the 50 peers move down ten places.
    arp->tick(2 + cfg.give_up_ms);
    (void)flush_and_read();
    for (unsigned i = 0; i < 50; ++i) EXPECT_TRUE(delivered_to(i, 3 + cfg.give_up_ms)) << i;
}

// A run of frames to one peer takes a shortcut past the lookup (the last
// destination's entry). It must see what the lookup sees: a new MAC, the
// entry's expiry, and the entry evicted for another peer's.
TEST_F(ArpFixture, ARunToOnePeerFollowsItsEntryThroughAMoveAnExpiryAndAnEviction) {
    announce(0, 1);
    for (int k = 0; k < 3; ++k) ASSERT_TRUE(delivered_to(0, 2));
    // The peer moves to another MAC (a gratuitous request from it).
    rte_mbuf* m = tx.alloc();
    ASSERT_NE(m, nullptr);
    auto* p = reinterpret_cast<std::uint8_t*>(rte_pktmbuf_append(m, 60));
    std::fill(p, p + 60, std::uint8_t{0});
    const wire::MacAddr moved{{0x02, 0xbb, 0, 0, 0, 0x01}};
    (void)wire::emit_ethernet({wire::MacAddr::broadcast(), moved, wire::ethertype::arp}, {p, wire::kEthHeaderLen});
    (void)wire::emit_arp({wire::ArpOp::request, moved, peer_ip(0), {}, kOwnIp},
                         {p + wire::kEthHeaderLen, wire::kArpLen});
    arp->input(m, *wire::parse_ethernet({p, 60}), 3);
    (void)flush_and_read();
    auto frames = send_to(0, 4);
    ASSERT_EQ(frames.size(), 1u);
    EXPECT_EQ(wire::parse_ethernet(frames[0])->dst, moved);
    // The entry expires: the next frame waits behind a request.
    frames = send_to(0, 3 + cfg.entry_ttl_ms);
    ASSERT_EQ(frames.size(), 1u);
    EXPECT_EQ(wire::parse_ethernet(frames[0])->ethertype, wire::ethertype::arp);
    announce(0, 4 + cfg.entry_ttl_ms);  // answered: the waiting frame goes out
    // Its entry is evicted for 256 others (each expiring later than it):
    // the shortcut's position now holds another peer's entry.
    const std::uint64_t t = 10 + cfg.entry_ttl_ms;
    ASSERT_TRUE(delivered_to(0, t));
    for (unsigned i = 1; i <= 256; ++i) announce(i, t + i);
    frames = send_to(0, t + 300);
    ASSERT_EQ(frames.size(), 1u);
    auto eth = wire::parse_ethernet(frames[0]);
    ASSERT_TRUE(eth.ok());
    EXPECT_EQ(eth->ethertype, wire::ethertype::arp) << "sent to another peer's MAC";
}

}  // namespace
}  // namespace tcpfp::app
