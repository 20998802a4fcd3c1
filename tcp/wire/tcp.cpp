#include "tcp/wire/tcp.hpp"

#include <cstring>

#include "tcp/wire/bytes.hpp"
#include "tcp/wire/checksum.hpp"
#include "tcp/wire/tcp_options.hpp"

namespace tcpfp::wire {

Result<TcpView> TcpView::parse(std::span<const std::uint8_t> segment) {
    if (segment.size() < kTcpMinHeaderLen) return WireError::tcp_truncated;
    const std::size_t offset_bytes = (segment[12] >> 4) * 4u;
    if (offset_bytes < kTcpMinHeaderLen) return WireError::tcp_bad_data_offset;
    if (offset_bytes > segment.size()) return WireError::tcp_header_truncated;
    return TcpView(segment.data(), segment.size());
}

std::uint16_t TcpView::src_port() const { return load_be16(p_); }
std::uint16_t TcpView::dst_port() const { return load_be16(p_ + 2); }
SeqNum TcpView::seq() const { return SeqNum(load_be32(p_ + 4)); }
SeqNum TcpView::ack() const { return SeqNum(load_be32(p_ + 8)); }
std::uint16_t TcpView::window() const { return load_be16(p_ + 14); }
std::uint16_t TcpView::checksum() const { return load_be16(p_ + 16); }
std::uint16_t TcpView::urgent_ptr() const { return load_be16(p_ + 18); }

bool TcpView::checksum_ok(Ipv4Addr src, Ipv4Addr dst) const {
    if (len_ > 0xffff) return false;
    const auto ph =
        checksum::pseudo_header(src, dst, ipproto::tcp, static_cast<std::uint16_t>(len_));
    return checksum::verifies(checksum::accumulate(segment(), ph));
}

Result<TcpView> parse_tcp_checked(std::span<const std::uint8_t> segment, Ipv4Addr src,
                                  Ipv4Addr dst) {
    auto view = TcpView::parse(segment);
    if (view && !view->checksum_ok(src, dst)) return WireError::tcp_bad_checksum;
    return view;
}

Result<std::size_t> emit_tcp(const TcpRepr& r, Ipv4Addr src, Ipv4Addr dst,
                             std::span<std::uint8_t> out, ChecksumMode mode) {
    if (r.options.size() > kMaxTcpOptionsLen || r.options.size() % 4 != 0) {
        return WireError::tcp_opt_no_space;
    }
    const std::size_t hlen = r.header_len();
    const std::size_t total = r.segment_len();
    if (out.size() < total || total > 0xffff) return WireError::buffer_too_small;
    std::uint8_t* p = out.data();
    store_be16(p, r.src_port);
    store_be16(p + 2, r.dst_port);
    store_be32(p + 4, r.seq.raw());
    store_be32(p + 8, r.ack.raw());
    p[12] = static_cast<std::uint8_t>((hlen / 4) << 4);
    p[13] = r.flags;
    store_be16(p + 14, r.window);
    store_be16(p + 16, 0);
    store_be16(p + 18, r.urgent_ptr);
    if (!r.options.empty()) std::memcpy(p + kTcpMinHeaderLen, r.options.data(), r.options.size());
    if (!r.payload.empty() && r.payload.data() != p + hlen) {
        std::memmove(p + hlen, r.payload.data(), r.payload.size());
    }
    const std::uint16_t ph_len = mode == ChecksumMode::segmentation ? 0 : static_cast<std::uint16_t>(total);
    const auto ph = checksum::pseudo_header(src, dst, ipproto::tcp, ph_len);
    if (mode == ChecksumMode::full && r.payload_sum) {
        // The header is a multiple of 4 bytes, so the payload's sum lines up.
        const auto head = checksum::accumulate({p, hlen}, ph);
        store_be16(p + 16, checksum::finish(checksum::detail::add_carry(head, *r.payload_sum)));
    } else if (mode == ChecksumMode::full) {
        store_be16(p + 16, checksum::finish(checksum::accumulate({p, total}, ph)));
    } else {
        store_be16(p + 16, checksum::fold(ph));
    }
    return total;
}

}  // namespace tcpfp::wire
