// ICMP errors about our segments (tcp/engine/icmp.cpp): RFC 9293 §3.9.2.2
// MUST-54..56 and SHLD-25/26, RFC 5927 §4.1 validation, RFC 1191 path MTU
// discovery. The errors quote packets engine A really sent (from the
// link's trace), as a router between A and B would.
#include <gtest/gtest.h>

#include <cerrno>

#include "util.hpp"
#include "tcp/wire/icmp.hpp"
#include "tcp/wire/ipv4.hpp"

namespace tcpfp::tcp::test {
namespace {

using namespace wire;

constexpr Ipv4Addr kRouter = Ipv4Addr::from_octets(172, 16, 48, 254);

// An ICMP error from a router to A quoting `quoted` (an IPv4 packet A sent).
std::vector<std::uint8_t> icmp_error(std::uint8_t type, std::uint8_t code, std::uint16_t mtu,
                                     std::span<const std::uint8_t> quoted) {
    std::vector<std::uint8_t> out(20 + 8 + 60 + 8);
    auto n = emit_icmp_error(type, code, mtu, quoted, std::span(out).subspan(20));
    EXPECT_TRUE(n.ok());
    Ipv4Repr ip;
    ip.src = kRouter;
    ip.dst = kHostA;
    ip.protocol = ipproto::icmp;
    ip.payload_len = static_cast<std::uint16_t>(*n);
    EXPECT_TRUE(emit_ipv4(ip, out).ok());
    out.resize(20 + *n);
    return out;
}

// The last packet A sent that matches `pred`.
std::vector<std::uint8_t> last_sent_by_a(Net& net, const std::function<bool(const Captured&)>& pred) {
    const auto sent = net.sent_by(Side::a);
    for (auto it = sent.rbegin(); it != sent.rend(); ++it) {
        if (pred(*it)) return it->bytes;
    }
    ADD_FAILURE() << "no such packet from A";
    return {};
}

std::uint64_t mib(Net& net, Mib m) { return net.a().counters().mib[static_cast<std::size_t>(m)]; }
std::uint64_t drops(Net& net, Drop d) { return net.a().counters().drops[static_cast<std::size_t>(d)]; }

void deliver(Net& net, const std::vector<std::uint8_t>& packet) {
    net.a().input_icmp(packet, net.now());
    net.flush();
}

// A has sent `len` bytes to B, none acknowledged yet (B's ACKs are held).
Pair pair_with_data_in_flight(Net& net, std::size_t len) {
    Pair p = open_pair(net);
    net.impair().drop_rule = [](const Captured& c) { return c.from == Side::b; };
    const std::vector<std::uint8_t> data(len, 'x');
    EXPECT_EQ(net.a().send(p.a, data, net.now()), static_cast<std::int64_t>(len));
    net.flush();
    return p;
}

TEST(IcmpError, HostUnreachableInEstablishedIsSoftAndReported) {
    Net net(test_config(), test_config());
    Pair p = pair_with_data_in_flight(net, 1000);
    const auto data = last_sent_by_a(net, [](const Captured& c) { return c.payload_len > 0; });
    (void)net.take_events(Side::a);
    deliver(net, icmp_error(icmp_type::dest_unreachable, icmp_unreach::host, 0, data));

    EXPECT_TRUE(net.saw_event(Side::a, p.a, EventKind::soft_error));
    ConnInfo ci;
    ASSERT_EQ(net.a().info(p.a, ci), 0);
    EXPECT_EQ(ci.state, State::established);  // MUST-56: never aborted
    EXPECT_EQ(ci.soft_error, EHOSTUNREACH);
    EXPECT_EQ(ci.error, 0);                    // SO_ERROR stays clear, as on Linux
    EXPECT_EQ(mib(net, Mib::icmp_soft_errors), 1u);
}

TEST(IcmpError, PortUnreachableInEstablishedDoesNotAbort) {
    Net net(test_config(), test_config());
    Pair p = pair_with_data_in_flight(net, 100);
    const auto data = last_sent_by_a(net, [](const Captured& c) { return c.payload_len > 0; });
    deliver(net, icmp_error(icmp_type::dest_unreachable, icmp_unreach::port, 0, data));
    EXPECT_EQ(state_of(net.a(), p.a), State::established);
    EXPECT_EQ(mib(net, Mib::icmp_hard_aborts), 0u);
    EXPECT_EQ(mib(net, Mib::icmp_soft_errors), 1u);
}

TEST(IcmpError, AQuoteOutsideSndUnaToSndNxtIsDropped) {
    Net net(test_config(), test_config());
    Pair p = open_pair(net);
    // The handshake's last ACK quotes SND.NXT with nothing outstanding:
    // SND.UNA == SND.NXT, so no sequence number is acceptable (RFC 5927 §4.1).
    const auto ack = last_sent_by_a(net, [](const Captured& c) { return c.payload_len == 0; });
    deliver(net, icmp_error(icmp_type::dest_unreachable, icmp_unreach::host, 0, ack));
    EXPECT_EQ(drops(net, Drop::icmp_out_of_window), 1u);
    ConnInfo ci;
    ASSERT_EQ(net.a().info(p.a, ci), 0);
    EXPECT_EQ(ci.soft_error, 0);
    EXPECT_FALSE(net.saw_event(Side::a, p.a, EventKind::soft_error));
}

TEST(IcmpError, PortUnreachableAbortsSynSentWithEconnrefused) {
    Net net(test_config(), test_config());
    net.impair().drop_rule = [](const Captured& c) { return c.from == Side::a; };  // the SYN is lost
    ConnId c;
    ASSERT_EQ(net.a().connect({kHostB, 5002, kHostA, 0, {}}, net.now(), c), 0);
    net.flush();
    const auto syn = last_sent_by_a(net, [](const Captured& k) { return k.has(tcp_flag::syn); });
    deliver(net, icmp_error(icmp_type::dest_unreachable, icmp_unreach::port, 0, syn));

    EXPECT_TRUE(net.saw_event(Side::a, c, EventKind::reset));  // SHLD-26
    EXPECT_EQ(net.a().take_error(c), ECONNREFUSED);
    EXPECT_EQ(mib(net, Mib::icmp_hard_aborts), 1u);
}

TEST(IcmpError, ASoftErrorInSynSentIsWhatATimedOutConnectReports) {
    EngineConfig cfg = test_config();
    cfg.syn_retries = 2;
    Net net(cfg, test_config());
    net.impair().drop_rule = [](const Captured& c) { return c.from == Side::a; };
    ConnId c;
    ASSERT_EQ(net.a().connect({kHostB, 5002, kHostA, 0, {}}, net.now(), c), 0);
    net.flush();
    const auto syn = last_sent_by_a(net, [](const Captured& k) { return k.has(tcp_flag::syn); });
    deliver(net, icmp_error(icmp_type::dest_unreachable, icmp_unreach::net, 0, syn));
    EXPECT_EQ(state_of(net.a(), c), State::syn_sent);  // soft: the SYN is retried
    ASSERT_TRUE(net.run_until([&] { return net.saw_event(Side::a, c, EventKind::timed_out); },
                              Duration::seconds(60)));
    EXPECT_EQ(net.a().take_error(c), ENETUNREACH);  // not ETIMEDOUT, as on Linux
}

TEST(IcmpError, PortUnreachableDropsAnEmbryonicPassiveConnectionSilently) {
    Net net(test_config(), test_config());
    ConnId listener;
    ASSERT_EQ(net.a().listen(kHostA, 80, 16, listener), 0);
    net.impair().drop_rule = [](const Captured& c) { return c.from == Side::a; };  // SYN-ACKs lost
    ConnId c;
    ASSERT_EQ(net.b().connect({kHostA, 80, kHostB, 0, {}}, net.now(), c), 0);
    net.flush();
    net.run_for(Duration::millis(1));
    const auto synack = last_sent_by_a(net, [](const Captured& k) { return k.has(tcp_flag::syn); });
    const auto before = net.a().connection_count();
    deliver(net, icmp_error(icmp_type::dest_unreachable, icmp_unreach::port, 0, synack));
    EXPECT_EQ(net.a().connection_count(), before - 1);
    EXPECT_EQ(mib(net, Mib::icmp_hard_aborts), 1u);
    EXPECT_EQ(state_of(net.a(), listener), State::listen);
}

TEST(IcmpError, SourceQuenchIsDiscarded) {
    Net net(test_config(), test_config());
    Pair p = pair_with_data_in_flight(net, 1000);
    ConnInfo before;
    ASSERT_EQ(net.a().info(p.a, before), 0);
    const auto data = last_sent_by_a(net, [](const Captured& c) { return c.payload_len > 0; });
    deliver(net, icmp_error(icmp_type::source_quench, 0, 0, data));
    EXPECT_EQ(drops(net, Drop::icmp_source_quench), 1u);  // MUST-55
    ConnInfo after;
    ASSERT_EQ(net.a().info(p.a, after), 0);
    EXPECT_EQ(after.cwnd, before.cwnd);
    EXPECT_EQ(after.soft_error, 0);
}

TEST(IcmpError, ErrorsForNoConnectionOrNotOurSegmentAreCounted) {
    Net net(test_config(), test_config());
    Pair p = pair_with_data_in_flight(net, 100);
    auto data = last_sent_by_a(net, [](const Captured& c) { return c.payload_len > 0; });
    auto other_port = data;
    other_port[20] ^= 0x01;  // quoted source port: no such connection
    deliver(net, icmp_error(icmp_type::time_exceeded, 0, 0, other_port));
    EXPECT_EQ(drops(net, Drop::icmp_no_connection), 1u);
    auto not_ours = data;
    not_ours[12] = 10;  // quoted source 10.16.48.13 is not A's
    deliver(net, icmp_error(icmp_type::time_exceeded, 0, 0, not_ours));
    EXPECT_EQ(drops(net, Drop::icmp_not_ours), 1u);
    auto bad = icmp_error(icmp_type::time_exceeded, 0, 0, data);
    bad[22] ^= 0xff;  // ICMP checksum
    deliver(net, bad);
    EXPECT_EQ(drops(net, Drop::icmp_malformed), 1u);
    EXPECT_EQ(state_of(net.a(), p.a), State::established);
}

TEST(PathMtu, FragmentationNeededLowersTheMssAndResendsAtOnce) {
    Net net(test_config(), test_config());
    Pair p = open_pair(net);
    // The path fits 1200-byte packets: every larger one A sends is lost
    // until A learns it, as on a link with a smaller MTU.
    bool told = false;
    std::vector<std::uint8_t> too_big;
    net.impair().drop_rule = [&](const Captured& c) {
        if (c.from != Side::a || c.bytes.size() <= 1200) return false;
        if (too_big.empty()) too_big = c.bytes;
        return true;
    };
    std::vector<std::uint8_t> out(200000), in;
    for (std::size_t i = 0; i < out.size(); ++i) out[i] = static_cast<std::uint8_t>(i * 13);
    std::size_t sent = 0;
    const bool done = net.run_until(
        [&] {
            if (!too_big.empty() && !told) {
                told = true;
                deliver(net, icmp_error(icmp_type::dest_unreachable, icmp_unreach::frag_needed, 1200, too_big));
            }
            if (sent < out.size()) {
                const auto w = net.a().send(p.a, std::span(out).subspan(sent), net.now());
                if (w > 0) sent += static_cast<std::size_t>(w);
                net.flush();
            }
            const std::string got = recv_all(net.b(), p.b, net.now());
            in.insert(in.end(), got.begin(), got.end());
            net.flush();
            return in.size() == out.size();
        },
        Duration::seconds(20));
    ASSERT_TRUE(done);
    EXPECT_EQ(in, out);
    ConnInfo ci;
    ASSERT_EQ(net.a().info(p.a, ci), 0);
    EXPECT_EQ(ci.snd_mss, 1200 - 40 - 12);  // the timestamps ride on every segment
    EXPECT_EQ(mib(net, Mib::pmtu_lowered), 1u);
    EXPECT_EQ(mib(net, Mib::rto_expirations), 0u);  // resent at once, not after an RTO
    EXPECT_EQ(net.a().path_mtu(kHostB), 1200);

    // A new connection to the same destination starts at the learned size.
    ConnId second, accepted;
    ASSERT_EQ(net.a().connect({kHostB, 5002, kHostA, 0, {}}, net.now(), second), 0);
    ASSERT_TRUE(net.run_until([&] { return net.b().accept(p.listener, accepted) == 0; }));
    ASSERT_EQ(net.a().info(second, ci), 0);
    EXPECT_EQ(ci.snd_mss, 1200 - 40 - 12);
}

TEST(PathMtu, TinyMtusAreClampedAndNoLargerMtuRaisesTheMss) {
    Net net(test_config(), test_config());
    Pair p = pair_with_data_in_flight(net, 1400);
    const auto data = last_sent_by_a(net, [](const Captured& c) { return c.payload_len > 0; });
    deliver(net, icmp_error(icmp_type::dest_unreachable, icmp_unreach::frag_needed, 1500, data));
    EXPECT_EQ(drops(net, Drop::icmp_mtu_not_lower), 1u);
    deliver(net, icmp_error(icmp_type::dest_unreachable, icmp_unreach::frag_needed, 100, data));
    EXPECT_EQ(mib(net, Mib::pmtu_clamped), 1u);
    ConnInfo ci;
    ASSERT_EQ(net.a().info(p.a, ci), 0);
    EXPECT_EQ(ci.snd_mss, 576 - 40 - 12);
    EXPECT_EQ(net.a().path_mtu(kHostB), 576);
}

TEST(PathMtu, AZeroNextHopMtuFallsToThePlateauBelowTheQuotedLength) {
    Net net(test_config(), test_config());
    (void)pair_with_data_in_flight(net, 3000);
    const auto data = last_sent_by_a(net, [](const Captured& c) { return c.bytes.size() == 1500; });
    ASSERT_EQ(data.size(), 1500u);
    deliver(net, icmp_error(icmp_type::dest_unreachable, icmp_unreach::frag_needed, 0, data));
    EXPECT_EQ(net.a().path_mtu(kHostB), 1492);  // RFC 1191 §7's plateau under 1500
}

TEST(PmtuCacheTable, EntriesExpireAfterTenMinutesAndTheTableStaysBounded) {
    PmtuCache cache(8, std::pmr::get_default_resource());
    cache.update(kHostB, 1200, 1000);
    EXPECT_EQ(cache.lookup(kHostB, 1000 + PmtuCache::kLifetimeMs - 1), 1200);
    EXPECT_EQ(cache.lookup(kHostB, 1000 + PmtuCache::kLifetimeMs), 0);
    for (std::uint32_t i = 1; i <= 100; ++i) cache.update(Ipv4Addr{0x0a000000u + i}, 1400, 2000 + i);
    EXPECT_LE(cache.size(2100), 8u);
    EXPECT_EQ(cache.lookup(Ipv4Addr{0x0a000000u + 100}, 2100), 1400);  // the newest is kept
}

}  // namespace
}  // namespace tcpfp::tcp::test
