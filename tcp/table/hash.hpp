// Keyed 64-bit hashing for the lookup tables.
//
// The connection table is indexed by a 4-tuple that a remote peer largely
// chooses (its address and port), so its hash is keyed with a per-engine
// random seed: without the seed an attacker cannot predict which bucket a
// tuple lands in, and so cannot build long probe chains (hash flooding).
// The mixer is the 64x64->128 multiply-and-fold of wyhash ("mum"), two rounds
// over the 12 key bytes and four seed-derived words. It is not a
// cryptographic PRF (that would be SipHash, several times slower); it only
// has to make bucket placement unpredictable, at a few nanoseconds per key.
// The seed must come from a good random source (the DPDK layer reads
// getrandom() once per engine); a constant seed gives up the protection.
#pragma once

#include <cstdint>

#include "tcp/base/four_tuple.hpp"

namespace tcpfp::tcp {

namespace hash_detail {

// Full 128-bit product of two 64-bit words, folded to 64 bits by XOR.
inline std::uint64_t mum(std::uint64_t a, std::uint64_t b) {
#if defined(__SIZEOF_INT128__)
    __extension__ using U128 = unsigned __int128;
    const U128 p = U128{a} * U128{b};
    return static_cast<std::uint64_t>(p) ^ static_cast<std::uint64_t>(p >> 64);
#else
    const std::uint64_t a_lo = a & 0xffffffffu, a_hi = a >> 32;
    const std::uint64_t b_lo = b & 0xffffffffu, b_hi = b >> 32;
    const std::uint64_t ll = a_lo * b_lo, lh = a_lo * b_hi, hl = a_hi * b_lo, hh = a_hi * b_hi;
    const std::uint64_t mid = (ll >> 32) + (lh & 0xffffffffu) + (hl & 0xffffffffu);
    const std::uint64_t lo = (mid << 32) | (ll & 0xffffffffu);
    const std::uint64_t hi = hh + (lh >> 32) + (hl >> 32) + (mid >> 32);
    return lo ^ hi;
#endif
}

// SplitMix64 step: spreads one seed into independent-looking key words.
constexpr std::uint64_t splitmix64(std::uint64_t& state) {
    std::uint64_t z = (state += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

}  // namespace hash_detail

class FourTupleHasher {
public:
    explicit constexpr FourTupleHasher(std::uint64_t seed) {
        std::uint64_t s = seed;
        for (auto& k : k_) {
            k = hash_detail::splitmix64(s);
        }
    }

    // The key words are put together from the fields, each read at its own
    // width: a tuple is usually built by field stores just before it is
    // hashed, and one wide load of several narrow stores still in the store
    // buffer cannot be forwarded (a stall on every segment's lookup).
    std::uint64_t operator()(const FourTuple& t) const {
        const std::uint64_t addrs = (std::uint64_t{t.remote_ip.value} << 32) | t.local_ip.value;
        const std::uint64_t ports = (std::uint64_t{t.remote_port} << 16) | t.local_port;
        return hash_detail::mum(hash_detail::mum(addrs ^ k_[0], ports ^ k_[1]) ^ k_[2], k_[3]);
    }

private:
    std::uint64_t k_[4]{};
};

}  // namespace tcpfp::tcp
