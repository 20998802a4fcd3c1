// Big-endian loads and stores on raw byte pointers. memcpy keeps them legal
// for unaligned data; compilers turn each into one load/store plus bswap.
#pragma once

#include <cstdint>
#include <bit>
#include <cstring>

namespace tcpfp::wire {

inline std::uint16_t load_be16(const std::uint8_t* p) {
    std::uint16_t v;
    std::memcpy(&v, p, sizeof v);
    if constexpr (std::endian::native == std::endian::little) v = __builtin_bswap16(v);
    return v;
}

inline std::uint32_t load_be32(const std::uint8_t* p) {
    std::uint32_t v;
    std::memcpy(&v, p, sizeof v);
    if constexpr (std::endian::native == std::endian::little) v = __builtin_bswap32(v);
    return v;
}

inline void store_be16(std::uint8_t* p, std::uint16_t v) {
    if constexpr (std::endian::native == std::endian::little) v = __builtin_bswap16(v);
    std::memcpy(p, &v, sizeof v);
}

inline void store_be32(std::uint8_t* p, std::uint32_t v) {
    if constexpr (std::endian::native == std::endian::little) v = __builtin_bswap32(v);
    std::memcpy(p, &v, sizeof v);
}

}  // namespace tcpfp::wire
