// Proportional Rate Reduction (RFC 6937) between two engines: during fast
// recovery the sender clocks out about ssthresh/RecoverFS of a segment per
// segment delivered and leaves recovery at ssthresh. (The exact per-ACK
// arithmetic is checked packet by packet in tests/scenarios/prr.)
#include <gtest/gtest.h>

#include "util.hpp"

namespace tcpfp::tcp::test {
namespace {

constexpr std::uint32_t kSeg = 1448;

std::string filler(std::size_t n) {
    std::string s(n, '\0');
    for (std::size_t i = 0; i < n; ++i) s[i] = static_cast<char>('a' + i % 19);
    return s;
}

struct Recovery {
    std::size_t acks = 0;          // ACKs A received between the fast retransmit and the end
    std::size_t sent = 0;          // segments A sent in that time
};

// Drops the first transmission of segment `hole` from A, sends `segs`
// segments at once (one flight, IW10 grown by nothing else), and measures
// what A sends while it repairs the hole.
Recovery recover_one_hole(bool sack, std::uint32_t segs, std::uint32_t hole, std::uint32_t* cwnd_after,
                          std::uint32_t* ssthresh_after, std::uint64_t* rto) {
    EngineConfig c = test_config();
    c.sack = sack;
    c.initial_window = static_cast<std::uint8_t>(segs);
    Net net(c, c);
    net.impair().delay = Duration::millis(10);
    Pair p = open_pair(net);
    const wire::SeqNum base = net.a().tcb(p.a)->snd_nxt;
    const wire::SeqNum lost = base + hole * kSeg;
    bool dropped = false;
    net.impair().drop_rule = [&](const Captured& cap) {
        if (cap.from == Side::a && cap.seq == lost && cap.payload_len > 0 && !dropped) {
            dropped = true;
            return true;
        }
        return false;
    };
    net.clear_trace();
    const std::string data = filler(segs * kSeg);
    EXPECT_EQ(net.a().send(p.a, bytes_of(data), net.now()), static_cast<std::int64_t>(data.size()));
    // More data than the flight, so PRR has new segments to clock out.
    const std::string more = filler(segs * kSeg);
    std::string got;
    std::size_t queued = 0;
    const Instant end = net.now() + Duration::seconds(5);
    while (got.size() < data.size() + more.size() && net.now() < end) {
        if (queued < more.size()) {
            const auto n = net.a().send(p.a, bytes_of(std::string_view(more).substr(queued)), net.now());
            if (n > 0) queued += static_cast<std::size_t>(n);
        }
        net.run_for(Duration::millis(1));
        got += recv_all(net.b(), p.b, net.now());
    }
    EXPECT_TRUE(got == data + more);
    Recovery r;
    Instant rtx_at = Instant::max();
    Instant done_at = Instant::max();
    for (const Captured& cap : net.trace()) {
        if (cap.from == Side::a && cap.seq == lost && cap.payload_len > 0 && rtx_at == Instant::max() &&
            dropped && cap.at > net.trace().front().at) {
            rtx_at = cap.at;
        }
        if (cap.from == Side::b && cap.ack > lost && done_at == Instant::max() && rtx_at != Instant::max()) {
            done_at = cap.at;
        }
    }
    for (const Captured& cap : net.trace()) {
        // Up to (not including) the arrival of the ACK that ends recovery.
        if (cap.at < rtx_at || !(cap.at < done_at + Duration::millis(10))) continue;
        if (cap.from == Side::b) ++r.acks;
        if (cap.from != Side::a || cap.payload_len == 0) continue;
        ++r.sent;
    }
    *cwnd_after = net.a().tcb(p.a)->cwnd;
    *ssthresh_after = net.a().tcb(p.a)->ssthresh;
    *rto = net.a().counters().get(Mib::rto_expirations);
    return r;
}

// RFC 6937 §3 with SACK: one hole in a 20-segment flight. Every ACK in
// recovery delivers one segment and releases at most two (PRR-SSRB's extra
// MSS), and recovery ends with cwnd at ssthresh, not a burst.
TEST(Prr, SackRecoveryClocksOutSegmentsAsTheyAreDelivered) {
    std::uint32_t cwnd = 0, ssthresh = 0;
    std::uint64_t rto = 0;
    const Recovery r = recover_one_hole(true, 20, 2, &cwnd, &ssthresh, &rto);
    EXPECT_EQ(rto, 0u);
    EXPECT_GT(r.sent, 5u) << "new data keeps flowing during recovery";
    // PRR sends about ssthresh/RecoverFS (0.7) of a segment per segment
    // delivered, never more than one plus what was delivered (SSRB).
    EXPECT_LE(r.sent, r.acks + r.acks / 2 + 2);
    // CUBIC: ssthresh = 0.7 * cwnd (20 segments, a few more by the time the
    // loss is found); recovery leaves cwnd there.
    EXPECT_GE(ssthresh, 14u * kSeg);
    EXPECT_LT(ssthresh, 20u * kSeg);
    EXPECT_GE(cwnd, ssthresh);
}

// RFC 6937 without SACK: each duplicate ACK stands for one delivered
// segment (PRR replaces RFC 6582's window inflation), so the sender
// releases new data smoothly instead of waiting for half the window of
// duplicate ACKs and then bursting.
TEST(Prr, NewRenoRecoveryClocksOutSegmentsAsTheyAreDelivered) {
    std::uint32_t cwnd = 0, ssthresh = 0;
    std::uint64_t rto = 0;
    const Recovery r = recover_one_hole(false, 20, 2, &cwnd, &ssthresh, &rto);
    EXPECT_EQ(rto, 0u);
    EXPECT_GT(r.sent, 5u);
    EXPECT_LE(r.sent, r.acks + r.acks / 2 + 2);
    EXPECT_GE(ssthresh, 14u * kSeg);
    EXPECT_LT(ssthresh, 20u * kSeg);
    EXPECT_GE(cwnd, ssthresh);
}

}  // namespace
}  // namespace tcpfp::tcp::test
