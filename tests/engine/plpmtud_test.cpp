// Packetization-layer path MTU discovery (RFC 4821) between two engines,
// over a link that drops every packet above a size and sends no ICMP error
// (a black hole, Impairment::drop_rule). What must hold: the transfer
// completes byte-exact, and the sender's MSS ends within the probe
// threshold below the hole. Packet-level detail: tests/scenarios/plpmtud/.
#include <gtest/gtest.h>

#include "util.hpp"

namespace tcpfp::tcp::test {
namespace {

EngineConfig with_probing(MtuProbing mode) {
    EngineConfig c = test_config();
    c.mtu_probing = mode;
    return c;
}

// Packets from A larger than `mtu` vanish.
void black_hole_from_a(Net& net, std::size_t mtu) {
    net.impair().drop_rule = [mtu](const Captured& c) { return c.from == Side::a && c.bytes.size() > mtu; };
}

// A sends `bytes` to B within `limit`; returns how many B read.
std::size_t bulk(Net& net, const Pair& p, std::size_t bytes, Duration limit) {
    std::vector<std::uint8_t> data(bytes);
    for (std::size_t i = 0; i < bytes; ++i) data[i] = static_cast<std::uint8_t>(i * 7 + i / 251);
    std::size_t sent = 0;
    std::string got;
    net.run_until(
        [&] {
            if (sent < data.size()) {
                const auto n = net.a().send(p.a, std::span(data).subspan(sent), net.now());
                if (n > 0) sent += static_cast<std::size_t>(n);
            }
            got += recv_all(net.b(), p.b, net.now());
            return got.size() == data.size();
        },
        limit);
    EXPECT_EQ(0, std::memcmp(got.data(), data.data(), got.size())) << "the bytes that arrived are the bytes sent";
    return got.size();
}

// The IPv4 packet size A's full segments take now (timestamps negotiated).
std::size_t packet_size(Net& net, ConnId id) {
    ConnInfo info;
    EXPECT_EQ(net.a().info(id, info), 0);
    return info.snd_mss + 40u + 12u;
}

std::uint64_t count(Engine& e, Mib m) { return e.counters().get(m); }

TEST(Plpmtud, WithoutProbingABlackHoleStallsTheTransfer) {
    // The case for the feature: full-sized segments never arrive, and
    // nothing tells the sender. Only the handshake and small segments pass.
    Net net(with_probing(MtuProbing::off), test_config());
    const Pair p = open_pair(net);
    black_hole_from_a(net, 1200);
    EXPECT_LT(bulk(net, p, 100'000, Duration::seconds(30)), 100'000u);
    EXPECT_GE(count(net.a(), Mib::r1_reached), 1u);
}

TEST(Plpmtud, BlackHoleModeFindsTheHoleAndFinishes) {
    Net net(with_probing(MtuProbing::blackhole), test_config());
    const Pair p = open_pair(net);
    black_hole_from_a(net, 1200);
    EXPECT_EQ(bulk(net, p, 3'000'000, Duration::seconds(120)), 3'000'000u);
    Engine& a = net.a();
    EXPECT_EQ(count(a, Mib::plpmtud_black_holes), 1u) << "one step to the base size, from the R1'th timeout";
    EXPECT_GE(count(a, Mib::plpmtud_probes_lost), 1u) << "the first probe (1500) cannot pass";
    EXPECT_GE(count(a, Mib::plpmtud_probes_acked), 1u);
    // §7.6.2: a lost probe is no congestion; only the black hole's timeouts
    // and nothing else cut the window.
    EXPECT_EQ(count(a, Mib::fast_retransmits), 0u);
    const std::size_t size = packet_size(net, p.a);
    EXPECT_LE(size, 1200u);
    EXPECT_GT(size, 1200u - plpmtud::kProbeThreshold) << "the search ends within the threshold of the hole";
}

TEST(Plpmtud, OnModeClimbsToTheFullSizeOnACleanPath) {
    Net net(with_probing(MtuProbing::on), with_probing(MtuProbing::on));
    const Pair p = open_pair(net);
    EXPECT_EQ(packet_size(net, p.a), plpmtud::kBaseMtu) << "RFC 4821 §7.2: the search starts at the base";
    EXPECT_EQ(bulk(net, p, 1'000'000, Duration::seconds(60)), 1'000'000u);
    EXPECT_EQ(packet_size(net, p.a), 1500u) << "the first probe tries the ceiling, and it passes";
    EXPECT_EQ(count(net.a(), Mib::plpmtud_probes), 1u);
    EXPECT_EQ(count(net.a(), Mib::plpmtud_probes_acked), 1u);
    EXPECT_EQ(count(net.a(), Mib::retrans_segs), 0u);
}

// What `show conn` prints: pmtu always, the search range while it searches.
TEST(Plpmtud, ConnInfoShowsThePathMtuAndTheRangeStillSearched) {
    Net net(with_probing(MtuProbing::on), with_probing(MtuProbing::on));
    const Pair p = open_pair(net);
    ConnInfo info;
    ASSERT_EQ(net.a().info(p.a, info), 0);
    EXPECT_EQ(info.pmtu, plpmtud::kBaseMtu);
    EXPECT_EQ(info.probe_low, plpmtud::kBaseMtu);
    EXPECT_EQ(info.probe_high, 1500u);
    EXPECT_EQ(bulk(net, p, 1'000'000, Duration::seconds(60)), 1'000'000u);
    ASSERT_EQ(net.a().info(p.a, info), 0);
    EXPECT_EQ(info.pmtu, 1500u);
    EXPECT_EQ(info.probe_low, 0u) << "the search is over (info() fills every field of a reused ConnInfo)";
    EXPECT_EQ(info.probe_high, 0u);
    ASSERT_EQ(net.b().info(p.b, info), 0);
    EXPECT_EQ(info.pmtu, plpmtud::kBaseMtu) << "B sent no data, so it never probed";
}

TEST(Plpmtud, OnModeFindsANarrowerPathWithoutRetransmissionTimeouts) {
    Net net(with_probing(MtuProbing::on), test_config());
    const Pair p = open_pair(net);
    black_hole_from_a(net, 1400);
    EXPECT_EQ(bulk(net, p, 3'000'000, Duration::seconds(60)), 3'000'000u);
    const std::size_t size = packet_size(net, p.a);
    EXPECT_LE(size, 1400u);
    EXPECT_GT(size, 1400u - plpmtud::kProbeThreshold);
    // Each lost probe was found by SACK and RACK and resent at once.
    EXPECT_EQ(count(net.a(), Mib::rto_expirations), 0u);
    EXPECT_EQ(count(net.a(), Mib::fast_retransmits), 0u);
    EXPECT_EQ(count(net.a(), Mib::plpmtud_probes_lost) + count(net.a(), Mib::plpmtud_probes_acked),
              count(net.a(), Mib::plpmtud_probes) - count(net.a(), Mib::plpmtud_probes_inconclusive));
}

TEST(Plpmtud, AFinishedSearchStartsAgainAfterTenMinutes) {
    // The path's hole closes: a search that had settled below it finds the
    // full size again at the next interval (RFC 4821 §7.7, RFC 1191 §6.3).
    Net net(with_probing(MtuProbing::on), test_config());
    const Pair p = open_pair(net);
    black_hole_from_a(net, 1300);
    EXPECT_EQ(bulk(net, p, 2'000'000, Duration::seconds(60)), 2'000'000u);
    EXPECT_LE(packet_size(net, p.a), 1300u);
    net.impair().drop_rule = nullptr;
    net.run_for(Duration::millis(plpmtud::kReprobeMs - 60'000));
    EXPECT_EQ(bulk(net, p, 500'000, Duration::seconds(30)), 500'000u);
    EXPECT_LE(packet_size(net, p.a), 1300u) << "not before the interval";
    net.run_for(Duration::seconds(90));
    EXPECT_EQ(bulk(net, p, 500'000, Duration::seconds(30)), 500'000u);
    EXPECT_EQ(packet_size(net, p.a), 1500u);
}

// Without SACK neither detection nor probing runs: no probe could climb
// back, and a path that merely loses much looks like a hole, so a step
// down would last for good. Found by fuzz_two_engine (no SACK, a link
// dropping most packets: MSS 524, the transfer unfinished after 3 h; the
// inputs are corpus/two_engine/crash-plpmtud-no-sack-*).
TEST(Plpmtud, WithoutSackTheMssIsLeftAlone) {
    EngineConfig a = with_probing(MtuProbing::blackhole), b = test_config();
    a.sack = b.sack = false;
    Net net(a, b);
    const Pair p = open_pair(net);
    black_hole_from_a(net, 1200);
    EXPECT_LT(bulk(net, p, 100'000, Duration::seconds(30)), 100'000u) << "as with mtu_probing off";
    EXPECT_GE(count(net.a(), Mib::r1_reached), 1u);
    EXPECT_EQ(count(net.a(), Mib::plpmtud_black_holes), 0u);
    EXPECT_EQ(count(net.a(), Mib::plpmtud_probes), 0u);
    EXPECT_EQ(packet_size(net, p.a), 1500u);
}

}  // namespace
}  // namespace tcpfp::tcp::test
