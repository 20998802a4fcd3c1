#include "tcp/wire/ipv4.hpp"

#include "tcp/wire/bytes.hpp"
#include "tcp/wire/checksum.hpp"

namespace tcpfp::wire {

Result<Ipv4View> parse_ipv4_checked(std::span<const std::uint8_t> packet) {
    auto view = Ipv4View::parse(packet);
    if (view && !view->checksum_ok()) return WireError::ip_bad_checksum;
    return view;
}

namespace {

// RFC 791's header checksum (RFC 1071's sum over the ten 16-bit words),
// taken from the field values, not from the bytes just stored: a wide load
// of bytes written by narrow stores moments before cannot be forwarded from
// the store buffer and stalls until they reach the cache, on every frame.
std::uint16_t header_checksum(const Ipv4Repr& r, std::uint16_t total_len, std::uint16_t frag) {
    std::uint32_t sum = (0x4500u | r.tos) + total_len + r.id + frag + ((std::uint32_t{r.ttl} << 8) | r.protocol) +
                        (r.src.value >> 16) + (r.src.value & 0xffffu) + (r.dst.value >> 16) +
                        (r.dst.value & 0xffffu);
    sum = (sum & 0xffffu) + (sum >> 16);
    sum = (sum & 0xffffu) + (sum >> 16);
    return static_cast<std::uint16_t>(~sum);
}

}  // namespace

Result<std::size_t> emit_ipv4(const Ipv4Repr& r, std::span<std::uint8_t> out, ChecksumMode mode) {
    if (out.size() < kIpv4MinHeaderLen) return WireError::buffer_too_small;
    if (r.payload_len > 0xffff - kIpv4MinHeaderLen) return WireError::buffer_too_small;
    std::uint8_t* p = out.data();
    const auto total_len = static_cast<std::uint16_t>(kIpv4MinHeaderLen + r.payload_len);
    const std::uint16_t frag = r.dont_fragment ? 0x4000 : 0;
    p[0] = 0x45;
    p[1] = r.tos;
    store_be16(p + 2, total_len);
    store_be16(p + 4, r.id);
    store_be16(p + 6, frag);
    p[8] = r.ttl;
    p[9] = r.protocol;
    store_be16(p + 10, mode == ChecksumMode::full ? header_checksum(r, total_len, frag) : 0);
    store_be32(p + 12, r.src.value);
    store_be32(p + 16, r.dst.value);
    return kIpv4MinHeaderLen;
}

}  // namespace tcpfp::wire
