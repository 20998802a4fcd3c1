// Congestion control on a bare control block: NewReno's and CUBIC's
// reductions and growth curves (RFC 5681, RFC 9438).
#include <gtest/gtest.h>

#include <cmath>

#include "tcp/engine/congestion.hpp"
#include "util.hpp"

namespace tcpfp::tcp::test {
namespace {

constexpr std::uint32_t kMss = 1000;

Tcb block(CongestionControl algo, std::uint32_t cwnd_segments) {
    Tcb t;
    t.cc = algo;
    t.snd_mss = kMss;
    t.cwnd = cwnd_segments * kMss;
    t.ssthresh = 1;  // congestion avoidance
    t.srtt_us = 100'000;
    return t;
}

// One RTT of ACKs, one per segment in flight.
void one_rtt(Tcb& t, TickMs& now_ms) {
    const std::uint32_t acks = t.cwnd / kMss;
    for (std::uint32_t i = 0; i < acks; ++i) cc::on_ack(t, kMss, now_ms);
    now_ms += 100;
}

TEST(NewReno, HalvesOnLossAndGrowsOneSegmentPerRtt) {
    Tcb t = block(CongestionControl::newreno, 100);
    EXPECT_EQ(cc::on_congestion(t, 100 * kMss), 50 * kMss);  // RFC 5681 eq. 4
    EXPECT_EQ(cc::on_congestion(t, kMss), 2 * kMss);          // floor of 2 SMSS
    t.cwnd = 50 * kMss;
    TickMs now = 1000;
    for (int i = 0; i < 10; ++i) one_rtt(t, now);
    EXPECT_NEAR(t.cwnd / static_cast<double>(kMss), 60.0, 0.5);
}

TEST(Cubic, ReducesByBetaAndReturnsToWmaxAroundK) {
    Tcb t = block(CongestionControl::cubic, 100);
    const std::uint32_t ssthresh = cc::on_congestion(t, 100 * kMss);
    EXPECT_EQ(ssthresh, 70 * kMss);  // RFC 9438 §4.6: beta_cubic = 0.7
    EXPECT_EQ(t.cubic.w_max, 100 * kMss);
    t.cwnd = ssthresh;
    t.ssthresh = ssthresh;
    // K = cbrt(W_max (1 - beta) / C) = cbrt(100 * 0.3 / 0.4) = 4.22 s.
    TickMs now = 10'000;
    const TickMs start = now;
    std::uint32_t at_half_k = 0;
    while (t.cwnd < 100 * kMss && now - start < 20'000) {
        one_rtt(t, now);
        if (at_half_k == 0 && now - start >= 2100) at_half_k = t.cwnd;
    }
    const double reached_s = static_cast<double>(now - start) / 1000.0;
    EXPECT_NEAR(reached_s, 4.22, 0.6) << "plateau at W_max after about K seconds";
    // Concave: most of the way back is covered in the first half of K.
    EXPECT_GT(at_half_k, 85 * kMss);
    // Past K the window grows ever faster (convex region): over the next
    // 6 s (60 RTTs) it gains more than Reno's one segment per RTT would.
    const std::uint32_t plateau = t.cwnd;
    for (int i = 0; i < 60; ++i) one_rtt(t, now);
    EXPECT_GT(t.cwnd, plateau + 60 * kMss);
}

TEST(Cubic, FastConvergenceLowersWmaxOnRepeatedLoss) {
    Tcb t = block(CongestionControl::cubic, 100);
    (void)cc::on_congestion(t, 100 * kMss);
    t.cwnd = 80 * kMss;  // lost again before reaching the old W_max
    (void)cc::on_congestion(t, 80 * kMss);
    EXPECT_EQ(t.cubic.w_max, 68 * kMss);  // 80 * (1 + 0.7) / 2, RFC 9438 §4.7
}

TEST(Cubic, IsSelectablePerConnection) {
    Net net(test_config(), test_config());
    Pair p = open_pair(net);
    std::int64_t v = -1;
    ASSERT_EQ(net.a().get_option(p.a, SockOpt::congestion, v), 0);
    EXPECT_EQ(v, 1);  // CUBIC by default, as Linux
    ASSERT_EQ(net.a().set_option(p.a, SockOpt::congestion, 0), 0);
    EXPECT_EQ(net.a().tcb(p.a)->cc, CongestionControl::newreno);
    EXPECT_EQ(net.a().set_option(p.a, SockOpt::congestion, 7), -EINVAL);
}

}  // namespace
}  // namespace tcpfp::tcp::test
