// Sending behaviour: zero-window persist, fast retransmit, SACK recovery,
// RTO backoff and R2, delayed ACK, Nagle and TCP_NODELAY.
#include <gtest/gtest.h>

#include "util.hpp"

namespace tcpfp::tcp::test {
namespace {

using namespace wire::tcp_flag;

std::string filler(std::size_t n) {
    std::string s(n, '\0');
    for (std::size_t i = 0; i < n; ++i) s[i] = static_cast<char>('a' + i % 26);
    return s;
}

// Sends all of `data` from A, running the link, until B has read it all.
std::string push_through(Net& net, Pair& p, const std::string& data, Duration limit) {
    std::size_t sent = 0;
    std::string got;
    const Instant end = net.now() + limit;
    while (got.size() < data.size() && net.now() < end) {
        if (sent < data.size()) {
            const auto n = net.a().send(p.a, bytes_of(std::string_view(data).substr(sent)), net.now());
            if (n > 0) sent += static_cast<std::size_t>(n);
        }
        net.run_for(Duration::millis(1));
        got += recv_all(net.b(), p.b, net.now());
    }
    return got;
}

TEST(ZeroWindow, SenderProbesWithBackoffAndResumesWithoutLoss) {
    EngineConfig cb = test_config();
    cb.recv_buffer = 16 * 1024;
    Net net(test_config(), cb);
    Pair p = open_pair(net);
    const std::string data = filler(200 * 1024);
    std::size_t sent = 0;
    // B's application does not read: the window closes.
    for (int i = 0; i < 200 && sent < data.size(); ++i) {
        const auto n = net.a().send(p.a, bytes_of(std::string_view(data).substr(sent)), net.now());
        if (n > 0) sent += static_cast<std::size_t>(n);
        net.run_for(Duration::millis(5));
    }
    ASSERT_EQ(net.a().tcb(p.a)->snd_wnd, 0u);
    net.clear_trace();
    net.run_for(Duration::seconds(300));  // five minutes of closed window
    EXPECT_EQ(state_of(net.a(), p.a), State::established) << "MUST-37: never give up on a zero window";
    const auto probes = net.sent_by(Side::a);
    ASSERT_GE(probes.size(), 4u);
    EXPECT_GT(net.a().counters().get(Mib::window_probes), 3u);
    for (const auto& c : probes) EXPECT_LE(c.payload_len, 1u);  // a probe carries one byte
    // SHLD-30: once the buffer is truly full (probe bytes that still fit are
    // accepted and ACKed), the probe interval backs off.
    const std::size_t last = probes.size() - 1;
    EXPECT_GT(probes[last].at - probes[last - 1].at, probes[last - 2].at - probes[last - 3].at);
    // Reading reopens the window; every byte arrives, in order, once.
    std::string got = recv_all(net.b(), p.b, net.now());
    const Instant end = net.now() + Duration::seconds(600);
    while (got.size() < data.size() && net.now() < end) {
        if (sent < data.size()) {
            const auto n = net.a().send(p.a, bytes_of(std::string_view(data).substr(sent)), net.now());
            if (n > 0) sent += static_cast<std::size_t>(n);
        }
        net.run_for(Duration::millis(5));
        got += recv_all(net.b(), p.b, net.now());
    }
    EXPECT_TRUE(got == data);
}

TEST(FastRetransmit, ThreeDuplicateAcksRetransmitOnceWithoutTimeout) {
    for (bool sack : {false, true}) {
        SCOPED_TRACE(sack ? "SACK" : "NewReno");
        EngineConfig c = test_config();
        c.sack = sack;
        Net net(c, c);
        Pair p = open_pair(net);
        const wire::SeqNum lost = net.a().tcb(p.a)->snd_nxt + 1448 * 2;  // the third segment
        bool dropped = false;
        net.impair().drop_rule = [&](const Captured& cap) {
            if (cap.from == Side::a && cap.seq == lost && cap.payload_len > 0 && !dropped) {
                dropped = true;
                return true;
            }
            return false;
        };
        const std::string data = filler(40 * 1448);
        EXPECT_TRUE(push_through(net, p, data, Duration::seconds(5)) == data);
        EXPECT_TRUE(dropped);
        EXPECT_EQ(net.a().counters().get(Mib::fast_retransmits), 1u);
        EXPECT_EQ(net.a().counters().get(Mib::retrans_segs), 1u)
            << "tlp " << net.a().counters().get(Mib::tlp_probes) << " rack-lost "
            << net.a().counters().get(Mib::rack_lost_segs);
        EXPECT_EQ(net.a().counters().get(Mib::rto_expirations), 0u);
    }
}

TEST(SackRecovery, HolesAreFilledWithoutResendingSackedData) {
    Net net(test_config(), test_config());
    Pair p = open_pair(net);
    const wire::SeqNum base = net.a().tcb(p.a)->snd_nxt;
    int dropped = 0;
    net.impair().drop_rule = [&](const Captured& cap) {
        if (cap.from != Side::a || cap.payload_len == 0 || dropped >= 3) return false;
        const auto off = static_cast<std::uint32_t>(cap.seq - base) / 1448;
        if ((off == 2 || off == 4 || off == 6) && cap.seq - base == static_cast<std::int32_t>(off * 1448)) {
            ++dropped;
            return true;
        }
        return false;
    };
    const std::string data = filler(30 * 1448);
    EXPECT_TRUE(push_through(net, p, data, Duration::seconds(5)) == data);
    EXPECT_EQ(dropped, 3);
    EXPECT_EQ(net.a().counters().get(Mib::retrans_segs), 3u)
        << "only the three holes are resent; tlp " << net.a().counters().get(Mib::tlp_probes)
        << " rack-lost " << net.a().counters().get(Mib::rack_lost_segs);
    EXPECT_EQ(net.a().counters().get(Mib::rto_expirations), 0u);
}

TEST(Timeouts, RtoBacksOffToTheMaximumAndR2GivesEtimedout) {
    EngineConfig c = test_config();
    c.r2_retries = 10;
    c.max_rto = Duration::seconds(30);
    Net net(c, c);
    Pair p = open_pair(net);
    net.impair().drop_rule = [](const Captured&) { return true; };  // the peer is gone
    net.clear_trace();
    ASSERT_EQ(net.a().send(p.a, bytes_of("are you there?"), net.now()), 14);
    net.run_for(Duration::seconds(600));
    const auto sent = net.sent_by(Side::a);
    // The original, one tail loss probe (RFC 8985 §7.3; it restarts the
    // RTO), then r2_retries retransmissions by timeout.
    ASSERT_EQ(sent.size(), 12u);
    EXPECT_EQ(net.a().counters().get(Mib::tlp_probes), 1u);
    std::int64_t prev = 0;
    for (std::size_t i = 2; i < sent.size(); ++i) {
        const std::int64_t gap = (sent[i].at - sent[i - 1].at).as_millis();
        if (i > 2) {
            EXPECT_TRUE(gap == std::min<std::int64_t>(prev * 2, 30000)) << i << ": " << gap;
        }
        prev = gap;
    }
    EXPECT_EQ(prev, 30000);  // capped at max_rto
    EXPECT_EQ(state_of(net.a(), p.a), State::closed);
    EXPECT_EQ(net.a().take_error(p.a), ETIMEDOUT);
    EXPECT_TRUE(net.saw_event(Side::a, p.a, EventKind::timed_out));
}

TEST(DelayedAck, OneSegmentWaitsTwoFullSegmentsDoNot) {
    Net net(test_config(), test_config());
    Pair p = open_pair(net);
    net.clear_trace();
    ASSERT_EQ(net.a().send(p.a, bytes_of("small"), net.now()), 5);
    net.run_for(Duration::millis(100));
    auto b = net.sent_by(Side::b);
    ASSERT_EQ(b.size(), 1u);
    const auto a = net.sent_by(Side::a);
    // MUST-40: the delay stays well under 500 ms (ours: 40 ms).
    EXPECT_EQ((b[0].at - a[0].at).as_millis(), 40);
    net.clear_trace();
    ASSERT_EQ(net.a().send(p.a, bytes_of(filler(2 * 1448)), net.now()), 2 * 1448);
    net.run_for(Duration::millis(100));
    b = net.sent_by(Side::b);
    ASSERT_GE(b.size(), 1u);
    EXPECT_LT((b[0].at - net.sent_by(Side::a)[1].at).as_micros(), 1000) << "every second full segment is ACKed at once";
    recv_all(net.b(), p.b, net.now());
}

TEST(Nagle, HoldsSmallWritesWhileUnacknowledgedUnlessNodelay) {
    for (bool nodelay : {false, true}) {
        SCOPED_TRACE(nodelay ? "TCP_NODELAY" : "Nagle");
        Net net(test_config(), test_config());
        net.impair().delay = Duration::millis(10);
        Pair p = open_pair(net);
        ASSERT_EQ(net.a().set_option(p.a, SockOpt::nodelay, nodelay), 0);
        net.clear_trace();
        ASSERT_EQ(net.a().send(p.a, bytes_of("one"), net.now()), 3);
        ASSERT_EQ(net.a().send(p.a, bytes_of("two"), net.now()), 3);
        ASSERT_EQ(net.a().send(p.a, bytes_of("three"), net.now()), 5);
        net.flush();
        const auto immediate = net.sent_by(Side::a);
        EXPECT_EQ(immediate.size(), nodelay ? 3u : 1u);
        net.run_for(Duration::millis(200));
        EXPECT_EQ(recv_all(net.b(), p.b, net.now()), "onetwothree");
        // PSH on the last segment of a write (MUST-61).
        for (const auto& c : net.sent_by(Side::a)) {
            if (c.payload_len > 0) {
                EXPECT_TRUE(c.has(psh));
            }
        }
    }
}

}  // namespace
}  // namespace tcpfp::tcp::test

namespace tcpfp::tcp::test {
namespace {

// Header prediction: a clean bulk transfer takes the fast path for almost
// every data segment and ACK; a hole sends segments the general way.
TEST(HeaderPrediction, CarriesTheCommonCase) {
    Net net(test_config(), test_config());
    Pair p = open_pair(net);
    const std::string data = filler(2 << 20);
    EXPECT_TRUE(push_through(net, p, data, Duration::seconds(30)) == data);
    const auto data_segs = net.a().counters().get(Mib::out_segs);
    EXPECT_GT(net.b().counters().get(Mib::predicted_data), data_segs * 9 / 10);
    EXPECT_GT(net.a().counters().get(Mib::predicted_acks), 0u);
}

// A request/response exchange: each request after the first, and each
// response, is in-order data that also acknowledges the other side's last
// message. Those take the fast path too, ACK first (RFC 9293 §3.10.7.4's
// fifth step before its seventh): every message arrives whole, every
// message's data is acknowledged (RTT samples on both sides), and nothing is
// retransmitted. Before session 22 only data acknowledging nothing new was
// predicted, which no segment of this exchange is but the first request.
TEST(HeaderPrediction, TakesRequestsAndResponsesThatAcknowledgeData) {
    EngineConfig c = test_config();
    Net net(c, c);
    Pair p = open_pair(net);
    net.settle();
    constexpr int kRounds = 20;
    for (int i = 0; i < kRounds; ++i) {
        const std::string request = "request " + std::to_string(i);
        const std::string response = "response " + std::to_string(i);
        ASSERT_EQ(net.a().send(p.a, bytes_of(request), net.now()), static_cast<std::int64_t>(request.size()));
        net.run_for(Duration::micros(100));
        ASSERT_EQ(recv_all(net.b(), p.b, net.now()), request) << "round " << i;
        ASSERT_EQ(net.b().send(p.b, bytes_of(response), net.now()), static_cast<std::int64_t>(response.size()));
        net.run_for(Duration::micros(100));
        ASSERT_EQ(recv_all(net.a(), p.a, net.now()), response) << "round " << i;
    }
    net.run_for(Duration::seconds(1));  // the last response's delayed ACK
    // Every response acknowledges a request; every request but the first a response.
    EXPECT_GE(net.a().counters().get(Mib::predicted_data), static_cast<std::uint64_t>(kRounds));
    EXPECT_GE(net.b().counters().get(Mib::predicted_data), static_cast<std::uint64_t>(kRounds - 1));
    for (Engine* e : {&net.a(), &net.b()}) {
        EXPECT_EQ(e->counters().get(Mib::retrans_segs), 0u);
        EXPECT_GE(e->counters().get(Mib::rtt_samples), static_cast<std::uint64_t>(kRounds));
    }
    const Tcb* ta = net.a().tcb(p.a);
    const Tcb* tb = net.b().tcb(p.b);
    ASSERT_NE(ta, nullptr);
    ASSERT_NE(tb, nullptr);
    EXPECT_EQ(ta->snd_una, ta->snd_max) << "every request acknowledged";
    EXPECT_EQ(tb->snd_una, tb->snd_max) << "every response acknowledged";
}

}  // namespace
}  // namespace tcpfp::tcp::test

namespace tcpfp::tcp::test {
namespace {

// RFC 6582 §3.2 step 5: without SACK, two losses in one window are both
// repaired inside one recovery — the partial ACK after the first
// retransmission triggers the second — with no timeout.
TEST(FastRetransmit, NewRenoPartialAckRepairsTheNextHole) {
    EngineConfig c = test_config();
    c.sack = false;
    Net net(c, c);
    Pair p = open_pair(net);
    const wire::SeqNum base = net.a().tcb(p.a)->snd_nxt;
    int dropped = 0;
    net.impair().drop_rule = [&](const Captured& cap) {
        if (cap.from != Side::a || cap.payload_len == 0 || dropped >= 2) return false;
        const std::int32_t off = cap.seq - base;
        if (off == 2 * 1448 || off == 6 * 1448) {
            ++dropped;
            return true;
        }
        return false;
    };
    const std::string data = filler(40 * 1448);
    EXPECT_TRUE(push_through(net, p, data, Duration::seconds(5)) == data);
    EXPECT_EQ(dropped, 2);
    EXPECT_EQ(net.a().counters().get(Mib::fast_retransmits), 1u) << "one recovery episode";
    EXPECT_EQ(net.a().counters().get(Mib::retrans_segs), 2u);
    EXPECT_EQ(net.a().counters().get(Mib::rto_expirations), 0u);
}

// MUST-34: the peer may shrink its window (move the right edge left); the
// sender copes, sends nothing beyond the new edge, and carries on.
TEST(Window, SenderSurvivesAShrinkingWindow) {
    Net net(test_config(), test_config());
    Pair p = open_pair(net);
    const Tcb* t = net.a().tcb(p.a);
    Craft shrink;
    shrink.tuple = t->tuple;
    shrink.seq = t->rcv_nxt.raw();
    shrink.ack = t->snd_una.raw();
    shrink.flags = wire::tcp_flag::ack;
    shrink.window = 1;  // 1 << 7 = 128 bytes
    shrink.options.has_timestamps = true;
    shrink.options.ts_val = t->ts_recent + 1;
    net.inject(Side::a, craft(shrink));
    ASSERT_EQ(net.a().tcb(p.a)->snd_wnd, 128u);
    net.impair().drop_rule = [](const Captured& c) { return c.from == Side::b; };  // B says nothing
    net.clear_trace();
    ASSERT_GT(net.a().send(p.a, bytes_of(filler(10000)), net.now()), 0);
    net.run_for(Duration::millis(1));
    std::size_t bytes = 0;
    for (const auto& c : net.sent_by(Side::a)) bytes += c.payload_len;
    EXPECT_LE(bytes, 128u) << "nothing beyond the shrunken right edge";
    net.impair().drop_rule = nullptr;
    net.run_for(Duration::seconds(5));  // B's real window reopens things
    EXPECT_EQ(recv_all(net.b(), p.b, net.now()).size(), 10000u);
}

}  // namespace
}  // namespace tcpfp::tcp::test

namespace tcpfp::tcp::test {
namespace {

TEST(Transfer, AcrossSequenceWrapUnderLoss) {
    EngineConfig c = test_config();
    c.isn_override = 0xffff0000u;  // 64 KiB below 2^32 on both sides
    Net net(c, c, 77);
    Pair p = open_pair(net);
    net.impair().drop = 0.03;
    net.impair().reorder = 0.03;
    const std::string data = filler(1 << 20);
    EXPECT_TRUE(push_through(net, p, data, Duration::seconds(300)) == data);
    EXPECT_GT(net.a().counters().get(Mib::retrans_segs), 0u);
    EXPECT_LT(net.a().tcb(p.a)->snd_una.raw(), 0x00200000u) << "the transfer wrapped";
}

// The seed's half-close carrying real data: after our SHUT_WR FIN, the
// passive side sends a megabyte, which arrives byte-exact.
TEST(HalfClose, BulkFromThePassiveSideAfterOurFin) {
    Net net(test_config(), test_config());
    net.impair().drop = 0.01;
    Pair p = open_pair(net);
    ASSERT_EQ(net.a().shutdown(p.a, Shutdown::wr, net.now()), 0);
    net.run_for(Duration::millis(50));
    ASSERT_EQ(state_of(net.a(), p.a), State::fin_wait_2);
    const std::string data = filler(1 << 20);
    std::size_t sent = 0;
    std::string got;
    const Instant end = net.now() + Duration::seconds(120);
    while (got.size() < data.size() && net.now() < end) {
        if (sent < data.size()) {
            const auto n = net.b().send(p.b, bytes_of(std::string_view(data).substr(sent)), net.now());
            if (n > 0) sent += static_cast<std::size_t>(n);
        }
        net.run_for(Duration::millis(5));
        got += recv_all(net.a(), p.a, net.now());
    }
    EXPECT_TRUE(got == data);
    ASSERT_EQ(net.b().close(p.b, net.now()), 0);
    net.run_for(Duration::seconds(2));
    std::uint8_t b[1];
    EXPECT_EQ(net.a().recv(p.a, b, net.now()), 0);
    EXPECT_EQ(net.a().time_wait_count(), 1u);
}

TEST(Timeouts, InitialWindowIsConfigurable) {
    for (std::uint8_t iw : {std::uint8_t{4}, std::uint8_t{10}}) {
        EngineConfig c = test_config();
        c.initial_window = iw;
        Net net(c, c);
        net.impair().delay = Duration::millis(10);
        Pair p = open_pair(net);
        net.clear_trace();
        ASSERT_GT(net.a().send(p.a, bytes_of(filler(64 * 1448)), net.now()), 0);
        net.run_for(Duration::millis(5));  // less than one RTT: only the initial window left
        EXPECT_EQ(net.sent_by(Side::a).size(), iw) << "IW" << int{iw};
    }
}

}  // namespace
}  // namespace tcpfp::tcp::test
