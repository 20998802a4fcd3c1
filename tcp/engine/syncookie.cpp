#include "tcp/engine/syncookie.hpp"

namespace tcpfp::tcp {

namespace {
constexpr std::uint64_t kPeriodUs = 64'000'000;  // RFC 4987 §3.6's "t", as in Linux: 64 s

std::uint32_t counter_at(Instant now) { return static_cast<std::uint32_t>(now.micros() / kPeriodUs); }
}  // namespace

std::uint32_t SynCookies::hash(const FourTuple& t, wire::SeqNum irs, std::uint32_t counter,
                               std::uint32_t mss_index) const {
    const std::uint64_t a = (std::uint64_t{t.local_ip.value} << 32) | t.remote_ip.value;
    const std::uint64_t b = (std::uint64_t{t.local_port} << 48) | (std::uint64_t{t.remote_port} << 32) |
                            irs.raw();
    const std::uint64_t h = siphash24_u64x2(secret_, a, b ^ (std::uint64_t{counter} << 3 | mss_index));
    return static_cast<std::uint32_t>(h) & 0x00ffffffu;
}

wire::SeqNum SynCookies::make(const FourTuple& tuple, wire::SeqNum irs, std::uint16_t peer_mss,
                              Instant now) const {
    std::uint32_t index = 0;
    for (std::uint32_t i = 0; i < kCookieMss.size(); ++i) {
        if (kCookieMss[i] <= peer_mss) index = i;
    }
    const std::uint32_t counter = counter_at(now) & 31u;
    return wire::SeqNum((counter << 27) | (index << 24) | hash(tuple, irs, counter, index));
}

std::optional<std::uint16_t> SynCookies::check(const FourTuple& tuple, wire::SeqNum irs,
                                               wire::SeqNum iss, Instant now) const {
    const std::uint32_t v = iss.raw();
    const std::uint32_t counter = v >> 27;
    const std::uint32_t index = (v >> 24) & 7u;
    const std::uint32_t current = counter_at(now) & 31u;
    const std::uint32_t age = (current - counter) & 31u;
    if (age > 1) return std::nullopt;  // older than two periods
    if ((v & 0x00ffffffu) != hash(tuple, irs, counter, index)) return std::nullopt;
    return kCookieMss[index];
}

std::uint32_t SynCookies::encode_ts(std::uint32_t ts_val, const CookieOptions& o) {
    const std::uint32_t ws = o.has_wscale ? o.wscale : 15u;  // 15: no window scaling
    const std::uint32_t ts = (ts_val & ~0x1fu) | (o.sack ? 0x10u : 0u) | (ws & 0x0fu);
    // RFC 7323 §5.3 (PAWS): the SYN-ACK's TSval becomes the peer's TS.Recent,
    // so it must not run ahead of the clock our later segments use: the peer
    // would drop them as old until the clock caught up (found by the SYN
    // flood over the memif pair: every cookie connection waited for a TLP).
    // Step back one 32-tick period instead, as Linux's cookie_init_timestamp.
    return static_cast<std::int32_t>(ts - ts_val) > 0 ? ts - 0x20u : ts;
}

void SynCookies::decode_ts(std::uint32_t ts_ecr, CookieOptions& o) {
    const std::uint32_t ws = ts_ecr & 0x0fu;
    o.has_wscale = ws != 15u;
    o.wscale = static_cast<std::uint8_t>(o.has_wscale ? ws : 0);
    o.sack = (ts_ecr & 0x10u) != 0;
}

std::uint32_t SynCookies::ts_offset(const FourTuple& t) const {
    const std::uint64_t a = (std::uint64_t{t.local_ip.value} << 32) | t.remote_ip.value;
    const std::uint64_t b = (std::uint64_t{t.local_port} << 16) | t.remote_port;
    return static_cast<std::uint32_t>(siphash24_u64x2(secret_, a, ~b) >> 32);
}

}  // namespace tcpfp::tcp
