// ICMP echo request and reply (RFC 792).
#pragma once

#include <cstdint>
#include <span>

#include "tcp/wire/errors.hpp"

namespace tcpfp::wire {

inline constexpr std::size_t kIcmpEchoHeaderLen = 8;

namespace icmp_type {
inline constexpr std::uint8_t echo_reply = 0;
inline constexpr std::uint8_t echo_request = 8;
}  // namespace icmp_type

struct IcmpEcho {
    std::uint8_t type = icmp_type::echo_request;
    std::uint8_t code = 0;
    std::uint16_t id = 0;
    std::uint16_t seq = 0;
    std::span<const std::uint8_t> data;
};

// Parses an echo request or reply and verifies its checksum, which covers
// the whole ICMP message.
Result<IcmpEcho> parse_icmp_echo(std::span<const std::uint8_t> message);

// Writes header and data (data may alias `out` past the header).
Result<std::size_t> emit_icmp_echo(const IcmpEcho& echo, std::span<std::uint8_t> out);

// Turns an echo request in place into its reply: type 8 -> 0, with the
// checksum patched by RFC 1624 rather than recomputed over the data.
// Returns icmp_truncated or icmp_not_echo and leaves the bytes alone when
// the message is not a complete echo request.
WireError icmp_echo_request_to_reply_in_place(std::span<std::uint8_t> message);

}  // namespace tcpfp::wire
