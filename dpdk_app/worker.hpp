// One worker lcore: owns RX/TX queue `index` of the port, an Engine, an ARP
// cache and the services. Frames whose flow another worker owns go to it
// through a ring (dpdk_app/steering.hpp). Runs until told to stop, then
// closes connections and keeps forwarding until every worker is quiet.
#pragma once

#include <rte_mbuf.h>

#include <atomic>
#include <memory>
#include <vector>

#include "dpdk_app/app_config.hpp"
#include "dpdk_app/arp.hpp"
#include "dpdk_app/cli/prompt_apps.hpp"
#include "dpdk_app/clock.hpp"
#include "dpdk_app/drops.hpp"
#include "dpdk_app/port.hpp"
#include "dpdk_app/rte_memory_resource.hpp"
#include "dpdk_app/apps/host.hpp"
#include "dpdk_app/worker_apps.hpp"
#include "dpdk_app/shared.hpp"
#include "dpdk_app/tx.hpp"
#include "tcp/engine/engine.hpp"

namespace tcpfp::app {

class Worker {
public:
    Worker(const AppConfig& cfg, const Port& port, Shared& shared, unsigned index);
    ~Worker();

    // Allocates the engine (may throw std::bad_alloc) on `socket`.
    void init(int socket);
    // The lcore's loop; returns after stop() once connections are drained.
    int run();
    void stop() { stop_.store(true, std::memory_order_relaxed); }
    bool finished() const { return finished_.load(std::memory_order_acquire); }

    void print_stats() const;
    // After every worker has returned: frees what is left in the rings
    // addressed to this worker; returns how many.
    unsigned drain_rings();
    unsigned index() const { return index_; }

private:
    // Where the loop is in stopping (loop_ends).
    struct LoopEnd {
        tcp::Instant deadline = tcp::Instant::max();
        bool stopping = false;
        bool quiet = false;
    };
    void start_loop(tcp::Instant now);
    void on_millisecond(tcp::Instant now);
    bool loop_ends(tcp::Instant now, LoopEnd& end);
    void finish_loop();
    void prefetch_burst(rte_mbuf* const* pkts, std::uint16_t n) const;
    void rx_frame(rte_mbuf* m, tcp::Instant now, bool from_peer);
    void impaired_rx(rte_mbuf** pkts, std::uint16_t n, tcp::Instant now);
    void hand_off(rte_mbuf* m, unsigned owner);
    void copy_to_peers(rte_mbuf* m);
    void flush_handoffs();
    void poll_rings(tcp::Instant now);
    void publish();
    std::uint64_t busy_micros() const;  // loop_busy_cycles_ in microseconds
    void rearm_tap_rx();
    bool port_is_usable();
    void announce_on_link_up();
    void rx_ipv4(rte_mbuf* m, std::size_t l2_len, std::span<const std::uint8_t> packet,
                 tcp::Instant now);
    void icmp_echo(rte_mbuf* m, std::size_t l2_len, tcp::Instant now);
    void drain_output(tcp::Instant now);
    void send_segment(const tcp::OutSegment& seg, tcp::Instant now);
    void send_super_segment(std::span<const tcp::OutSegment> run, tcp::Instant now);
    bool fill_chain(rte_mbuf* head, std::uint32_t at, std::span<const tcp::OutSegment> run);
    void drain_if_crowded(tcp::Instant now);
    bool is_local(wire::Ipv4Addr a) const;

    const AppConfig& cfg_;
    const Port& port_;
    Shared& shared_;
    const unsigned index_;
    PortFilterCtx port_filter_;
    std::vector<rte_mbuf*> outbox_[kMaxWorkers];  // frames for other workers, per burst
    Impair rx_impair_;
    std::vector<rte_mbuf*> rx_due_;
    // The poll loop's iterations, and those whose RX burst brought frames:
    // how busy the worker was (frames per burst says how much it batched).
    std::uint64_t loop_iterations_ = 0, loop_rx_bursts_ = 0, loop_busy_cycles_ = 0;
    std::uint64_t handed_off_ = 0, handoff_in_ = 0, handoff_ring_full_ = 0, arp_copies_ = 0;
    AppCounters counters_;
    Tx tx_;
    Arp arp_;
    TscClock clock_;
    std::unique_ptr<RteMemoryResource> mr_;
    std::unique_ptr<tcp::Engine> engine_;
    ArpNeighbors neighbors_{arp_};
    std::unique_ptr<Host> host_;  // the only reader of engine_'s events
    std::unique_ptr<WorkerApps> apps_;
    std::unique_ptr<cli::PromptApps> prompt_apps_;  // the prompt's agent, generator and flood
    std::uint16_t ip_id_ = 0;
    tcp::TsoLimits tso_limits_;  // runs handed to the port as one super-segment (port_.tso)
    // `set verbose on` (written by this lcore's CLI agent only): every TCP
    // segment in and out is printed; off, it costs one predictable branch.
    bool verbose_ = false;
    std::atomic<bool> stop_{false};
    std::atomic<bool> finished_{false};
    std::int64_t idle_baseline_ = 0;
    std::uint64_t tap_rx_nombuf_seen_ = 0;  // rearm_tap_rx()
    int tap_signal_ = 0;                     // net_tap's RX signal (worker 0); -1 none
    std::uint64_t tap_signals_lost_ = 0;     // SIGIOs taken: RX signals never queued (rearm_tap_rx)
    bool tap_rearm_owed_ = false;            // raise the RX signal again: the last try was refused
    bool warned_own_mac_ = false;            // one warning per worker, not per frame
    bool port_idle_ = false;                 // off the port for a restart (port_is_usable)
    std::uint64_t link_ups_seen_ = 0;        // announce_on_link_up
};

}  // namespace tcpfp::app
