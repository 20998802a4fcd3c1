#include "tcp/engine/segment.hpp"

#include <cstring>

namespace tcpfp::tcp {

void PayloadParts::copy_to(std::uint8_t* out) const {
    for (std::uint8_t i = 0; i < count; ++i) {
        std::memcpy(out, part[i].data(), part[i].size());
        out += part[i].size();
    }
}

wire::Result<std::size_t> serialize(const OutSegment& seg, std::span<std::uint8_t> out,
                                    std::uint16_t ip_id, wire::ChecksumMode mode) {
    wire::TcpOptionWriter writer;
    auto opts = wire::write_tcp_options(seg.options, seg.has(wire::tcp_flag::syn), writer);
    if (!opts) return opts.error();
    wire::TcpRepr r;
    r.src_port = seg.tuple.local_port;
    r.dst_port = seg.tuple.remote_port;
    r.seq = seg.seq;
    r.ack = seg.ack;
    r.flags = seg.flags;
    r.window = seg.window;
    r.urgent_ptr = seg.urgent_ptr;
    r.options = *opts;
    const std::size_t tcp_len = r.header_len() + seg.payload_len();
    const std::size_t total = wire::kIpv4MinHeaderLen + tcp_len;
    if (out.size() < total || total > 0xffff) return wire::WireError::buffer_too_small;
    // Lay the payload in place first so emit_tcp checksums it without a copy.
    std::uint8_t* payload_at = out.data() + wire::kIpv4MinHeaderLen + r.header_len();
    seg.payload.copy_to(payload_at);
    r.payload = {payload_at, seg.payload_len()};
    wire::Ipv4Repr ip;
    ip.src = seg.tuple.local_ip;
    ip.dst = seg.tuple.remote_ip;
    ip.protocol = wire::ipproto::tcp;
    ip.ttl = seg.ttl;
    ip.tos = seg.tos;
    ip.id = ip_id;
    ip.payload_len = static_cast<std::uint16_t>(tcp_len);
    auto ipn = wire::emit_ipv4(ip, out, mode);
    if (!ipn) return ipn.error();
    auto tn = wire::emit_tcp(r, seg.tuple.local_ip, seg.tuple.remote_ip,
                             out.subspan(wire::kIpv4MinHeaderLen), mode);
    if (!tn) return tn.error();
    return total;
}

}  // namespace tcpfp::tcp
