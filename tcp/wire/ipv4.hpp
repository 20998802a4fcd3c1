// IPv4 headers (RFC 791). The view checks structure only; checksum
// verification is separate so a NIC's RX offload can stand in for it.
#pragma once

#include <cstdint>
#include <optional>
#include <span>

#include "tcp/wire/addr.hpp"
#include "tcp/wire/bytes.hpp"
#include "tcp/wire/checksum.hpp"
#include "tcp/wire/errors.hpp"

namespace tcpfp::wire {

inline constexpr std::size_t kIpv4MinHeaderLen = 20;

namespace ipproto {
inline constexpr std::uint8_t icmp = 1;
inline constexpr std::uint8_t tcp = 6;
inline constexpr std::uint8_t udp = 17;
}  // namespace ipproto

// The ECN field: the two low bits of the TOS byte (RFC 3168 §5).
namespace ecn {
inline constexpr std::uint8_t mask = 0x03;
inline constexpr std::uint8_t not_ect = 0x00;
inline constexpr std::uint8_t ect1 = 0x01;
inline constexpr std::uint8_t ect0 = 0x02;
inline constexpr std::uint8_t ce = 0x03;
}  // namespace ecn

// A validated IPv4 header over borrowed bytes. Valid only while they live.
// The accessors are inline: the worker reads each field of every received
// frame once, and as calls (ipv4.cpp) they were 1.5 % of a busy worker.
class Ipv4View {
public:
    // Checks version 4, IHL 5..15 within the buffer, and total length between
    // the header length and the buffer size. Bytes past the total length
    // (Ethernet padding) are excluded from payload().
    static Result<Ipv4View> parse(std::span<const std::uint8_t> packet) {
        if (packet.size() < kIpv4MinHeaderLen) return WireError::ip_truncated;
        const std::uint8_t* p = packet.data();
        if ((p[0] >> 4) != 4) return WireError::ip_bad_version;
        const std::size_t ihl_bytes = (p[0] & 0x0fu) * 4u;
        if (ihl_bytes < kIpv4MinHeaderLen) return WireError::ip_bad_ihl;
        if (ihl_bytes > packet.size()) return WireError::ip_header_truncated;
        const std::size_t total = load_be16(p + 2);
        if (total < ihl_bytes) return WireError::ip_bad_total_length;
        if (total > packet.size()) return WireError::ip_length_exceeds_buffer;
        return Ipv4View(p);
    }

    Ipv4View() = default;

    std::uint8_t header_len() const { return static_cast<std::uint8_t>((p_[0] & 0x0f) * 4); }
    std::uint8_t tos() const { return p_[1]; }
    std::uint16_t total_len() const { return load_be16(p_ + 2); }
    std::uint16_t id() const { return load_be16(p_ + 4); }
    bool dont_fragment() const { return (p_[6] & 0x40) != 0; }
    bool more_fragments() const { return (p_[6] & 0x20) != 0; }
    // In 8-byte units.
    std::uint16_t fragment_offset() const { return static_cast<std::uint16_t>(load_be16(p_ + 6) & 0x1fffu); }
    // Any fragment (first, middle or last): the stack refuses these.
    bool is_fragment() const { return more_fragments() || fragment_offset() != 0; }
    std::uint8_t ttl() const { return p_[8]; }
    std::uint8_t protocol() const { return p_[9]; }
    std::uint16_t checksum() const { return load_be16(p_ + 10); }
    Ipv4Addr src() const { return Ipv4Addr{load_be32(p_ + 12)}; }
    Ipv4Addr dst() const { return Ipv4Addr{load_be32(p_ + 16)}; }
    std::span<const std::uint8_t> options() const { return {p_ + 20, header_len() - 20u}; }
    std::span<const std::uint8_t> header() const { return {p_, header_len()}; }
    std::span<const std::uint8_t> payload() const {
        return {p_ + header_len(), static_cast<std::size_t>(total_len() - header_len())};
    }

    // RFC 791 / RFC 1071: the header's words sum to all ones.
    bool checksum_ok() const {
        const auto h = header();
        return checksum::verifies(h.size() == kIpv4MinHeaderLen ? checksum::accumulate_ipv4_header(h.data())
                                                                : checksum::accumulate(h));
    }

private:
    explicit Ipv4View(const std::uint8_t* p) : p_(p) {}
    const std::uint8_t* p_ = nullptr;
};

// Structure check plus header checksum: the usual software receive path.
Result<Ipv4View> parse_ipv4_checked(std::span<const std::uint8_t> packet);

enum class ChecksumMode : std::uint8_t {
    full,     // compute in software
    offload,  // leave for the NIC: IPv4 gets 0, L4 gets the pseudo-header sum
    // leave for the NIC's TCP segmentation offload, which writes each
    // segment's length: IPv4 gets 0, L4 the pseudo-header sum without the
    // length (DPDK's RTE_MBUF_F_TX_TCP_SEG convention, rte_ipv4_phdr_cksum)
    segmentation,
};

struct Ipv4Repr {
    Ipv4Addr src;
    Ipv4Addr dst;
    std::uint8_t protocol = 0;
    std::uint8_t ttl = 64;
    std::uint8_t tos = 0;
    std::uint16_t id = 0;
    bool dont_fragment = true;
    std::uint16_t payload_len = 0;
};

// Writes a 20-byte header (no options) with the checksum per `mode`.
Result<std::size_t> emit_ipv4(const Ipv4Repr& repr, std::span<std::uint8_t> out,
                              ChecksumMode mode = ChecksumMode::full);

// The 4-tuple of an IPv4 packet carrying TCP, read without validating it
// (no checksum, no total length): for steering a frame to its worker and
// for prefetching its connection, before the full parse. nullopt when the
// packet is not IPv4/TCP, is a later fragment (which has no ports), or is
// too short for the ports.
struct TcpFlowPeek {
    Ipv4Addr src, dst;
    std::uint16_t src_port = 0, dst_port = 0;
};
inline std::optional<TcpFlowPeek> peek_tcp_flow(std::span<const std::uint8_t> ip) {
    if (ip.size() < 20 || (ip[0] >> 4) != 4 || ip[9] != ipproto::tcp) return std::nullopt;
    const std::size_t hl = (ip[0] & 0x0fu) * 4u;
    if (hl < 20 || ip.size() < hl + 4 || (load_be16(&ip[6]) & 0x1fffu) != 0) return std::nullopt;
    return TcpFlowPeek{Ipv4Addr{load_be32(&ip[12])}, Ipv4Addr{load_be32(&ip[16])}, load_be16(&ip[hl]),
                       load_be16(&ip[hl + 2])};
}

}  // namespace tcpfp::wire
