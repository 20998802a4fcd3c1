// A connection's identity: local and remote address and port (RFC 9293 §3.3.2
// "socket pair"). 12 bytes, no padding, so it hashes and compares as a block.
#pragma once

#include <cstdint>

#include "tcp/wire/addr.hpp"

namespace tcpfp::tcp {

struct FourTuple {
    wire::Ipv4Addr local_ip;
    wire::Ipv4Addr remote_ip;
    std::uint16_t local_port = 0;
    std::uint16_t remote_port = 0;

    friend constexpr bool operator==(const FourTuple&, const FourTuple&) = default;
};
static_assert(sizeof(FourTuple) == 12);

}  // namespace tcpfp::tcp
