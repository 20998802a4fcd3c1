#include "tcp/crypto/isn.hpp"

namespace tcpfp::tcp {

wire::SeqNum IsnGenerator::isn(const FourTuple& t, Instant now) const {
    return wire::SeqNum(clock(now) + offset(t));
}

std::uint32_t IsnGenerator::offset(const FourTuple& t) const {
    const std::uint64_t ips =
        std::uint64_t{t.local_ip.value} | (std::uint64_t{t.remote_ip.value} << 32);
    const std::uint32_t ports = std::uint32_t{t.local_port} | (std::uint32_t{t.remote_port} << 16);
    return static_cast<std::uint32_t>(siphash24_u64_u32(secret_, ips, ports));
}

}  // namespace tcpfp::tcp
