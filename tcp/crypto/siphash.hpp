// SipHash-2-4 (Aumasson & Bernstein, "SipHash: a fast short-input PRF",
// INDOCRYPT 2012): a keyed 64-bit PRF for short inputs. The stack uses it
// wherever an off-path attacker must not predict or steer a value: ISNs
// (RFC 6528), ephemeral ports (RFC 6056), hash-table bucket choice.
#pragma once

#include <bit>
#include <cstdint>
#include <span>

namespace tcpfp::tcp {

// The 128-bit key as two words. As in the reference implementation, k0 is
// key bytes 0..7 read little-endian and k1 is bytes 8..15.
struct SipKey {
    std::uint64_t k0 = 0;
    std::uint64_t k1 = 0;

    static constexpr SipKey from_bytes(std::span<const std::uint8_t, 16> b) {
        SipKey k;
        for (int i = 7; i >= 0; --i) {
            k.k0 = (k.k0 << 8) | b[static_cast<std::size_t>(i)];
            k.k1 = (k.k1 << 8) | b[static_cast<std::size_t>(i) + 8];
        }
        return k;
    }

    friend constexpr bool operator==(const SipKey&, const SipKey&) = default;
};

namespace sip_detail {

// The four-word state and the ARX round of the paper's §2. Kept in the
// header so the fixed-size fast paths below inline into their callers.
struct State {
    std::uint64_t v0, v1, v2, v3;

    constexpr explicit State(const SipKey& k)
        : v0(k.k0 ^ 0x736f6d6570736575ull),  // "somepseu"
          v1(k.k1 ^ 0x646f72616e646f6dull),  // "dorandom"
          v2(k.k0 ^ 0x6c7967656e657261ull),  // "lygenera"
          v3(k.k1 ^ 0x7465646279746573ull) {}  // "tedbytes"

    constexpr void round() {
        v0 += v1;
        v2 += v3;
        v1 = std::rotl(v1, 13);
        v3 = std::rotl(v3, 16);
        v1 ^= v0;
        v3 ^= v2;
        v0 = std::rotl(v0, 32);
        v2 += v1;
        v0 += v3;
        v1 = std::rotl(v1, 17);
        v3 = std::rotl(v3, 21);
        v1 ^= v2;
        v3 ^= v0;
        v2 = std::rotl(v2, 32);
    }

    // c = 2 rounds per 8-byte message word.
    constexpr void compress(std::uint64_t m) {
        v3 ^= m;
        round();
        round();
        v0 ^= m;
    }

    // `last` is the final word: the 0..7 trailing bytes little-endian with
    // the message length (mod 256) in the top byte. d = 4 rounds.
    constexpr std::uint64_t finish(std::uint64_t last) {
        compress(last);
        v2 ^= 0xff;
        round();
        round();
        round();
        round();
        return v0 ^ v1 ^ v2 ^ v3;
    }
};

}  // namespace sip_detail

// SipHash-2-4 of any byte string.
std::uint64_t siphash24(const SipKey& key, std::span<const std::uint8_t> data);

// Fixed-size fast paths: no buffer, no loop, constexpr. Each equals
// siphash24() over its words' little-endian bytes concatenated in order.

// 8 bytes: a.
constexpr std::uint64_t siphash24_u64(const SipKey& key, std::uint64_t a) {
    sip_detail::State s(key);
    s.compress(a);
    return s.finish(std::uint64_t{8} << 56);
}

// 12 bytes: a, then b.
constexpr std::uint64_t siphash24_u64_u32(const SipKey& key, std::uint64_t a, std::uint32_t b) {
    sip_detail::State s(key);
    s.compress(a);
    return s.finish((std::uint64_t{12} << 56) | b);
}

// 16 bytes: a, then b.
constexpr std::uint64_t siphash24_u64x2(const SipKey& key, std::uint64_t a, std::uint64_t b) {
    sip_detail::State s(key);
    s.compress(a);
    s.compress(b);
    return s.finish(std::uint64_t{16} << 56);
}

}  // namespace tcpfp::tcp
