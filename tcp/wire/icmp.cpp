#include "tcp/wire/icmp.hpp"

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
