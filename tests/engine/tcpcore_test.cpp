// TCP_USER_TIMEOUT (RFC 5482), PSH on window-cut bursts, active TIME_WAIT
// reuse (tw_reuse), 64 local addresses and the table-full action, all on
// the virtual clock.
#include <gtest/gtest.h>

#include <cerrno>

#include "util.hpp"

namespace tcpfp::tcp::test {
namespace {

using wire::tcp_flag::psh;
using wire::tcp_flag::rst;
using wire::tcp_flag::syn;

// --- TCP_USER_TIMEOUT ---

TEST(UserTimeout, IsSetAndReadInMilliseconds) {
    Net net(test_config(), test_config());
    Pair p = open_pair(net);
    std::int64_t v = -1;
    ASSERT_EQ(net.a().get_option(p.a, SockOpt::user_timeout, v), 0);
    EXPECT_EQ(v, 0);  // default: R2 decides
    ASSERT_EQ(net.a().set_option(p.a, SockOpt::user_timeout, 3000), 0);
    ASSERT_EQ(net.a().get_option(p.a, SockOpt::user_timeout, v), 0);
    EXPECT_EQ(v, 3000);
    EXPECT_EQ(net.a().set_option(p.a, SockOpt::user_timeout, -1), -EINVAL);
}

TEST(UserTimeout, AbortsUnacknowledgedDataOnTime) {
    Net net(test_config(), test_config());
    Pair p = open_pair(net);
    ASSERT_EQ(net.a().set_option(p.a, SockOpt::user_timeout, 3000), 0);
    net.impair().drop_rule = [](const Captured&) { return true; };  // the peer vanishes
    const Instant sent = net.now();
    ASSERT_EQ(net.a().send(p.a, bytes_of("hello"), net.now()), 5);
    net.run_for(Duration::millis(2990));
    EXPECT_EQ(state_of(net.a(), p.a), State::established);
    net.run_for(Duration::millis(20));
    EXPECT_EQ(state_of(net.a(), p.a), State::closed) << "aborted by " << (net.now() - sent).as_millis();
    EXPECT_EQ(net.a().take_error(p.a), ETIMEDOUT);
    EXPECT_EQ(net.a().counters().get(Mib::user_timeouts), 1u);
    EXPECT_TRUE(net.saw_event(Side::a, p.a, EventKind::timed_out));
}

TEST(UserTimeout, ProgressRestartsTheClock) {
    Net net(test_config(), test_config());
    Pair p = open_pair(net);
    ASSERT_EQ(net.a().set_option(p.a, SockOpt::user_timeout, 1000), 0);
    // Data acknowledged every 500 ms for 5 s: never 1 s without progress.
    for (int i = 0; i < 10; ++i) {
        ASSERT_EQ(net.a().send(p.a, bytes_of("x"), net.now()), 1);
        net.run_for(Duration::millis(500));
    }
    EXPECT_EQ(state_of(net.a(), p.a), State::established);
    EXPECT_EQ(net.a().counters().get(Mib::user_timeouts), 0u);
}

TEST(UserTimeout, ZeroKeepsTheR2Count) {
    Net net(test_config(), test_config());
    Pair p = open_pair(net);
    ASSERT_EQ(net.a().set_option(p.a, SockOpt::user_timeout, 0), 0);
    net.impair().drop_rule = [](const Captured&) { return true; };
    ASSERT_EQ(net.a().send(p.a, bytes_of("hello"), net.now()), 5);
    net.run_for(Duration::seconds(60));
    EXPECT_EQ(state_of(net.a(), p.a), State::established);  // R2 takes far longer
}

TEST(UserTimeout, AppliesToTheHandshake) {
    Net net(test_config(), test_config());
    net.impair().drop_rule = [](const Captured&) { return true; };
    SocketOptions o;
    o.user_timeout = 2500;
    ConnId c;
    ASSERT_EQ(net.a().connect({kHostB, 80, kHostA, 0, o}, net.now(), c), 0);
    net.run_for(Duration::millis(2490));
    EXPECT_EQ(state_of(net.a(), c), State::syn_sent);
    net.run_for(Duration::millis(20));
    EXPECT_EQ(state_of(net.a(), c), State::closed);
    EXPECT_EQ(net.a().take_error(c), ETIMEDOUT);
}

TEST(UserTimeout, ReplacesTheKeepaliveCount) {
    EngineConfig ca = test_config();
    ca.keepalive_idle = Duration::seconds(10);
    ca.keepalive_interval = Duration::seconds(2);
    ca.keepalive_count = 9;  // 28 s to give up without a user timeout
    Net net(ca, test_config());
    Pair p = open_pair(net);
    ASSERT_EQ(net.a().set_option(p.a, SockOpt::keepalive, 1), 0);
    ASSERT_EQ(net.a().set_option(p.a, SockOpt::user_timeout, 13000), 0);
    net.impair().drop_rule = [](const Captured&) { return true; };
    // Probes at 10 s and 12 s; at 14 s the peer has been silent >= 13 s.
    net.run_for(Duration::millis(13990));
    EXPECT_EQ(state_of(net.a(), p.a), State::established);
    net.run_for(Duration::millis(20));
    EXPECT_EQ(state_of(net.a(), p.a), State::closed);
    EXPECT_EQ(net.a().take_error(p.a), ETIMEDOUT);
}

// A peer that keeps its window closed: probes are answered, but nothing
// is delivered. Without a user timeout the connection is kept (MUST-37);
// with one it ends (as Linux's probe timer does).
TEST(UserTimeout, EndsZeroWindowProbing) {
    for (const std::int64_t ut : {0, 3000}) {
        EngineConfig cb = test_config();
        cb.recv_buffer = 4096;
        Net net(test_config(), cb);
        Pair p = open_pair(net);
        ASSERT_EQ(net.a().set_option(p.a, SockOpt::user_timeout, ut), 0);
        std::vector<std::uint8_t> data(60000, 'z');
        ASSERT_GT(net.a().send(p.a, data, net.now()), 0);
        net.run_for(Duration::seconds(20));  // B never reads
        EXPECT_GT(net.a().counters().get(Mib::window_probes), 0u);
        if (ut == 0) {
            EXPECT_EQ(state_of(net.a(), p.a), State::established);
        } else {
            EXPECT_EQ(state_of(net.a(), p.a), State::closed);
            EXPECT_EQ(net.a().take_error(p.a), ETIMEDOUT);
            EXPECT_EQ(net.a().counters().get(Mib::user_timeouts), 1u);
        }
    }
}

TEST(UserTimeout, AcceptedConnectionsInheritTheListeners) {
    Net net(test_config(), test_config());
    SocketOptions o;
    o.user_timeout = 4321;
    ConnId l, c, b;
    ASSERT_EQ(net.b().listen(kHostB, 80, 4, l, o), 0);
    ASSERT_EQ(net.a().connect({kHostB, 80, kHostA, 0, {}}, net.now(), c), 0);
    ASSERT_TRUE(net.run_until([&] { return net.b().accept(l, b) == 0; }, Duration::seconds(1)));
    std::int64_t v = 0;
    ASSERT_EQ(net.b().get_option(b, SockOpt::user_timeout, v), 0);
    EXPECT_EQ(v, 4321);
}

// --- PSH on bursts the windows cut short ---

TEST(Push, MarksTheTailOfAWindowLimitedBurst) {
    Net net(test_config(), test_config());
    Pair p = open_pair(net);
    net.clear_trace();
    std::vector<std::uint8_t> data(40000, 'x');
    ASSERT_EQ(net.a().send(p.a, data, net.now()), 40000);
    net.flush();
    const auto burst = net.sent_by(Side::a);  // before any ACK: the initial window
    ASSERT_EQ(burst.size(), 10u);
    for (std::size_t i = 0; i + 1 < burst.size(); ++i) EXPECT_FALSE(burst[i].has(psh)) << i;
    EXPECT_TRUE(burst.back().has(psh));
    net.run_for(Duration::seconds(2));
    EXPECT_EQ(recv_all(net.b(), p.b, net.now()).size(), 40000u);
}

TEST(Push, NotOnAnOddBurstNorOneNagleEnds) {
    EngineConfig ca = test_config();
    ca.initial_window = 3;  // a 3-segment burst: a split GSO unit in Linux, no PSH
    Net net(ca, test_config());
    Pair p = open_pair(net);
    net.clear_trace();
    std::vector<std::uint8_t> data(40000, 'x');
    ASSERT_EQ(net.a().send(p.a, data, net.now()), 40000);
    net.flush();
    auto burst = net.sent_by(Side::a);
    ASSERT_EQ(burst.size(), 3u);
    for (const auto& c : burst) EXPECT_FALSE(c.has(psh));
    // Two full segments and a short tail Nagle holds: no window cut, no PSH.
    Net n2(test_config(), test_config());
    Pair p2 = open_pair(n2);
    n2.clear_trace();
    const std::uint32_t mss = n2.a().tcb(p2.a)->snd_mss;
    std::vector<std::uint8_t> d2(2 * mss + 10, 'y');
    ASSERT_EQ(n2.a().send(p2.a, d2, n2.now()), static_cast<std::int64_t>(d2.size()));
    n2.flush();
    burst = n2.sent_by(Side::a);
    ASSERT_EQ(burst.size(), 2u);
    for (const auto& c : burst) EXPECT_FALSE(c.has(psh));
}

// --- tw_reuse: active opens take old TIME_WAIT tuples ---

struct ClientTimeWait {
    EngineConfig ca = test_config();
    std::optional<Net> net;
    Pair p{};
    FourTuple tuple;
    TimeWaitRecord tw{};
    std::uint32_t last_tsval = 0;  // the old connection's last TSval
    explicit ClientTimeWait(bool reuse, std::uint16_t port = 42000) {
        ca.tw_reuse = reuse;
        net.emplace(ca, test_config());
        p = open_pair(*net, 5002, port);
        tuple = net->a().tcb(p.a)->tuple;
        EXPECT_EQ(net->a().close(p.a, net->now()), 0);  // the client closes first
        net->run_for(Duration::millis(10));
        EXPECT_EQ(net->b().close(p.b, net->now()), 0);
        net->run_for(Duration::millis(10));
        EXPECT_EQ(net->a().time_wait_count(), 1u);
        net->a().for_each_time_wait([&](const TimeWaitRecord& r) { tw = r; });
        last_tsval = net->sent_by(Side::a).back().options.ts_val;
    }
    int connect_again(ConnId& c, std::uint16_t port = 42000) {
        return net->a().connect({kHostB, 5002, kHostA, port, {}}, net->now(), c);
    }
};

TEST(TwReuse, OffRefusesTheTuple) {
    ClientTimeWait s(false);
    s.net->run_for(Duration::seconds(2));
    ConnId c;
    EXPECT_EQ(s.connect_again(c), -EADDRINUSE);
    EXPECT_EQ(s.net->a().time_wait_count(), 1u);
}

TEST(TwReuse, WaitsOneSecondThenReopensWithNewerTimestamp) {
    ClientTimeWait s(true);
    ConnId c;
    EXPECT_EQ(s.connect_again(c), -EADDRINUSE);  // too fresh
    s.net->run_for(Duration::millis(980));
    EXPECT_EQ(s.connect_again(c), -EADDRINUSE);
    s.net->run_for(Duration::millis(21));
    s.net->clear_trace();
    ASSERT_EQ(s.connect_again(c), 0);
    s.net->flush();
    EXPECT_EQ(s.net->a().counters().get(Mib::timewait_reused_active), 1u);
    EXPECT_EQ(s.net->a().time_wait_count(), 0u);
    const auto out = s.net->sent_by(Side::a);
    ASSERT_FALSE(out.empty());
    EXPECT_TRUE(out[0].has(syn));
    ASSERT_TRUE(out[0].options.has_timestamps);
    // RFC 6191: the new SYN's TSval lies above anything the old connection sent.
    EXPECT_GT(static_cast<std::int32_t>(out[0].options.ts_val - s.last_tsval), 0);
    EXPECT_GT(out[0].seq, s.tw.snd_nxt);
    ConnId b;
    ASSERT_TRUE(s.net->run_until([&] { return s.net->b().accept(s.p.listener, b) == 0; },
                                 Duration::seconds(2)));
    EXPECT_EQ(state_of(s.net->a(), c), State::established);
}

TEST(TwReuse, EphemeralChooserConsidersReusableTuplesFree) {
    ClientTimeWait s(true, 50000);  // inside the ephemeral range
    // Only the TIME_WAIT port passes the steering filter.
    static std::uint16_t only = 50000;
    s.net->a().set_port_filter({[](void*, const FourTuple& t) { return t.local_port == only; }, nullptr});
    ConnId c;
    EXPECT_EQ(s.connect_again(c, 0), -EADDRNOTAVAIL);  // held, not yet reusable
    s.net->run_for(Duration::millis(1001));
    ASSERT_EQ(s.connect_again(c, 0), 0);
    EXPECT_EQ(s.net->a().tcb(c)->tuple.local_port, 50000);
    EXPECT_EQ(s.net->a().counters().get(Mib::timewait_reused_active), 1u);
}

TEST(TwReuse, NeedsTimestamps) {
    EngineConfig ca = test_config();
    ca.tw_reuse = true;
    ca.timestamps = false;
    Net net(ca, test_config());
    Pair p = open_pair(net, 5002, 42000);
    ASSERT_EQ(net.a().close(p.a, net.now()), 0);
    net.run_for(Duration::millis(10));
    ASSERT_EQ(net.b().close(p.b, net.now()), 0);
    net.run_for(Duration::seconds(5));
    ASSERT_EQ(net.a().time_wait_count(), 1u);
    ConnId c;
    EXPECT_EQ(net.a().connect({kHostB, 5002, kHostA, 42000, {}}, net.now(), c), -EADDRINUSE);
}

// --- local addresses ---

TEST(Addresses, SixtyFourAndLookups) {
    Engine e(test_config(), Instant::from_micros(0));
    for (std::uint32_t i = 0; i < kMaxLocalAddresses; ++i) {
        ASSERT_TRUE(e.add_address(wire::Ipv4Addr::from_octets(10, 0, static_cast<std::uint8_t>(i / 8),
                                                              static_cast<std::uint8_t>(1 + i))));
    }
    EXPECT_FALSE(e.add_address(wire::Ipv4Addr::from_octets(10, 9, 9, 9)));  // full
    EXPECT_FALSE(e.add_address(wire::Ipv4Addr::from_octets(10, 0, 0, 1)));  // duplicate
    for (std::uint32_t i = 0; i < kMaxLocalAddresses; ++i) {
        EXPECT_TRUE(e.is_local(wire::Ipv4Addr::from_octets(10, 0, static_cast<std::uint8_t>(i / 8),
                                                           static_cast<std::uint8_t>(1 + i))));
    }
    EXPECT_FALSE(e.is_local(wire::Ipv4Addr::from_octets(10, 0, 0, 200)));
    EXPECT_FALSE(e.is_local(wire::Ipv4Addr{}));
    Engine empty(test_config(), Instant::from_micros(0));
    EXPECT_FALSE(empty.is_local(wire::Ipv4Addr::from_octets(10, 0, 0, 1)));
    EXPECT_FALSE(empty.add_address(wire::Ipv4Addr{}));
}

// RFC 9293 §3.9.2.3 MUST-57: no broadcast or multicast address is local, so
// segments to one are discarded as not local.
TEST(Addresses, BroadcastAndMulticastAreNeverLocal) {
    Engine e(test_config(), Instant::from_micros(0));
    for (const auto a : {wire::Ipv4Addr::from_octets(255, 255, 255, 255), wire::Ipv4Addr::from_octets(224, 0, 0, 1),
                         wire::Ipv4Addr::from_octets(239, 255, 255, 250)}) {
        EXPECT_FALSE(e.add_address(a)) << a.to_string();
        EXPECT_FALSE(e.is_local(a)) << a.to_string();
    }
    EXPECT_TRUE(e.add_address(wire::Ipv4Addr::from_octets(223, 255, 255, 254)));  // the last unicast /8
}

// --- table_full = drop | rst ---

struct FullTable {
    std::optional<Net> net;
    ConnId l{};
    ConnId c[2]{};
    explicit FullTable(bool rst_mode, bool cookies = true) {
        EngineConfig cb = test_config();
        cb.max_connections = 2;  // the listener and one connection
        cb.rst_on_table_full = rst_mode;
        cb.syn_cookies = cookies;
        net.emplace(test_config(), cb);
        EXPECT_EQ(net->b().listen(kHostB, 80, 16, l), 0);
        for (auto& id : c) EXPECT_EQ(net->a().connect({kHostB, 80, kHostA, 0, {}}, net->now(), id), 0);
        net->run_for(Duration::millis(50));
    }
};

TEST(TableFull, DropModeDropsAndCounts) {
    FullTable s(false);
    EXPECT_EQ(state_of(s.net->a(), s.c[0]), State::established);
    EXPECT_EQ(state_of(s.net->a(), s.c[1]), State::syn_sent);  // retries later
    EXPECT_EQ(s.net->b().counters().get(Drop::table_full), 1u);
    EXPECT_EQ(s.net->b().counters().get(Mib::table_full_rsts), 0u);
    for (const auto& pkt : s.net->sent_by(Side::b)) EXPECT_FALSE(pkt.has(rst));
}

TEST(TableFull, RstModeRefusesAndCounts) {
    FullTable s(true);
    EXPECT_EQ(state_of(s.net->a(), s.c[0]), State::established);
    EXPECT_EQ(state_of(s.net->a(), s.c[1]), State::closed);
    EXPECT_EQ(s.net->a().take_error(s.c[1]), ECONNREFUSED);
    EXPECT_EQ(s.net->b().counters().get(Drop::table_full), 1u);
    EXPECT_EQ(s.net->b().counters().get(Mib::table_full_rsts), 1u);
}

TEST(TableFull, SameWithoutSynCookies) {
    FullTable s(true, false);
    EXPECT_EQ(state_of(s.net->a(), s.c[1]), State::closed);
    EXPECT_EQ(s.net->b().counters().get(Mib::table_full_rsts), 1u);
}

// A valid SYN-cookie ACK that finds the table full: reset in rst mode.
TEST(TableFull, CookieAckIsResetInRstMode) {
    for (const bool rst_mode : {false, true}) {
        EngineConfig cb = test_config();
        cb.max_connections = 2;  // the listener and one connection
        cb.rst_on_table_full = rst_mode;
        Net net(test_config(), cb);
        ConnId l, c0, c1;
        ASSERT_EQ(net.b().listen(kHostB, 80, 1, l), 0);  // SYN queue of one
        ASSERT_EQ(net.a().connect({kHostB, 80, kHostA, 0, {}}, net.now(), c0), 0);
        const std::uint16_t p0 = net.a().tcb(c0)->tuple.local_port;
        // c0's handshake ACK is lost: it holds the SYN queue and the table.
        net.impair().drop_rule = [p0](const Captured& c) {
            const auto t = c.tcp();
            const auto sport = static_cast<std::uint16_t>((t[0] << 8) | t[1]);
            return c.from == Side::a && sport == p0 && c.flags == wire::tcp_flag::ack;
        };
        net.run_for(Duration::millis(5));
        ASSERT_EQ(net.a().connect({kHostB, 80, kHostA, 0, {}}, net.now(), c1), 0);
        net.run_for(Duration::millis(5));
        EXPECT_EQ(net.b().counters().get(Mib::syncookies_sent), 1u);
        EXPECT_EQ(net.b().counters().get(Drop::table_full), 1u);
        EXPECT_EQ(net.b().counters().get(Mib::table_full_rsts), rst_mode ? 1u : 0u);
        EXPECT_EQ(state_of(net.a(), c1), rst_mode ? State::closed : State::established);
    }
}

}  // namespace
}  // namespace tcpfp::tcp::test
