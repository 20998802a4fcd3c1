#include "tcp/wire/checksum.hpp"

#include <bit>
#include <cstring>

#include "tcp/wire/bytes.hpp"

namespace tcpfp::wire::checksum {

namespace {
// Adds with end-around carry: a carry out of bit 63 re-enters at bit 0.
inline std::uint64_t add_carry(std::uint64_t sum, std::uint64_t v) {
    sum += v;
    return sum + (sum < v ? 1 : 0);
}
// Eight bytes in memory order, from any alignment.
inline std::uint64_t load_u64(const std::uint8_t* p) {
    std::uint64_t w;
    std::memcpy(&w, p, sizeof w);
    return w;
}
}  // namespace

std::uint64_t accumulate(std::span<const std::uint8_t> data, std::uint64_t sum) {
    const std::uint8_t* p = data.data();
    std::size_t n = data.size();
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

std::uint16_t fold(std::uint64_t sum) {
    sum = (sum & 0xffffffffu) + (sum >> 32);
    sum = (sum & 0xffffffffu) + (sum >> 32);
    sum = (sum & 0xffffu) + (sum >> 16);
    sum = (sum & 0xffffu) + (sum >> 16);
    auto folded = static_cast<std::uint16_t>(sum);
    if constexpr (std::endian::native == std::endian::little) folded = __builtin_bswap16(folded);
    return folded;
}

std::uint64_t pseudo_header(Ipv4Addr src, Ipv4Addr dst, std::uint8_t protocol,
                            std::uint16_t length) {
    std::uint8_t ph[12];
    store_be32(ph, src.value);
    store_be32(ph + 4, dst.value);
    ph[8] = 0;
    ph[9] = protocol;
    store_be16(ph + 10, length);
    return accumulate(ph);
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
