// Explicit Congestion Notification between two engines (RFC 3168): the
// negotiation in the handshake, ECT(0) on new data only, a router's CE
// marks echoed with ECE until CWR, and the sender's once-per-window
// reduction without any retransmission. The link marks CE as an AQM would
// (Impairment::mark_ce_rule). Packet-level detail: tests/scenarios/ecn/.
#include <gtest/gtest.h>

#include "util.hpp"

namespace tcpfp::tcp::test {
namespace {

using wire::tcp_flag::cwr;
using wire::tcp_flag::ece;
using wire::tcp_flag::syn;

std::uint8_t ecn_of(const Captured& c) { return c.bytes[1] & wire::ecn::mask; }

EngineConfig with_ecn(EcnMode mode) {
    EngineConfig c = test_config();
    c.ecn = mode;
    return c;
}

bool ecn_ok(Engine& e, ConnId id) {
    ConnInfo info;
    EXPECT_EQ(e.info(id, info), 0);
    return info.ecn_ok;
}

// A sends `bytes` to B, B reads them all; returns what B read.
std::string bulk(Net& net, const Pair& p, std::size_t bytes) {
    const std::vector<std::uint8_t> data(bytes, 0x5a);
    std::size_t sent = 0;
    std::string got;
    const bool done = net.run_until(
        [&] {
            if (sent < data.size()) {
                const auto n = net.a().send(p.a, std::span(data).subspan(sent), net.now());
                if (n > 0) sent += static_cast<std::size_t>(n);
            }
            got += recv_all(net.b(), p.b, net.now());
            return got.size() == data.size();
        },
        Duration::seconds(60));
    EXPECT_TRUE(done) << got.size() << " of " << bytes << " bytes arrived";
    net.settle();
    return got;
}

std::uint64_t count(Engine& e, Mib m) { return e.counters().get(m); }

TEST(Ecn, NegotiatedWhenTheClientAsksAndTheServerAccepts) {
    Net net(with_ecn(EcnMode::on), with_ecn(EcnMode::passive));
    const Pair p = open_pair(net);
    EXPECT_TRUE(ecn_ok(net.a(), p.a));
    EXPECT_TRUE(ecn_ok(net.b(), p.b));
    EXPECT_EQ(count(net.a(), Mib::ecn_negotiated), 1u);
    EXPECT_EQ(count(net.b(), Mib::ecn_negotiated), 1u);
    EXPECT_EQ(bulk(net, p, 50'000).size(), 50'000u);
    std::size_t data = 0;
    for (const Captured& c : net.trace()) {
        if (c.has(syn)) {
            // RFC 3168 §6.1.1: ECE+CWR on the SYN, ECE alone on the SYN-ACK,
            // neither sent ECT.
            EXPECT_EQ(c.flags & (ece | cwr), c.from == Side::a ? (ece | cwr) : ece);
            EXPECT_EQ(ecn_of(c), wire::ecn::not_ect);
        } else if (c.payload_len > 0) {
            ++data;
            EXPECT_EQ(ecn_of(c), wire::ecn::ect0) << "new data is ECT(0)";
        } else {
            EXPECT_EQ(ecn_of(c), wire::ecn::not_ect) << "pure ACKs are Not-ECT (§6.1.4)";
        }
    }
    EXPECT_GT(data, 30u);
    EXPECT_EQ(net.a().counters().get(Mib::retrans_segs), 0u);
}

TEST(Ecn, NotNegotiatedWhenNobodyAsksOrTheServerIsOff) {
    for (const EcnMode server : {EcnMode::passive, EcnMode::off}) {
        const EcnMode client = server == EcnMode::off ? EcnMode::on : EcnMode::passive;
        Net net(with_ecn(client), with_ecn(server));
        const Pair p = open_pair(net);
        EXPECT_FALSE(ecn_ok(net.a(), p.a));
        EXPECT_FALSE(ecn_ok(net.b(), p.b));
        EXPECT_EQ(bulk(net, p, 20'000).size(), 20'000u);
        for (const Captured& c : net.trace()) {
            EXPECT_EQ(ecn_of(c), wire::ecn::not_ect);
            if (c.from == Side::b) {
                EXPECT_FALSE(c.has(ece)) << "no ECE from a server that did not agree";
            }
            if (client == EcnMode::passive) {
                EXPECT_FALSE(c.has(ece) || c.has(cwr)) << "a passive client never asks";
            }
        }
    }
}

TEST(Ecn, OneCeMarkReducesOnceAndIsConfirmedWithCwr) {
    Net net(with_ecn(EcnMode::on), with_ecn(EcnMode::passive));
    const Pair p = open_pair(net);
    int ect_seen = 0;
    net.impair().mark_ce_rule = [&](const Captured& c) { return c.from == Side::a && ++ect_seen == 5; };
    EXPECT_EQ(bulk(net, p, 200'000).size(), 200'000u);
    EXPECT_EQ(count(net.b(), Mib::ecn_ce_received), 1u);
    EXPECT_EQ(count(net.a(), Mib::ecn_reductions), 1u);
    EXPECT_EQ(count(net.a(), Mib::ecn_cwr_sent), 1u);
    EXPECT_EQ(count(net.a(), Mib::retrans_segs), 0u) << "a mark is not a loss";
    EXPECT_EQ(count(net.a(), Mib::fast_retransmits), 0u);
    // B echoed from the mark until A's CWR reached it, and not after.
    const Captured* cwr_segment = nullptr;
    const Captured* last_echo = nullptr;
    for (const Captured& c : net.trace()) {
        if (c.from == Side::a && c.has(cwr)) cwr_segment = &c;
        if (c.from == Side::b && c.has(ece) && !c.has(syn)) last_echo = &c;
    }
    ASSERT_NE(cwr_segment, nullptr);
    ASSERT_NE(last_echo, nullptr);
    EXPECT_GT(cwr_segment->payload_len, 0u) << "CWR rides on new data";
    EXPECT_LE(last_echo->at, cwr_segment->at + net.impair().delay) << "no echo once CWR arrived";
    ConnInfo info;
    ASSERT_EQ(net.a().info(p.a, info), 0);
    EXPECT_NE(info.ssthresh, UINT32_MAX) << "the reduction set ssthresh";
}

TEST(Ecn, MarksWithinOneWindowReduceOnlyOnce) {
    Net net(with_ecn(EcnMode::on), with_ecn(EcnMode::passive));
    const Pair p = open_pair(net);
    // Every packet of the initial window (IW10) is marked: one window, one
    // reduction (RFC 3168 §6.1.2), however many echoes arrive.
    int ect_seen = 0;
    net.impair().mark_ce_rule = [&](const Captured& c) { return c.from == Side::a && ++ect_seen <= 10; };
    EXPECT_EQ(bulk(net, p, 200'000).size(), 200'000u);
    EXPECT_EQ(count(net.b(), Mib::ecn_ce_received), 10u);
    EXPECT_EQ(count(net.a(), Mib::ecn_reductions), 1u);
    EXPECT_EQ(count(net.a(), Mib::retrans_segs), 0u);
}

TEST(Ecn, PersistentMarkingKeepsTheWindowDownWithoutLoss) {
    // Every ECT packet marked: a reduction per window, each confirmed by
    // CWR, and the transfer completes without a single retransmission.
    Net marked(with_ecn(EcnMode::on), with_ecn(EcnMode::passive));
    const Pair p = open_pair(marked);
    marked.impair().mark_ce_rule = [](const Captured& c) { return c.from == Side::a; };
    EXPECT_EQ(bulk(marked, p, 300'000).size(), 300'000u);
    const std::uint64_t reductions = count(marked.a(), Mib::ecn_reductions);
    const std::uint64_t cwrs = count(marked.a(), Mib::ecn_cwr_sent);
    EXPECT_GE(reductions, 3u);
    EXPECT_LE(cwrs, reductions);
    EXPECT_GE(cwrs + 1, reductions) << "every reduction but perhaps the last is confirmed";
    EXPECT_EQ(count(marked.a(), Mib::retrans_segs), 0u);
    ConnInfo info;
    ASSERT_EQ(marked.a().info(p.a, info), 0);
    // The unmarked run of the same transfer ends with a larger window.
    Net clear(with_ecn(EcnMode::on), with_ecn(EcnMode::passive));
    const Pair q = open_pair(clear);
    EXPECT_EQ(bulk(clear, q, 300'000).size(), 300'000u);
    ConnInfo clear_info;
    ASSERT_EQ(clear.a().info(q.a, clear_info), 0);
    EXPECT_LT(info.cwnd, clear_info.cwnd);
}

TEST(Ecn, AnUnansweredSynFallsBackToPlainTcp) {
    Net net(with_ecn(EcnMode::on), with_ecn(EcnMode::passive));
    int syns = 0;
    net.impair().drop_rule = [&](const Captured& c) { return c.has(syn) && c.from == Side::a && ++syns == 1; };
    const Pair p = open_pair(net);
    EXPECT_EQ(count(net.a(), Mib::ecn_syn_fallback), 1u);
    EXPECT_FALSE(ecn_ok(net.a(), p.a));
    EXPECT_FALSE(ecn_ok(net.b(), p.b));
    std::vector<std::uint8_t> syn_flags;
    for (const Captured& c : net.trace()) {
        if (c.from == Side::a && c.has(syn)) syn_flags.push_back(c.flags & (ece | cwr));
    }
    ASSERT_EQ(syn_flags.size(), 2u);
    EXPECT_EQ(syn_flags[0], ece | cwr);
    EXPECT_EQ(syn_flags[1], 0) << "RFC 3168 §6.1.1.1: the retransmitted SYN without ECN setup";
}

}  // namespace
}  // namespace tcpfp::tcp::test
