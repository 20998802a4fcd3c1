#include "tcp/wire/arp.hpp"

#include <algorithm>

#include "tcp/wire/bytes.hpp"
#include "tcp/wire/ethernet.hpp"

namespace tcpfp::wire {

namespace {
constexpr std::uint16_t kHtypeEthernet = 1;
}

Result<ArpRepr> parse_arp(std::span<const std::uint8_t> packet) {
    if (packet.size() < kArpLen) return WireError::arp_truncated;
    const std::uint8_t* p = packet.data();
    if (load_be16(p) != kHtypeEthernet || load_be16(p + 2) != ethertype::ipv4 || p[4] != 6 ||
        p[5] != 4) {
        return WireError::arp_unsupported_format;
    }
    const std::uint16_t op = load_be16(p + 6);
    if (op != 1 && op != 2) return WireError::arp_bad_opcode;
    ArpRepr r;
    r.op = static_cast<ArpOp>(op);
    std::copy_n(p + 8, 6, r.sender_mac.bytes.begin());
    r.sender_ip = Ipv4Addr{load_be32(p + 14)};
    std::copy_n(p + 18, 6, r.target_mac.bytes.begin());
    r.target_ip = Ipv4Addr{load_be32(p + 24)};
    return r;
}

Result<std::size_t> emit_arp(const ArpRepr& r, std::span<std::uint8_t> out) {
    if (out.size() < kArpLen) return WireError::buffer_too_small;
    std::uint8_t* p = out.data();
    store_be16(p, kHtypeEthernet);
    store_be16(p + 2, ethertype::ipv4);
    p[4] = 6;
    p[5] = 4;
    store_be16(p + 6, static_cast<std::uint16_t>(r.op));
    std::copy(r.sender_mac.bytes.begin(), r.sender_mac.bytes.end(), p + 8);
    store_be32(p + 14, r.sender_ip.value);
    std::copy(r.target_mac.bytes.begin(), r.target_mac.bytes.end(), p + 18);
    store_be32(p + 24, r.target_ip.value);
    return kArpLen;
}

}  // namespace tcpfp::wire
