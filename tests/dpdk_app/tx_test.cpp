// The worker's TX ledger (dpdk_app/tx.hpp) against a real ethdev: net_ring
// over an rte_ring this test owns, so the test decides when the "NIC" has
// room. EAL runs without hugepages or PCI (tests/dpdk_app/README.md).
#include <gtest/gtest.h>
#include <rte_eal.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include <cstdlib>
#include <vector>

#include "dpdk_app/tx.hpp"

namespace tcpfp::app {
namespace {

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

void send_frames(Tx& tx, int n) {
    for (int i = 0; i < n; ++i) {
        rte_mbuf* m = tx.alloc();
        ASSERT_NE(m, nullptr);
        m->data_len = 60;
        m->pkt_len = 60;
        tx.send(m);
    }
}

// A frame a full ring refused is counted once as deferred, however many
// flushes it waits through, and goes out once the ring has room.
TEST(TxLedger, CountsEachDeferredFrameOnce) {
    RingPort port("tx_once", 1024);
    AppCounters counters;
    Tx tx(port.id, 0, port.pool, 32, counters);
    send_frames(tx, 100);
    tx.flush();
    EXPECT_EQ(counters.tx_packets, 63u);  // the ring took what fits
    EXPECT_EQ(counters.tx_deferred, 37u);
    for (int i = 0; i < 50; ++i) tx.flush();  // loop iterations with the ring still full
    EXPECT_EQ(counters.tx_deferred, 37u);
    EXPECT_EQ(port.drain(), 63u);
    tx.flush();
    EXPECT_EQ(counters.tx_packets, 100u);
    EXPECT_EQ(counters.tx_deferred, 37u);
    EXPECT_EQ(tx.queued(), 0);
    EXPECT_EQ(port.drain(), 37u);
    EXPECT_EQ(tx.held(), 0);
    EXPECT_EQ(counters.get(AppDrop::tx_ring_full), 0u);
}

// Past the backlog's bound (1024 frames, at most an eighth of the pool, so
// RX always finds mbufs) the ledger frees frames, counted as tx_ring_full,
// and every mbuf is accounted for.
TEST(TxLedger, BoundsTheBacklogAndCountsWhatItFrees) {
    RingPort port("tx_bound", 4096);
    AppCounters counters;
    Tx tx(port.id, 0, port.pool, 32, counters);
    send_frames(tx, 2000);
    tx.flush();
    const auto dropped = counters.get(AppDrop::tx_ring_full);
    EXPECT_EQ(counters.tx_packets, 63u);
    EXPECT_GT(dropped, 0u);
    EXPECT_EQ(counters.tx_packets + dropped + static_cast<std::uint64_t>(tx.queued()), 2000u);
    EXPECT_EQ(tx.queued(), 4096 / 8);  // the pool's eighth
    while (tx.queued() > 0) {
        port.drain();
        tx.flush();
    }
    port.drain();
    EXPECT_EQ(tx.held(), 0);
    EXPECT_EQ(counters.tx_packets + dropped, 2000u);
}

}  // namespace
}  // namespace tcpfp::app

int main(int argc, char** argv) {
    ::testing::InitGoogleTest(&argc, argv);
    // No hugepages, no PCI, no shared files: runs beside any other DPDK process.
    char* eal[] = {argv[0], const_cast<char*>("--no-huge"), const_cast<char*>("-m"),
                   const_cast<char*>("256"), const_cast<char*>("--no-pci"),
                   const_cast<char*>("--no-shconf"), const_cast<char*>("--no-telemetry"),
                   const_cast<char*>("--log-level=error"), const_cast<char*>("-l"),
                   const_cast<char*>("0")};
    if (rte_eal_init(static_cast<int>(std::size(eal)), eal) < 0) {
        std::fprintf(stderr, "tx_test: EAL did not start (root? memory?)\n");
        return 1;
    }
    const int rc = RUN_ALL_TESTS();
    rte_eal_cleanup();
    return rc;
}
