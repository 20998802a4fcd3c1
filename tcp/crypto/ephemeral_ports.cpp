#include "tcp/crypto/ephemeral_ports.hpp"

#include <stdexcept>

namespace tcpfp::tcp {

EphemeralPorts::EphemeralPorts(SipKey secret, std::uint16_t first, std::uint16_t last,
                               std::size_t table_size, std::pmr::memory_resource* mr)
    : secret_(secret), first_(first), last_(last), count_(0), table_(mr) {
    if (!valid_config(first, last, table_size)) {
        throw std::invalid_argument(
            "EphemeralPorts: need 1 <= first <= last and a power-of-two table size");
    }
    count_ = std::uint32_t{last} - first + 1u;
    // The RFC starts the counters at random values. Deriving them from the
    // secret (8-byte inputs, while start() hashes 16 bytes, so the two never
    // share an input) keeps this class free of a second seed.
    table_.resize(table_size);
    rekey(secret);
}

void EphemeralPorts::rekey(SipKey secret) {
    secret_ = secret;
    for (std::size_t i = 0; i < table_.size(); ++i) {
        table_[i] = static_cast<std::uint32_t>(siphash24_u64(secret_, i));
    }
}

EphemeralPorts::Start EphemeralPorts::start(wire::Ipv4Addr local, wire::Ipv4Addr remote,
                                            std::uint16_t remote_port) const {
    // One SipHash gives both of the RFC's keyed functions: F is the low half
    // and G the high half of a PRF output, independent as two keys would be.
    const std::uint64_t h = siphash24_u64x2(
        secret_, std::uint64_t{local.value} | (std::uint64_t{remote.value} << 32), remote_port);
    const auto offset = static_cast<std::uint32_t>(h);
    const auto index = static_cast<std::uint32_t>((h >> 32) & (table_.size() - 1));
    const auto position =
        static_cast<std::uint32_t>((std::uint64_t{offset} + table_[index]) % count_);
    return {position, index};
}

}  // namespace tcpfp::tcp
