#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <numeric>
#include <random>
#include <vector>

#include "tcp/crypto/random.hpp"

namespace tcpfp::tcp {
namespace {

static_assert(std::uniform_random_bit_generator<Random>);

// xoshiro256** from the state {1, 2, 3, 4}: the first ten outputs of the
// authors' reference xoshiro256starstar.c, as published in the test of the
// Rust crate rand_xoshiro (Xoshiro256StarStar, "reference").
TEST(Random, Xoshiro256StarStarReferenceOutputs) {
    Random r = Random::from_state({1, 2, 3, 4});
    const std::uint64_t expected[] = {
        11520u,
        0u,
        1509978240u,
        1215971899390074240u,
        1216172134540287360u,
        607988272756665600u,
        16172922978634559625u,
        8476171486693032832u,
        10595114339597558777u,
        2904607092377533576u,
    };
    for (const std::uint64_t e : expected) EXPECT_EQ(r.next_u64(), e);
}

// splitmix64 from state 0: the widely published first outputs of the
// reference splitmix64.c (Vigna, prng.di.unimi.it).
TEST(Random, SplitMix64ReferenceOutputs) {
    std::uint64_t state = 0;
    EXPECT_EQ(splitmix64(state), 0xe220a8397b1dcdafull);
    EXPECT_EQ(splitmix64(state), 0x6e789e6aa1b965f4ull);
    EXPECT_EQ(splitmix64(state), 0x06c45d188009454full);
    EXPECT_EQ(splitmix64(state), 0xf88bb8a8724c81ecull);
}

TEST(Random, SameSeedSameSequence) {
    Random a(42);
    Random b(42);
    Random c(43);
    int equal_to_other_seed = 0;
    for (int i = 0; i < 1000; ++i) {
        const std::uint64_t x = a.next_u64();
        ASSERT_EQ(x, b.next_u64());
        if (x == c.next_u64()) ++equal_to_other_seed;
    }
    EXPECT_EQ(equal_to_other_seed, 0);
}

// Seed 0 is a valid seed (splitmix64 fills the state), not a stuck generator.
TEST(Random, SeedZeroWorks) {
    Random r(0);
    std::uint64_t ored = 0;
    for (int i = 0; i < 4; ++i) ored |= r.next_u64();
    EXPECT_NE(ored, 0u);
}

TEST(Random, NextU32IsTheHighHalf) {
    Random a(7);
    Random b(7);
    for (int i = 0; i < 100; ++i) EXPECT_EQ(a.next_u32(), b.next_u64() >> 32);
}

TEST(Random, UniformOfOneIsZero) {
    Random r(1);
    for (int i = 0; i < 1000; ++i) ASSERT_EQ(r.uniform(1), 0u);
}

TEST(Random, UniformOfZeroIsZero) {
    Random r(1);
    EXPECT_EQ(r.uniform(0), 0u);
}

TEST(Random, UniformStaysBelowBound) {
    Random r(6528);
    for (const std::uint32_t bound : {2u, 3u, 5u, 10u, 1000u, 65535u, 0x80000000u, 0x80000001u,
                                      0xfffffffeu, 0xffffffffu}) {
        for (int i = 0; i < 10000; ++i) ASSERT_LT(r.uniform(bound), bound) << "bound " << bound;
    }
}

// Pearson's chi-square over the buckets against the 0.1% critical value
// for bound-1 degrees of freedom. The seeds are fixed, so this either always
// passes or always fails.
double chi_square(Random& r, std::uint32_t bound, int draws) {
    std::vector<int> counts(bound, 0);
    for (int i = 0; i < draws; ++i) ++counts[r.uniform(bound)];
    const double expected = static_cast<double>(draws) / bound;
    double chi2 = 0;
    for (const int c : counts) chi2 += (c - expected) * (c - expected) / expected;
    return chi2;
}

TEST(Random, UniformPassesChiSquare) {
    Random r(20190101);
    EXPECT_LT(chi_square(r, 10, 100000), 27.88);   // 9 degrees of freedom
    EXPECT_LT(chi_square(r, 37, 370000), 67.99);   // 36
    EXPECT_LT(chi_square(r, 256, 256000), 330.5);  // 255
}

// The case plain `x % bound` gets badly wrong: for bound = 3 * 2^30 the
// values below 2^30 would come up half the time instead of a third.
TEST(Random, UniformHasNoModuloBias) {
    Random r(3);
    const std::uint32_t bound = 3u << 30;
    const int draws = 300000;
    int low = 0;
    for (int i = 0; i < draws; ++i) {
        if (r.uniform(bound) < (1u << 30)) ++low;
    }
    EXPECT_NEAR(static_cast<double>(low) / draws, 1.0 / 3.0, 0.01);  // sigma is 0.0009
}

TEST(Random, NextDoubleInUnitInterval) {
    Random r(11);
    double sum = 0;
    const int draws = 100000;
    for (int i = 0; i < draws; ++i) {
        const double d = r.next_double();
        ASSERT_GE(d, 0.0);
        ASSERT_LT(d, 1.0);
        sum += d;
    }
    EXPECT_NEAR(sum / draws, 0.5, 0.01);  // sigma is 0.0009
}

// As a UniformRandomBitGenerator it drives the standard algorithms.
TEST(Random, WorksWithStandardAlgorithms) {
    std::vector<int> v(100);
    std::iota(v.begin(), v.end(), 0);
    auto w = v;
    Random a(5);
    Random b(5);
    std::shuffle(v.begin(), v.end(), a);
    std::shuffle(w.begin(), w.end(), b);
    EXPECT_EQ(v, w);
    EXPECT_TRUE(std::is_permutation(v.begin(), v.end(), w.begin()));
}

constexpr std::uint64_t first_output(std::uint64_t seed) {
    Random r(seed);
    return r.next_u64();
}
static_assert(first_output(1) != first_output(2), "usable in constant expressions");

}  // namespace
}  // namespace tcpfp::tcp
