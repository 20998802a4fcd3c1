// The load tester's self-contained parts (dpdk_app/apps/): the latency
// histogram, the HTTP/1.1 response parser, SHA-256 and the rate pacer, each
// on its own with hand-made inputs; no engine.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "dpdk_app/apps/hdr_histogram.hpp"
#include "dpdk_app/apps/pacer.hpp"
#include "dpdk_app/apps/sha256.hpp"

namespace tcpfp::app {
namespace {

// --- HdrHistogram ---------------------------------------------------------------

TEST(HdrHistogram, EveryValueUpTo2Pow20FallsInsideItsBucket) {
    std::size_t prev = 0;
    for (std::uint64_t v = 0; v <= (std::uint64_t{1} << 20); ++v) {
        const std::size_t b = HdrHistogram::bucket(v);
        ASSERT_LT(b, HdrHistogram::kBuckets) << v;
        ASSERT_LE(HdrHistogram::lower(b), v) << v;
        ASSERT_GE(HdrHistogram::upper(b), v) << v;
        ASSERT_GE(b, prev) << "buckets grow with the value at " << v;
        prev = b;
        if (v < HdrHistogram::kLinear) {
            ASSERT_EQ(HdrHistogram::lower(b), HdrHistogram::upper(b)) << "exact below 256: " << v;
        } else {
            const double width = static_cast<double>(HdrHistogram::upper(b) - HdrHistogram::lower(b) + 1);
            ASSERT_LE(width / static_cast<double>(HdrHistogram::lower(b)), 1.0 / 128) << v;
        }
    }
}

TEST(HdrHistogram, BucketsTileTheRangeWithoutGaps) {
    EXPECT_EQ(HdrHistogram::lower(0), 0u);
    for (std::size_t b = 1; b < HdrHistogram::kBuckets; ++b) {
        ASSERT_EQ(HdrHistogram::lower(b), HdrHistogram::upper(b - 1) + 1) << b;
        ASSERT_EQ(HdrHistogram::bucket(HdrHistogram::lower(b)), b);
        ASSERT_EQ(HdrHistogram::bucket(HdrHistogram::upper(b)), b);
    }
    EXPECT_LE(HdrHistogram::lower(HdrHistogram::kBuckets - 1), HdrHistogram::kMaxValue);
    EXPECT_GE(HdrHistogram::upper(HdrHistogram::kBuckets - 1), HdrHistogram::kMaxValue);
}

TEST(HdrHistogram, EmptyReportsZeros) {
    HdrHistogram h;
    EXPECT_EQ(h.count(), 0u);
    EXPECT_EQ(h.min(), 0u);
    EXPECT_EQ(h.max(), 0u);
    EXPECT_EQ(h.mean(), 0.0);
    EXPECT_EQ(h.percentile(0.5), 0u);
    EXPECT_EQ(h.percentile(1.0), 0u);
    int buckets = 0;
    h.for_each_bucket([&](std::uint64_t, std::uint64_t, std::uint64_t) { ++buckets; });
    EXPECT_EQ(buckets, 0);
}

// The histogram's percentile against the exact order statistic of the same
// samples: within 1 % relative error (bucket width / 2 is under 0.4 %).
void expect_percentiles_close(const std::vector<std::uint64_t>& samples, const char* what) {
    HdrHistogram h;
    for (std::uint64_t v : samples) h.record(v);
    std::vector<std::uint64_t> sorted = samples;
    std::sort(sorted.begin(), sorted.end());
    ASSERT_EQ(h.count(), sorted.size());
    EXPECT_EQ(h.min(), sorted.front()) << what;
    EXPECT_EQ(h.max(), sorted.back()) << what;
    EXPECT_EQ(h.percentile(1.0), sorted.back()) << what;
    for (double q : {0.5, 0.9, 0.99, 0.999, 0.9999}) {
        const auto rank = static_cast<std::size_t>(std::ceil(q * static_cast<double>(sorted.size())));
        const double exact = static_cast<double>(sorted[rank - 1]);
        const double got = static_cast<double>(h.percentile(q));
        EXPECT_LE(std::abs(got - exact), 0.01 * exact) << what << " q=" << q << " exact=" << exact;
    }
    long double sum = 0;
    for (std::uint64_t v : samples) sum += static_cast<long double>(v);
    EXPECT_NEAR(h.mean(), static_cast<double>(sum / static_cast<long double>(samples.size())), 1e-6)
        << what;
}

TEST(HdrHistogram, PercentilesOfUniformExponentialLogNormalAndBimodal) {
    std::mt19937_64 rng(20261202);  // fixed seed: the same samples every run
    constexpr std::size_t kN = 200'000;
    std::vector<std::uint64_t> uniform, expo, lognormal, bimodal;
    std::uniform_int_distribution<std::uint64_t> u(1, 5'000'000);
    std::exponential_distribution<double> e(1.0 / 800.0);  // mean 800 us
    std::lognormal_distribution<double> ln(6.0, 1.2);       // median ~400 us, long tail
    std::normal_distribution<double> fast(150.0, 10.0), slow(40'000.0, 2'000.0);
    std::bernoulli_distribution pick_slow(0.05);
    for (std::size_t i = 0; i < kN; ++i) {
        uniform.push_back(u(rng));
        expo.push_back(1 + static_cast<std::uint64_t>(e(rng)));
        lognormal.push_back(1 + static_cast<std::uint64_t>(ln(rng)));
        const double b = pick_slow(rng) ? slow(rng) : fast(rng);
        bimodal.push_back(static_cast<std::uint64_t>(std::max(1.0, b)));
    }
    expect_percentiles_close(uniform, "uniform");
    expect_percentiles_close(expo, "exponential");
    expect_percentiles_close(lognormal, "log-normal");
    expect_percentiles_close(bimodal, "bimodal");
}

TEST(HdrHistogram, SmallValuesAreExactAndPercentilesClampToMinMax) {
    HdrHistogram h;
    for (std::uint64_t v = 1; v <= 100; ++v) h.record(v);
    EXPECT_EQ(h.percentile(0.5), 50u);
    EXPECT_EQ(h.percentile(0.0), 1u);
    EXPECT_EQ(h.percentile(0.99), 99u);
    EXPECT_DOUBLE_EQ(h.mean(), 50.5);
    HdrHistogram one;
    one.record(1'000'003);  // bucket [999424, 1003519]: midpoint clamped to the only sample
    EXPECT_EQ(one.percentile(0.5), 1'000'003u);
    EXPECT_EQ(one.min(), 1'000'003u);
}

TEST(HdrHistogram, MergeEqualsRecordingEverythingInOne) {
    std::mt19937_64 rng(7);
    std::lognormal_distribution<double> ln(7.0, 2.0);
    HdrHistogram a, b, all;
    for (int i = 0; i < 50'000; ++i) {
        const auto v = static_cast<std::uint64_t>(ln(rng));
        (i % 3 == 0 ? a : b).record(v);
        all.record(v);
    }
    a.merge(b);
    EXPECT_EQ(a.count(), all.count());
    EXPECT_EQ(a.min(), all.min());
    EXPECT_EQ(a.max(), all.max());
    EXPECT_DOUBLE_EQ(a.mean(), all.mean());
    std::vector<std::uint64_t> ba, ball;
    a.for_each_bucket([&](std::uint64_t lo, std::uint64_t, std::uint64_t n) { ba.insert(ba.end(), {lo, n}); });
    all.for_each_bucket([&](std::uint64_t lo, std::uint64_t, std::uint64_t n) { ball.insert(ball.end(), {lo, n}); });
    EXPECT_EQ(ba, ball);
    for (double q : {0.1, 0.5, 0.9, 0.999}) EXPECT_EQ(a.percentile(q), all.percentile(q));
    HdrHistogram empty;
    a.merge(empty);  // an empty histogram's min sentinel must not leak in
    EXPECT_EQ(a.min(), all.min());
}

TEST(HdrHistogram, RecordNIsNRecords) {
    HdrHistogram a, b;
    a.record_n(1234, 5);
    a.record_n(99, 0);  // nothing: min/max untouched
    for (int i = 0; i < 5; ++i) b.record(1234);
    EXPECT_EQ(a.count(), 5u);
    EXPECT_EQ(a.min(), 1234u);
    EXPECT_EQ(a.max(), 1234u);
    EXPECT_EQ(a.percentile(0.5), b.percentile(0.5));
    EXPECT_DOUBLE_EQ(a.mean(), 1234.0);
}

TEST(HdrHistogram, AboveSixtySecondsClampsIntoTheTopBucketButMaxStaysExact) {
    HdrHistogram h;
    h.record(10);
    h.record(90'000'000);     // 90 s
    h.record(UINT64_MAX / 4);  // absurd, still counted
    EXPECT_EQ(h.count(), 3u);
    EXPECT_EQ(h.max(), UINT64_MAX / 4);
    EXPECT_EQ(h.percentile(1.0), UINT64_MAX / 4);
    std::uint64_t top = 0;
    h.for_each_bucket([&](std::uint64_t lo, std::uint64_t hi, std::uint64_t n) {
        if (lo <= HdrHistogram::kMaxValue && HdrHistogram::kMaxValue <= hi) top = n;
    });
    EXPECT_EQ(top, 2u);
    const std::uint64_t p50 = h.percentile(0.5);  // the second sample: the top bucket's midpoint
    EXPECT_GE(p50, HdrHistogram::lower(HdrHistogram::kBuckets - 1));
    EXPECT_LE(p50, HdrHistogram::upper(HdrHistogram::kBuckets - 1));
    EXPECT_DOUBLE_EQ(h.mean(), (10.0 + 90'000'000.0 + static_cast<double>(UINT64_MAX / 4)) / 3);
    h.clear();
    EXPECT_EQ(h.count(), 0u);
    EXPECT_EQ(h.max(), 0u);
    EXPECT_EQ(h.min(), 0u);
}

// --- Sha256 -----------------------------------------------------------------------
// Vectors: FIPS 180-2 Appendix B (B.1 "abc", B.2 the 448-bit message, B.3 one
// million 'a'), repeated in NIST CSRC's "Cryptographic Standards and
// Guidelines: Examples with Intermediate Values" (SHA256.pdf) for FIPS 180-4;
// the empty string's digest is the well-known SHA-256("").

std::string sha256_hex(std::string_view msg) {
    Sha256 s;
    s.update(reinterpret_cast<const std::uint8_t*>(msg.data()), msg.size());
    return Sha256::hex(s.finish());
}

TEST(Sha256, Fips180ExampleVectors) {
    EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    EXPECT_EQ(sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
              "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST(Sha256, OneMillionAInUnevenPieces) {
    Sha256 s;
    const std::string chunk(1000, 'a');
    std::size_t fed = 0;
    for (std::size_t piece = 1; fed < 1'000'000; piece = piece % 997 + 1) {  // 1..997-byte pieces
        const std::size_t n = std::min(piece, std::size_t{1'000'000} - fed);
        s.update(reinterpret_cast<const std::uint8_t*>(chunk.data()), n);
        fed += n;
    }
    EXPECT_EQ(Sha256::hex(s.finish()), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(Sha256, EverySplitInTwoGivesTheSameDigest) {
    // 200 bytes: crosses three block boundaries and both padding cases.
    std::string msg;
    for (int i = 0; i < 200; ++i) msg.push_back(static_cast<char>('A' + i % 53));
    const std::string whole = sha256_hex(msg);
    const auto* p = reinterpret_cast<const std::uint8_t*>(msg.data());
    for (std::size_t cut = 0; cut <= msg.size(); ++cut) {
        Sha256 s;
        s.update(p, cut);
        s.update(p + cut, msg.size() - cut);
        ASSERT_EQ(Sha256::hex(s.finish()), whole) << "cut at " << cut;
    }
    // Lengths around the padding edge (55 fits the length in the last block,
    // 56 does not) and full blocks, fed whole and one byte at a time.
    for (std::size_t len : {55u, 56u, 63u, 64u, 119u, 120u}) {
        Sha256 s;
        s.update(p, len);
        const std::string once = Sha256::hex(s.finish());
        s.reset();  // reuse after finish()
        for (std::size_t i = 0; i < len; ++i) s.update(p + i, 1);
        EXPECT_EQ(Sha256::hex(s.finish()), once) << len;
    }
}

// --- RatePacer --------------------------------------------------------------------
// Virtual time: Instants built from microseconds, no clock.

using tcp::Duration;
using tcp::Instant;

constexpr Instant kT0 = Instant::from_micros(1'000'000'000);  // an arbitrary, non-zero start
Instant at_us(std::uint64_t us) { return kT0 + Duration::micros(static_cast<std::int64_t>(us)); }

// A worker that starts everything available at each poll; `next_gap` gives
// the microseconds to the next poll. Returns the pacer after `run_us`.
template <class Gap>
RatePacer run_poller(double rate, std::uint64_t burst, std::uint64_t run_us, Gap&& next_gap) {
    RatePacer p;
    p.start(kT0, rate, Duration{}, burst);
    for (std::uint64_t t = 0; t <= run_us; t += next_gap()) {
        const std::uint64_t n = p.available(at_us(t));
        p.take(n, at_us(t));
    }
    return p;
}

TEST(RatePacer, RateWithinOnePercentOverTwoSecondsForAnyPollInterval) {
    constexpr std::uint64_t kRun = 2'000'000;  // 2 s
    for (double rate : {1'000.0, 50'000.0, 500'000.0}) {
        const double want = rate * 2;
        for (std::uint64_t gap : {1u, 7u, 33u, 100u}) {
            // 500k/s polled every 100 us is 50 per poll: the burst leaves room.
            const RatePacer p = run_poller(rate, 128, kRun, [&] { return gap; });
            EXPECT_LE(std::abs(static_cast<double>(p.taken()) - want), 0.01 * want)
                << "rate " << rate << " poll every " << gap << " us: " << p.taken();
            EXPECT_EQ(p.missed(), 0u) << rate << " " << gap;
            EXPECT_EQ(p.taken(), p.due(at_us(kRun / gap * gap))) << "no start lost or invented";
        }
        std::mt19937_64 rng(42);  // fixed seed
        std::uniform_int_distribution<std::uint64_t> gap(1, 100);
        const RatePacer p = run_poller(rate, 128, kRun, [&] { return gap(rng); });
        EXPECT_LE(std::abs(static_cast<double>(p.taken()) - want), 0.01 * want)
            << "rate " << rate << " random poll: " << p.taken();
        EXPECT_EQ(p.missed(), 0u);
    }
}

TEST(RatePacer, ConstantRateIsExactAtWholeTicks) {
    RatePacer p;
    p.start(kT0, 50'000, Duration{}, 10);
    EXPECT_EQ(p.due(kT0), 0u);
    EXPECT_EQ(p.due(at_us(19)), 0u);
    EXPECT_EQ(p.due(at_us(20)), 1u);  // one every 20 us
    EXPECT_EQ(p.due(at_us(1'000'000)), 50'000u);
    EXPECT_EQ(p.due(kT0 - Duration::micros(5)), 0u) << "before the start nothing is due";
    EXPECT_DOUBLE_EQ(p.target_at(at_us(3)), 50'000.0);
}

TEST(RatePacer, RampIsTheIntegralOfALinearRise) {
    constexpr double kRate = 50'000;
    constexpr std::uint64_t kRamp = 1'000'000;  // 1 s
    RatePacer p;
    p.start(kT0, kRate, Duration::micros(kRamp), 64);
    for (std::uint64_t t = 0; t <= 3'000'000; t += 997) {
        const double s = static_cast<double>(t) / 1e6;
        const double ramp_s = static_cast<double>(kRamp) / 1e6;
        const double want = t < kRamp ? kRate * s * s / (2 * ramp_s) : kRate * (s - ramp_s / 2);
        ASSERT_LE(std::abs(static_cast<double>(p.due(at_us(t))) - want), 1.0) << "t=" << t << " us";
        const double rate_want = t < kRamp ? kRate * s / ramp_s : kRate;
        ASSERT_NEAR(p.target_at(at_us(t)), rate_want, 1e-6) << "t=" << t << " us";
    }
    EXPECT_EQ(p.due(at_us(kRamp)), 25'000u) << "the triangle: rate * ramp / 2";
    EXPECT_EQ(p.due(at_us(2 * kRamp)), 75'000u);
    EXPECT_DOUBLE_EQ(p.target_at(at_us(kRamp / 4)), kRate / 4);
}

TEST(RatePacer, StalledPollerDropsTheExcessInsteadOfBursting) {
    constexpr std::uint64_t kBurst = 32;
    RatePacer p;
    p.start(kT0, 50'000, Duration{}, kBurst);
    std::uint64_t t = 0;
    for (; t < 100'000; t += 10) p.take(p.available(at_us(t)), at_us(t));
    EXPECT_EQ(p.missed(), 0u);
    const std::uint64_t before = p.taken();
    t += 50'000;  // descheduled for 50 ms: 2500 starts came due meanwhile
    const std::uint64_t late = p.available(at_us(t));
    EXPECT_EQ(late, kBurst) << "a late worker gets at most a burst";
    EXPECT_EQ(p.missed(), p.due(at_us(t)) - before - kBurst);
    EXPECT_GE(p.missed(), 2500u - kBurst - 1);
    EXPECT_EQ(p.available(at_us(t)), kBurst) << "asking again changes nothing";
    p.take(late, at_us(t));
    EXPECT_EQ(p.available(at_us(t)), 0u);
    for (t += 10; t <= 300'000; t += 10) p.take(p.available(at_us(t)), at_us(t));
    EXPECT_EQ(p.taken() + p.missed(), p.due(at_us(300'000))) << "every due start is taken or missed";
    const RatePacer::Spread s = p.spread(at_us(300'000));
    EXPECT_EQ(s.ms, 300u);
    // The millisecond after the stall holds its own 50 plus one burst, not the 2500 missed.
    EXPECT_LE(s.max, 50 + kBurst + 1);
    EXPECT_GE(s.max, 50 + kBurst - 1);
}

TEST(RatePacer, TakingLessLeavesCreditsUpToTheBurst) {
    RatePacer p;
    p.start(kT0, 1'000, Duration{}, 5);  // one per ms
    EXPECT_EQ(p.available(at_us(3'000)), 3u);
    p.take(1, at_us(3'000));  // no free connection for the other two
    EXPECT_EQ(p.available(at_us(3'000)), 2u);
    EXPECT_EQ(p.available(at_us(6'000)), 5u);
    EXPECT_EQ(p.missed(), 0u);
    EXPECT_EQ(p.available(at_us(8'000)), 5u);
    EXPECT_EQ(p.missed(), 2u);
}

TEST(RatePacer, EvenlyPacedRunHasAFlatSpread) {
    constexpr double kRate = 50'000;
    const RatePacer p = run_poller(kRate, 64, 2'000'000, [] { return std::uint64_t{3}; });
    const RatePacer::Spread s = p.spread(at_us(2'000'000));
    EXPECT_EQ(s.ms, 2000u);
    EXPECT_NEAR(s.mean, 50.0, 0.1);
    EXPECT_LE(s.max, 51u);  // ceil(50) + 1
    EXPECT_LT(s.stddev, 1.0);
}

TEST(RatePacer, SpreadCountsIdleMillisecondsAsZero) {
    RatePacer p;
    p.start(kT0, 0, Duration{}, 1);
    EXPECT_EQ(p.spread(at_us(999)).ms, 0u);
    p.take(10, at_us(500));  // ms 0
    const RatePacer::Spread open = p.spread(at_us(900));
    EXPECT_EQ(open.ms, 0u) << "no whole millisecond yet";
    const RatePacer::Spread s = p.spread(at_us(10'000));  // ms 0..9: 10, then nine zeros
    EXPECT_EQ(s.ms, 10u);
    EXPECT_DOUBLE_EQ(s.mean, 1.0);
    EXPECT_DOUBLE_EQ(s.stddev, 3.0);  // sqrt(100 / 10 - 1)
    EXPECT_EQ(s.max, 10u);
    p.take(4, at_us(5'100));  // ms 5, closes ms 0
    p.take(2, at_us(5'900));
    const RatePacer::Spread t = p.spread(at_us(10'000));
    EXPECT_DOUBLE_EQ(t.mean, 1.6);
    EXPECT_EQ(t.max, 10u);
}

TEST(RatePacer, UnlimitedNeverLimitsNorMisses) {
    RatePacer p;
    p.start(kT0, 0, Duration::seconds(1), 8);
    for (std::uint64_t t = 0; t < 1'000; t += 100) {
        EXPECT_EQ(p.available(at_us(t)), RatePacer::kUnlimited);
        EXPECT_EQ(p.available(at_us(t)), UINT64_MAX / 2);
        p.take(1'000, at_us(t));
    }
    EXPECT_EQ(p.taken(), 10'000u);
    EXPECT_EQ(p.missed(), 0u);
    EXPECT_EQ(p.target_at(at_us(5)), 0.0);
}

}  // namespace
}  // namespace tcpfp::app
