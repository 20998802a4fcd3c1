// State the workers share: the steering function, the hand-off rings and the
// statistics each worker publishes for the main lcore. Nothing here takes a
// lock: each ring has one producer and one consumer, each stats block one
// writer.
#pragma once

#include <rte_ring.h>

#include <atomic>
#include <cstdint>

#include "dpdk_app/app_config.hpp"
#include "dpdk_app/apps/proxy.hpp"
#include "dpdk_app/drops.hpp"
#include "dpdk_app/steering.hpp"
#include "tcp/base/four_tuple.hpp"
#include "tcp/engine/counters.hpp"
#include "tcp/engine/state.hpp"

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
    X(tso_frames, "super-segments handed to the port's TCP segmentation offload")    \
    X(tso_segments, "TCP segments the port cuts from those super-segments")          \
    X(handed_off, "frames passed to their owning worker through a ring")             \
    X(handoff_in, "frames received from other workers' rings")                       \
    X(handoff_ring_full, "frames dropped: the owner's ring was full")                \
    X(arp_copies, "ARP frames copied to the other workers (they learn, never reply)") \
    X(connections, "control blocks in use (listeners included)")                     \
    X(time_wait, "TIME_WAIT records")                                                \
    X(buffer_bytes, "send/receive buffer memory held: pool chunks in use x chunk size") \
    X(passive_opens, "connections accepted (tcpPassiveOpens)")                       \
    X(active_opens, "connections opened (tcpActiveOpens)")                           \
    X(retrans_segs, "segments retransmitted")                                        \
    X(mbufs_held, "mbufs held by the worker (ledger)")                              \
    X(loop_iterations, "poll loop iterations (one RX burst each)")                  \
    X(loop_rx_bursts, "poll loop iterations whose RX burst brought frames")        \
    X(loop_busy_us, "time spent in iterations whose RX burst brought frames, us")
#define TCPFP_X(name, desc) std::atomic<std::uint64_t> name{0};
    TCPFP_LCORE_STATS(TCPFP_X)
#undef TCPFP_X
    std::atomic<unsigned> lcore{0};
    // The engine's whole counter set and the application's drop reasons, for
    // /tcpfp/stats (dpdk_app/observe.cpp); written by publish_counters()
    // (dpdk_app/observe_worker.hpp) with the rest.
    std::atomic<std::uint64_t> mib[static_cast<std::size_t>(tcp::Mib::count_)] = {};
    std::atomic<std::uint64_t> tcp_drops[static_cast<std::size_t>(tcp::Drop::count_)] = {};
    std::atomic<std::uint64_t> by_state[tcp::kStateCount] = {};
    std::atomic<std::uint64_t> app_drops[static_cast<std::size_t>(AppDrop::count_)] = {};
    // How many times the worker published, stored with release after the
    // rest: the prompt waits for one more to read figures at least as new
    // as its last command (PromptState::figures), with no mailbox trip.
    std::atomic<std::uint64_t> publications{0};
    // The proxy's counters (dpdk_app/apps/proxy.hpp; 0 without [proxy]).
#define TCPFP_X(name, desc) std::atomic<std::uint64_t> proxy_##name{0};
    TCPFP_PROXY_COUNTERS(TCPFP_X)
#undef TCPFP_X
};

// A bounded copy of one worker's connection table, made by the worker on
// request (for /tcpfp/conns), so the telemetry thread never touches an
// engine. Protocol: the requester (one at a time) writes `filter`, then a new
// `requested` sequence number (release); the worker, at its next millisecond
// tick, sees requested != answered (acquire), fills the rows and stores
// answered = requested (release); the requester reads the rows once
// answered equals its number. No lock; the worker writes the rows only while
// a request is outstanding.
struct SnapshotRow {
    tcp::FourTuple tuple;
    std::uint32_t recv_q = 0;  // received, not read (listeners: accept queue)
    std::uint32_t send_q = 0;  // written, not acknowledged
    tcp::State state = tcp::State::closed;
    bool orphan = false;       // closed by the application, still finishing
};

struct alignas(64) ConnSnapshot {
    static constexpr std::size_t kRows = 80;  // what fits one telemetry reply (16 KiB)
    static constexpr int kAllStates = -1;
    // Requester's line.
    std::atomic<std::uint64_t> requested{0};
    std::atomic<int> filter{kAllStates};  // a tcp::State, or kAllStates
    // Worker's lines.
    alignas(64) std::atomic<std::uint64_t> answered{0};
    std::uint64_t matched = 0;  // connections matching the filter (may exceed kRows)
    std::uint32_t count = 0;    // rows filled
    SnapshotRow rows[kRows];
};

// The port's link as the link watcher (dpdk_app/link.hpp) sees it, and the
// pause a port restart needs: the watcher raises `pause`, each polling worker
// answers with `idle[i]` at its next loop iteration and touches the port no
// more (no RX burst, no TX burst) until `pause` falls.
struct LinkShared {
    std::atomic<bool> up{false};
    std::atomic<std::uint32_t> speed_mbps{0};
    std::atomic<std::uint64_t> ups{0};         // down -> up transitions
    std::atomic<std::uint64_t> downs{0};       // up -> down transitions
    std::atomic<std::uint64_t> restarts{0};    // port stop/start to reconnect (memif client)
    std::atomic<std::uint64_t> restart_failures{0};
    std::atomic<bool> pause{false};
    std::atomic<bool> polling[kMaxWorkers] = {};  // the worker's loop is running
    std::atomic<bool> idle[kMaxWorkers] = {};     // ... and has seen `pause`
};

struct Shared {
    Steering steering;
    unsigned workers = 1;
    // rings[from][to]: single producer `from`, single consumer `to`.
    rte_ring* rings[kMaxWorkers][kMaxWorkers] = {};
    // Workers whose engine has no connection left after stop().
    std::atomic<unsigned> quiet{0};
    LcoreStats stats[kMaxWorkers];
    // The prompt's mailboxes (dpdk_app/cli/cli.hpp): main lcore -> worker,
    // each carrying Command pointers (dpdk_app/apps/command.hpp).
    rte_ring* cli_rings[kMaxWorkers] = {};
    // Connection snapshots for the telemetry thread: telemetry -> worker.
    ConnSnapshot snapshots[kMaxWorkers];
    LinkShared link;
};

}  // namespace tcpfp::app
