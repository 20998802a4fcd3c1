// The inspection API the prompt's `show conn` and `show timers` read:
// ConnInfo's windows, RTT and pending timer, TIME_WAIT records with the time
// left, and the timer summary.
#include <gtest/gtest.h>

#include "util.hpp"

namespace tcpfp::tcp::test {
namespace {

std::size_t idx(TimerKind k) { return static_cast<std::size_t>(k); }

TEST(ConnInfo, ReportsOptionsWindowsAndRtt) {
    Net net(test_config(), test_config());
    Pair p = open_pair(net);
    ConnInfo a;
    ASSERT_EQ(net.a().info(p.a, a), 0);
    EXPECT_EQ(a.state, State::established);
    EXPECT_TRUE(a.ts_ok);
    EXPECT_TRUE(a.sack_ok);
    EXPECT_TRUE(a.ws_ok);
    const Tcb* t = net.a().tcb(p.a);
    ASSERT_NE(t, nullptr);
    EXPECT_EQ(a.snd_wnd, t->snd_wnd);
    EXPECT_GT(a.snd_wnd, 0u);
    EXPECT_GT(a.rcv_wnd, 0u);
    EXPECT_EQ(a.cwnd, t->cwnd);
    EXPECT_GT(a.srtt_us, 0u);  // the handshake gave a sample
    EXPECT_EQ(a.rto_ms, t->rto_ms);
    EXPECT_EQ(a.snd_mss, t->snd_mss);
    EXPECT_EQ(a.in_flight, 0u);
    EXPECT_EQ(a.timer, TimerKind::none);  // idle, no keepalive
    EXPECT_EQ(a.timer_left_ms, -1);
}

TEST(ConnInfo, ShowsTheRetransmissionTimerWithTimeLeft) {
    Net net(test_config(), test_config());
    Pair p = open_pair(net);
    net.impair().drop_rule = [](const Captured&) { return true; };  // nothing gets through
    ASSERT_EQ(net.a().send(p.a, bytes_of("hello"), net.now()), 5);
    net.flush();
    ConnInfo a;
    ASSERT_EQ(net.a().info(p.a, a), 0);
    EXPECT_EQ(a.in_flight, 5u);
    EXPECT_EQ(a.send_q, 5u);
    EXPECT_EQ(a.timer, TimerKind::retransmit);
    EXPECT_GT(a.timer_left_ms, 0);
    EXPECT_LE(a.timer_left_ms, static_cast<std::int64_t>(a.rto_ms) + 1);
    // Time passes: the time left shrinks by as much.
    net.run_for(Duration::millis(100));
    ConnInfo later;
    ASSERT_EQ(net.a().info(p.a, later), 0);
    EXPECT_EQ(later.timer, TimerKind::retransmit);
    EXPECT_NEAR(static_cast<double>(later.timer_left_ms), static_cast<double>(a.timer_left_ms - 100), 2.0);
    const TimerSummary s = net.a().timer_summary();
    EXPECT_EQ(s.count[idx(TimerKind::retransmit)], 1u);
    EXPECT_EQ(s.next_ms[idx(TimerKind::retransmit)], later.timer_left_ms);
    EXPECT_EQ(s.count[idx(TimerKind::time_wait)], 0u);
    EXPECT_EQ(s.next_ms[idx(TimerKind::time_wait)], -1);
    EXPECT_GE(s.wheel_entries, 1u);
    EXPECT_GE(s.wheel_next_ms, 0);
    EXPECT_LE(s.wheel_next_ms, later.timer_left_ms);
}

TEST(ConnInfo, SynRetryAndOrphanFinWait2AreNamed) {
    EngineConfig ca = test_config();
    ca.fin_wait_2_timeout = Duration::seconds(30);
    Net net(ca, test_config());
    net.impair().drop_rule = [](const Captured& c) { return c.from == Side::a && c.has(wire::tcp_flag::syn); };
    ConnId c;
    ASSERT_EQ(net.a().connect({kHostB, 9999, kHostA, 0, {}}, net.now(), c), 0);
    ConnInfo i;
    ASSERT_EQ(net.a().info(c, i), 0);
    EXPECT_EQ(i.state, State::syn_sent);
    EXPECT_EQ(i.timer, TimerKind::syn_retry);
    ASSERT_EQ(net.a().abort(c, net.now()), 0);
    net.impair().drop_rule = nullptr;

    Pair p = open_pair(net);
    ASSERT_EQ(net.a().close(p.a, net.now()), 0);  // orphaned: FIN_WAIT_2 gets a timeout
    net.run_for(Duration::millis(20));
    const TimerSummary s = net.a().timer_summary();
    EXPECT_EQ(s.count[idx(TimerKind::fin_wait_2)], 1u);
    EXPECT_GT(s.next_ms[idx(TimerKind::fin_wait_2)], 29000);
    EXPECT_LE(s.next_ms[idx(TimerKind::fin_wait_2)], 30000);
}

TEST(ConnInfo, TimeWaitRecordsAreListedWithTimeLeft) {
    EngineConfig ca = test_config();
    ca.msl = Duration::seconds(2);  // TIME_WAIT lasts 4 s
    Net net(ca, test_config());
    Pair p = open_pair(net);
    const FourTuple tuple = net.a().tcb(p.a)->tuple;
    ASSERT_EQ(net.a().close(p.a, net.now()), 0);
    net.run_for(Duration::millis(20));
    ASSERT_EQ(net.b().close(p.b, net.now()), 0);
    net.run_for(Duration::millis(20));
    ASSERT_EQ(net.a().time_wait_count(), 1u);
    std::vector<TimeWaitInfo> tws;
    net.a().for_each_time_wait_info([&](const TimeWaitInfo& i) { tws.push_back(i); });
    ASSERT_EQ(tws.size(), 1u);
    EXPECT_EQ(tws[0].tuple, tuple);
    EXPECT_TRUE(tws[0].ts_ok);
    EXPECT_GT(tws[0].left_ms, 3900);
    EXPECT_LE(tws[0].left_ms, 4000);
    net.run_for(Duration::seconds(1));
    tws.clear();
    net.a().for_each_time_wait_info([&](const TimeWaitInfo& i) { tws.push_back(i); });
    ASSERT_EQ(tws.size(), 1u);
    EXPECT_GT(tws[0].left_ms, 2900);
    EXPECT_LE(tws[0].left_ms, 3000);
    const TimerSummary s = net.a().timer_summary();
    EXPECT_EQ(s.count[idx(TimerKind::time_wait)], 1u);
    EXPECT_EQ(s.next_ms[idx(TimerKind::time_wait)], tws[0].left_ms);
    net.run_for(Duration::seconds(4));
    EXPECT_EQ(net.a().time_wait_count(), 0u);
    EXPECT_EQ(net.a().timer_summary().count[idx(TimerKind::time_wait)], 0u);
}

// The cursor walks behind the prompt's paged `show conn`: every control
// block (listeners included) and TIME_WAIT record once, in pages of the
// caller's size, with a bound on the slots one call looks at.
TEST(ConnInfo, CursorWalksListEveryConnectionOnceInBoundedPages) {
    EngineConfig ca = test_config();
    ca.msl = Duration::seconds(2);
    Net net(ca, test_config());
    ConnId listener;
    ASSERT_EQ(net.a().listen(kHostA, 7000, 16, listener), 0);
    std::vector<Pair> pairs;
    for (std::uint16_t i = 0; i < 5; ++i) pairs.push_back(open_pair(net, static_cast<std::uint16_t>(5002 + i)));
    ASSERT_EQ(net.a().connection_count(), 6u);

    std::vector<ConnId> seen;
    ConnId page[2];
    std::uint32_t cursor = 0;
    unsigned calls = 0;
    for (ListPage p; !p.done; ++calls) {
        p = net.a().list_connections(cursor, page);
        ASSERT_LE(p.count, 2u);
        ASSERT_GE(p.next, cursor);
        seen.insert(seen.end(), page, page + p.count);
        cursor = p.next;
    }
    EXPECT_EQ(calls, 4u);  // 2 + 2 + 2, then a page that finds the end
    ASSERT_EQ(seen.size(), 6u);
    for (std::size_t i = 0; i < seen.size(); ++i) {
        ConnInfo ci;
        ASSERT_EQ(net.a().info(seen[i], ci), 0);
        for (std::size_t j = 0; j < i; ++j) EXPECT_FALSE(seen[i] == seen[j]);
    }
    // A scan bound of one slot per call: never more than one entry.
    cursor = 0;
    std::size_t found = 0;
    for (ListPage p; !p.done;) {
        p = net.a().list_connections(cursor, page, 1);
        ASSERT_LE(p.next, cursor + 1);
        found += p.count;
        cursor = p.next;
    }
    EXPECT_EQ(found, 6u);
    EXPECT_EQ(cursor, ca.max_connections);

    // Two connections into TIME_WAIT: listed with their tuples, then gone.
    for (std::size_t i = 0; i < 2; ++i) {
        ASSERT_EQ(net.a().close(pairs[i].a, net.now()), 0);
        net.run_for(Duration::millis(20));
        ASSERT_EQ(net.b().close(pairs[i].b, net.now()), 0);
        net.run_for(Duration::millis(20));
    }
    ASSERT_EQ(net.a().time_wait_count(), 2u);
    TimeWaitInfo tw[1];
    std::vector<TimeWaitInfo> tws;
    cursor = 0;
    for (ListPage p; !p.done;) {
        p = net.a().list_time_waits(cursor, tw);
        tws.insert(tws.end(), tw, tw + p.count);
        cursor = p.next;
    }
    ASSERT_EQ(tws.size(), 2u);
    for (const auto& i : tws) {
        EXPECT_TRUE(net.a().in_time_wait(i.tuple));
        EXPECT_GT(i.left_ms, 3800);
        EXPECT_EQ(i.tuple.remote_ip, kHostB);
    }
    ConnInfo live;
    ASSERT_EQ(net.a().info(pairs[2].a, live), 0);
    EXPECT_FALSE(net.a().in_time_wait(live.tuple));
    net.run_for(Duration::seconds(5));
    EXPECT_FALSE(net.a().in_time_wait(tws[0].tuple));
    EXPECT_TRUE(net.a().list_time_waits(0, tw).done);
    EXPECT_EQ(net.a().list_time_waits(0, tw).count, 0u);
}

// RFC 8985 §7: the tail of a flight is lost; once the other segments are
// acknowledged the pending timer is the tail loss probe, not the RTO.
TEST(ConnInfo, NamesTheTailLossProbe) {
    EngineConfig quick = test_config();
    quick.delayed_ack = Duration::millis(0);
    Net net(test_config(), quick);
    net.impair().delay = Duration::millis(10);
    Pair p = open_pair(net);
    const wire::SeqNum base = net.a().tcb(p.a)->snd_nxt;
    const std::uint32_t seg = net.a().tcb(p.a)->snd_mss;
    net.impair().drop_rule = [&](const Captured& c) {
        return c.from == Side::a && c.payload_len > 0 && !(c.seq < base + 4 * seg);
    };
    const std::string data(6 * seg, 'x');
    ASSERT_EQ(net.a().send(p.a, bytes_of(data), net.now()), static_cast<std::int64_t>(data.size()));
    net.run_for(Duration::millis(25));  // the first four are acknowledged
    ConnInfo i;
    ASSERT_EQ(net.a().info(p.a, i), 0);
    EXPECT_EQ(i.in_flight, 2 * seg);
    EXPECT_EQ(i.timer, TimerKind::tail_probe);
    EXPECT_GE(i.timer_left_ms, 0);
    EXPECT_LT(i.timer_left_ms, static_cast<std::int64_t>(i.rto_ms));
    EXPECT_EQ(net.a().timer_summary().count[idx(TimerKind::tail_probe)], 1u);
}

TEST(ConnInfo, TimerKindsHaveNames) {
    EXPECT_STREQ(to_string(TimerKind::retransmit), "retransmit");
    EXPECT_STREQ(to_string(TimerKind::time_wait), "time_wait");
    EXPECT_STREQ(to_string(TimerKind::delayed_ack), "delayed_ack");
    EXPECT_STREQ(to_string(TimerKind::tail_probe), "tail_probe");
}

}  // namespace
}  // namespace tcpfp::tcp::test
