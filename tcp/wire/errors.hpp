// Why a frame could not be parsed or built. One list, declared once: each
// entry becomes a drop-reason counter in the engine and the application.
#pragma once

#include <cstddef>
#include <cstdint>
#include <utility>

namespace tcpfp::wire {

// X(name, description)
#define TCPFP_WIRE_ERRORS(X)                                                   \
    X(none, "no error")                                                        \
    X(buffer_too_small, "output buffer too small for the frame being built")   \
    X(eth_truncated, "Ethernet header truncated")                              \
    X(eth_vlan_dropped, "802.1Q/802.1ad tagged frame dropped by VLAN policy")  \
    X(eth_vlan_too_deep, "more than two VLAN tags")                            \
    X(arp_truncated, "ARP packet truncated")                                   \
    X(arp_unsupported_format, "ARP hardware/protocol type or length not Ethernet/IPv4") \
    X(arp_bad_opcode, "ARP opcode is neither request nor reply")               \
    X(ip_truncated, "IPv4 packet shorter than the minimal header")             \
    X(ip_bad_version, "IP version is not 4")                                   \
    X(ip_bad_ihl, "IPv4 IHL below 5")                                          \
    X(ip_header_truncated, "IPv4 IHL runs past the buffer")                    \
    X(ip_bad_total_length, "IPv4 total length shorter than its header")        \
    X(ip_length_exceeds_buffer, "IPv4 total length runs past the buffer")      \
    X(ip_bad_checksum, "IPv4 header checksum mismatch")                        \
    X(icmp_truncated, "ICMP message truncated")                                \
    X(icmp_bad_checksum, "ICMP checksum mismatch")                             \
    X(icmp_not_echo, "ICMP message is not an echo request or reply")           \
    X(icmp_not_error, "ICMP message is not an error TCP acts on")              \
    X(icmp_bad_quote, "ICMP error quotes no whole IPv4 header and 8 bytes")    \
    X(tcp_truncated, "TCP segment shorter than the minimal header")            \
    X(tcp_bad_data_offset, "TCP data offset below 5")                          \
    X(tcp_header_truncated, "TCP data offset runs past the segment")           \
    X(tcp_bad_checksum, "TCP checksum mismatch")                               \
    X(tcp_opt_truncated, "TCP option kind without its length byte")            \
    X(tcp_opt_bad_length, "TCP option length 0 or 1")                          \
    X(tcp_opt_overrun, "TCP option runs past the header")                      \
    X(tcp_opt_mss_length, "TCP MSS option length is not 4")                    \
    X(tcp_opt_wscale_length, "TCP window scale option length is not 3")        \
    X(tcp_opt_sack_permitted_length, "TCP SACK-permitted option length is not 2") \
    X(tcp_opt_sack_length, "TCP SACK option length is not 2+8n with 1<=n<=4")  \
    X(tcp_opt_timestamps_length, "TCP timestamps option length is not 10")     \
    X(tcp_opt_no_space, "TCP options exceed the 40-byte option space")

enum class WireError : std::uint8_t {
#define TCPFP_X(name, desc) name,
    TCPFP_WIRE_ERRORS(TCPFP_X)
#undef TCPFP_X
};

inline constexpr std::size_t kWireErrorCount = 0
#define TCPFP_X(name, desc) +1
    TCPFP_WIRE_ERRORS(TCPFP_X)
#undef TCPFP_X
    ;

// Stable identifier, usable as a counter name ("ip_bad_checksum").
const char* name(WireError e);
// One-line human description.
const char* describe(WireError e);

// A parsed value or the reason it could not be had. T must be cheap to
// default-construct and copy (views, small structs).
template <class T>
class [[nodiscard]] Result {
public:
    constexpr Result(T value) : value_(std::move(value)) {}  // NOLINT: implicit by design
    constexpr Result(WireError error) : error_(error) {}     // NOLINT: implicit by design

    constexpr bool ok() const { return error_ == WireError::none; }
    constexpr explicit operator bool() const { return ok(); }
    constexpr WireError error() const { return error_; }
    constexpr const T& value() const { return value_; }
    constexpr T& value() { return value_; }
    constexpr const T* operator->() const { return &value_; }
    constexpr const T& operator*() const { return value_; }

private:
    T value_{};
    WireError error_ = WireError::none;
};

}  // namespace tcpfp::wire
