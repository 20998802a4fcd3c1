// One wheel timer per connection, re-armed lazily (tcp/engine/timers.cpp
// rearm()): a deadline that moves later leaves the timer where it is, the
// early expiry finds nothing due and arms it for what is left. The wheel
// then moves a busy connection's timer about once per RTO, not once per
// segment, and every deadline still fires at its own time (RFC 6298 §5 for
// the retransmission timer).
#include <gtest/gtest.h>

#include <string>

#include "util.hpp"

namespace tcpfp::tcp::test {
namespace {

struct Pair {
    Net net{test_config(), test_config()};
    ConnId client{}, server{};

    Pair() {
        ConnId l;
        EXPECT_EQ(net.b().listen(kHostB, 80, 8, l), 0);
        EXPECT_EQ(net.a().connect({kHostB, 80, kHostA, 0, {}}, net.now(), client), 0);
        EXPECT_TRUE(net.run_until([&] { return net.b().accept(l, server) == 0; }, Duration::seconds(1)));
    }
    // One request and its response, then `gap` of quiet.
    void exchange(Duration gap) {
        ASSERT_EQ(net.a().send(client, bytes_of("ping"), net.now()), 4);
        net.run_for(Duration::micros(300));
        ASSERT_EQ(recv_all(net.b(), server, net.now()), "ping");
        ASSERT_EQ(net.b().send(server, bytes_of("pong"), net.now()), 4);
        net.run_for(Duration::micros(300));
        ASSERT_EQ(recv_all(net.a(), client, net.now()), "pong");
        net.run_for(gap);
    }
};

// 2,000 request/response exchanges, one every 2 ms: each pushes the RTO
// (and the keepalive and delayed-ACK deadlines) a tick or more later. Moved
// at every change, the timer moved 3,999 times per side here; lazily, only
// when a deadline comes closer (1 and 95 times).
TEST(TimerRearm, ABusyConnectionMovesItsTimerRarely) {
    Pair p;
    const std::uint64_t a0 = p.net.a().timer_moves(), b0 = p.net.b().timer_moves();
    constexpr int kExchanges = 2000;
    for (int i = 0; i < kExchanges; ++i) p.exchange(Duration::micros(1400));
    const std::uint64_t a_moves = p.net.a().timer_moves() - a0;
    const std::uint64_t b_moves = p.net.b().timer_moves() - b0;
    std::printf("timer moves over %d exchanges: client %llu, server %llu\n", kExchanges,
                static_cast<unsigned long long>(a_moves), static_cast<unsigned long long>(b_moves));
    EXPECT_LT(a_moves, kExchanges / 4u);
    EXPECT_LT(b_moves, kExchanges / 4u);
}

// After that traffic (the timer left armed for earlier deadlines), a lost
// request is retransmitted one RTO after it was sent, not at the stale
// early expiry and not a tick later than the RTO allows.
TEST(TimerRearm, ARetransmissionStillFiresAtItsRto) {
    Pair p;
    for (int i = 0; i < 200; ++i) p.exchange(Duration::micros(1400));
    ConnInfo info{};
    ASSERT_EQ(p.net.a().info(p.client, info), 0);
    const Duration rto = Duration::millis(info.rto_ms);
    p.net.impair().drop_rule = [](const Captured& c) { return c.from == Side::a && c.payload_len > 0; };
    p.net.clear_trace();
    const Instant sent = p.net.now();
    ASSERT_EQ(p.net.a().send(p.client, bytes_of("lost"), sent), 4);
    p.net.run_for(rto + Duration::millis(50));
    int copies = 0;
    Instant retransmitted = Instant::max();
    for (const Captured& c : p.net.trace()) {
        if (c.from != Side::a || c.payload_len == 0) continue;
        if (++copies == 2) retransmitted = c.at;
    }
    ASSERT_EQ(copies, 2) << "the first transmission and exactly one retransmission within RTO + 50 ms";
    EXPECT_GE(retransmitted - sent, rto);
    EXPECT_LE(retransmitted - sent, rto + Duration::millis(2));  // the wheel's 1 ms tick, rounded up
}

}  // namespace
}  // namespace tcpfp::tcp::test
