#include "tcp/engine/segment.hpp"

#include <cstring>
#include <optional>

#include "tcp/wire/checksum.hpp"

namespace tcpfp::tcp {

void PayloadParts::copy_to(std::uint8_t* out) const {
    for (std::uint8_t i = 0; i < count; ++i) {
        std::memcpy(out, part[i].data(), part[i].size());
        out += part[i].size();
    }
}

std::uint64_t PayloadParts::copy_and_sum_to(std::uint8_t* out) const {
    std::uint64_t sum = 0;
    std::size_t at = 0;
    for (std::uint8_t i = 0; i < count; ++i) {
        const std::uint64_t piece = wire::checksum::copy_accumulate(out + at, part[i]);
        // A piece after an odd-length one starts at an odd offset.
        sum = wire::checksum::detail::add_carry(sum, at % 2 == 0 ? piece : wire::checksum::at_odd_offset(piece));
        at += part[i].size();
    }
    return sum;
}

namespace {

// A payload this long is summed while it is copied, in one pass. A shorter
// one is copied and summed with the options in one call: below the AVX2
// loop's size a second call costs more than the second pass saves.
constexpr std::size_t kSumWhileCopyingFrom = 128;

// The TCP header fields of `seg` with `flags`, written into `r` where it
// lies (a struct returned by value and copied was rebuilt from narrow stores
// by wide loads, a store-forwarding stall on every segment); the options as
// words, which emit_tcp writes and sums from registers.
std::optional<wire::WireError> fill_tcp_repr(const OutSegment& seg, std::uint8_t flags, wire::TcpRepr& r) {
    const bool syn = (flags & wire::tcp_flag::syn) != 0;
    if (const auto e = wire::write_tcp_option_words(seg.options, syn, r.option_words); e != wire::WireError::none) {
        return e;
    }
    r.src_port = seg.tuple.local_port;
    r.dst_port = seg.tuple.remote_port;
    r.seq = seg.seq;
    r.ack = seg.ack;
    r.flags = flags;
    r.window = seg.window;
    r.urgent_ptr = seg.urgent_ptr;
    return std::nullopt;
}

wire::Result<std::size_t> emit_ip(const OutSegment& seg, std::size_t tcp_len, std::span<std::uint8_t> out,
                                  std::uint16_t ip_id, wire::ChecksumMode mode) {
    wire::Ipv4Repr ip;
    ip.src = seg.tuple.local_ip;
    ip.dst = seg.tuple.remote_ip;
    ip.protocol = wire::ipproto::tcp;
    ip.ttl = seg.ttl;
    ip.tos = seg.tos;
    ip.id = ip_id;
    ip.payload_len = static_cast<std::uint16_t>(tcp_len);
    return wire::emit_ipv4(ip, out, mode);
}

}  // namespace

wire::Result<std::size_t> serialize(const OutSegment& seg, std::span<std::uint8_t> out,
                                    std::uint16_t ip_id, wire::ChecksumMode mode) {
    wire::TcpRepr r;
    if (auto e = fill_tcp_repr(seg, seg.flags, r)) return *e;
    const std::size_t tcp_len = r.header_len() + seg.payload_len();
    const std::size_t total = wire::kIpv4MinHeaderLen + tcp_len;
    if (out.size() < total || total > 0xffff) return wire::WireError::buffer_too_small;
    // Lay the payload in place first so emit_tcp checksums it without a copy.
    std::uint8_t* payload_at = out.data() + wire::kIpv4MinHeaderLen + r.header_len();
    if (mode == wire::ChecksumMode::full && seg.payload_len() >= kSumWhileCopyingFrom) {
        r.payload_sum = seg.payload.copy_and_sum_to(payload_at);
    } else {
        seg.payload.copy_to(payload_at);
    }
    r.payload = {payload_at, seg.payload_len()};
    auto ipn = emit_ip(seg, tcp_len, out, ip_id, mode);
    if (!ipn) return ipn.error();
    auto tn = wire::emit_tcp(r, seg.tuple.local_ip, seg.tuple.remote_ip,
                             out.subspan(wire::kIpv4MinHeaderLen), mode);
    if (!tn) return tn.error();
    return total;
}

wire::Result<std::size_t> serialize_tso_header(const OutSegment& first, std::uint8_t flags,
                                               std::uint32_t payload_len, std::span<std::uint8_t> out,
                                               std::uint16_t ip_id) {
    wire::TcpRepr r;
    if (auto e = fill_tcp_repr(first, flags, r)) return *e;
    const std::size_t header = wire::kIpv4MinHeaderLen + r.header_len();
    if (out.size() < header || header + payload_len > 0xffff) return wire::WireError::buffer_too_small;
    const auto mode = wire::ChecksumMode::segmentation;
    auto ipn = emit_ip(first, r.header_len() + payload_len, out, ip_id, mode);
    if (!ipn) return ipn.error();
    auto tn = wire::emit_tcp(r, first.tuple.local_ip, first.tuple.remote_ip,
                             out.subspan(wire::kIpv4MinHeaderLen), mode);
    if (!tn) return tn.error();
    return header;
}

namespace {

// What every segment of a super-segment shares with its first.
bool same_header(const OutSegment& a, const OutSegment& b) {
    return a.tuple == b.tuple && a.ack == b.ack && a.window == b.window && a.ttl == b.ttl &&
           a.tos == b.tos && b.urgent_ptr == 0 && a.options == b.options;
}

}  // namespace

std::size_t tso_run(std::span<const OutSegment> out, const TsoLimits& limits) {
    using namespace wire::tcp_flag;
    if (out.empty()) return 0;
    const OutSegment& first = out[0];
    const std::uint32_t cut = first.payload.bytes;
    // Flags the whole run shares: ACK, and ECE while a CE mark is echoed.
    const std::uint8_t shared = first.flags & static_cast<std::uint8_t>(~psh);
    const bool can_lead = cut > 0 && (shared & ack) != 0 && (shared & (syn | rst | urg | cwr | fin)) == 0 &&
                          first.urgent_ptr == 0;
    if (!can_lead || cut < limits.min_cut || (limits.even_cut && cut % 2 != 0)) return 1;
    std::size_t n = 1;
    std::uint64_t bytes = cut;
    while (n < out.size() && n < limits.max_segments) {
        const OutSegment& prev = out[n - 1];
        const OutSegment& s = out[n];
        const std::uint32_t len = s.payload.bytes;
        // Every piece but the last is exactly the cut size, and a FIN ends a run.
        if (prev.payload.bytes != cut || prev.has(fin)) break;
        if (len == 0 || len > cut || bytes + len > limits.max_bytes) break;
        if ((s.flags & static_cast<std::uint8_t>(~(psh | fin))) != shared) break;
        if (s.seq != prev.seq + prev.payload.bytes || !same_header(first, s)) break;
        bytes += len;
        ++n;
    }
    return n;
}

std::uint8_t tso_flags(std::span<const OutSegment> run) {
    using namespace wire::tcp_flag;
    std::uint8_t flags = run.front().flags;
    for (const OutSegment& s : run) flags |= s.flags & psh;
    return static_cast<std::uint8_t>(flags | (run.back().flags & fin));
}

}  // namespace tcpfp::tcp
