// Ethernet II frames (IEEE 802.3 with EtherType), with up to two VLAN tags
// (802.1Q 0x8100, 802.1ad 0x88a8) either skipped or refused by policy.
#pragma once

#include <cstdint>
#include <span>

#include "tcp/wire/addr.hpp"
#include "tcp/wire/errors.hpp"

namespace tcpfp::wire {

inline constexpr std::size_t kEthHeaderLen = 14;
inline constexpr std::size_t kVlanTagLen = 4;

namespace ethertype {
inline constexpr std::uint16_t ipv4 = 0x0800;
inline constexpr std::uint16_t arp = 0x0806;
inline constexpr std::uint16_t vlan = 0x8100;   // IEEE 802.1Q
inline constexpr std::uint16_t qinq = 0x88a8;   // IEEE 802.1ad
}  // namespace ethertype

enum class VlanPolicy : std::uint8_t {
    skip,  // strip up to two tags, report the innermost TCI
    drop,  // any tagged frame is an error (eth_vlan_dropped)
};

struct EthernetFrame {
    MacAddr dst;
    MacAddr src;
    std::uint16_t ethertype = 0;  // after any VLAN tags
    std::uint8_t vlan_tags = 0;   // tags skipped (0..2)
    std::uint16_t vlan_tci = 0;   // innermost tag's TCI when vlan_tags > 0
    std::uint16_t header_len = 0; // 14 + 4 * vlan_tags
    std::span<const std::uint8_t> payload;
};

Result<EthernetFrame> parse_ethernet(std::span<const std::uint8_t> frame,
                                     VlanPolicy policy = VlanPolicy::skip);

struct EthernetRepr {
    MacAddr dst;
    MacAddr src;
    std::uint16_t ethertype = 0;
};

// Writes the 14-byte header at the start of `out`; returns bytes written.
Result<std::size_t> emit_ethernet(const EthernetRepr& repr, std::span<std::uint8_t> out);

}  // namespace tcpfp::wire
