#include "dpdk_app/worker.hpp"

#include <rte_ethdev.h>

#include <algorithm>
#include <cinttypes>
#include <cstdio>

#include "dpdk_app/log.hpp"
#include "tcp/wire/bytes.hpp"
#include "tcp/wire/checksum.hpp"
#include "tcp/wire/ethernet.hpp"
#include "tcp/wire/icmp.hpp"
#include "tcp/wire/ipv4.hpp"

namespace tcpfp::app {

namespace {
constexpr std::uint32_t kMaxBurst = 256;
constexpr auto kDrainTime = tcp::Duration::seconds(2);  // for connections to close at stop
}  // namespace

Worker::Worker(const AppConfig& cfg, const Port& port)
    : cfg_(cfg),
      port_(port),
      tx_(port.id, 0, port.pool, cfg.burst, counters_),
      arp_(cfg.arp, cfg.port, port.mac, tx_, counters_) {}

Worker::~Worker() = default;

void Worker::init(int socket) {
    mr_ = std::make_unique<RteMemoryResource>(socket);
    engine_ = std::make_unique<tcp::Engine>(cfg_.engine, clock_.now(), mr_.get());
    for (const auto& a : cfg_.port.addresses) (void)engine_->add_address(a.addr);
    services_ = std::make_unique<Services>(cfg_.services, *engine_, arp_, mr_.get());
}

bool Worker::is_local(wire::Ipv4Addr a) const { return engine_->is_local(a); }

int Worker::run() {
    tcp::Instant now = clock_.now();
    arp_.announce();
    services_->start(now);
    drain_output(now);
    tx_.flush();
    idle_baseline_ = tx_.held();
    TLOG(INFO, app, "worker on lcore %u running", rte_lcore_id());

    rte_mbuf* pkts[kMaxBurst];
    const auto burst = static_cast<std::uint16_t>(std::min(cfg_.burst, kMaxBurst));
    std::uint64_t last_tick_ms = 0;
    tcp::Instant deadline = tcp::Instant::max();
    bool stopping = false;
    for (;;) {
        const std::uint16_t n = rte_eth_rx_burst(port_.id, 0, pkts, burst);
        tx_.received(n);
        counters_.rx_packets += n;
        now = clock_.now();  // once per burst: one time value for every packet in it
        for (std::uint16_t i = 0; i < n; ++i) rx_frame(pkts[i], now);
        engine_->advance(now);
        drain_output(now);
        services_->on_events(now);
        services_->poll(now);
        drain_output(now);
        if (now.millis() != last_tick_ms) {
            last_tick_ms = now.millis();
            arp_.tick(last_tick_ms);
        }
        tx_.flush();

        if (!stopping && stop_.load(std::memory_order_relaxed)) {
            stopping = true;
            TLOG(INFO, app, "stopping: closing %zu connection(s)", engine_->connection_count());
            services_->stop(now);
            drain_output(now);
            tx_.flush();
            deadline = now + kDrainTime;
        }
        if (stopping && (engine_->connection_count() == 0 || now >= deadline)) break;
    }
    arp_.release_all();
    tx_.flush();
    finished_.store(true, std::memory_order_release);
    return 0;
}

void Worker::rx_frame(rte_mbuf* m, tcp::Instant now) {
    // A frame always fits one segment: the pool's data room covers the MTU.
    const std::span<const std::uint8_t> frame(rte_pktmbuf_mtod(m, const std::uint8_t*),
                                              rte_pktmbuf_data_len(m));
    auto eth = wire::parse_ethernet(frame);
    if (!eth || m->nb_segs != 1) return tx_.drop(m, AppDrop::eth_malformed);
    if (eth->src == port_.mac) {
        static bool warned = false;
        if (!warned) {
            warned = true;
            TLOG(WARNING, app, "frame from our own MAC %s: if this is net_tap, give the kernel "
                 "side another MAC (ip link set IFACE address ...)", port_.mac.to_string().c_str());
        }
        return tx_.drop(m, AppDrop::eth_own_source);
    }
    if (eth->dst != port_.mac && !eth->dst.is_broadcast()) {
        return tx_.drop(m, AppDrop::eth_not_for_us);
    }
    switch (eth->ethertype) {
        case wire::ethertype::arp:
            return arp_.input(m, *eth, now.millis());
        case wire::ethertype::ipv4:
            return rx_ipv4(m, eth->header_len, eth->payload, now);
        default:
            return tx_.drop(m, AppDrop::eth_unknown_type);
    }
}

void Worker::rx_ipv4(rte_mbuf* m, std::size_t l2_len, std::span<const std::uint8_t> packet,
                     tcp::Instant now) {
    if (packet.empty() || (packet[0] >> 4) != 4) return tx_.drop(m, AppDrop::ip_bad_version);
    auto ip = wire::Ipv4View::parse(packet);
    if (!ip) return tx_.drop(m, AppDrop::ip_bad_length);
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
    if (src.is_unspecified() || src.is_broadcast() || src.is_multicast() || is_local(src)) {
        return tx_.drop(m, AppDrop::ip_bad_source);
    }
    switch (ip->protocol()) {
        case wire::ipproto::tcp:
            counters_.tcp_in++;
            engine_->input(packet.first(ip->total_len()), now, rx);
            tx_.free(m);  // the engine copied what it keeps
            return drain_output(now);
        case wire::ipproto::icmp:
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

void Worker::drain_output(tcp::Instant now) {
    const auto mode = port_.tx_checksum ? wire::ChecksumMode::offload : wire::ChecksumMode::full;
    for (const tcp::OutSegment& seg : engine_->output()) {
        rte_mbuf* m = tx_.alloc();
        if (m == nullptr) continue;
        auto* base = rte_pktmbuf_mtod(m, std::uint8_t*);
        const std::size_t room = rte_pktmbuf_tailroom(m);
        auto len = tcp::serialize(seg, {base + wire::kEthHeaderLen, room - wire::kEthHeaderLen},
                                  ip_id_++, mode);
        if (!len) {
            tx_.drop(m, AppDrop::tx_serialize);
            continue;
        }
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
    engine_->clear_output();
}

void Worker::print_stats() const {
    std::printf("worker: rx %" PRIu64 " frames, tx %" PRIu64 " frames, tcp in %" PRIu64
                " out %" PRIu64 ", icmp echo replies %" PRIu64 ", arp requests %" PRIu64
                " replies %" PRIu64 "\n",
                counters_.rx_packets, counters_.tx_packets, counters_.tcp_in, counters_.tcp_out,
                counters_.icmp_echo_replies, counters_.arp_requests_sent,
                counters_.arp_replies_sent);
    std::printf("worker: mbufs held %" PRId64 " (idle baseline %" PRId64 ")\n", tx_.held(),
                idle_baseline_);
    for (std::size_t i = 0; i < counters_.drops.size(); ++i) {
        if (counters_.drops[i] == 0) continue;
        const auto d = static_cast<AppDrop>(i);
        std::printf("  drop %-22s %10" PRIu64 "  %s\n", name(d), counters_.drops[i], describe(d));
    }
    if (!engine_) return;
    const auto& c = engine_->counters();
    std::printf("engine: %zu connection(s), %zu TIME_WAIT record(s)\n",
                engine_->connection_count(), engine_->time_wait_count());
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
