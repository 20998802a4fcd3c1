#include "tcp/wire/checksum.hpp"

#include <bit>
#include <cstring>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define TCPFP_CHECKSUM_AVX2 1
#else
#define TCPFP_CHECKSUM_AVX2 0
#endif

#include "tcp/wire/bytes.hpp"

namespace tcpfp::wire::checksum {

namespace {
using detail::add_carry;
using detail::load_u64;

#if TCPFP_CHECKSUM_AVX2
// The same lane sums as the portable loop, 64 bytes per step: each 32-bit
// word is added into a 64-bit lane (no carry leaves a lane for buffers under
// 2^32 words), the lanes are added at the end. The build targets plain
// x86-64, so this is compiled for AVX2 on its own and chosen at run time.
// With `Copy`, each block is also stored to `d` (one pass that copies and
// sums).
template <bool Copy>
__attribute__((target("avx2"))) std::uint64_t sum_blocks_avx2(std::uint8_t* d, const std::uint8_t* p,
                                                              std::size_t blocks) {
    const __m256i low = _mm256_set1_epi64x(0xffffffff);
    __m256i a0 = _mm256_setzero_si256();
    __m256i a1 = _mm256_setzero_si256();
    for (; blocks > 0; --blocks, p += 64) {
        const __m256i v0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
        const __m256i v1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + 32));
        if constexpr (Copy) {
            _mm256_storeu_si256(reinterpret_cast<__m256i*>(d), v0);
            _mm256_storeu_si256(reinterpret_cast<__m256i*>(d + 32), v1);
            d += 64;
        }
        a0 = _mm256_add_epi64(a0, _mm256_and_si256(v0, low));
        a1 = _mm256_add_epi64(a1, _mm256_srli_epi64(v0, 32));
        a0 = _mm256_add_epi64(a0, _mm256_and_si256(v1, low));
        a1 = _mm256_add_epi64(a1, _mm256_srli_epi64(v1, 32));
    }
    const __m256i a = _mm256_add_epi64(a0, a1);
    const __m128i s = _mm_add_epi64(_mm256_castsi256_si128(a), _mm256_extracti128_si256(a, 1));
    return static_cast<std::uint64_t>(_mm_cvtsi128_si64(s)) + static_cast<std::uint64_t>(_mm_extract_epi64(s, 1));
}

#endif

// Below this the portable loop is as fast (headers, ACKs, small requests).
constexpr std::size_t kWideMin = 128;
}  // namespace

bool wide_available() {
#if TCPFP_CHECKSUM_AVX2
    static const bool yes = __builtin_cpu_supports("avx2") != 0;
    return yes;
#else
    return false;
#endif
}

std::uint64_t accumulate_portable(std::span<const std::uint8_t> data, std::uint64_t sum) {
    return accumulate_from(data, sum, false);
}

std::uint64_t accumulate(std::span<const std::uint8_t> data, std::uint64_t sum) {
    return accumulate_from(data, sum, data.size() >= kWideMin);
}

std::uint64_t accumulate_from(std::span<const std::uint8_t> data, std::uint64_t sum, bool wide) {
    const std::uint8_t* p = data.data();
    std::size_t n = data.size();
#if TCPFP_CHECKSUM_AVX2
    if (wide && n >= 64 && wide_available()) {
        const std::size_t blocks = n / 64;
        sum = add_carry(sum, sum_blocks_avx2<false>(nullptr, p, blocks));
        p += blocks * 64;
        n -= blocks * 64;
    }
#else
    (void)wide;
#endif
    // Each 8-byte load is split into 32-bit halves added into 64-bit lanes:
    // no carry can escape a lane for any buffer under 2^32 words, so the
    // adds are independent and pipeline; the lanes fold at the end.
    std::uint64_t lane0 = 0;
    std::uint64_t lane1 = 0;
    // Four 8-byte loads, not one 32-byte copy: the same code once optimised,
    // but under ASan (the fuzz build) a copy wider than 8 bytes stays a call
    // to its checked memcpy, once per 32 bytes of every checksum.
    while (n >= 32) {
        const std::uint64_t w[4] = {load_u64(p), load_u64(p + 8), load_u64(p + 16), load_u64(p + 24)};
        lane0 += (w[0] & 0xffffffffu) + (w[0] >> 32) + (w[2] & 0xffffffffu) + (w[2] >> 32);
        lane1 += (w[1] & 0xffffffffu) + (w[1] >> 32) + (w[3] & 0xffffffffu) + (w[3] >> 32);
        p += 32;
        n -= 32;
    }
    sum = add_carry(sum, lane0);
    sum = add_carry(sum, lane1);
    while (n >= 8) {
        std::uint64_t w;
        std::memcpy(&w, p, sizeof w);
        sum = add_carry(sum, w);
        p += 8;
        n -= 8;
    }
    if (n >= 4) {
        std::uint32_t w;
        std::memcpy(&w, p, sizeof w);
        sum = add_carry(sum, w);
        p += 4;
        n -= 4;
    }
    if (n >= 2) {
        std::uint16_t w;
        std::memcpy(&w, p, sizeof w);
        sum = add_carry(sum, w);
        p += 2;
        n -= 2;
    }
    if (n == 1) {
        // An odd trailing byte is the high byte of a zero-padded word
        // (RFC 1071 §4.1); it sits at an even offset, so in native
        // little-endian order that is the low byte.
        const std::uint64_t b = *p;
        sum = add_carry(sum, std::endian::native == std::endian::little ? b : b << 8);
    }
    return sum;
}

std::uint64_t copy_accumulate(std::uint8_t* dst, std::span<const std::uint8_t> src, std::uint64_t sum) {
    return copy_accumulate_from(dst, src, sum, src.size() >= kWideMin);
}

std::uint64_t copy_accumulate_from(std::uint8_t* dst, std::span<const std::uint8_t> src, std::uint64_t sum,
                                   bool wide) {
    const std::uint8_t* p = src.data();
    std::size_t n = src.size();
#if TCPFP_CHECKSUM_AVX2
    if (wide && n >= 64 && wide_available()) {
        const std::size_t blocks = n / 64;
        sum = add_carry(sum, sum_blocks_avx2<true>(dst, p, blocks));
        p += blocks * 64;
        dst += blocks * 64;
        n -= blocks * 64;
    }
#else
    (void)wide;
#endif
    // The tail (or everything, without AVX2): copied, then summed where it
    // landed, still in the L1 cache. Its offset is a multiple of 64: even.
    if (n > 0) std::memcpy(dst, p, n);
    return accumulate_from({dst, n}, sum, false);
}

std::uint16_t update16(std::uint16_t hc, std::uint16_t old_word, std::uint16_t new_word) {
    std::uint32_t sum = static_cast<std::uint16_t>(~hc);
    sum += static_cast<std::uint16_t>(~old_word);
    sum += new_word;
    sum = (sum & 0xffffu) + (sum >> 16);
    sum = (sum & 0xffffu) + (sum >> 16);
    return static_cast<std::uint16_t>(~sum);
}

std::uint16_t update32(std::uint16_t hc, std::uint32_t old_value, std::uint32_t new_value) {
    hc = update16(hc, static_cast<std::uint16_t>(old_value >> 16),
                  static_cast<std::uint16_t>(new_value >> 16));
    return update16(hc, static_cast<std::uint16_t>(old_value), static_cast<std::uint16_t>(new_value));
}

}  // namespace tcpfp::wire::checksum
