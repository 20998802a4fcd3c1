// The worker's TX ledger (dpdk_app/tx.hpp) against a real ethdev: net_ring
// over an rte_ring this test owns, so the test decides when the "NIC" has
// room. EAL runs without hugepages or PCI (tests/dpdk_app/README.md).
#include <gtest/gtest.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include <vector>

#include "dpdk_app/tx.hpp"
#include "ring_port.hpp"

namespace tcpfp::app {
namespace {

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
