// Graceful overload (EngineConfig::overload_percent, max_orphans): past the
// high-water mark a SYN takes no state until its handshake completes, an
// embryonic connection whose SYN-ACK times out is dropped, and orphans are
// reset at their retransmission timeout; past max_orphans, close() resets.
// Each case counts what it did, and the pressure ends where the mark is.
#include <gtest/gtest.h>

#include <cstddef>

#include "util.hpp"

namespace tcpfp::tcp::test {
namespace {

using wire::tcp_flag::ack;
using wire::tcp_flag::fin;
using wire::tcp_flag::rst;
using wire::tcp_flag::syn;

constexpr std::uint16_t kPort = 80;

// B (the server) with room for `max` control blocks, under pressure from
// `percent` of them on.
EngineConfig server_config(std::uint32_t max, std::uint8_t percent) {
    EngineConfig c = test_config();
    c.max_connections = max;
    c.overload_percent = percent;
    return c;
}

// n connections from A to B's listener, each accepted by B.
std::vector<Pair> open_pairs(Net& net, ConnId listener, int n) {
    std::vector<Pair> pairs;
    for (int i = 0; i < n; ++i) {
        Pair p{listener, {}, {}};
        EXPECT_EQ(net.a().connect({kHostB, kPort, kHostA, 0, {}}, net.now(), p.a), 0);
        EXPECT_TRUE(net.run_until([&] { return net.b().accept(listener, p.b) == 0; }, Duration::seconds(5)));
        pairs.push_back(p);
    }
    net.settle();
    return pairs;
}

std::size_t count_sent(const Net& net, Side from, std::uint8_t flag) {
    std::size_t n = 0;
    for (const Captured& c : net.sent_by(from)) n += c.has(flag) ? 1 : 0;
    return n;
}

TEST(Overload, UnderPressureASynTakesNoStateUntilItsHandshakeCompletes) {
    Net net(test_config(), server_config(10, 50));  // pressure from 5 control blocks
    ConnId l;
    ASSERT_EQ(net.b().listen(kHostB, kPort, 16, l), 0);
    open_pairs(net, l, 4);  // the listener and 4: 50 %
    ASSERT_EQ(net.b().connection_count(), 5u);
    EXPECT_TRUE(net.b().under_pressure());
    EXPECT_EQ(net.b().counters().get(Mib::syncookies_overload), 0u);

    ConnId c;
    ASSERT_EQ(net.a().connect({kHostB, kPort, kHostA, 0, {}}, net.now(), c), 0);
    net.flush();
    net.run_for(Duration::micros(150));  // the SYN arrived (100 us) and was answered
    EXPECT_EQ(net.b().counters().get(Mib::syncookies_overload), 1u);
    EXPECT_EQ(net.b().counters().get(Mib::syncookies_sent), 1u);
    EXPECT_EQ(net.b().connection_count(), 5u) << "a SYN under pressure keeps no state (RFC 4987 §3.6)";

    ConnId acc;
    ASSERT_TRUE(net.run_until([&] { return net.b().accept(l, acc) == 0; }, Duration::seconds(1)));
    EXPECT_EQ(net.b().counters().get(Mib::syncookies_ok), 1u);
    EXPECT_EQ(net.b().connection_count(), 6u) << "the completed handshake took its control block";
    ASSERT_EQ(net.a().send(c, bytes_of("request"), net.now()), 7);
    net.settle();
    EXPECT_EQ(recv_all(net.b(), acc, net.now()), "request");
}

TEST(Overload, WithoutPressureASynTakesStateAsAlways) {
    Net net(test_config(), server_config(10, 100));  // 100: never under pressure
    ConnId l;
    ASSERT_EQ(net.b().listen(kHostB, kPort, 16, l), 0);
    open_pairs(net, l, 9);  // the table full
    EXPECT_FALSE(net.b().under_pressure());
    EXPECT_EQ(net.b().counters().get(Mib::syncookies_sent), 0u);
    EXPECT_EQ(net.b().connection_count(), 10u);
}

TEST(Overload, PastMaxOrphansCloseResetsInsteadOfOrphaning) {
    EngineConfig cb = test_config();
    cb.max_orphans = 2;
    Net net(test_config(), cb);
    ConnId l;
    ASSERT_EQ(net.b().listen(kHostB, kPort, 16, l), 0);
    const auto pairs = open_pairs(net, l, 4);
    // A answers nothing from now on: B's FINs stay unacknowledged.
    net.impair().drop_rule = [](const Captured& p) { return p.from == Side::a; };
    for (const Pair& p : pairs) ASSERT_EQ(net.b().close(p.b, net.now()), 0);
    EXPECT_EQ(net.b().orphan_count(), 2u);
    EXPECT_EQ(net.b().counters().get(Mib::orphans_reset_overload), 2u);
    EXPECT_EQ(net.b().connection_count(), 3u);  // the listener and two orphans
    net.run_for(Duration::seconds(2));
    EXPECT_EQ(count_sent(net, Side::b, rst), 2u) << "the two closed past max_orphans";
    EXPECT_GT(net.b().counters().get(Mib::fin_retransmits), 0u) << "the two orphans kept retransmitting";
    EXPECT_EQ(net.b().counters().get(Mib::orphans_reset_overload), 2u) << "2 orphans are not past max_orphans 2";
}

TEST(Overload, UnderPressureAnOrphanIsResetAtItsTimeoutUntilThePressureEnds) {
    // Pressure from 4 of 8 control blocks: the listener and 5 connections
    // make 6, so the first three orphans whose FIN times out are reset
    // (6 -> 5 -> 4 -> 3) and the last two retransmit as usual.
    Net net(test_config(), server_config(8, 50));
    ConnId l;
    ASSERT_EQ(net.b().listen(kHostB, kPort, 16, l), 0);
    const auto pairs = open_pairs(net, l, 5);
    ASSERT_EQ(net.b().connection_count(), 6u);
    net.impair().drop_rule = [](const Captured& p) { return p.from == Side::a; };
    for (const Pair& p : pairs) ASSERT_EQ(net.b().close(p.b, net.now()), 0);
    EXPECT_EQ(net.b().orphan_count(), 5u);
    EXPECT_EQ(net.b().counters().get(Mib::orphans_reset_overload), 0u) << "max_orphans is far";
    ASSERT_TRUE(net.run_until([&] { return net.b().connection_count() == 3u; }, Duration::seconds(5)));
    net.run_for(Duration::seconds(3));
    EXPECT_EQ(net.b().counters().get(Mib::orphans_reset_overload), 3u);
    EXPECT_EQ(net.b().connection_count(), 3u);
    EXPECT_EQ(net.b().orphan_count(), 2u);
    EXPECT_FALSE(net.b().under_pressure());
    EXPECT_EQ(count_sent(net, Side::b, rst), 3u);
    std::size_t closed_by_rst = 0;
    for (const Pair& p : pairs) closed_by_rst += state_of(net.a(), p.a) == State::closed ? 1 : 0;
    EXPECT_EQ(closed_by_rst, 3u) << "the peer learns of each reset";
}

// A connects once more with B under pressure and without SYN cookies, and
// its handshake ACK is lost: returns B's counters after the SYN-ACK's first
// timeout.
struct Embryonic {
    std::uint64_t pruned = 0;
    std::uint64_t rto_expirations = 0;
    std::size_t connections = 0;
    std::size_t rsts = 0;
};
Embryonic lose_the_handshake_ack(std::uint8_t percent) {
    EngineConfig cb = server_config(8, percent);
    cb.syn_cookies = false;
    Net net(test_config(), cb);
    ConnId l;
    EXPECT_EQ(net.b().listen(kHostB, kPort, 16, l), 0);
    open_pairs(net, l, 3);  // 4 of 8
    net.impair().drop_rule = [](const Captured& p) { return p.from == Side::a && !p.has(syn); };
    ConnId c;
    EXPECT_EQ(net.a().connect({kHostB, kPort, kHostA, 0, {}}, net.now(), c), 0);
    net.flush();
    net.run_for(Duration::micros(150));
    EXPECT_EQ(net.b().connection_count(), 5u) << "SYN_RECEIVED";
    net.run_for(Duration::millis(1500));  // the SYN-ACK's first timeout (1 s)
    return {net.b().counters().get(Mib::syn_recv_pruned), net.b().counters().get(Mib::rto_expirations),
            net.b().connection_count(), count_sent(net, Side::b, rst)};
}

TEST(Overload, UnderPressureASynReceivedWhoseSynAckTimesOutIsDropped) {
    const Embryonic pressed = lose_the_handshake_ack(50);
    EXPECT_EQ(pressed.pruned, 1u);
    EXPECT_EQ(pressed.connections, 4u);
    EXPECT_EQ(pressed.rsts, 0u) << "dropped without a word, as Linux prunes its SYN queue";
    const Embryonic relaxed = lose_the_handshake_ack(100);
    EXPECT_EQ(relaxed.pruned, 0u);
    EXPECT_EQ(relaxed.connections, 5u) << "the SYN-ACK is retransmitted instead";
    EXPECT_GE(relaxed.rto_expirations, 1u);
}

// A mass expiry fires no more timers per advance() than the output queue
// has room for; the rest fire at the next call, after the drain. Here 200
// SYNs into a black hole all time out at once, with a 64-segment output
// queue: every retransmission goes out, none is dropped (before, 104 of
// the 200 were: output_dropped).
TEST(Overload, AMassExpiryFiresOnlyAsManyTimersAsTheOutputQueueHolds) {
    EngineConfig small = test_config();
    small.output_queue = 64;
    Net net(small, test_config());
    net.impair().drop_rule = [](const Captured& c) { return c.from == Side::a; };
    constexpr int kConns = 200;
    for (int i = 0; i < kConns; ++i) {
        ConnId c;
        ASSERT_EQ(net.a().connect({kHostB, kPort, kHostA, 0, {}}, net.now(), c), 0);
        if (i % 32 == 31) net.run_for(Duration::micros(1));  // the caller drains as the worker does
    }
    net.run_for(Duration::millis(1500));  // past the first SYN timeout (1 s)
    const Counters& k = net.a().counters();
    EXPECT_EQ(k.get(Mib::output_dropped), 0u);
    EXPECT_GE(k.get(Mib::retrans_segs), static_cast<std::uint64_t>(kConns));
    EXPECT_GT(k.get(Mib::timer_budget_carryover), 0u);
    EXPECT_EQ(count_sent(net, Side::a, syn), static_cast<std::size_t>(2 * kConns));
}

// advance(now, max_segments): a caller whose link is congested lets timers
// make about that many segments per call (in steps of 32 expiries, two
// segments each at most); the rest fire at later calls, none is lost.
TEST(Overload, AdvanceWithASegmentLimitSpreadsAMassExpiryOverCalls) {
    Net net(test_config(), test_config());
    net.impair().drop_rule = [](const Captured& c) { return c.from == Side::a; };
    constexpr int kConns = 200;
    for (int i = 0; i < kConns; ++i) {
        ConnId c;
        ASSERT_EQ(net.a().connect({kHostB, kPort, kHostA, 0, {}}, net.now(), c), 0);
    }
    net.a().clear_output();
    // Every SYN's timer is due (1 s); each call may make about 64 segments.
    const Instant later = net.now() + Duration::millis(1100);
    // A caller with no room at all fires nothing, and that call is counted.
    net.a().advance(later, 0);
    EXPECT_EQ(net.a().output().size(), 0u);
    EXPECT_EQ(net.a().counters().get(Mib::timers_held_for_output), 1u);
    std::size_t calls = 0;
    std::size_t made = 0;
    while (made < static_cast<std::size_t>(kConns) && calls < 20) {
        net.a().advance(later, 64);
        const std::size_t n = net.a().output().size();
        EXPECT_LE(n, 64u + 64u) << "at most one step beyond the limit";
        made += n;
        net.a().clear_output();
        ++calls;
    }
    EXPECT_EQ(made, static_cast<std::size_t>(kConns)) << "every SYN retransmitted";
    EXPECT_GE(calls, 3u) << "spread over calls";
    EXPECT_EQ(net.a().counters().get(Mib::output_dropped), 0u);
}

// Under pressure an orphan in FIN_WAIT_2 waits 5 s for the peer's FIN,
// not the configured 60 (fin_wait_2_shortened); without pressure it keeps
// the full timeout. The peer here ACKs B's FIN and never sends its own.
TEST(Overload, UnderPressureAnOrphanInFinWait2GetsFiveSeconds) {
    for (const std::uint8_t percent : {std::uint8_t{50}, std::uint8_t{100}}) {
        SCOPED_TRACE(percent == 50 ? "under pressure" : "no pressure");
        Net net(test_config(), server_config(10, percent));  // 50: pressure from 5 control blocks
        ConnId l;
        ASSERT_EQ(net.b().listen(kHostB, kPort, 16, l), 0);
        const std::vector<Pair> pairs = open_pairs(net, l, 4);
        EXPECT_EQ(net.b().under_pressure(), percent == 50);
        ASSERT_EQ(net.b().close(pairs[0].b, net.now()), 0);  // B's app lets go: an orphan
        net.run_for(Duration::millis(100));
        ASSERT_EQ(state_of(net.b(), pairs[0].b), State::fin_wait_2);
        net.run_for(Duration::seconds(6));
        const Counters& k = net.b().counters();
        if (percent == 50) {
            EXPECT_EQ(k.get(Mib::fin_wait_2_shortened), 1u);
            EXPECT_EQ(k.get(Mib::orphan_fin_wait_2_timeouts), 1u);
            EXPECT_EQ(net.b().connection_count(), 4u) << "the orphan's control block is free";
        } else {
            EXPECT_EQ(k.get(Mib::fin_wait_2_shortened), 0u);
            EXPECT_EQ(k.get(Mib::orphan_fin_wait_2_timeouts), 0u);
            EXPECT_EQ(net.b().connection_count(), 5u) << "the orphan waits its full 60 s";
        }
    }
}

}  // namespace
}  // namespace tcpfp::tcp::test
