// dpdk_app/clock.hpp's TSC conversion (TscScale), fed cycle counts by hand:
// a reading below the base (a worker's CPU whose TSC lags the main lcore's,
// where the base was read) or below the previous reading never moves time
// backwards or wraps it. Before the fix the first case gave 2^64 cycles:
// 8,784,145,234 s at 2.1 GHz, seen as a generator's elapsed time under load.
#include <gtest/gtest.h>

#include "dpdk_app/clock.hpp"

namespace tcpfp::app {
namespace {

constexpr std::uint64_t kHz = 2'100'000'000;  // the bench machine's TSC
constexpr std::uint64_t kBase = 5'000'000'000'000;

TEST(TscScale, StartsAtOneSecondAndCountsMicroseconds) {
    TscScale s(kBase, kHz);
    EXPECT_EQ(s.at(kBase).micros(), 1'000'000u);
    EXPECT_EQ(s.at(kBase + kHz).micros(), 2'000'000u);
    EXPECT_EQ(s.at(kBase + kHz * 3600).micros(), 3'601'000'000u);  // an hour: exact to the microsecond
}

TEST(TscScale, AReadingBelowTheBaseDoesNotWrap) {
    TscScale s(kBase, kHz);
    EXPECT_EQ(s.at(kBase - 5).micros(), 1'000'000u) << "a lagging TSC is the base's time, not 2^64 cycles on";
    EXPECT_EQ(s.at(kBase + kHz / 1000).micros(), 1'001'000u);
}

TEST(TscScale, NeverGoesBackwards) {
    TscScale s(kBase, kHz);
    EXPECT_EQ(s.at(kBase + kHz).micros(), 2'000'000u);
    EXPECT_EQ(s.at(kBase + kHz / 2).micros(), 2'000'000u) << "an earlier reading repeats the last time";
    EXPECT_EQ(s.at(kBase - kHz).micros(), 2'000'000u);
    EXPECT_EQ(s.at(kBase + 2 * kHz).micros(), 3'000'000u);
}

}  // namespace
}  // namespace tcpfp::app
