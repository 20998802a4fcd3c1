#include <gtest/gtest.h>

#include <bit>
#include <cstdint>
#include <set>
#include <vector>

#include "tcp/crypto/isn.hpp"

namespace tcpfp::tcp {
namespace {

using wire::Ipv4Addr;
using wire::SeqNum;

constexpr SipKey kSecret{0x0123456789abcdefull, 0xfedcba9876543210ull};

FourTuple tuple() {
    return FourTuple{Ipv4Addr::from_octets(172, 16, 48, 13), Ipv4Addr::from_octets(172, 16, 48, 1),
                     32806, 5002};
}

Instant at_us(std::uint64_t us) { return Instant::from_micros(us); }

// RFC 6528 §3: M ticks every 4 µs.
TEST(Isn, ClockTicksEveryFourMicroseconds) {
    EXPECT_EQ(IsnGenerator::clock(at_us(0)), 0u);
    EXPECT_EQ(IsnGenerator::clock(at_us(3)), 0u);
    EXPECT_EQ(IsnGenerator::clock(at_us(4)), 1u);
    EXPECT_EQ(IsnGenerator::clock(at_us(1'000'000)), 250'000u);
}

// The same tuple: the ISN advances by one per 4 µs, never within a tick.
TEST(Isn, MonotoneAtFourMicrosecondGranularity) {
    const IsnGenerator gen(kSecret);
    const FourTuple t = tuple();
    const std::uint64_t t0 = 123'456'788;  // a multiple of 4
    SeqNum prev = gen.isn(t, at_us(t0));
    for (std::uint64_t us = t0 + 1; us < t0 + 40'000; ++us) {
        const SeqNum cur = gen.isn(t, at_us(us));
        ASSERT_EQ(cur - prev, us % 4 == 0 ? 1 : 0) << "at " << us << " us";
        prev = cur;
    }
}

TEST(Isn, AdvancesByTheTickCount) {
    const IsnGenerator gen(kSecret);
    const FourTuple t = tuple();
    const Instant t0 = at_us(7'000'000);
    EXPECT_EQ(gen.isn(t, t0 + Duration::seconds(1)) - gen.isn(t, t0), 250'000);
    EXPECT_EQ(gen.isn(t, t0 + Duration::millis(1)) - gen.isn(t, t0), 250);
    EXPECT_EQ(gen.isn(t, t0 + Duration::micros(4)) - gen.isn(t, t0), 1);
    EXPECT_EQ(gen.isn(t, t0 + Duration::micros(3)) - gen.isn(t, t0), 0);
    // Later is "after" in sequence space for anything under 2^31 ticks (~2.4 h).
    EXPECT_GT(gen.isn(t, t0 + Duration::seconds(3600)), gen.isn(t, t0));
}

// ISN = M + F exactly, with F the low 32 bits of SipHash-2-4 over the
// documented 12-byte layout.
TEST(Isn, IsClockPlusTruncatedSipHashOfTheTuple) {
    const IsnGenerator gen(kSecret);
    const FourTuple t = tuple();
    const std::vector<std::uint8_t> bytes = {
        0x0d, 0x30, 0x10, 0xac,  // local ip 172.16.48.13, little-endian
        0x01, 0x30, 0x10, 0xac,  // remote ip 172.16.48.1
        0x26, 0x80,              // local port 32806
        0x8a, 0x13,              // remote port 5002
    };
    const auto f = static_cast<std::uint32_t>(siphash24(kSecret, bytes));
    EXPECT_EQ(gen.offset(t), f);
    EXPECT_EQ(gen.isn(t, at_us(4'000'000)).raw(), 1'000'000u + f);
}

// M wraps at 2^32 ticks (2^34 µs, about 4.8 h); sequence arithmetic sees no
// jump across it.
TEST(Isn, WrapAtTwoToThe32IsFine) {
    const IsnGenerator gen(kSecret);
    const FourTuple t = tuple();
    const std::uint64_t wrap_us = (std::uint64_t{1} << 32) * 4;
    EXPECT_EQ(IsnGenerator::clock(at_us(wrap_us - 4)), 0xffffffffu);
    EXPECT_EQ(IsnGenerator::clock(at_us(wrap_us)), 0u);
    EXPECT_EQ(gen.isn(t, at_us(wrap_us)), gen.isn(t, at_us(0)));
    const SeqNum before = gen.isn(t, at_us(wrap_us - 8));
    const SeqNum after = gen.isn(t, at_us(wrap_us + 8));
    EXPECT_EQ(after - before, 4);
    EXPECT_GT(after, before);
}

// Changing any one bit of the tuple flips about half of F's 32 bits (mean
// 16; a weak hash such as a sum would flip one or two).
TEST(Isn, DifferentTuplesGiveUnrelatedIsns) {
    const IsnGenerator gen(kSecret);
    const FourTuple base = tuple();
    const Instant now = at_us(1'000'000);
    const std::uint32_t f0 = gen.isn(base, now).raw();
    int total_flipped = 0;
    int flips = 0;
    for (int bit = 0; bit < 32; ++bit) {
        for (int field = 0; field < 4; ++field) {
            if (field >= 2 && bit >= 16) continue;
            FourTuple t = base;
            const auto port_bit = static_cast<std::uint16_t>(1u << (bit % 16));
            switch (field) {
                case 0: t.local_ip.value ^= 1u << bit; break;
                case 1: t.remote_ip.value ^= 1u << bit; break;
                case 2: t.local_port ^= port_bit; break;
                default: t.remote_port ^= port_bit; break;
            }
            const std::uint32_t f = gen.isn(t, now).raw();
            ASSERT_NE(f, f0) << "field " << field << " bit " << bit;
            total_flipped += std::popcount(f ^ f0);
            ++flips;
        }
    }
    EXPECT_EQ(flips, 96);
    const double mean = static_cast<double>(total_flipped) / flips;
    EXPECT_GT(mean, 13.0);
    EXPECT_LT(mean, 19.0);
}

// Consecutive local ports (what a client would use) get scattered ISNs, not
// a sequence: no two of 1000 coincide and neighbours are not close.
TEST(Isn, ConsecutivePortsAreScattered) {
    const IsnGenerator gen(kSecret);
    FourTuple t = tuple();
    const Instant now = at_us(5'000'000);
    std::set<std::uint32_t> seen;
    int close_neighbours = 0;
    std::uint32_t prev = 0;
    for (std::uint16_t p = 40000; p < 41000; ++p) {
        t.local_port = p;
        const std::uint32_t isn = gen.isn(t, now).raw();
        seen.insert(isn);
        if (p != 40000 && (isn - prev < 65536u || prev - isn < 65536u)) ++close_neighbours;
        prev = isn;
    }
    EXPECT_EQ(seen.size(), 1000u);
    EXPECT_LE(close_neighbours, 2);  // expected 1000 * 2^17 / 2^32 = 0.03
}

// The tuple is oriented: the two ends of one connection hash differently.
TEST(Isn, OrientationMatters) {
    const IsnGenerator gen(kSecret);
    const FourTuple t = tuple();
    const FourTuple swapped{t.remote_ip, t.local_ip, t.remote_port, t.local_port};
    EXPECT_NE(gen.offset(t), gen.offset(swapped));
}

TEST(Isn, DifferentSecretsGiveDifferentIsns) {
    const FourTuple t = tuple();
    const Instant now = at_us(42);
    const IsnGenerator a(kSecret);
    const IsnGenerator b(SipKey{kSecret.k0 ^ 1, kSecret.k1});
    const IsnGenerator c(SipKey{kSecret.k0, kSecret.k1 ^ (1ull << 63)});
    EXPECT_NE(a.isn(t, now), b.isn(t, now));
    EXPECT_NE(a.isn(t, now), c.isn(t, now));
    EXPECT_NE(b.isn(t, now), c.isn(t, now));
    // Same secret, same answer: the generator keeps no state.
    EXPECT_EQ(a.isn(t, now), IsnGenerator(kSecret).isn(t, now));
}

}  // namespace
}  // namespace tcpfp::tcp
