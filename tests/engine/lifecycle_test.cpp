// Events, keepalive, timer-budget carry-over and resource accounting.
#include <gtest/gtest.h>

#include <set>
#include <stdexcept>

#include "util.hpp"

namespace tcpfp::tcp::test {
namespace {

TEST(Events, ReportTheConnectionsLife) {
    Net net(test_config(), test_config());
    Pair p = open_pair(net);
    EXPECT_TRUE(net.saw_event(Side::a, p.a, EventKind::connected));
    EXPECT_TRUE(net.saw_event(Side::b, p.listener, EventKind::accepted));
    ASSERT_EQ(net.a().send(p.a, bytes_of("x"), net.now()), 1);
    net.run_for(Duration::millis(10));
    EXPECT_TRUE(net.saw_event(Side::b, p.b, EventKind::readable));
    ASSERT_EQ(net.a().shutdown(p.a, Shutdown::wr, net.now()), 0);
    net.run_for(Duration::millis(10));
    EXPECT_TRUE(net.saw_event(Side::b, p.b, EventKind::peer_closed));
    EXPECT_EQ(recv_all(net.b(), p.b, net.now()), "x");  // unread data would make close() reset
    ASSERT_EQ(net.b().close(p.b, net.now()), 0);
    net.run_for(Duration::millis(10));
    EXPECT_TRUE(net.saw_event(Side::a, p.a, EventKind::closed)) << [&] {
        std::string all;
        for (const Event& e : net.take_events(Side::a)) all += std::string(to_string(e.kind)) + " ";
        return all + " state " + to_string(state_of(net.a(), p.a));
    }();
    // A handle is refused after close, even though the slot may be reused.
    ASSERT_EQ(net.a().close(p.a, net.now()), 0);
    std::uint8_t buf[1];
    EXPECT_EQ(net.a().recv(p.a, buf, net.now()), -EBADF);
}

TEST(Keepalive, ProbesAnIdleConnectionAndDropsADeadPeer) {
    EngineConfig ca = test_config();
    ca.keepalive_idle = Duration::seconds(10);
    ca.keepalive_interval = Duration::seconds(2);
    ca.keepalive_count = 3;
    Net net(ca, test_config());
    Pair p = open_pair(net);
    ASSERT_EQ(net.a().set_option(p.a, SockOpt::keepalive, 1), 0);
    net.clear_trace();
    net.run_for(Duration::seconds(10) + Duration::millis(5));
    auto a = net.sent_by(Side::a);
    ASSERT_EQ(a.size(), 1u);  // one probe, answered
    EXPECT_EQ(a[0].seq, net.a().tcb(p.a)->snd_una - 1);  // RFC 9293 §3.8.4: SND.NXT-1
    EXPECT_EQ(a[0].payload_len, 0u);
    EXPECT_EQ(state_of(net.a(), p.a), State::established);
    // The peer vanishes: probes every 2 s, then ETIMEDOUT after 3 unanswered.
    net.impair().drop_rule = [](const Captured&) { return true; };
    net.run_for(Duration::seconds(10 + 2 * 3) + Duration::millis(10));
    EXPECT_EQ(state_of(net.a(), p.a), State::closed);
    EXPECT_EQ(net.a().take_error(p.a), ETIMEDOUT);
}

TEST(Timers, ExpiryWorkIsBoundedPerAdvance) {
    EngineConfig ca = test_config();
    ca.timer_budget = 10;
    ca.msl = Duration::seconds(1);
    Net net(ca, test_config());
    ConnId l;
    ASSERT_EQ(net.b().listen(kHostB, 80, 128, l), 0);
    std::vector<ConnId> cs(50);
    for (auto& c : cs) ASSERT_EQ(net.a().connect({kHostB, 80, kHostA, 0, {}}, net.now(), c), 0);
    net.run_for(Duration::millis(5));
    for (auto& c : cs) ASSERT_EQ(net.a().close(c, net.now()), 0);
    net.run_for(Duration::millis(5));
    ConnId acc;
    while (net.b().accept(l, acc) == 0) ASSERT_EQ(net.b().close(acc, net.now()), 0);
    net.run_for(Duration::millis(5));
    ASSERT_EQ(net.a().time_wait_count(), 50u);
    // All 50 records fall due in the same tick; each advance() deletes at
    // most 10 and carries the rest over, with next_deadline() saying so.
    const Instant due = net.now() + Duration::seconds(2);
    net.a().advance(due);
    EXPECT_EQ(net.a().time_wait_count(), 40u);
    EXPECT_LE(net.a().next_deadline(), due);
    EXPECT_GT(net.a().counters().get(Mib::timer_budget_carryover), 0u);
    for (int i = 0; i < 4; ++i) net.a().advance(due);
    EXPECT_EQ(net.a().time_wait_count(), 0u);
    EXPECT_EQ(net.a().armed_timers(), 0u);
}

TEST(Resources, EverythingIsReturnedAfterManyConnections) {
    Net net(test_config(), test_config());
    ConnId l;
    ASSERT_EQ(net.b().listen(kHostB, 80, 128, l), 0);
    for (int round = 0; round < 20; ++round) {
        ConnId c, acc;
        ASSERT_EQ(net.a().connect({kHostB, 80, kHostA, 0, {}}, net.now(), c), 0);
        ASSERT_TRUE(net.run_until([&] { return net.b().accept(l, acc) == 0; }, Duration::seconds(1)));
        ASSERT_EQ(net.a().send(c, bytes_of("request"), net.now()), 7);
        net.run_for(Duration::millis(5));
        EXPECT_EQ(recv_all(net.b(), acc, net.now()), "request");
        ASSERT_EQ(net.b().send(acc, bytes_of("response"), net.now()), 8);
        net.run_for(Duration::millis(5));
        EXPECT_EQ(recv_all(net.a(), c, net.now()), "response");
        ASSERT_EQ(net.a().close(c, net.now()), 0);
        ASSERT_EQ(net.b().close(acc, net.now()), 0);
        net.run_for(Duration::millis(5));
    }
    net.run_for(Duration::seconds(61));  // past 2*MSL
    EXPECT_EQ(net.a().connection_count(), 0u);
    EXPECT_EQ(net.a().time_wait_count(), 0u);
    EXPECT_EQ(net.a().armed_timers(), 0u);
    EXPECT_EQ(net.a().buffers_in_use(), 0u);
    EXPECT_EQ(net.b().connection_count(), 1u);  // the listener
    EXPECT_EQ(net.b().buffers_in_use(), 0u);
    EXPECT_EQ(net.b().armed_timers(), 0u);
    for (std::size_t s = 0; s < kStateCount; ++s) {
        if (static_cast<State>(s) != State::listen) {
            EXPECT_EQ(net.b().counters().by_state[s], 0u) << to_string(static_cast<State>(s));
            EXPECT_EQ(net.a().counters().by_state[s], 0u) << to_string(static_cast<State>(s));
        }
    }
}

}  // namespace
}  // namespace tcpfp::tcp::test

namespace tcpfp::tcp::test {
namespace {

// The DPDK layer's flow-steering hook: an active open only takes local
// ports the filter accepts (RFC 6056 selection walks on to the next).
TEST(Ports, ActiveOpenHonoursThePortFilter) {
    Net net(test_config(), test_config());
    ConnId l;
    ASSERT_EQ(net.b().listen(kHostB, 80, 128, l), 0);
    net.a().set_port_filter({[](void*, const FourTuple& t) { return t.local_port % 4 == 1; }, nullptr});
    for (int i = 0; i < 20; ++i) {
        ConnId c;
        ASSERT_EQ(net.a().connect({kHostB, 80, kHostA, 0, {}}, net.now(), c), 0);
        const Tcb* t = net.a().tcb(c);
        ASSERT_NE(t, nullptr);
        EXPECT_EQ(t->tuple.local_port % 4, 1);
        EXPECT_GE(t->tuple.local_port, 49152);
    }
    net.a().set_port_filter({[](void*, const FourTuple&) { return false; }, nullptr});
    ConnId none;
    EXPECT_EQ(net.a().connect({kHostB, 80, kHostA, 0, {}}, net.now(), none), -EADDRNOTAVAIL);
}

// A small RFC 6056 counter table (the fuzz targets use one to build engines
// cheaply) still gives every active open its own port of the dynamic range;
// a table size that is not a power of two is refused at construction.
TEST(Ports, SmallPortTableStillSelectsDistinctPorts) {
    EngineConfig small = test_config();
    small.ephemeral_port_table = 16;
    Net net(small, test_config());
    ConnId l;
    ASSERT_EQ(net.b().listen(kHostB, 80, 128, l), 0);
    std::set<std::uint16_t> ports;
    for (int i = 0; i < 40; ++i) {
        ConnId c;
        ASSERT_EQ(net.a().connect({kHostB, 80, kHostA, 0, {}}, net.now(), c), 0);
        const std::uint16_t port = net.a().tcb(c)->tuple.local_port;
        EXPECT_GE(port, EphemeralPorts::kDynamicFirst);
        ports.insert(port);
    }
    EXPECT_EQ(ports.size(), 40u);
    small.ephemeral_port_table = 24;
    EXPECT_THROW(Engine(small, net.now()), std::invalid_argument);
}

// RFC 7323 §5.5: after 24 days without a segment, TS.Recent is stale and a
// segment with an "older" timestamp is accepted (the peer's clock wrapped
// or restarted), instead of being dropped by PAWS forever.
TEST(Paws, TsRecentExpiresAfter24IdleDays) {
    Net net(test_config(), test_config());
    Pair p = open_pair(net);
    net.run_for(Duration::seconds(25 * 24 * 3600));
    Craft d;
    const Tcb* t = net.a().tcb(p.a);
    d.tuple = t->tuple;
    d.seq = t->rcv_nxt.raw();
    d.ack = t->snd_nxt.raw();
    d.flags = wire::tcp_flag::ack | wire::tcp_flag::psh;
    d.options.has_timestamps = true;
    d.options.ts_val = t->ts_recent - 1000;
    d.payload = {'h', 'i'};
    net.inject(Side::a, craft(d));
    EXPECT_EQ(net.a().counters().get(Drop::paws), 0u);
    EXPECT_EQ(recv_all(net.a(), p.a, net.now()), "hi");
    EXPECT_EQ(net.a().tcb(p.a)->ts_recent, d.options.ts_val);
}

}  // namespace
}  // namespace tcpfp::tcp::test

namespace tcpfp::tcp::test {
namespace {

// Millisecond deadlines are 64-bit: an engine that has run for longer than
// 2^32 ms (49.7 days) still times everything right.
TEST(Timers, StillExactAfterFiftyDays) {
    Net net(test_config(), test_config());
    net.run_for(Duration::seconds(50 * 24 * 3600));
    Pair p = open_pair(net);
    ASSERT_EQ(net.a().close(p.a, net.now()), 0);
    net.run_for(Duration::millis(10));
    ASSERT_EQ(net.b().close(p.b, net.now()), 0);
    ASSERT_TRUE(net.run_until([&] { return net.a().time_wait_count() == 1; }, Duration::seconds(1)));
    const Instant due = ceil_to_tick(net.now() + test_config().msl * 2);
    net.run_for(due - Duration::millis(1) - net.now());
    EXPECT_EQ(net.a().time_wait_count(), 1u);
    net.run_for(Duration::millis(1));
    EXPECT_EQ(net.a().time_wait_count(), 0u);
}

}  // namespace
}  // namespace tcpfp::tcp::test

namespace tcpfp::tcp::test {
namespace {

// TCP_KEEPIDLE / TCP_KEEPINTVL / TCP_KEEPCNT per connection, through the
// POSIX facade's option names.
TEST(Keepalive, TimesArePerConnection) {
    Net net(test_config(), test_config());
    Pair p = open_pair(net);
    ASSERT_EQ(net.a().set_option(p.a, SockOpt::keepalive_idle, 30), 0);
    ASSERT_EQ(net.a().set_option(p.a, SockOpt::keepalive_interval, 5), 0);
    ASSERT_EQ(net.a().set_option(p.a, SockOpt::keepalive_count, 2), 0);
    EXPECT_EQ(net.a().set_option(p.a, SockOpt::keepalive_count, 0), -EINVAL);
    EXPECT_EQ(net.a().set_option(p.a, SockOpt::keepalive_idle, 40000), -EINVAL);
    ASSERT_EQ(net.a().set_option(p.a, SockOpt::keepalive, 1), 0);
    net.impair().drop_rule = [](const Captured&) { return true; };
    net.clear_trace();
    net.run_for(Duration::seconds(30) + Duration::millis(5));
    EXPECT_EQ(net.sent_by(Side::a).size(), 1u);  // first probe at 30 s, not the default 2 h
    net.run_for(Duration::seconds(5));
    EXPECT_EQ(net.sent_by(Side::a).size(), 2u);
    net.run_for(Duration::seconds(5));
    EXPECT_EQ(state_of(net.a(), p.a), State::closed);  // two unanswered probes
    EXPECT_EQ(net.a().take_error(p.a), ETIMEDOUT);
    std::int64_t v = 0;
    // The other connection-less defaults are untouched.
    EXPECT_EQ(net.b().get_option(p.b, SockOpt::keepalive_idle, v), 0);
    EXPECT_EQ(v, 7200);
}

}  // namespace
}  // namespace tcpfp::tcp::test
