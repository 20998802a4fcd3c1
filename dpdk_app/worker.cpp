#include "dpdk_app/worker.hpp"

#include <rte_ethdev.h>
#include <rte_pause.h>
#include <sys/resource.h>

#include <algorithm>
#include <csignal>
#include <cinttypes>
#include <cstdio>

#include "dpdk_app/cli/trace.hpp"
#include "dpdk_app/log.hpp"
#include "dpdk_app/observe_worker.hpp"
#include "dpdk_app/tap_signal.hpp"
#include "dpdk_app/unmap_guard.hpp"
#include "tcp/wire/bytes.hpp"
#include "tcp/wire/checksum.hpp"
#include "tcp/wire/ethernet.hpp"
#include "tcp/wire/icmp.hpp"
#include "tcp/wire/ipv4.hpp"

namespace tcpfp::app {

namespace {
constexpr std::uint32_t kMaxBurst = 256;
constexpr auto kDrainTime = tcp::Duration::seconds(2);  // for connections to close at stop

AppDrop ipv4_drop_reason(wire::WireError e) {
    switch (e) {
        case wire::WireError::ip_truncated: return AppDrop::ip_truncated;
        case wire::WireError::ip_bad_version: return AppDrop::ip_bad_version;
        case wire::WireError::ip_bad_ihl:
        case wire::WireError::ip_header_truncated: return AppDrop::ip_bad_ihl;
        default: return AppDrop::ip_bad_length;
    }
}
}  // namespace

// Ethernet, IPv4 and TCP headers at their largest.
constexpr std::uint32_t kMaxHeaders = wire::kEthHeaderLen + wire::kIpv4MinHeaderLen + 60;

Worker::Worker(const AppConfig& cfg, const Port& port, Shared& shared, unsigned index)
    : cfg_(cfg),
      port_(port),
      shared_(shared),
      index_(index),
      port_filter_{&shared.steering, index},
      rx_impair_(cfg.impair, 0x9e3779b9u + index),
      tx_(port.id, static_cast<std::uint16_t>(index), port.pool, cfg.burst, counters_, cfg.impair),
      arp_(cfg.arp, cfg.port, port.mac, tx_, counters_) {
    if (cfg.impair.enabled() && index == 0) {
        TLOG(WARNING, app, "[impair] is on: losing %u/1000, delaying %u us, reordering %u/1000 "
             "of frames in each direction", cfg.impair.loss_permille, cfg.impair.delay_us,
             cfg.impair.reorder_permille);
    }
    tx_.set_max_frame(cfg.port.mtu + static_cast<std::uint32_t>(wire::kEthHeaderLen));
    for (auto& o : outbox_) o.reserve(kMaxBurst);
}

Worker::~Worker() = default;

void Worker::init(int socket) {
    const bool thp = cfg_.transparent_hugepages && rte_eal_has_hugepages() == 0;
    mr_ = std::make_unique<RteMemoryResource>(socket, thp ? LargePages::transparent : LargePages::dpdk);
    tcp::EngineConfig engine_cfg = cfg_.engine;
    if (port_.send_mtu != 0) engine_cfg.send_mtu = port_.send_mtu;
    engine_ = std::make_unique<tcp::Engine>(engine_cfg, clock_.now(), mr_.get());
    if (port_.tso) {
        // A chain of at most tso_max_mbufs mbufs: the header takes part of the first.
        // fill_chain() fills each mbuf to an even byte count.
        const std::uint64_t room = std::uint64_t{port_.tso_max_mbufs} * (tx_.mbuf_room() & ~1u) - kMaxHeaders;
        tso_limits_.max_bytes = static_cast<std::uint32_t>(std::min<std::uint64_t>(tso_limits_.max_bytes, room));
        tso_limits_.even_cut = port_.tso_even_cut;
    }
    if (thp) {
        // "Marked": the kernel backs them with huge pages where it can
        // (AnonHugePages in /proc/PID/smaps_rollup says how many it did).
        TLOG(INFO, app, "worker %u: engine memory %zu MiB, %zu MiB of it marked for transparent huge "
             "pages (no hugepages; [engine] transparent_hugepages)", index_, mr_->bytes_in_use() >> 20,
             mr_->transparent_bytes() >> 20);
    }
    for (const auto& a : cfg_.port.addresses) (void)engine_->add_address(a.addr);
    if (shared_.workers > 1) engine_->set_port_filter({&PortFilterCtx::accept, &port_filter_});
    host_ = std::make_unique<Host>(*engine_, neighbors_, index_, mr_.get());
    host_->set_drain({[](void* w, tcp::Instant now) { static_cast<Worker*>(w)->drain_output(now); }, this});
    host_->set_log({&log_to_rte, nullptr});
    // Every app of this worker is added here; the agent's `listen ... KIND`
    // goes to apps_->responders.
    apps_ = std::make_unique<WorkerApps>(cfg_, index_, *host_);
    prompt_apps_ = std::make_unique<cli::PromptApps>(index_, shared_.cli_rings[index_], arp_, tx_,
                                                     verbose_, &apps_->responders);
    prompt_apps_->add_to(*host_);
    if (apps_->proxy) prompt_apps_->set_proxy(&*apps_->proxy);
}

bool Worker::is_local(wire::Ipv4Addr a) const { return engine_->is_local(a); }

// Before the first burst: the worker is seen polling, announces its
// addresses, takes net_tap's RX signal, and sends what the apps' start made.
void Worker::start_loop(tcp::Instant now) {
    shared_.stats[index_].lcore.store(rte_lcore_id(), std::memory_order_relaxed);
    shared_.link.polling[index_].store(true, std::memory_order_seq_cst);
    unmap_guard::enter_worker(index_);
    (void)port_is_usable();  // a memif client may wait for its server: no TX until then
    if (index_ == 0) arp_.announce();  // one gratuitous ARP per address is enough
    if (index_ == 0 && port_.driver == "net_tap") {
        // Every other thread blocks net_tap's RX signal (main.cpp): it is
        // delivered here, to the thread that reads the tap, and wakes no other.
        tap_signal_ = tap_rx_signal();
        if (tap_signal_ > 0 && !take_signal(tap_signal_)) {
            TLOG(WARNING, app, "cannot unblock net_tap's RX signal %d: RX stalls", tap_signal_);
        }
        if (const unsigned long limit = signal_queue_limit(); limit != RLIM_INFINITY) {
            TLOG(INFO, app, "net_tap RX signals: RLIMIT_SIGPENDING stays at %lu (no CAP_SYS_RESOURCE); "
                 "signals past it are recovered here and counted", limit);
        }
    }
    host_->start(now);
    drain_output(now);
    tx_.flush();
    idle_baseline_ = tx_.held() - tx_.queued();  // a link still down keeps the first frames queued
    TLOG(INFO, app, "worker %u on lcore %u running (RX/TX queue %u)", index_, rte_lcore_id(),
         index_);
}

int Worker::run() {
    tcp::Instant now = clock_.now();
    start_loop(now);
    rte_mbuf* pkts[kMaxBurst];
    const auto burst = static_cast<std::uint16_t>(std::min(cfg_.burst, kMaxBurst));
    std::uint64_t last_tick_ms = 0;
    LoopEnd end;
    bool last_burst_busy = false;
    for (;;) {
        unmap_guard::quiescent(index_);  // no burst of ours is running here
        const bool port_usable = port_is_usable();
        const std::uint16_t n =
            port_usable ? rte_eth_rx_burst(port_.id, static_cast<std::uint16_t>(index_), pkts, burst) : 0;
        tx_.received(n);
        counters_.rx_packets += n;
        const std::uint64_t before = clock_.last_cycles();
        now = clock_.now();  // once per burst: one time value for every packet in it
        // The last iteration's length, counted busy when its burst brought frames.
        if (last_burst_busy) loop_busy_cycles_ += clock_.last_cycles() - before;
        last_burst_busy = n != 0;
        ++loop_iterations_;
        loop_rx_bursts_ += n != 0;
        if (rx_impair_.enabled()) {
            impaired_rx(pkts, n, now);
        } else {
            prefetch_burst(pkts, n);
            for (std::uint16_t i = 0; i < n; ++i) rx_frame(pkts[i], now, false);
        }
        flush_handoffs();
        poll_rings(now);
        // While the TX ring holds a backlog, timers fire a burst at a time:
        // a mass expiry would only add to what the ring must drop.
        engine_->advance(now, tx_.queued() > 0 ? burst : SIZE_MAX);
        host_->dispatch(now);
        host_->poll(now);
        if (now.millis() != last_tick_ms) {
            last_tick_ms = now.millis();
            on_millisecond(now);
        }
        // One drain per iteration, after every segment, timer and app call
        // of it: the engine sends one ACK per connection for the whole burst
        // (RFC 9293 MUST-59), and a reply or FIN an app made in a callback
        // carries that ACK. Payloads stay valid until here (clear_output()).
        drain_output(now);
        tx_.flush();
        host_->set_link_backlog(static_cast<std::uint32_t>(tx_.queued()));
        if (loop_ends(now, end)) break;
    }
    finish_loop();
    return 0;
}

// Once per millisecond of the loop: ARP and the apps' timers, the tap's RX
// signal, the statistics the main lcore reads.
void Worker::on_millisecond(tcp::Instant now) {
    announce_on_link_up();
    arp_.tick(now.millis());
    host_->tick(now);
    rearm_tap_rx();
    publish();
    answer_snapshot(shared_.snapshots[index_], *engine_);
}

// After stop(): the apps close their connections, which get kDrainTime to
// finish; the loop ends once every worker is quiet (a quiet worker keeps
// forwarding: its queue may carry the others' flows), or kDrainTime later.
bool Worker::loop_ends(tcp::Instant now, LoopEnd& end) {
    if (!end.stopping && stop_.load(std::memory_order_relaxed)) {
        end.stopping = true;
        TLOG(INFO, app, "stopping: closing %zu connection(s)", engine_->connection_count());
        log_open_connections(*engine_, index_, "open at stop");
        host_->stop(now);
        drain_output(now);
        tx_.flush();
        end.deadline = now + kDrainTime;
    }
    if (end.stopping && !end.quiet && (engine_->connection_count() == 0 || now >= end.deadline)) {
        end.quiet = true;
        shared_.quiet.fetch_add(1, std::memory_order_acq_rel);
    }
    return end.quiet && (shared_.quiet.load(std::memory_order_acquire) == shared_.workers ||
                         now >= end.deadline + kDrainTime);
}

void Worker::finish_loop() {
    log_open_connections(*engine_, index_, "open at exit");  // cut off by the drain deadline
    arp_.release_all();
    rx_impair_.release(UINT64_MAX, [&](rte_mbuf* m) { tx_.free(m); });
    // A port that is restarting, or that never started (a memif client with
    // no server), is not waited for: what is left is freed, counted.
    (void)port_is_usable();
    tx_.flush();
    tx_.release_impaired();
    shared_.link.polling[index_].store(false, std::memory_order_seq_cst);
    unmap_guard::leave_worker(index_);
    publish();
    finished_.store(true, std::memory_order_release);
}

// The link watcher (dpdk_app/link.hpp) raises `pause` to restart the port:
// from the iteration that sees it until it falls, this worker makes no RX or
// TX burst, and says so in `idle`. Read before any port I/O of an iteration.
// Worker 0 announces its addresses (gratuitous ARP) each time the link
// comes up: a peer that came back, or a new one, learns our MAC at once.
void Worker::announce_on_link_up() {
    if (index_ != 0) return;
    const std::uint64_t ups = shared_.link.ups.load(std::memory_order_relaxed);
    if (ups == link_ups_seen_) return;
    if (link_ups_seen_ != 0 || ups > 1) arp_.announce();  // the start already announced once
    link_ups_seen_ = ups;
}

bool Worker::port_is_usable() {
    const bool paused = shared_.link.pause.load(std::memory_order_seq_cst);
    if (paused != port_idle_) [[unlikely]] {
        port_idle_ = paused;
        tx_.hold_port(paused);
        shared_.link.idle[index_].store(paused, std::memory_order_seq_cst);
    }
    return !paused;
}

// A first pass over a burst: each TCP frame's connection-table bucket
// starts loading while the frames before it are processed (and its headers
// come into cache once). Frames are only peeked at: anything else (VLAN,
// ARP, too short) is just not prefetched; rx_frame() validates everything.
void Worker::prefetch_burst(rte_mbuf* const* pkts, std::uint16_t n) const {
    constexpr std::size_t kIp = wire::kEthHeaderLen;
    for (std::uint16_t i = 0; i < n; ++i) {
        const auto* f = rte_pktmbuf_mtod(pkts[i], const std::uint8_t*);
        const std::size_t len = rte_pktmbuf_data_len(pkts[i]);
        if (len < kIp || wire::load_be16(f + 12) != wire::ethertype::ipv4) continue;
        if (const auto flow = wire::peek_tcp_flow({f + kIp, len - kIp})) {
            engine_->prefetch_tcp(flow->src, flow->dst, flow->src_port, flow->dst_port);
        }
    }
}

void Worker::rx_frame(rte_mbuf* m, tcp::Instant now, bool from_peer) {
    // A frame always fits one segment: the pool's data room covers the MTU.
    const std::span<const std::uint8_t> frame(rte_pktmbuf_mtod(m, const std::uint8_t*),
                                              rte_pktmbuf_data_len(m));
    auto eth = wire::parse_ethernet(frame);
    if (!eth || m->nb_segs != 1) return tx_.drop(m, AppDrop::eth_malformed);
    if (eth->src == port_.mac) {
        if (!warned_own_mac_) {
            warned_own_mac_ = true;
            TLOG(WARNING, app, "frame from our own MAC %s: if this is net_tap, give the kernel "
                 "side another MAC (ip link set IFACE address ...)", port_.mac.to_string().c_str());
        }
        return tx_.drop(m, AppDrop::eth_own_source);
    }
    if (eth->dst != port_.mac && !eth->dst.is_broadcast()) {
        return tx_.drop(m, AppDrop::eth_not_for_us);
    }
    // IEEE 802.3 §3.2.3: a source address is always an individual address.
    if (eth->src.is_multicast()) return tx_.drop(m, AppDrop::eth_bad_source);
    switch (eth->ethertype) {
        case wire::ethertype::arp:
            // Every worker resolves next hops for its own TX, so each learns
            // from every ARP frame; only the receiving worker answers.
            if (!from_peer) copy_to_peers(m);
            return arp_.input(m, *eth, now.millis(), !from_peer);
        case wire::ethertype::ipv4:
            if (!from_peer) {
                const unsigned owner = shared_.steering.owner_of_packet(eth->payload, index_);
                if (owner != index_) return hand_off(m, owner);
            }
            return rx_ipv4(m, eth->header_len, eth->payload, now);
        default:
            return tx_.drop(m, AppDrop::eth_unknown_type);
    }
}

void Worker::impaired_rx(rte_mbuf** pkts, std::uint16_t n, tcp::Instant now) {
    const std::uint64_t tsc = rte_rdtsc();
    for (std::uint16_t i = 0; i < n; ++i) {
        if (!rx_impair_.admit(pkts[i], tsc)) tx_.drop(pkts[i], AppDrop::impair_loss);
    }
    rx_due_.clear();
    rx_impair_.release(tsc, [&](rte_mbuf* m) { rx_due_.push_back(m); });
    for (rte_mbuf* m : rx_due_) rx_frame(m, now, false);
}

void Worker::hand_off(rte_mbuf* m, unsigned owner) {
    outbox_[owner].push_back(m);
    if (outbox_[owner].size() >= kMaxBurst) flush_handoffs();
}

void Worker::copy_to_peers(rte_mbuf* m) {
    for (unsigned w = 0; w < shared_.workers; ++w) {
        if (w == index_) continue;
        rte_mbuf* c = rte_pktmbuf_copy(m, port_.pool, 0, UINT32_MAX);
        if (c == nullptr) {
            counters_.drop(AppDrop::tx_no_mbuf);
            continue;
        }
        tx_.adopt();
        arp_copies_++;
        hand_off(c, w);
    }
}

void Worker::flush_handoffs() {
    for (unsigned w = 0; w < shared_.workers; ++w) {
        auto& box = outbox_[w];
        if (box.empty()) continue;
        const unsigned sent = rte_ring_sp_enqueue_burst(
            shared_.rings[index_][w], reinterpret_cast<void* const*>(box.data()),
            static_cast<unsigned>(box.size()), nullptr);
        tx_.handed_off(sent);
        handed_off_ += sent;
        for (std::size_t i = sent; i < box.size(); ++i) {
            handoff_ring_full_++;
            tx_.drop(box[i], AppDrop::handoff_ring_full);
        }
        box.clear();
    }
}

void Worker::poll_rings(tcp::Instant now) {
    rte_mbuf* pkts[kMaxBurst];
    for (unsigned w = 0; w < shared_.workers; ++w) {
        if (w == index_) continue;
        const unsigned n = rte_ring_sc_dequeue_burst(
            shared_.rings[w][index_], reinterpret_cast<void**>(pkts), kMaxBurst, nullptr);
        tx_.received(static_cast<std::uint16_t>(n));
        handoff_in_ += n;
        for (unsigned i = 0; i < n; ++i) rx_frame(pkts[i], now, true);
    }
}

unsigned Worker::drain_rings() {
    unsigned total = 0;
    rte_mbuf* m = nullptr;
    for (unsigned w = 0; w < shared_.workers; ++w) {
        if (w == index_ || shared_.rings[w][index_] == nullptr) continue;
        while (rte_ring_sc_dequeue(shared_.rings[w][index_], reinterpret_cast<void**>(&m)) == 0) {
            tx_.received(1);
            tx_.free(m);
            ++total;
        }
    }
    return total;
}

// net_tap reads its kernel queue only after its RX signal (a real-time
// signal set with F_SETSIG) bumped a "trigger", and takes the queue as
// drained when an mbuf allocation fails mid-burst. If the kernel's queue is
// full by then, the kernel drops every new frame without a signal and RX
// stalls for good, even once the mbufs return (found by
// tests/robust/mbuf_exhaustion_test.py). So while the port counts
// allocation failures, worker 0 raises that signal on its own thread (the
// PMD's handler only bumps the trigger) and the PMD reads again.
//
// A frame whose real-time signal the kernel could not queue (the user's
// RLIMIT_SIGPENDING reached: main.cpp lifts ours, but not without
// CAP_SYS_RESOURCE) is announced by SIGIO instead, which main.cpp blocks
// (its default action ends the process: a robust test's tcpfp died so
// while another process flooded its own tap). Its trigger is lost with it,
// so worker 0 raises the RX signal itself, each tick until that is queued.
void Worker::rearm_tap_rx() {
    if (index_ != 0 || port_.driver != "net_tap" || tap_signal_ < 0) return;
    if (take_pending_sigio()) {
        ++tap_signals_lost_;
        tap_rearm_owed_ = true;
    }
    if (tap_rearm_owed_ && tap_signal_ > 0) tap_rearm_owed_ = raise(tap_signal_) != 0;
    rte_eth_stats s{};
    if (rte_eth_stats_get(port_.id, &s) != 0 || s.rx_nombuf == tap_rx_nombuf_seen_) return;
    tap_rx_nombuf_seen_ = s.rx_nombuf;
    if (tap_signal_ > 0) (void)raise(tap_signal_);
}

void Worker::publish() {
    auto& s = shared_.stats[index_];
    const auto& mib = engine_->counters().mib;
    auto put = [](std::atomic<std::uint64_t>& a, std::uint64_t v) {
        a.store(v, std::memory_order_relaxed);
    };
    put(s.rx_packets, counters_.rx_packets);
    put(s.tx_packets, counters_.tx_packets);
    put(s.tcp_in, counters_.tcp_in);
    put(s.tcp_out, counters_.tcp_out);
    put(s.tso_frames, counters_.tso_frames);
    put(s.tso_segments, counters_.tso_segments);
    put(s.handed_off, handed_off_);
    put(s.handoff_in, handoff_in_);
    put(s.handoff_ring_full, handoff_ring_full_);
    put(s.arp_copies, arp_copies_);
    put(s.connections, engine_->connection_count());
    put(s.time_wait, engine_->time_wait_count());
    put(s.buffer_bytes, engine_->buffer_bytes_in_use());
    put(s.passive_opens, mib[static_cast<std::size_t>(tcp::Mib::passive_opens)]);
    put(s.active_opens, mib[static_cast<std::size_t>(tcp::Mib::active_opens)]);
    put(s.retrans_segs, mib[static_cast<std::size_t>(tcp::Mib::retrans_segs)]);
    put(s.mbufs_held, static_cast<std::uint64_t>(tx_.held()));
    put(s.loop_iterations, loop_iterations_);
    put(s.loop_rx_bursts, loop_rx_bursts_);
    put(s.loop_busy_us, busy_micros());
    publish_counters(s, engine_->counters(), counters_);
    apps_->publish(s);
}

std::uint64_t Worker::busy_micros() const {
    return static_cast<std::uint64_t>(static_cast<double>(loop_busy_cycles_) * 1e6 /
                                      static_cast<double>(rte_get_tsc_hz()));
}

void Worker::rx_ipv4(rte_mbuf* m, std::size_t l2_len, std::span<const std::uint8_t> packet,
                     tcp::Instant now) {
    if (packet.size() < wire::kIpv4MinHeaderLen) return tx_.drop(m, AppDrop::ip_truncated);
    auto ip = wire::Ipv4View::parse(packet);
    if (!ip) return tx_.drop(m, ipv4_drop_reason(ip.error()));
    tcp::RxOffload rx;
    const auto ip_flags = m->ol_flags & RTE_MBUF_F_RX_IP_CKSUM_MASK;
    if (port_.rx_checksum && ip_flags == RTE_MBUF_F_RX_IP_CKSUM_BAD) {
        return tx_.drop(m, AppDrop::ip_bad_checksum);
    }
    rx.ip_checksum_ok = port_.rx_checksum && ip_flags == RTE_MBUF_F_RX_IP_CKSUM_GOOD;
    if (!rx.ip_checksum_ok && !ip->checksum_ok()) return tx_.drop(m, AppDrop::ip_bad_checksum);
    rx.ip_checksum_ok = true;
    rx.l4_checksum_ok = port_.rx_checksum &&
                        (m->ol_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK) == RTE_MBUF_F_RX_L4_CKSUM_GOOD;
    if (ip->is_fragment()) return tx_.drop(m, AppDrop::ip_fragment);
    if (ip->ttl() == 0) return tx_.drop(m, AppDrop::ip_ttl_zero);
    if (!is_local(ip->dst())) return tx_.drop(m, AppDrop::ip_not_for_us);
    const auto src = ip->src();
    if (src == ip->dst()) return tx_.drop(m, AppDrop::ip_land);
    if (src.is_unspecified() || src.is_broadcast() || src.is_multicast() || is_local(src)) {
        return tx_.drop(m, AppDrop::ip_bad_source);
    }
    switch (ip->protocol()) {
        case wire::ipproto::tcp:
            counters_.tcp_in++;
            if (verbose_) [[unlikely]] cli::trace_segment("IN", packet.first(ip->total_len()));
            // The IPv4 header was checked above, once: the engine takes the
            // segment with its addresses (each drop keeps one counter).
            engine_->input_tcp(src, ip->dst(), ip->tos() & wire::ecn::mask, ip->payload(), now, rx);
            tx_.free(m);  // the engine copied what it keeps
            return drain_if_crowded(now);
        case wire::ipproto::icmp:
            if (!ip->payload().empty() && wire::is_icmp_error_type(ip->payload()[0])) {
                counters_.icmp_errors_in++;
                engine_->input_icmp(packet.first(ip->total_len()), now);  // RFC 9293 §3.9.2.2
                tx_.free(m);
                return drain_if_crowded(now);
            }
            return icmp_echo(m, l2_len, now);
        default:
            return tx_.drop(m, AppDrop::ip_unknown_proto);
    }
}

// Echo reply in place: swap addresses, patch the ICMP checksum (RFC 1624),
// and send the frame back to the MAC it came from.
void Worker::icmp_echo(rte_mbuf* m, std::size_t l2_len, tcp::Instant) {
    auto* frame = rte_pktmbuf_mtod(m, std::uint8_t*);
    std::uint8_t* ip = frame + l2_len;
    const std::size_t hl = (ip[0] & 0x0fu) * 4u;
    const std::size_t total = wire::load_be16(ip + 2);
    const std::span<std::uint8_t> msg(ip + hl, total - hl);
    auto echo = wire::parse_icmp_echo(msg);
    if (!echo) return tx_.drop(m, AppDrop::icmp_malformed);
    if (echo->type != wire::icmp_type::echo_request) {
        return tx_.drop(m, AppDrop::icmp_not_echo_request);
    }
    if (wire::icmp_echo_request_to_reply_in_place(msg) != wire::WireError::none) {
        return tx_.drop(m, AppDrop::icmp_malformed);
    }
    std::uint8_t tmp[4];
    std::copy(ip + 12, ip + 16, tmp);
    std::copy(ip + 16, ip + 20, ip + 12);
    std::copy(tmp, tmp + 4, ip + 16);
    ip[8] = 64;  // a fresh TTL, as for any packet we originate
    wire::store_be16(ip + 10, 0);
    wire::store_be16(ip + 10, wire::checksum::finish(wire::checksum::accumulate({ip, hl})));
    std::uint8_t mac[6];
    std::copy(frame + 6, frame + 12, mac);      // requester's MAC becomes the destination
    std::copy(mac, mac + 6, frame);
    std::copy(port_.mac.bytes.begin(), port_.mac.bytes.end(), frame + 6);
    const auto len = static_cast<std::uint16_t>(l2_len + total);  // drop Ethernet padding
    m->data_len = len;
    m->pkt_len = len;
    m->ol_flags = 0;
    counters_.icmp_echo_replies++;
    tx_.send(m);
}

// The loop drains once per iteration; a burst whose output fills half the
// engine's queue is drained early instead of having segments dropped.
void Worker::drain_if_crowded(tcp::Instant now) {
    if (engine_->output_crowded()) drain_output(now);
}

namespace {

// `set verbose` for a super-segment: each segment the port will cut from
// it, as if sent alone (PSH where the engine put it).
[[gnu::noinline]] void trace_run(std::span<const tcp::OutSegment> run, std::uint16_t ip_id) {
    std::uint8_t one[wire::kIpv4MinHeaderLen + 60 + 9000];
    for (std::size_t k = 0; k < run.size(); ++k) {
        auto n = tcp::serialize(run[k], one, static_cast<std::uint16_t>(ip_id + k));
        if (n) cli::trace_segment("OUT", {one, *n});
    }
}

}  // namespace

// Every segment the engine made goes out in one frame of its own, or, with
// the port's TCP segmentation offload, a run of them (tcp::tso_run) in one
// super-segment the port cuts back into exactly those segments.
void Worker::drain_output(tcp::Instant now) {
    const std::span<const tcp::OutSegment> out = engine_->output();
    for (std::size_t i = 0; i < out.size();) {
        const std::size_t n = port_.tso ? tcp::tso_run(out.subspan(i), tso_limits_) : 1;
        if (n > 1) {
            send_super_segment(out.subspan(i, n), now);
        } else {
            send_segment(out[i], now);
        }
        i += n;
    }
    engine_->clear_output();
}

void Worker::send_segment(const tcp::OutSegment& seg, tcp::Instant now) {
    const auto mode = port_.tx_checksum ? wire::ChecksumMode::offload : wire::ChecksumMode::full;
    rte_mbuf* m = tx_.alloc();
    if (m == nullptr) return;
    auto* base = rte_pktmbuf_mtod(m, std::uint8_t*);
    const std::size_t room = rte_pktmbuf_tailroom(m);
    auto len = tcp::serialize(seg, {base + wire::kEthHeaderLen, room - wire::kEthHeaderLen}, ip_id_++, mode);
    if (!len) return tx_.drop(m, AppDrop::tx_serialize);
    if (verbose_) [[unlikely]] cli::trace_segment("OUT", {base + wire::kEthHeaderLen, *len});
    m->data_len = static_cast<std::uint16_t>(wire::kEthHeaderLen + *len);
    m->pkt_len = m->data_len;
    if (port_.tx_checksum) {
        m->ol_flags |= RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IP_CKSUM | RTE_MBUF_F_TX_TCP_CKSUM;
        m->l2_len = wire::kEthHeaderLen;
        m->l3_len = wire::kIpv4MinHeaderLen;
    }
    counters_.tcp_out++;
    arp_.output(m, seg.tuple.remote_ip, now.millis());
}

// One super-segment: Ethernet, IPv4 and TCP headers in the first mbuf, then
// the run's payloads, filling each mbuf before the next is chained. The port
// cuts it every tso_segsz bytes (the first segment's payload) and writes
// each piece's lengths, SEQ, IPv4 ID (ours, counting up) and checksums
// (RTE_MBUF_F_TX_TCP_SEG; the TCP checksum field holds the pseudo-header
// sum without the length).
void Worker::send_super_segment(std::span<const tcp::OutSegment> run, tcp::Instant now) {
    rte_mbuf* m = tx_.alloc();
    if (m == nullptr) return;
    std::uint32_t bytes = 0;
    for (const tcp::OutSegment& s : run) bytes += s.payload.bytes;
    auto* base = rte_pktmbuf_mtod(m, std::uint8_t*);
    const std::size_t room = rte_pktmbuf_tailroom(m);
    auto header = tcp::serialize_tso_header(run.front(), tcp::tso_flags(run), bytes,
                                            {base + wire::kEthHeaderLen, room - wire::kEthHeaderLen}, ip_id_);
    if (!header) return tx_.drop(m, AppDrop::tx_serialize);
    if (verbose_) [[unlikely]] trace_run(run, ip_id_);
    ip_id_ = static_cast<std::uint16_t>(ip_id_ + run.size());
    const auto l4_len = static_cast<std::uint8_t>(*header - wire::kIpv4MinHeaderLen);
    if (!fill_chain(m, static_cast<std::uint32_t>(wire::kEthHeaderLen + *header), run)) {
        return tx_.free(m);  // counted as tx_no_mbuf where the chain stopped
    }
    m->ol_flags |= RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IP_CKSUM | RTE_MBUF_F_TX_TCP_SEG;
    m->l2_len = wire::kEthHeaderLen;
    m->l3_len = wire::kIpv4MinHeaderLen;
    m->l4_len = l4_len;
    m->tso_segsz = static_cast<std::uint16_t>(run.front().payload.bytes);
    counters_.tcp_out += run.size();
    counters_.tso_frames++;
    counters_.tso_segments += run.size();
    arp_.output(m, run.front().tuple.remote_ip, now.millis());
}

// Copies the run's payloads behind the `at` bytes already in `head`,
// chaining mbufs as each fills. False when the pool ran dry (the caller
// frees the chain so far).
bool Worker::fill_chain(rte_mbuf* head, std::uint32_t at, std::span<const tcp::OutSegment> run) {
    rte_mbuf* cur = head;
    auto* dst = rte_pktmbuf_mtod(cur, std::uint8_t*) + at;
    // Every mbuf but the last holds an even number of bytes, so each piece
    // the port cuts at an even size starts and crosses mbufs at even offsets
    // (tcp::TsoLimits::even_cut says why that matters).
    std::uint32_t left = (static_cast<std::uint32_t>(rte_pktmbuf_tailroom(cur)) - at) & ~1u;
    cur->data_len = static_cast<std::uint16_t>(at);
    head->pkt_len = at;
    for (const tcp::OutSegment& s : run) {
        for (std::span<const std::uint8_t> part : s.payload.parts()) {
            while (!part.empty()) {
                if (left == 0) {
                    rte_mbuf* next = tx_.alloc_continuation();
                    if (next == nullptr) return false;
                    cur->next = next;
                    cur = next;
                    head->nb_segs++;
                    dst = rte_pktmbuf_mtod(cur, std::uint8_t*);
                    left = static_cast<std::uint32_t>(rte_pktmbuf_tailroom(cur)) & ~1u;
                }
                const std::uint32_t n = std::min<std::uint32_t>(left, static_cast<std::uint32_t>(part.size()));
                std::memcpy(dst, part.data(), n);
                dst += n;
                left -= n;
                cur->data_len = static_cast<std::uint16_t>(cur->data_len + n);
                head->pkt_len += n;
                part = part.subspan(n);
            }
        }
    }
    return true;
}

void Worker::print_stats() const {
    const unsigned w = index_;
    std::printf("worker %u: rx %" PRIu64 " frames, tx %" PRIu64 " frames, tcp in %" PRIu64
                " out %" PRIu64 ", icmp echo replies %" PRIu64 " errors in %" PRIu64
                ", arp requests %" PRIu64 " replies %" PRIu64 "\n",
                w, counters_.rx_packets, counters_.tx_packets, counters_.tcp_in, counters_.tcp_out,
                counters_.icmp_echo_replies, counters_.icmp_errors_in, counters_.arp_requests_sent,
                counters_.arp_replies_sent);
    std::printf("worker %u: handoff out %" PRIu64 " in %" PRIu64 " ring_full %" PRIu64
                " arp_copies %" PRIu64 "\n",
                w, handed_off_, handoff_in_, handoff_ring_full_, arp_copies_);
    std::printf("worker %u: loop iterations %" PRIu64 ", with frames received %" PRIu64
                " (%.1f frames per such burst), busy %.3f s\n", w, loop_iterations_, loop_rx_bursts_,
                loop_rx_bursts_ == 0 ? 0.0 : double(counters_.rx_packets) / double(loop_rx_bursts_),
                double(busy_micros()) / 1e6);
    std::printf("worker %u: mbufs held %" PRId64 " (idle baseline %" PRId64 ")\n", w, tx_.held(),
                idle_baseline_);
    if (tap_signals_lost_ != 0) {
        std::printf("worker %u: net_tap RX signals the kernel could not queue (SIGIO) %" PRIu64 "\n", w,
                    tap_signals_lost_);
    }
    if (counters_.tso_frames != 0) {
        std::printf("worker %u: tso %" PRIu64 " super-segments carrying %" PRIu64 " segments\n", w,
                    counters_.tso_frames, counters_.tso_segments);
    }
    if (counters_.tx_deferred != 0) {
        std::printf("worker %u: tx frames deferred by a full TX ring %" PRIu64 "\n", w,
                    counters_.tx_deferred);
    }
    for (std::size_t i = 0; i < counters_.drops.size(); ++i) {
        if (counters_.drops[i] == 0) continue;
        const auto d = static_cast<AppDrop>(i);
        std::printf("  drop %-22s %10" PRIu64 "  %s\n", name(d), counters_.drops[i], describe(d));
    }
    if (!engine_) return;
    apps_->print_stats(w);
    const auto& hc = host_->counters();
    std::printf("apps %u: events %" PRIu64 " routed %" PRIu64 " unowned %" PRIu64 " in %" PRIu64
                " batches, accepted %" PRIu64 "\n",
                w, hc.events, hc.routed, hc.unowned, hc.batches, hc.accepted);
    const auto& c = engine_->counters();
    // Leak accounting (scripts/soak.sh): everything below returns to 0 when idle.
    // "buffers in use" counts pool chunks (of [engine] chunk_size bytes).
    std::printf("engine %u: %zu connection(s), %zu TIME_WAIT record(s), buffers in use %u, "
                "timers armed %zu, loss states %zu, buffer bytes %" PRIu64 "\n",
                w, engine_->connection_count(), engine_->time_wait_count(),
                engine_->buffers_in_use(), engine_->armed_timers(), engine_->loss_states_in_use(),
                engine_->buffer_bytes_in_use());
    for (std::size_t i = 0; i < c.mib.size(); ++i) {
        if (c.mib[i] == 0) continue;
        const auto k = static_cast<tcp::Mib>(i);
        std::printf("  mib  %-26s %10" PRIu64 "  %s\n", tcp::name(k), c.mib[i], tcp::describe(k));
    }
    for (std::size_t i = 0; i < c.drops.size(); ++i) {
        if (c.drops[i] == 0) continue;
        const auto d = static_cast<tcp::Drop>(i);
        std::printf("  drop %-26s %10" PRIu64 "  %s\n", tcp::name(d), c.drops[i], tcp::describe(d));
    }
}

}  // namespace tcpfp::app
