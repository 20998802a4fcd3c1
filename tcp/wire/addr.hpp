// Addresses as value types: IPv4 in host byte order, MAC as six bytes.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace tcpfp::wire {

struct Ipv4Addr {
    std::uint32_t value = 0;  // host byte order: 172.16.48.1 == 0xac103001

    static constexpr Ipv4Addr from_octets(std::uint8_t a, std::uint8_t b, std::uint8_t c,
                                          std::uint8_t d) {
        return Ipv4Addr{(std::uint32_t{a} << 24) | (std::uint32_t{b} << 16) |
                        (std::uint32_t{c} << 8) | std::uint32_t{d}};
    }
    // Dotted quad, exactly four decimal octets 0..255 without leading signs.
    static std::optional<Ipv4Addr> parse(std::string_view text);
    std::string to_string() const;

    constexpr bool is_unspecified() const { return value == 0; }
    constexpr bool is_broadcast() const { return value == 0xffffffffu; }
    constexpr bool is_multicast() const { return (value >> 28) == 0xe; }  // 224.0.0.0/4
    constexpr bool is_loopback() const { return (value >> 24) == 127; }

    friend constexpr bool operator==(Ipv4Addr, Ipv4Addr) = default;
    friend constexpr auto operator<=>(Ipv4Addr, Ipv4Addr) = default;
};

struct MacAddr {
    std::array<std::uint8_t, 6> bytes{};

    static constexpr MacAddr broadcast() { return MacAddr{{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}}; }
    // "02:00:00:00:00:01" (hex pairs separated by ':').
    static std::optional<MacAddr> parse(std::string_view text);
    std::string to_string() const;

    constexpr bool is_broadcast() const { return *this == broadcast(); }
    constexpr bool is_multicast() const { return (bytes[0] & 1u) != 0; }  // includes broadcast
    constexpr bool is_zero() const { return *this == MacAddr{}; }

    friend constexpr bool operator==(const MacAddr&, const MacAddr&) = default;
};

}  // namespace tcpfp::wire
