#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <random>
#include <vector>

#include "tcp/wire/bytes.hpp"
#include "tcp/wire/checksum.hpp"

namespace tcpfp::wire {
namespace {

// Straightforward RFC 1071 reference: 16-bit big-endian words, 32-bit sum.
std::uint16_t reference_sum(const std::vector<std::uint8_t>& d) {
    std::uint32_t sum = 0;
    for (std::size_t i = 0; i + 1 < d.size(); i += 2) sum += (d[i] << 8) | d[i + 1];
    if (d.size() % 2) sum += d.back() << 8;
    while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
    return static_cast<std::uint16_t>(sum);
}

// RFC 1071 §3 numerical example: bytes 00 01 f2 03 f4 f5 f6 f7 sum to ddf2.
TEST(Checksum, Rfc1071Example) {
    const std::vector<std::uint8_t> d = {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};
    EXPECT_EQ(checksum::fold(checksum::accumulate(d)), 0xddf2);
    EXPECT_EQ(checksum::finish(checksum::accumulate(d)), 0x220d);
}

TEST(Checksum, EmptyIsZeroSum) {
    EXPECT_EQ(checksum::fold(checksum::accumulate({})), 0x0000);
    EXPECT_EQ(checksum::finish(0), 0xffff);
}

// Every length 0..300 (odd lengths, each tail of the 32/8/4/2/1 ladder) and
// random contents: the fast path agrees with the bytewise reference.
TEST(Checksum, MatchesReferenceForEveryLength) {
    std::mt19937 rng(1071);
    for (std::size_t len = 0; len <= 300; ++len) {
        std::vector<std::uint8_t> d(len);
        for (auto& b : d) b = static_cast<std::uint8_t>(rng());
        ASSERT_EQ(checksum::fold(checksum::accumulate(d)), reference_sum(d)) << "len " << len;
    }
}

// The AVX2 loop (64-byte blocks, then the portable tail) and the portable
// loop agree with the reference for every length up to three blocks and a
// tail, at every alignment of the first byte, and on a jumbo frame of 0xff
// (the largest lane sums). On a CPU without AVX2 both calls take the
// portable loop, and the test says so.
TEST(Checksum, Ipv4HeaderSumMatchesTheGenericSumAtEveryAlignment) {
    // accumulate_ipv4_header() replaces accumulate() for 20-byte headers on
    // every frame: the folded sums must agree for any bytes, including the
    // carries out of both 64-bit adds (all-ones words).
    std::mt19937 rng(20261204);
    std::vector<std::uint8_t> buf(20 + 8);
    for (int round = 0; round < 20000; ++round) {
        for (auto& b : buf) b = round < 8 ? 0xff : static_cast<std::uint8_t>(rng());
        for (std::size_t align = 0; align < 8; ++align) {
            const std::uint8_t* p = buf.data() + align;
            ASSERT_EQ(checksum::fold(checksum::accumulate_ipv4_header(p)),
                      checksum::fold(checksum::accumulate({p, 20})))
                << "round " << round << " align " << align;
        }
    }
}

TEST(Checksum, WideAndPortableLoopsAgreeAtEveryLengthAndAlignment) {
    if (!checksum::wide_available()) std::printf("note: no AVX2 here; only the portable loop is exercised\n");
    std::mt19937 rng(1624);
    std::vector<std::uint8_t> buf(300 + 64);
    for (std::size_t align = 0; align < 32; ++align) {
        for (std::size_t len = 0; len <= 300; ++len) {
            for (auto& b : buf) b = static_cast<std::uint8_t>(rng());
            const std::span<const std::uint8_t> d(buf.data() + align, len);
            const std::vector<std::uint8_t> copy(d.begin(), d.end());
            const std::uint16_t want = reference_sum(copy);
            ASSERT_EQ(checksum::fold(checksum::accumulate_from(d, 0, true)), want) << "len " << len << " align " << align;
            ASSERT_EQ(checksum::fold(checksum::accumulate_portable(d)), want) << "len " << len << " align " << align;
        }
    }
    const std::vector<std::uint8_t> jumbo(9000, 0xff);
    EXPECT_EQ(checksum::fold(checksum::accumulate_from(jumbo, 0, true)), reference_sum(jumbo));
    EXPECT_EQ(checksum::accumulate_from(jumbo, 0x1234, true), checksum::accumulate_portable(jumbo, 0x1234))
        << "the same running sum, not only the same fold";
}

// The transmit path copies each payload into the frame and sums it in the
// same pass: the copy must be exact and the sum the one accumulate() gives,
// for both loops, at every length and at source and destination alignments.
TEST(Checksum, CopyAccumulateCopiesExactlyAndSumsAsAccumulateDoes) {
    std::mt19937 rng(1071);
    std::vector<std::uint8_t> src(300 + 64);
    std::vector<std::uint8_t> dst(300 + 64 + 2);
    for (std::size_t align = 0; align < 16; ++align) {
        for (std::size_t len = 0; len <= 300; ++len) {
            for (auto& b : src) b = static_cast<std::uint8_t>(rng());
            std::fill(dst.begin(), dst.end(), 0xee);
            const std::span<const std::uint8_t> from(src.data() + align, len);
            std::uint8_t* to = dst.data() + 1 + (align * 5) % 63;  // another alignment than the source
            const std::uint64_t start = rng();
            for (const bool wide : {true, false}) {
                ASSERT_EQ(checksum::fold(checksum::copy_accumulate_from(to, from, start, wide)),
                          checksum::fold(checksum::accumulate(from, start)))
                    << "len " << len << " align " << align << " wide " << wide;
                ASSERT_TRUE(std::equal(from.begin(), from.end(), to)) << "len " << len << " align " << align;
                ASSERT_EQ(to[-1], 0xee) << "wrote before the destination";
                ASSERT_EQ(to[len], 0xee) << "wrote past the destination";
            }
        }
    }
    const std::vector<std::uint8_t> jumbo(9000, 0xff);
    std::vector<std::uint8_t> out(9000);
    EXPECT_EQ(checksum::fold(checksum::copy_accumulate(out.data(), jumbo)), reference_sum(jumbo));
    EXPECT_EQ(out, jumbo);
}

// A piece that starts at an odd offset of the whole is summed on its own and
// shifted into place: every split point of random data gives the whole's sum.
TEST(Checksum, APieceAtAnOddOffsetShiftsIntoTheWholesSum) {
    std::mt19937 rng(2026);
    for (int round = 0; round < 200; ++round) {
        std::vector<std::uint8_t> d(1 + rng() % 200);
        for (auto& b : d) b = static_cast<std::uint8_t>(rng());
        if (round % 10 == 0) std::fill(d.begin(), d.end(), 0xff);  // carries everywhere
        const std::uint16_t whole = reference_sum(d);
        const std::span<const std::uint8_t> s(d);
        for (std::size_t cut = 0; cut <= d.size(); ++cut) {
            const std::uint64_t head = checksum::accumulate(s.first(cut));
            const std::uint64_t tail = checksum::accumulate(s.subspan(cut));
            const std::uint64_t sum =
                checksum::detail::add_carry(head, cut % 2 == 0 ? tail : checksum::at_odd_offset(tail));
            ASSERT_EQ(checksum::fold(sum), whole) << "round " << round << " cut " << cut;
        }
    }
}

TEST(Checksum, AllOnesDataDoesNotLoseCarries) {
    const std::vector<std::uint8_t> d(4096, 0xff);
    EXPECT_EQ(checksum::fold(checksum::accumulate(d)), reference_sum(d));
}

TEST(Checksum, ChainedPiecesEqualWhole) {
    std::vector<std::uint8_t> d(101);
    for (std::size_t i = 0; i < d.size(); ++i) d[i] = static_cast<std::uint8_t>(i * 7 + 3);
    const auto whole = checksum::fold(checksum::accumulate(d));
    const std::span<const std::uint8_t> s(d);
    auto sum = checksum::accumulate(s.first(12));
    sum = checksum::accumulate(s.subspan(12, 40), sum);
    sum = checksum::accumulate(s.subspan(52), sum);
    EXPECT_EQ(checksum::fold(sum), whole);
}

TEST(Checksum, VerifiesWhenChecksumFieldIncluded) {
    std::vector<std::uint8_t> d = {0x45, 0x00, 0x00, 0x1c, 0x12, 0x34, 0x40, 0x00,
                                   0x40, 0x06, 0x00, 0x00, 0xac, 0x10, 0x30, 0x0d};
    store_be16(&d[10], checksum::finish(checksum::accumulate(d)));
    EXPECT_TRUE(checksum::verifies(checksum::accumulate(d)));
    d[4] ^= 0x01;
    EXPECT_FALSE(checksum::verifies(checksum::accumulate(d)));
}

// RFC 1624: the incremental update equals a full recomputation, including
// the cases that made RFC 1141's formula produce -0 (0xffff vs 0x0000).
TEST(Checksum, IncrementalUpdateMatchesRecompute) {
    std::mt19937 rng(1624);
    for (int iter = 0; iter < 20000; ++iter) {
        std::vector<std::uint8_t> d(20);
        for (auto& b : d) b = static_cast<std::uint8_t>(rng());
        if (iter % 97 == 0) std::fill(d.begin(), d.end(), 0);  // sums near zero
        store_be16(&d[10], 0);
        const auto hc = checksum::finish(checksum::accumulate(d));
        const std::size_t word = (rng() % 9) * 2;  // any word except the checksum's
        const std::size_t at = word >= 10 ? word + 2 : word;
        const auto old_word = load_be16(&d[at]);
        const auto new_word = static_cast<std::uint16_t>(rng());
        store_be16(&d[at], new_word);
        const auto recomputed = checksum::finish(checksum::accumulate(d));
        const auto updated = checksum::update16(hc, old_word, new_word);
        // Both encodings of zero verify; RFC 1624 §3 gives the recomputed one
        // except when the data is all zero (where ~0 == 0xffff is required).
        store_be16(&d[10], updated);
        ASSERT_TRUE(checksum::verifies(checksum::accumulate(d)))
            << "iter " << iter << " hc " << hc << " recomputed " << recomputed;
    }
}

TEST(Checksum, Update32IsTwoUpdate16) {
    std::vector<std::uint8_t> d = {0, 0, 0, 0, 0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc};
    const auto hc = checksum::finish(checksum::accumulate(d));
    store_be32(&d[4], 0xdeadbeef);
    const auto updated = checksum::update32(hc, 0x12345678, 0xdeadbeef);
    EXPECT_EQ(updated, checksum::finish(checksum::accumulate(d)));
}

TEST(Checksum, PseudoHeaderMatchesExplicitBytes) {
    const std::vector<std::uint8_t> ph = {0xac, 0x10, 0x30, 0x0d, 0xac, 0x10,
                                          0x30, 0x01, 0x00, 0x06, 0x00, 0x20};
    EXPECT_EQ(checksum::fold(checksum::pseudo_header(Ipv4Addr::from_octets(172, 16, 48, 13),
                                                     Ipv4Addr::from_octets(172, 16, 48, 1), 6, 32)),
              reference_sum(ph));
    // Every protocol and length, with addresses whose words carry.
    std::mt19937 rng(793);
    for (int round = 0; round < 20000; ++round) {
        const Ipv4Addr src{round % 3 == 0 ? 0xffffffffu : static_cast<std::uint32_t>(rng())};
        const Ipv4Addr dst{round % 5 == 0 ? 0xffffffffu : static_cast<std::uint32_t>(rng())};
        const auto proto = static_cast<std::uint8_t>(rng());
        const auto len = static_cast<std::uint16_t>(round % 7 == 0 ? 0xffff : rng());
        std::vector<std::uint8_t> bytes(12, 0);
        store_be32(&bytes[0], src.value);
        store_be32(&bytes[4], dst.value);
        bytes[9] = proto;
        store_be16(&bytes[10], len);
        ASSERT_EQ(checksum::fold(checksum::pseudo_header(src, dst, proto, len)), reference_sum(bytes))
            << "round " << round;
    }
}

}  // namespace
}  // namespace tcpfp::wire
