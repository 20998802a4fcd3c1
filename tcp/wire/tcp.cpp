#include "tcp/wire/tcp.hpp"

#include <bit>
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

namespace {

// A big-endian value as the bytes it is stored as, read back in native
// order (what checksum::accumulate sums).
constexpr std::uint64_t in_memory64(std::uint64_t be) {
    return std::endian::native == std::endian::little ? __builtin_bswap64(be) : be;
}
constexpr std::uint32_t in_memory32(std::uint32_t be) {
    return std::endian::native == std::endian::little ? __builtin_bswap32(be) : be;
}

}  // namespace

Result<std::size_t> emit_tcp(const TcpRepr& r, Ipv4Addr src, Ipv4Addr dst,
                             std::span<std::uint8_t> out, ChecksumMode mode) {
    if (r.option_len() > kMaxTcpOptionsLen || r.options.size() % 4 != 0 ||
        (r.option_words.n > 0 && !r.options.empty())) {
        return WireError::tcp_opt_no_space;
    }
    const std::size_t hlen = r.header_len();
    const std::size_t total = r.segment_len();
    if (out.size() < total || total > 0xffff) return WireError::buffer_too_small;
    std::uint8_t* p = out.data();
    // The fixed header as two 8-byte words and one 4-byte word, built in
    // registers, stored once and summed from the registers: summing the
    // bytes back from memory right after narrow stores wrote them stalls
    // store forwarding on every segment.
    const std::uint64_t w0 = in_memory64((std::uint64_t{r.src_port} << 48) | (std::uint64_t{r.dst_port} << 32) |
                                         r.seq.raw());
    const std::uint64_t w1 = in_memory64((std::uint64_t{r.ack.raw()} << 32) | (std::uint64_t{hlen / 4 << 4} << 24) |
                                         (std::uint64_t{r.flags} << 16) | r.window);
    const std::uint32_t w2 = in_memory32(r.urgent_ptr);  // the checksum field (0) and the urgent pointer
    std::memcpy(p, &w0, 8);
    std::memcpy(p + 8, &w1, 8);
    std::memcpy(p + 16, &w2, 4);
    using checksum::detail::add_carry;
    std::uint64_t sum = add_carry(add_carry(w0, w1), w2);
    if (r.option_words.n > 0) {  // the same for options given as words
        for (std::size_t k = 0; k < r.option_words.n; ++k) {
            const std::uint32_t v = in_memory32(r.option_words.w[k]);
            std::memcpy(p + kTcpMinHeaderLen + 4 * k, &v, 4);
            sum = add_carry(sum, v);
        }
    } else if (!r.options.empty()) {
        std::memcpy(p + kTcpMinHeaderLen, r.options.data(), r.options.size());
    }
    if (!r.payload.empty() && r.payload.data() != p + hlen) {
        std::memmove(p + hlen, r.payload.data(), r.payload.size());
    }
    const std::uint16_t ph_len = mode == ChecksumMode::segmentation ? 0 : static_cast<std::uint16_t>(total);
    const auto ph = checksum::pseudo_header(src, dst, ipproto::tcp, ph_len);
    if (mode == ChecksumMode::full) {  // RFC 9293 §3.1, MUST-2: generated on send
        sum = add_carry(sum, ph);
        // Encoded options and payload in one call where they lie (both were
        // copied there with wide stores, which narrower loads forward from),
        // or the options alone when the caller summed the payload as it
        // copied it. Options given as words are summed already.
        const std::size_t encoded = r.options.size();
        if (r.payload_sum) {
            sum = add_carry(checksum::accumulate(r.options, sum), *r.payload_sum);
        } else if (encoded > 0 || !r.payload.empty()) {
            const std::size_t from = r.option_words.n > 0 ? hlen : kTcpMinHeaderLen;
            sum = checksum::accumulate({p + from, total - from}, sum);
        }
        store_be16(p + 16, checksum::finish(sum));
    } else {
        store_be16(p + 16, checksum::fold(ph));
    }
    return total;
}

}  // namespace tcpfp::wire
