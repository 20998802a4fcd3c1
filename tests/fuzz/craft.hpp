// Building arbitrary TCP/IPv4 packets for injection (any flags, any option
// bytes, checksums right or deliberately wrong).
#pragma once

#include <cstdint>
#include <span>
#include <cstddef>

#include "tcp/wire/addr.hpp"
#include "tcp/wire/ipv4.hpp"
#include "tcp/wire/seq.hpp"
#include "tcp/wire/tcp.hpp"

namespace tcpfp::fuzz {

struct RawSegment {
    wire::Ipv4Addr src, dst;
    std::uint16_t sport = 0, dport = 0;
    std::uint32_t seq = 0, ack = 0;
    std::uint8_t flags = 0;
    std::uint16_t window = 0;
    std::uint16_t urgent = 0;
    std::span<const std::uint8_t> options;  // a multiple of 4, <= 40 bytes
    std::span<const std::uint8_t> payload;
};

// Writes the packet into `out` (no heap block per packet: under ASan each was
// a fresh allocation) and returns its length, or 0 if it does not fit.
inline std::size_t build_packet(const RawSegment& s, std::span<std::uint8_t> out) {
    wire::TcpRepr r;
    r.src_port = s.sport;
    r.dst_port = s.dport;
    r.seq = wire::SeqNum(s.seq);
    r.ack = wire::SeqNum(s.ack);
    r.flags = s.flags;
    r.window = s.window;
    r.urgent_ptr = s.urgent;
    r.options = s.options;
    r.payload = s.payload;
    const std::size_t len = wire::kIpv4MinHeaderLen + r.segment_len();
    if (len > out.size()) return 0;
    out = out.first(len);
    wire::Ipv4Repr ip;
    ip.src = s.src;
    ip.dst = s.dst;
    ip.protocol = wire::ipproto::tcp;
    ip.payload_len = static_cast<std::uint16_t>(r.segment_len());
    if (!wire::emit_ipv4(ip, out).ok()) return 0;
    if (!wire::emit_tcp(r, s.src, s.dst, out.subspan(wire::kIpv4MinHeaderLen)).ok()) return 0;
    return len;
}

}  // namespace tcpfp::fuzz
