// The load tester's self-contained parts (dpdk_app/apps/): the latency
// histogram, the HTTP/1.1 response parser, SHA-256 and the rate pacer, each
// on its own with hand-made inputs; no engine.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdint>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "dpdk_app/apps/hdr_histogram.hpp"
#include "dpdk_app/apps/http_response.hpp"
#include "dpdk_app/apps/pacer.hpp"
#include "dpdk_app/apps/sha256.hpp"
#include "fixtures/global_new.hpp"

namespace {
// Heap allocations made inside Watch scopes below, counted by this
// executable's global operator new (fixtures/global_new.cpp).
bool g_watching = false;
std::size_t g_heap_allocations = 0;
}  // namespace

void tcpfp::test::note_global_new() {
    if (g_watching) ++g_heap_allocations;
}

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
    EXPECT_EQ(h.percentile(-1.0), 1u) << "below 0 is the minimum";
    EXPECT_EQ(h.percentile(std::nan("")), 1u);
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
    Sha256 empty;
    empty.update(nullptr, 0);
    EXPECT_EQ(Sha256::hex(empty.finish()), sha256_hex(""));
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

// --- HttpResponseParser -----------------------------------------------------------
// Fixtures: responses hand-written for these tests after RFC 9112's grammar
// (§4 status line, §5 fields, §6.3 framing, §7.1 chunked) and RFC 9110's
// status codes; none is captured from a server.

const auto* bytes(std::string_view s) { return reinterpret_cast<const std::uint8_t*>(s.data()); }

struct Parsed {
    std::size_t used = 0;
    std::string body;  // what the body sink received
    bool done = false;
    HttpParseError error = HttpParseError::none;
    unsigned status = 0;
    bool keep_alive = false, chunked = false;
    std::uint64_t body_bytes = 0, header_bytes = 0;
    bool operator==(const Parsed&) const = default;
};

Parsed snapshot(const HttpResponseParser& p, std::size_t used, std::string body) {
    return {used, std::move(body), p.done(), p.error(), p.status(), p.keep_alive(), p.chunked(),
            p.body_bytes(), p.header_bytes()};
}

// Feeds `wire` in pieces ending at `cuts` (then the rest), as a client would:
// a piece's unused tail (after the response ended) is not fed again.
Parsed parse_cut(std::string_view wire, const std::vector<std::size_t>& cuts, bool head = false, bool eof = false) {
    HttpResponseParser p;
    p.reset(head);
    std::string body;
    auto sink = [&](const std::uint8_t* b, std::size_t n) { body.append(reinterpret_cast<const char*>(b), n); };
    std::size_t at = 0, used = 0;
    std::vector<std::size_t> ends = cuts;
    ends.push_back(wire.size());
    for (std::size_t end : ends) {
        if (p.done() || p.failed()) break;
        const std::size_t n = p.feed(bytes(wire) + at, end - at, sink);
        used += n;
        if (n < end - at) break;  // the response ended inside this piece
        at = end;
    }
    if (eof) p.on_eof();
    return snapshot(p, used, body);
}
Parsed parse(std::string_view wire, bool head = false, bool eof = false) { return parse_cut(wire, {}, head, eof); }

// The same result for every two-piece split and for one byte at a time.
void expect_split_invariant(std::string_view wire, const Parsed& whole) {
    for (std::size_t cut = 0; cut <= wire.size(); ++cut) {
        ASSERT_EQ(parse_cut(wire, {cut}), whole) << "split at " << cut;
    }
    std::vector<std::size_t> every;
    for (std::size_t i = 1; i < wire.size(); ++i) every.push_back(i);
    EXPECT_EQ(parse_cut(wire, every), whole) << "one byte at a time";
}

constexpr std::string_view kLengthResponse =
    "HTTP/1.1 200 OK\r\n"
    "Server: tcpfp-test\r\n"
    "content-LENGTH: 13\r\n"
    "X-Folded: a\r\n"
    " b\r\n"
    "Connection: keep-alive\r\n"
    "\r\n"
    "Hello, world!";

TEST(HttpResponseParser, ContentLengthAtEverySplit) {
    const Parsed whole = parse(kLengthResponse);
    EXPECT_TRUE(whole.done);
    EXPECT_EQ(whole.error, HttpParseError::none);
    EXPECT_EQ(whole.status, 200u);
    EXPECT_EQ(whole.body, "Hello, world!");
    EXPECT_EQ(whole.used, kLengthResponse.size());
    EXPECT_EQ(whole.body_bytes, 13u);
    EXPECT_EQ(whole.header_bytes, kLengthResponse.size() - 13);
    EXPECT_TRUE(whole.keep_alive);
    EXPECT_FALSE(whole.chunked);
    expect_split_invariant(kLengthResponse, whole);
}

constexpr std::string_view kChunkedResponse =
    "HTTP/1.1 200 OK\r\n"
    "Transfer-Encoding: chunked\r\n"
    "\r\n"
    "5;name=value\r\n"
    "Hello\r\n"
    "8 ; ext=\"q\"\r\n"
    ", chunky\r\n"
    "1A\r\n"
    "abcdefghijklmnopqrstuvwxyz\r\n"
    "0;last\r\n"
    "Expires: never\r\n"
    "X-Trailer: 1\r\n"
    "\r\n";

TEST(HttpResponseParser, ChunkedWithExtensionsAndTrailersAtEverySplit) {
    const Parsed whole = parse(kChunkedResponse);
    EXPECT_TRUE(whole.done);
    EXPECT_EQ(whole.error, HttpParseError::none);
    EXPECT_EQ(whole.body, "Hello, chunkyabcdefghijklmnopqrstuvwxyz");
    EXPECT_EQ(whole.body_bytes, whole.body.size());
    EXPECT_EQ(whole.used, kChunkedResponse.size()) << "up to the blank line after the trailers";
    EXPECT_EQ(whole.header_bytes, 47u);  // status line + one field + blank line
    EXPECT_TRUE(whole.chunked);
    EXPECT_TRUE(whole.keep_alive);
    expect_split_invariant(kChunkedResponse, whole);
}

TEST(HttpResponseParser, BareLfLineEndingsAreAccepted) {
    const Parsed p = parse("HTTP/1.1 200 OK\nTransfer-Encoding: chunked\n\n3\nabc\n0\n\n");
    EXPECT_TRUE(p.done);
    EXPECT_EQ(p.body, "abc");
    const Parsed q = parse("HTTP/1.0 404 Not Found\nContent-Length: 2\n\nno");
    EXPECT_TRUE(q.done);
    EXPECT_EQ(q.status, 404u);
    EXPECT_EQ(q.body, "no");
    EXPECT_FALSE(q.keep_alive) << "HTTP/1.0 without keep-alive";
}

TEST(HttpResponseParser, PipelinedResponsesStopAtEachBoundary) {
    const std::string wire = std::string(kLengthResponse) + std::string(kChunkedResponse) +
                             "HTTP/1.1 204 No Content\r\n\r\n" + "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
    const std::vector<std::size_t> sizes{kLengthResponse.size(), kChunkedResponse.size(), 27, 38};
    const std::vector<std::string> bodies{"Hello, world!", "Hello, chunkyabcdefghijklmnopqrstuvwxyz", "", ""};
    const std::vector<unsigned> statuses{200, 200, 204, 200};
    HttpResponseParser p;
    std::size_t at = 0;
    for (std::size_t i = 0; i < sizes.size(); ++i) {
        p.reset();
        std::string body;
        const std::size_t used = p.feed(bytes(wire) + at, wire.size() - at, [&](const std::uint8_t* b, std::size_t n) {
            body.append(reinterpret_cast<const char*>(b), n);
        });
        EXPECT_TRUE(p.done()) << i;
        EXPECT_EQ(used, sizes[i]) << i;
        EXPECT_EQ(body, bodies[i]) << i;
        EXPECT_EQ(p.status(), statuses[i]) << i;
        EXPECT_EQ(p.feed(bytes(wire) + at + used, wire.size() - at - used), 0u) << "done: takes nothing more";
        at += used;
    }
    EXPECT_EQ(at, wire.size());
    // The same stream cut in the middle of the second response.
    const Parsed first = parse_cut(wire, {kLengthResponse.size() + 20});
    EXPECT_EQ(first.used, kLengthResponse.size());
}

TEST(HttpResponseParser, InterimContinueThenFinalResponse) {
    constexpr std::string_view kWire =
        "HTTP/1.1 100 Continue\r\n\r\n"
        "HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n"
        "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
    const Parsed p = parse(kWire);
    EXPECT_TRUE(p.done);
    EXPECT_EQ(p.status, 200u);
    EXPECT_EQ(p.body, "ok");
    EXPECT_EQ(p.used, kWire.size());
    EXPECT_EQ(p.header_bytes, kWire.size() - 2) << "interim responses count as header bytes";
    expect_split_invariant(kWire, p);
    HttpResponseParser q;
    q.feed(bytes(kWire), 25);  // exactly the 100 Continue
    EXPECT_FALSE(q.done());
    EXPECT_EQ(q.status(), 0u) << "no final status yet";
    EXPECT_TRUE(q.first_byte_seen());
}

TEST(HttpResponseParser, HeadAnd204And304HaveNoBody) {
    constexpr std::string_view kHead = "HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n";
    const std::string next = std::string(kHead) + "HTTP/1.1 200 OK\r\n";
    const Parsed head = parse(next, /*head=*/true);
    EXPECT_TRUE(head.done);
    EXPECT_EQ(head.used, kHead.size()) << "the next response is left alone";
    EXPECT_EQ(head.body_bytes, 0u);
    const Parsed not_head = parse(next);
    EXPECT_FALSE(not_head.done) << "the same bytes after a GET: 1234 body bytes expected";
    const Parsed no_content = parse("HTTP/1.1 204 No Content\r\nContent-Length: 7\r\n\r\nHTTP");
    EXPECT_TRUE(no_content.done);
    EXPECT_EQ(no_content.used, 46u);
    EXPECT_EQ(no_content.status, 204u);
    const Parsed not_modified = parse("HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: chunked\r\n\r\n");
    EXPECT_TRUE(not_modified.done);
    EXPECT_FALSE(not_modified.chunked);
}

TEST(HttpResponseParser, CloseDelimitedBodyEndsAtEof) {
    constexpr std::string_view kWire = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil the end";
    const Parsed open = parse(kWire);
    EXPECT_FALSE(open.done);
    EXPECT_EQ(open.body, "until the end");
    EXPECT_EQ(open.used, kWire.size());
    const Parsed closed = parse(kWire, false, /*eof=*/true);
    EXPECT_TRUE(closed.done);
    EXPECT_EQ(closed.error, HttpParseError::none);
    EXPECT_FALSE(closed.keep_alive);
    EXPECT_EQ(closed.body_bytes, 13u);
    // A final coding other than chunked also runs to the close (RFC 9112 §6.3 rule 3).
    const Parsed gzip = parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\nContent-Length: 3\r\n\r\nxyzw", false, true);
    EXPECT_TRUE(gzip.done);
    EXPECT_EQ(gzip.body, "xyzw");
    EXPECT_FALSE(gzip.chunked);
}

TEST(HttpResponseParser, TransferEncodingChunkedOverridesContentLength) {
    const Parsed p = parse("HTTP/1.1 200 OK\r\nContent-Length: 100\r\nTransfer-Encoding: gzip,\r\n"
                           "transfer-encoding:  CHUNKED \r\n\r\n2\r\nhi\r\n0\r\n\r\n");
    EXPECT_TRUE(p.done);
    EXPECT_TRUE(p.chunked);
    EXPECT_EQ(p.body, "hi");
    // With chunked framing an invalid Content-Length is ignored (rule 5 does not apply).
    const Parsed q = parse("HTTP/1.1 200 OK\r\nContent-Length: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n");
    EXPECT_TRUE(q.done);
}

TEST(HttpResponseParser, ConnectionTokensDecideKeepAlive) {
    EXPECT_FALSE(parse("HTTP/1.1 200 OK\r\nconnection: Upgrade, CLOSE\r\nContent-Length: 0\r\n\r\n").keep_alive);
    EXPECT_TRUE(parse("HTTP/1.1 200 OK\r\nConnection: closed\r\nContent-Length: 0\r\n\r\n").keep_alive)
        << "a token is matched whole";
    EXPECT_TRUE(parse("HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 0\r\n\r\n").keep_alive);
    EXPECT_FALSE(parse("HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n").keep_alive);
    EXPECT_TRUE(parse("HTTP/1.1 200 OK\r\nContent-Length: 5, 5\r\n\r\nabcde").done) << "identical list values";
}

TEST(HttpResponseParser, EachErrorFromAMalformedResponse) {
    const std::string long_field = "HTTP/1.1 200 OK\r\nX-Long: " + std::string(HttpResponseParser::kMaxLine, 'a') + "\r\n";
    const std::string huge_chunk = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + std::string(17, 'f') + "\r\n";
    const struct {
        std::string wire;
        HttpParseError want;
    } cases[] = {
        {"HTTX/1.1 200 OK\r\n", HttpParseError::bad_status_line},
        {"HTTP/1.1 2x0 OK\r\n", HttpParseError::bad_status_line},
        {"HTTP/2 200 OK\r\n", HttpParseError::bad_status_line},
        {"HTTP/1.1 099 Low\r\n\r\n", HttpParseError::bad_status_line},
        {"HTTP/1.1 200\r\r\n", HttpParseError::bad_status_line},
        {long_field, HttpParseError::line_too_long},
        {"HTTP/1.1 200 OK\r\nContent-Length: 12a\r\n\r\n", HttpParseError::bad_content_length},
        {"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n", HttpParseError::bad_content_length},
        {"HTTP/1.1 200 OK\r\nContent-Length: 5, 6\r\n\r\n", HttpParseError::bad_content_length},
        {"HTTP/1.1 200 OK\r\nContent-Length:\r\n\r\n", HttpParseError::bad_content_length},
        {"HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999999\r\n\r\n", HttpParseError::bad_content_length},
        {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", HttpParseError::bad_chunk},
        {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n;x\r\n", HttpParseError::bad_chunk},
        {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nHelloX\r\n", HttpParseError::bad_chunk},
        {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nHello\rX", HttpParseError::bad_chunk},
        {huge_chunk, HttpParseError::bad_chunk},
        {"HTTP/1.1 200 OK\r\nBad Name: x\r\n", HttpParseError::bad_header},
        {"HTTP/1.1 200 OK\r\nContent-Length : 5\r\n", HttpParseError::bad_header},
        {"HTTP/1.1 200 OK\r\nno colon here\r\n", HttpParseError::bad_header},
        {"HTTP/1.1 200 OK\r\n: empty name\r\n", HttpParseError::bad_header},
        {"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n 6\r\n", HttpParseError::bad_header},
    };
    for (const auto& c : cases) {
        const Parsed p = parse(c.wire);
        EXPECT_EQ(p.error, c.want) << c.wire << " gave " << name(p.error);
        EXPECT_FALSE(p.done) << c.wire;
    }
    const Parsed short_body = parse("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", false, /*eof=*/true);
    EXPECT_EQ(short_body.error, HttpParseError::eof_in_response);
    EXPECT_EQ(short_body.body, "abc");
    const Parsed mid_header = parse("HTTP/1.1 200 OK\r\nConte", false, true);
    EXPECT_EQ(mid_header.error, HttpParseError::eof_in_response);
    HttpResponseParser nothing;
    nothing.on_eof();
    EXPECT_EQ(nothing.error(), HttpParseError::eof_in_response);
    EXPECT_FALSE(nothing.first_byte_seen()) << "closed before any byte";
    EXPECT_STREQ(name(HttpParseError::bad_chunk), "bad_chunk");
}

TEST(HttpResponseParser, FailedParserConsumesNothingMoreAndResetStartsOver) {
    HttpResponseParser p;
    constexpr std::string_view kBad = "HTTP/1.1 2x0 OK\r\n";
    EXPECT_EQ(p.feed(bytes(kBad), kBad.size()), 11u) << "up to and including the bad byte";
    EXPECT_TRUE(p.failed());
    EXPECT_EQ(p.feed(bytes(kBad), kBad.size()), 0u);
    p.reset();
    EXPECT_FALSE(p.failed());
    EXPECT_FALSE(p.first_byte_seen());
    EXPECT_EQ(p.feed(bytes(kLengthResponse), kLengthResponse.size()), kLengthResponse.size());
    EXPECT_TRUE(p.done());
}

TEST(HttpResponseParser, BodySinkGetsExactlyTheDecodedBody) {
    // A large chunked body: chunk payloads must reach the sink verbatim,
    // the framing never.
    std::string wire = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
    std::string want;
    for (int i = 1; i <= 40; ++i) {
        std::string chunk;
        for (int j = 0; j < i * 37; ++j) chunk.push_back(static_cast<char>('0' + (i * 7 + j) % 75));
        char size[16];
        std::snprintf(size, sizeof size, "%x\r\n", static_cast<unsigned>(chunk.size()));
        wire += size + chunk + "\r\n";
        want += chunk;
    }
    wire += "0\r\n\r\n";
    const Parsed p = parse_cut(wire, {100, 101, 3000, 3001, 3002, 20000});
    EXPECT_TRUE(p.done);
    EXPECT_EQ(p.body, want);
    EXPECT_EQ(p.body_bytes, want.size());
    HttpResponseParser q;  // without a sink (and with a null function pointer) only the count moves
    EXPECT_EQ(q.feed(bytes(wire), wire.size()), wire.size());
    EXPECT_EQ(q.body_bytes(), want.size());
    q.reset();
    void (*none)(const std::uint8_t*, std::size_t) = nullptr;
    EXPECT_EQ(q.feed(bytes(wire), wire.size(), none), wire.size());
    EXPECT_TRUE(q.done());
}

// --- No allocation in the per-packet paths ----------------------------------------

TEST(LoadgenParts, PerPacketCallsAllocateNothing) {
    HttpResponseParser parser;
    HdrHistogram hist;
    RatePacer pacer;
    Sha256 sha;
    std::uint64_t sunk = 0;
    g_heap_allocations = 0;
    g_watching = true;
    pacer.start(kT0, 50'000, Duration::millis(10), 16);
    for (std::uint64_t t = 0; t < 20'000; t += 5) {
        const std::uint64_t n = pacer.available(at_us(t));
        pacer.take(n, at_us(t));
        hist.record(t * 37 % 100'000);
    }
    (void)pacer.spread(at_us(20'000));
    for (int round = 0; round < 3; ++round) {
        parser.reset();
        for (std::size_t i = 0; i < kChunkedResponse.size(); ++i) {
            parser.feed(bytes(kChunkedResponse) + i, 1, [&](const std::uint8_t* b, std::size_t n) {
                sha.update(b, n);
                sunk += n;
            });
        }
    }
    const auto digest = sha.finish();
    (void)hist.percentile(0.99);
    g_watching = false;
    EXPECT_EQ(g_heap_allocations, 0u);
    EXPECT_TRUE(parser.done());
    EXPECT_EQ(sunk, 3 * 39u);
    EXPECT_EQ(hist.count(), 4000u);
    EXPECT_NE(digest[0] | digest[31], 0);  // used, so the work is not optimised away
}

}  // namespace
}  // namespace tcpfp::app
