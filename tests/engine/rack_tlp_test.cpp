// RACK-TLP (RFC 8985) between two engines on the virtual clock: the tail
// loss probe, RACK's reorder timer, loss marking by time rather than by
// duplicate count, and reordering tolerated without retransmission.
#include <gtest/gtest.h>

#include "util.hpp"

namespace tcpfp::tcp::test {
namespace {

constexpr std::uint32_t kSeg = 1448;  // payload per segment with timestamps

std::string filler(std::size_t n) {
    std::string s(n, '\0');
    for (std::size_t i = 0; i < n; ++i) s[i] = static_cast<char>('a' + i % 23);
    return s;
}

// A pair over a 10 ms one-way link (RTT 20 ms), so millisecond timers show.
struct Link {
    Net net{test_config(), test_config()};
    Pair p{};
    wire::SeqNum base;
    explicit Link(const EngineConfig& c = test_config()) : net(c, c) {
        net.impair().delay = Duration::millis(10);
        p = open_pair(net);
        base = net.a().tcb(p.a)->snd_nxt;
        net.clear_trace();
    }
    std::vector<Captured> data_from_a() const {
        std::vector<Captured> out;
        for (const Captured& c : net.sent_by(Side::a)) {
            if (c.payload_len > 0 || c.has(wire::tcp_flag::fin)) out.push_back(c);
        }
        return out;
    }
    std::uint64_t count(Mib m) { return net.a().counters().get(m); }
    std::uint32_t offset(const Captured& c) const { return static_cast<std::uint32_t>(c.seq - base); }
};

// RFC 8985 §7: the last two segments of a flight are lost, so no ACK can
// reveal it. Instead of waiting for the RTO, a probe resends the last
// segment 2*SRTT (+2 ms, two segments in flight) after the last ACK; its
// SACK lets RACK mark the other one lost, and recovery repairs it.
// The send log's lookup (SendLog::first_after, a binary search that the
// SACK and retransmission paths use instead of a scan from the first
// record): checked against a plain scan at every edge and inside every
// record, with the ring wrapped past its last slot and the sequence space
// wrapped past 2^32.
TEST(SendLogLookup, FirstAfterMatchesAScanAcrossRingAndSequenceWrap) {
    SendLog g{};
    g.head = SendLog::kMax - 7;
    g.start = wire::SeqNum(0xffffff00u);
    for (std::uint16_t i = 0; i < 40; ++i) {
        g.end[g.slot(i)] = g.start + 10u * (i + 1u);
        ++g.n;
    }
    auto scan = [&](wire::SeqNum s) {
        std::uint16_t i = 0;
        while (i < g.n && !(s < g.right(i))) ++i;
        return i;
    };
    for (std::uint32_t off = 0; off <= 10 * 40 + 5; ++off) {
        const wire::SeqNum s = g.start - 5u + off;
        ASSERT_EQ(g.first_after(s), scan(s)) << "offset " << off;
    }
    EXPECT_EQ(g.first_after(g.start), 0);
    EXPECT_EQ(g.first_after(g.start + 10u), 1);
    EXPECT_EQ(g.first_after(g.stop()), g.n);
    g.n = 0;
    EXPECT_EQ(g.first_after(g.start), 0);
}

TEST(Tlp, TailLossIsRepairedByAProbeBeforeTheRto) {
    EngineConfig quick = test_config();
    quick.delayed_ack = Duration::millis(0);  // every segment ACKed at once
    Net net(test_config(), quick);
    net.impair().delay = Duration::millis(10);
    Pair p = open_pair(net);
    const wire::SeqNum base = net.a().tcb(p.a)->snd_nxt;
    int dropped = 0;
    net.impair().drop_rule = [&](const Captured& c) {
        const bool tail = c.seq == base + 4 * kSeg || c.seq == base + 5 * kSeg;
        if (c.from == Side::a && tail && c.payload_len > 0 && dropped < 2) {
            ++dropped;
            return true;
        }
        return false;
    };
    net.clear_trace();
    const std::string data = filler(6 * kSeg);
    ASSERT_EQ(net.a().send(p.a, bytes_of(data), net.now()), static_cast<std::int64_t>(data.size()));
    net.run_for(Duration::seconds(2));
    EXPECT_EQ(recv_all(net.b(), p.b, net.now()), data);
    std::vector<Captured> sent;
    Instant last_ack{};
    for (const Captured& c : net.trace()) {
        if (c.from == Side::a && c.payload_len > 0) sent.push_back(c);
        if (c.from == Side::b && sent.size() == 6) last_ack = c.at + Duration::millis(10);  // arrival at A
    }
    ASSERT_EQ(sent.size(), 8u);
    EXPECT_EQ(static_cast<std::uint32_t>(sent[6].seq - base), 5 * kSeg) << "the probe is the last segment";
    EXPECT_EQ(static_cast<std::uint32_t>(sent[7].seq - base), 4 * kSeg) << "then RACK repairs the other";
    const std::int64_t pto = (sent[6].at - last_ack).as_micros();
    const std::int64_t srtt = net.a().tcb(p.a)->srtt_us;
    EXPECT_GE(pto, 2 * srtt);
    EXPECT_LE(pto, 2 * srtt + 3000);
    const Counters& k = net.a().counters();
    EXPECT_EQ(k.get(Mib::tlp_probes), 1u);
    EXPECT_GE(k.get(Mib::rack_lost_segs), 1u);
    EXPECT_EQ(k.get(Mib::rto_expirations), 0u);
}

// RFC 8985 §6.3: one segment lost with only one SACKed above it (never
// three duplicate ACKs): RACK's reorder timer retransmits it after
// RACK.rtt + min_RTT/4, long before the RTO.
TEST(Rack, ReorderTimerRetransmitsWithFewerThanDupThreshSacks) {
    Link l;
    bool dropped = false;
    l.net.impair().drop_rule = [&](const Captured& c) {
        if (c.from == Side::a && c.seq == l.base && c.payload_len > 0 && !dropped) {
            dropped = true;
            return true;
        }
        return false;
    };
    const std::string data = filler(2 * kSeg);
    ASSERT_EQ(l.net.a().send(l.p.a, bytes_of(data), l.net.now()), static_cast<std::int64_t>(data.size()));
    l.net.run_for(Duration::seconds(2));
    EXPECT_EQ(recv_all(l.net.b(), l.p.b, l.net.now()), data);
    const auto sent = l.data_from_a();
    ASSERT_EQ(sent.size(), 3u);
    EXPECT_EQ(l.offset(sent[2]), 0u);
    // Sent at 0, SACK back at RTT; lost at RTT + min_RTT/4 (+2 ms slack).
    const std::int64_t at = (sent[2].at - sent[0].at).as_millis();
    EXPECT_GE(at, 20 + 5);
    EXPECT_LE(at, 20 + 5 + 3);
    EXPECT_GE(l.count(Mib::rack_lost_segs), 1u);
    EXPECT_EQ(l.count(Mib::fast_retransmits), 1u);
    EXPECT_EQ(l.count(Mib::rto_expirations), 0u);
}

// RFC 8985 §6.2: with three segments SACKed and no reordering seen, the
// reordering window is zero, so a lost segment is retransmitted at once —
// the time-based rule subsumes DupThresh.
TEST(Rack, ThreeSackedSegmentsMarkTheHoleLostAtOnce) {
    Link l;
    bool dropped = false;
    l.net.impair().drop_rule = [&](const Captured& c) {
        if (c.from == Side::a && c.seq == l.base && c.payload_len > 0 && !dropped) {
            dropped = true;
            return true;
        }
        return false;
    };
    const std::string data = filler(4 * kSeg);
    ASSERT_EQ(l.net.a().send(l.p.a, bytes_of(data), l.net.now()), static_cast<std::int64_t>(data.size()));
    l.net.run_for(Duration::seconds(2));
    EXPECT_EQ(recv_all(l.net.b(), l.p.b, l.net.now()), data);
    const auto sent = l.data_from_a();
    ASSERT_EQ(sent.size(), 5u);
    EXPECT_EQ(l.offset(sent[4]), 0u);
    EXPECT_EQ((sent[4].at - sent[0].at).as_millis(), 20) << "on the third SACK, one RTT after sending";
    EXPECT_EQ(l.count(Mib::retrans_segs), 1u);
}

// Reordering shorter than the reordering window costs no retransmission;
// with duplicate-ACK counting the same path resends segments spuriously.
TEST(Rack, ShortReorderingCausesNoSpuriousRetransmission) {
    Net net(test_config(), test_config(), 7);
    net.impair().delay = Duration::millis(10);
    net.impair().reorder = 0.05;
    net.impair().reorder_delay = Duration::millis(1);  // < min_RTT/4 = 5 ms
    Pair p = open_pair(net);
    const std::string data = filler(400 * kSeg);
    std::size_t sent = 0;
    std::string got;
    const Instant end = net.now() + Duration::seconds(30);
    while (got.size() < data.size() && net.now() < end) {
        if (sent < data.size()) {
            const auto n = net.a().send(p.a, bytes_of(std::string_view(data).substr(sent)), net.now());
            if (n > 0) sent += static_cast<std::size_t>(n);
        }
        net.run_for(Duration::millis(5));
        got += recv_all(net.b(), p.b, net.now());
    }
    EXPECT_TRUE(got == data);
    // Reordering before three segments were SACKed waits out the window; a
    // hole overtaken by three or more before any reordering was seen may be
    // resent once, after which RACK.reord keeps the window open.
    EXPECT_LE(net.a().counters().get(Mib::retrans_segs), 3u);
}

// The send log holds SendLog::kMax records; a longer flight merges
// neighbours (send_log_merges). A segment lost while the log is full is
// still found by RACK and repaired without an RTO, every byte arrives once,
// and the log's byte accounting ends at zero (the loss state is released).
TEST(Rack, AFlightLongerThanTheSendLogMergesRecordsAndStillRepairsALoss) {
    EngineConfig big = test_config();
    big.send_buffer = big.recv_buffer = big.buffer_size;  // 181 segments may be in flight
    Link l(big);
    const std::string data = filler(3 * 1024 * 1024);
    const wire::SeqNum lost = l.base + 1500 * kSeg;
    std::uint64_t merges_at_loss = 0;
    bool dropped = false;
    l.net.impair().drop_rule = [&](const Captured& c) {
        if (c.from != Side::a || c.seq != lost || c.payload_len == 0 || dropped) return false;
        dropped = true;
        merges_at_loss = l.count(Mib::send_log_merges);
        return true;
    };
    std::size_t sent = 0;
    std::string got;
    const Instant end = l.net.now() + Duration::seconds(60);
    while (got.size() < data.size() && l.net.now() < end) {
        if (sent < data.size()) {
            const auto n = l.net.a().send(l.p.a, bytes_of(std::string_view(data).substr(sent)), l.net.now());
            if (n > 0) sent += static_cast<std::size_t>(n);
        }
        l.net.run_for(Duration::millis(1));
        got += recv_all(l.net.b(), l.p.b, l.net.now());
    }
    l.net.run_for(Duration::seconds(1));
    ASSERT_TRUE(dropped);
    EXPECT_GT(merges_at_loss, 0u) << "the log was full when the segment was lost";
    EXPECT_TRUE(got == data);
    EXPECT_GE(l.count(Mib::rack_lost_segs), 1u);
    EXPECT_EQ(l.count(Mib::rto_expirations), 0u);
    EXPECT_EQ(l.net.a().loss_states_in_use(), 0u);
}

}  // namespace
}  // namespace tcpfp::tcp::test
