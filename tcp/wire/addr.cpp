#include "tcp/wire/addr.hpp"

#include <cstdio>

namespace tcpfp::wire {

std::optional<Ipv4Addr> Ipv4Addr::parse(std::string_view text) {
    std::uint32_t value = 0;
    std::size_t pos = 0;
    for (int octet = 0; octet < 4; ++octet) {
        if (octet > 0) {
            if (pos >= text.size() || text[pos] != '.') return std::nullopt;
            ++pos;
        }
        std::uint32_t n = 0;
        std::size_t digits = 0;
        while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9' && digits < 4) {
            n = n * 10 + static_cast<std::uint32_t>(text[pos] - '0');
            ++pos;
            ++digits;
        }
        if (digits == 0 || digits > 3 || n > 255) return std::nullopt;
        value = (value << 8) | n;
    }
    if (pos != text.size()) return std::nullopt;
    return Ipv4Addr{value};
}

std::string Ipv4Addr::to_string() const {
    char buf[16];
    std::snprintf(buf, sizeof buf, "%u.%u.%u.%u", (value >> 24) & 0xffu, (value >> 16) & 0xffu,
                  (value >> 8) & 0xffu, value & 0xffu);
    return buf;
}

namespace {
int hex_digit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}
}  // namespace

std::optional<MacAddr> MacAddr::parse(std::string_view text) {
    if (text.size() != 17) return std::nullopt;
    MacAddr mac;
    for (std::size_t i = 0; i < 6; ++i) {
        const int hi = hex_digit(text[i * 3]);
        const int lo = hex_digit(text[i * 3 + 1]);
        if (hi < 0 || lo < 0) return std::nullopt;
        if (i < 5 && text[i * 3 + 2] != ':') return std::nullopt;
        mac.bytes[i] = static_cast<std::uint8_t>(hi * 16 + lo);
    }
    return mac;
}

std::string MacAddr::to_string() const {
    char buf[18];
    std::snprintf(buf, sizeof buf, "%02x:%02x:%02x:%02x:%02x:%02x", bytes[0], bytes[1], bytes[2],
                  bytes[3], bytes[4], bytes[5]);
    return buf;
}

}  // namespace tcpfp::wire
