// A small, fast, non-cryptographic PRNG: xoshiro256** (Blackman & Vigna,
// "Scrambled linear pseudorandom number generators", ACM TOMS 2021), its
// state filled from the seed by splitmix64 as the authors recommend.
// For timestamp offsets, challenge-ACK jitter and test impairments; never
// for anything an attacker must not predict (that is SipHash's job).
#pragma once

#include <array>
#include <bit>
#include <cstdint>
#include <limits>

namespace tcpfp::tcp {

// One step of splitmix64 (Steele, Lea & Flood, OOPSLA 2014): advances
// `state` by the golden-ratio increment and returns its mixed value.
constexpr std::uint64_t splitmix64(std::uint64_t& state) {
    std::uint64_t z = (state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

class Random {
public:
    // Any seed is fine, 0 included: splitmix64 never yields the all-zero
    // state on which xoshiro would be stuck.
    constexpr explicit Random(std::uint64_t seed) {
        for (auto& w : s_) w = splitmix64(seed);
    }

    // A raw state, for reproducing published reference outputs. It must not
    // be all zero.
    static constexpr Random from_state(const std::array<std::uint64_t, 4>& s) {
        Random r(0);
        r.s_ = s;
        return r;
    }

    constexpr std::uint64_t next_u64() {
        const std::uint64_t result = std::rotl(s_[1] * 5, 7) * 9;
        const std::uint64_t t = s_[1] << 17;
        s_[2] ^= s_[0];
        s_[3] ^= s_[1];
        s_[1] ^= s_[2];
        s_[0] ^= s_[3];
        s_[2] ^= t;
        s_[3] = std::rotl(s_[3], 45);
        return result;
    }

    // The high half: the authors rate the upper bits as the strongest.
    constexpr std::uint32_t next_u32() { return static_cast<std::uint32_t>(next_u64() >> 32); }

    // Uniform in [0, bound) without modulo bias, by Lemire's multiply-shift
    // with rejection ("Fast random integer generation in an interval", ACM
    // TOMACS 2019): one multiplication, and a division only in the rare case
    // that a rejection is possible. bound 0 has no valid result and gives 0.
    constexpr std::uint32_t uniform(std::uint32_t bound) {
        if (bound == 0) return 0;
        std::uint64_t m = std::uint64_t{next_u32()} * bound;
        auto low = static_cast<std::uint32_t>(m);
        if (low < bound) {
            const std::uint32_t reject_below = (0u - bound) % bound;  // 2^32 mod bound
            while (low < reject_below) {
                m = std::uint64_t{next_u32()} * bound;
                low = static_cast<std::uint32_t>(m);
            }
        }
        return static_cast<std::uint32_t>(m >> 32);
    }

    // Uniform in [0, 1) on the 2^-53 grid: loss probabilities for the tests'
    // impairment layers.
    constexpr double next_double() {
        return static_cast<double>(next_u64() >> 11) * 0x1.0p-53;
    }

    // UniformRandomBitGenerator, so <random> distributions and std::shuffle
    // accept it.
    using result_type = std::uint64_t;
    static constexpr result_type min() { return 0; }
    static constexpr result_type max() { return std::numeric_limits<result_type>::max(); }
    constexpr result_type operator()() { return next_u64(); }

private:
    std::array<std::uint64_t, 4> s_{};
};

}  // namespace tcpfp::tcp
