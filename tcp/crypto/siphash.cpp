#include "tcp/crypto/siphash.hpp"

#include <cstring>

namespace tcpfp::tcp {

namespace {

// SipHash reads its message as little-endian words whatever the host order.
std::uint64_t load_le64(const std::uint8_t* p) {
    std::uint64_t v;
    std::memcpy(&v, p, sizeof v);
    if constexpr (std::endian::native == std::endian::big) v = __builtin_bswap64(v);
    return v;
}

}  // namespace

std::uint64_t siphash24(const SipKey& key, std::span<const std::uint8_t> data) {
    sip_detail::State s(key);
    const std::size_t n = data.size();
    const std::uint8_t* p = data.data();
    const std::size_t full = n & ~std::size_t{7};
    for (std::size_t i = 0; i < full; i += 8) s.compress(load_le64(p + i));

    std::uint64_t last = static_cast<std::uint64_t>(n) << 56;  // only n mod 256 survives
    for (std::size_t i = full; i < n; ++i) last |= std::uint64_t{p[i]} << (8 * (i - full));
    return s.finish(last);
}

}  // namespace tcpfp::tcp
