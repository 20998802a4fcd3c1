// A real ethdev for dpdk_app tests: net_ring over rte_rings the test owns,
// so the test decides when the "NIC" has room and reads what it "sent".
// Needs EAL (tests/dpdk_app/README.md).
#pragma once

#include <gtest/gtest.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include <string>

namespace tcpfp::app {

constexpr unsigned kRingSlots = 64;  // rte_ring keeps one slot free: 63 frames fit

struct RingPort {
    rte_ring* wire = nullptr;  // what the port "transmitted"
    rte_ring* rx = nullptr;
    rte_mempool* pool = nullptr;
    std::uint16_t id = 0;

    explicit RingPort(const char* name, unsigned mbufs) {
        wire = rte_ring_create((std::string(name) + "_tx").c_str(), kRingSlots, 0, RING_F_SP_ENQ | RING_F_SC_DEQ);
        rx = rte_ring_create((std::string(name) + "_rx").c_str(), kRingSlots, 0, RING_F_SP_ENQ | RING_F_SC_DEQ);
        pool = rte_pktmbuf_pool_create((std::string(name) + "_pool").c_str(), mbufs, 0, 0,
                                       RTE_MBUF_DEFAULT_BUF_SIZE, 0);
        const int port = rte_eth_from_rings(name, &rx, 1, &wire, 1, 0);
        EXPECT_GE(port, 0);
        id = static_cast<std::uint16_t>(port);
        rte_eth_conf conf{};
        EXPECT_EQ(rte_eth_dev_configure(id, 1, 1, &conf), 0);
        EXPECT_EQ(rte_eth_rx_queue_setup(id, 0, kRingSlots, 0, nullptr, pool), 0);
        EXPECT_EQ(rte_eth_tx_queue_setup(id, 0, kRingSlots, 0, nullptr), 0);
        EXPECT_EQ(rte_eth_dev_start(id), 0);
    }
    ~RingPort() {
        (void)rte_eth_dev_stop(id);
        (void)rte_eth_dev_close(id);
        drain();
        rte_ring_free(wire);
        rte_ring_free(rx);
        rte_mempool_free(pool);
    }
    // The "NIC" sends everything on its ring: returns how many frames.
    unsigned drain(unsigned at_most = kRingSlots) {
        rte_mbuf* m[kRingSlots];
        const unsigned n = rte_ring_dequeue_burst(wire, reinterpret_cast<void**>(m), at_most, nullptr);
        rte_pktmbuf_free_bulk(m, n);
        return n;
    }
};

}  // namespace tcpfp::app
