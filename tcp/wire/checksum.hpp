// The Internet checksum (RFC 1071) and its incremental update (RFC 1624).
//
// Sums are accumulated in native byte order over 8-byte words: the one's-
// complement sum is byte-order independent (RFC 1071 §2(B)), so a single swap
// at the end yields the network-order value. Results are returned as host
// integers whose big-endian encoding is the on-wire checksum: write them with
// store_be16().
#pragma once

#include <bit>
#include <cstdint>
#include <cstring>
#include <span>

#include "tcp/wire/addr.hpp"

namespace tcpfp::wire::checksum {

// Running one's-complement sum, in native order. Chain pieces by passing the
// previous result as `sum`; every piece but the last must have even length.
std::uint64_t accumulate(std::span<const std::uint8_t> data, std::uint64_t sum = 0);

// The implementations behind accumulate(), for tests and benchmarks: the
// portable 8-byte loop, and with `wide` an AVX2 loop over 64-byte blocks
// with the portable tail, on x86-64 CPUs that have AVX2 (wide_available();
// elsewhere `wide` changes nothing).
bool wide_available();
std::uint64_t accumulate_portable(std::span<const std::uint8_t> data, std::uint64_t sum = 0);
std::uint64_t accumulate_from(std::span<const std::uint8_t> data, std::uint64_t sum, bool wide);

// Copies `src` to `dst` (which must not overlap it) and returns what
// accumulate(src, sum) returns: one pass over a payload that is both copied
// and summed on transmit, instead of a copy and a second read to sum it.
std::uint64_t copy_accumulate(std::uint8_t* dst, std::span<const std::uint8_t> src, std::uint64_t sum = 0);
// The same with the AVX2 loop chosen or not, as accumulate_from().
std::uint64_t copy_accumulate_from(std::uint8_t* dst, std::span<const std::uint8_t> src, std::uint64_t sum,
                                   bool wide);

// The running sum of data that starts at an odd offset of the whole being
// summed, given the sum taken as if it started at an even one: every byte
// changes place within its 16-bit word (RFC 1071 §2(B)). That is a
// multiplication by 2^8 modulo 2^16 - 1, and since 2^16 - 1 divides
// 2^64 - 1, a 64-bit rotation by 8 does it without folding first.
inline std::uint64_t at_odd_offset(std::uint64_t sum) { return std::rotl(sum, 8); }

namespace detail {
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
}  // namespace detail

// The running sum of an IPv4 header without options (20 bytes), as
// accumulate() gives it: three loads and no loop or call, for the header
// every frame carries (a generic call cost more than the sum itself).
inline std::uint64_t accumulate_ipv4_header(const std::uint8_t* p) {
    std::uint32_t tail;
    std::memcpy(&tail, p + 16, sizeof tail);
    return detail::add_carry(detail::add_carry(detail::load_u64(p), detail::load_u64(p + 8)), tail);
}
// Folds a running sum to 16 bits, converted to network-order value. Inline:
// every segment sent or received folds once, and as a call it was 1 % of a
// busy generator's worker.
inline std::uint16_t fold(std::uint64_t sum) {
    sum = (sum & 0xffffffffu) + (sum >> 32);
    sum = (sum & 0xffffffffu) + (sum >> 32);
    sum = (sum & 0xffffu) + (sum >> 16);
    sum = (sum & 0xffffu) + (sum >> 16);
    auto folded = static_cast<std::uint16_t>(sum);
    if constexpr (std::endian::native == std::endian::little) folded = __builtin_bswap16(folded);
    return folded;
}

// The checksum field value for data whose running sum is `sum`.
inline std::uint16_t finish(std::uint64_t sum) { return static_cast<std::uint16_t>(~fold(sum)); }

// True when a sum taken over data that includes its checksum field verifies.
inline bool verifies(std::uint64_t sum) { return fold(sum) == 0xffff; }

// Running sum of the TCP/UDP IPv4 pseudo-header (RFC 9293 §3.1: source,
// destination, zero, protocol, TCP length), as accumulate() gives it over
// those 12 bytes: three 32-bit words in memory order, added without a call
// (every segment sent or verified pays it).
inline std::uint64_t pseudo_header(Ipv4Addr src, Ipv4Addr dst, std::uint8_t protocol, std::uint16_t length) {
    const auto in_memory = [](std::uint32_t host) -> std::uint64_t {
        return std::endian::native == std::endian::little ? __builtin_bswap32(host) : host;
    };
    return in_memory(src.value) + in_memory(dst.value) + in_memory((std::uint32_t{protocol} << 16) | length);
}

// RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m'). Updates checksum `hc` after one
// 16-bit field changes from `old_word` to `new_word`, without -0 pitfalls.
std::uint16_t update16(std::uint16_t hc, std::uint16_t old_word, std::uint16_t new_word);
// The same for a 32-bit field (two 16-bit words).
std::uint16_t update32(std::uint16_t hc, std::uint32_t old_value, std::uint32_t new_value);

}  // namespace tcpfp::wire::checksum
