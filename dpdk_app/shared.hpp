// State the workers share: the steering function, the hand-off rings and the
// statistics each worker publishes for the main lcore. Nothing here takes a
// lock: each ring has one producer and one consumer, each stats block one
// writer.
#pragma once

#include <rte_ring.h>

#include <atomic>
#include <cstdint>

#include "dpdk_app/app_config.hpp"
#include "dpdk_app/steering.hpp"

namespace tcpfp::app {

// What a worker publishes about once a millisecond (relaxed stores; the
// reader sees each value whole, not a consistent set). Cache-line aligned so
// two workers never write the same line.
struct alignas(64) LcoreStats {
#define TCPFP_LCORE_STATS(X)                                                          \
    X(rx_packets, "frames received from the port queue")                             \
    X(tx_packets, "frames handed to the port queue")                                 \
    X(tcp_in, "TCP segments given to the engine")                                    \
    X(tcp_out, "TCP segments sent by the engine")                                    \
    X(handed_off, "frames passed to their owning worker through a ring")             \
    X(handoff_in, "frames received from other workers' rings")                       \
    X(handoff_ring_full, "frames dropped: the owner's ring was full")                \
    X(arp_copies, "ARP frames copied to the other workers (they learn, never reply)") \
    X(connections, "control blocks in use (listeners included)")                     \
    X(time_wait, "TIME_WAIT records")                                                \
    X(passive_opens, "connections accepted (tcpPassiveOpens)")                       \
    X(active_opens, "connections opened (tcpActiveOpens)")                           \
    X(retrans_segs, "segments retransmitted")                                        \
    X(mbufs_held, "mbufs held by the worker (ledger)")
#define TCPFP_X(name, desc) std::atomic<std::uint64_t> name{0};
    TCPFP_LCORE_STATS(TCPFP_X)
#undef TCPFP_X
    std::atomic<unsigned> lcore{0};
};

struct Shared {
    Steering steering;
    unsigned workers = 1;
    // rings[from][to]: single producer `from`, single consumer `to`.
    rte_ring* rings[kMaxWorkers][kMaxWorkers] = {};
    // Workers whose engine has no connection left after stop().
    std::atomic<unsigned> quiet{0};
    LcoreStats stats[kMaxWorkers];
    // The prompt's mailboxes (dpdk_app/cli/mailbox.hpp): main lcore -> worker.
    rte_ring* cli_rings[kMaxWorkers] = {};
};

}  // namespace tcpfp::app
