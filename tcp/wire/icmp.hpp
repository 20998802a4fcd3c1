// ICMP echo request and reply, and the error messages that quote a packet
// we sent (RFC 792, RFC 1191 for "fragmentation needed").
#pragma once

#include <cstdint>
#include <span>

#include "tcp/wire/addr.hpp"
#include "tcp/wire/errors.hpp"

namespace tcpfp::wire {

inline constexpr std::size_t kIcmpEchoHeaderLen = 8;

namespace icmp_type {
inline constexpr std::uint8_t echo_reply = 0;
inline constexpr std::uint8_t dest_unreachable = 3;
inline constexpr std::uint8_t source_quench = 4;
inline constexpr std::uint8_t echo_request = 8;
inline constexpr std::uint8_t time_exceeded = 11;
inline constexpr std::uint8_t parameter_problem = 12;
}  // namespace icmp_type

// Destination unreachable codes (RFC 792, RFC 1122 §3.2.2.1).
namespace icmp_unreach {
inline constexpr std::uint8_t net = 0;
inline constexpr std::uint8_t host = 1;
inline constexpr std::uint8_t protocol = 2;
inline constexpr std::uint8_t port = 3;
inline constexpr std::uint8_t frag_needed = 4;
inline constexpr std::uint8_t source_route_failed = 5;
}  // namespace icmp_unreach

inline constexpr std::size_t kIcmpErrorHeaderLen = 8;

// The error types TCP acts on (RFC 9293 §3.9.2.2).
constexpr bool is_icmp_error_type(std::uint8_t type) {
    return type == icmp_type::dest_unreachable || type == icmp_type::source_quench ||
           type == icmp_type::time_exceeded || type == icmp_type::parameter_problem;
}

// An error message and what it quotes of the packet that caused it: the
// IPv4 header and at least the first 8 bytes of its payload (RFC 792), for
// TCP the ports and the sequence number.
struct IcmpError {
    std::uint8_t type = 0;
    std::uint8_t code = 0;
    std::uint16_t next_hop_mtu = 0;  // dest unreachable / frag needed (RFC 1191 §4); 0 when absent
    Ipv4Addr quoted_src;
    Ipv4Addr quoted_dst;
    std::uint8_t quoted_protocol = 0;
    std::uint16_t quoted_total_len = 0;
    std::span<const std::uint8_t> quoted_payload;  // >= 8 bytes
};

// Parses destination unreachable, source quench, time exceeded and
// parameter problem, verifying the checksum; other types are icmp_not_error.
Result<IcmpError> parse_icmp_error(std::span<const std::uint8_t> message);

// Writes an error quoting `quoted` (an IPv4 packet; up to its header plus
// 8 bytes of payload, RFC 792's minimum), for tests and the script runner.
Result<std::size_t> emit_icmp_error(std::uint8_t type, std::uint8_t code, std::uint16_t next_hop_mtu,
                                    std::span<const std::uint8_t> quoted, std::span<std::uint8_t> out);

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
