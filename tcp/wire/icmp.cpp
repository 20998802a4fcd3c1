#include "tcp/wire/icmp.hpp"

#include <algorithm>
#include <cstring>

#include "tcp/wire/bytes.hpp"
#include "tcp/wire/checksum.hpp"

namespace tcpfp::wire {

Result<IcmpEcho> parse_icmp_echo(std::span<const std::uint8_t> m) {
    if (m.size() < kIcmpEchoHeaderLen) return WireError::icmp_truncated;
    if (!checksum::verifies(checksum::accumulate(m))) return WireError::icmp_bad_checksum;
    if (m[0] != icmp_type::echo_request && m[0] != icmp_type::echo_reply) {
        return WireError::icmp_not_echo;
    }
    IcmpEcho e;
    e.type = m[0];
    e.code = m[1];
    e.id = load_be16(m.data() + 4);
    e.seq = load_be16(m.data() + 6);
    e.data = m.subspan(kIcmpEchoHeaderLen);
    return e;
}

Result<std::size_t> emit_icmp_echo(const IcmpEcho& e, std::span<std::uint8_t> out) {
    const std::size_t len = kIcmpEchoHeaderLen + e.data.size();
    if (out.size() < len) return WireError::buffer_too_small;
    std::uint8_t* p = out.data();
    if (!e.data.empty()) std::memmove(p + kIcmpEchoHeaderLen, e.data.data(), e.data.size());
    p[0] = e.type;
    p[1] = e.code;
    store_be16(p + 2, 0);
    store_be16(p + 4, e.id);
    store_be16(p + 6, e.seq);
    store_be16(p + 2, checksum::finish(checksum::accumulate({p, len})));
    return len;
}

Result<IcmpError> parse_icmp_error(std::span<const std::uint8_t> m) {
    if (m.size() < kIcmpErrorHeaderLen) return WireError::icmp_truncated;
    if (!checksum::verifies(checksum::accumulate(m))) return WireError::icmp_bad_checksum;
    const std::uint8_t type = m[0];
    if (!is_icmp_error_type(type)) return WireError::icmp_not_error;
    const auto quoted = m.subspan(kIcmpErrorHeaderLen);
    // The quote is usually cut short of its total length: only the header
    // itself is checked, never the quoted length against the buffer.
    if (quoted.size() < 20 || (quoted[0] >> 4) != 4) return WireError::icmp_bad_quote;
    const std::size_t ihl = (quoted[0] & 0x0fu) * 4u;
    if (ihl < 20 || quoted.size() < ihl + 8) return WireError::icmp_bad_quote;
    IcmpError e;
    e.type = type;
    e.code = m[1];
    if (type == icmp_type::dest_unreachable && e.code == icmp_unreach::frag_needed) {
        e.next_hop_mtu = load_be16(m.data() + 6);
    }
    e.quoted_total_len = load_be16(quoted.data() + 2);
    e.quoted_protocol = quoted[9];
    e.quoted_src = Ipv4Addr{load_be32(quoted.data() + 12)};
    e.quoted_dst = Ipv4Addr{load_be32(quoted.data() + 16)};
    e.quoted_payload = quoted.subspan(ihl);
    return e;
}

Result<std::size_t> emit_icmp_error(std::uint8_t type, std::uint8_t code, std::uint16_t next_hop_mtu,
                                    std::span<const std::uint8_t> quoted, std::span<std::uint8_t> out) {
    if (quoted.size() < 20) return WireError::icmp_bad_quote;
    const std::size_t ihl = (quoted[0] & 0x0fu) * 4u;
    const std::size_t take = std::min(quoted.size(), ihl + 8);
    const std::size_t len = kIcmpErrorHeaderLen + take;
    if (out.size() < len) return WireError::buffer_too_small;
    std::uint8_t* p = out.data();
    std::memmove(p + kIcmpErrorHeaderLen, quoted.data(), take);
    p[0] = type;
    p[1] = code;
    store_be16(p + 2, 0);
    store_be16(p + 4, 0);
    store_be16(p + 6, next_hop_mtu);
    store_be16(p + 2, checksum::finish(checksum::accumulate({p, len})));
    return len;
}

WireError icmp_echo_request_to_reply_in_place(std::span<std::uint8_t> m) {
    if (m.size() < kIcmpEchoHeaderLen) return WireError::icmp_truncated;
    if (m[0] != icmp_type::echo_request) return WireError::icmp_not_echo;
    const auto old_word = load_be16(m.data());
    m[0] = icmp_type::echo_reply;
    const auto new_word = load_be16(m.data());
    std::uint16_t hc = checksum::update16(load_be16(m.data() + 2), old_word, new_word);
    // RFC 1624's update yields +0 (0x0000) when the words it covers sum to
    // -0; for a message whose other words are all zero (id 0, seq 0, zero
    // data) that fails every receiver's check, which wants the sum to be
    // 0xFFFF. -0 (0xFFFF) is the same value in one's complement and
    // verifies in every case, so it is stored instead (found by fuzz_wire).
    if (hc == 0) hc = 0xffff;
    store_be16(m.data() + 2, hc);
    return WireError::none;
}

}  // namespace tcpfp::wire
