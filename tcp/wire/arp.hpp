// ARP for IPv4 over Ethernet (RFC 826): request and reply only.
#pragma once

#include <cstdint>
#include <span>

#include "tcp/wire/addr.hpp"
#include "tcp/wire/errors.hpp"

namespace tcpfp::wire {

inline constexpr std::size_t kArpLen = 28;

enum class ArpOp : std::uint16_t { request = 1, reply = 2 };

struct ArpRepr {
    ArpOp op = ArpOp::request;
    MacAddr sender_mac;
    Ipv4Addr sender_ip;
    MacAddr target_mac;
    Ipv4Addr target_ip;

    friend bool operator==(const ArpRepr&, const ArpRepr&) = default;
};

// Accepts only htype 1 (Ethernet), ptype 0x0800, hlen 6, plen 4, op 1 or 2.
// Bytes after the 28-byte body (Ethernet padding) are ignored.
Result<ArpRepr> parse_arp(std::span<const std::uint8_t> packet);

Result<std::size_t> emit_arp(const ArpRepr& repr, std::span<std::uint8_t> out);

}  // namespace tcpfp::wire
