// TCP headers (RFC 9293 §3.1): a checked view for parsing and a repr for
// building, with the checksum over the IPv4 pseudo-header.
#pragma once

#include <cstdint>
#include <optional>
#include <span>

#include "tcp/wire/addr.hpp"
#include "tcp/wire/errors.hpp"
#include "tcp/wire/ipv4.hpp"
#include "tcp/wire/seq.hpp"
#include "tcp/wire/tcp_options.hpp"

namespace tcpfp::wire {

inline constexpr std::size_t kTcpMinHeaderLen = 20;
inline constexpr std::size_t kTcpMaxHeaderLen = 60;

// The eight control bits in the order of the header byte.
namespace tcp_flag {
inline constexpr std::uint8_t fin = 0x01;
inline constexpr std::uint8_t syn = 0x02;
inline constexpr std::uint8_t rst = 0x04;
inline constexpr std::uint8_t psh = 0x08;
inline constexpr std::uint8_t ack = 0x10;
inline constexpr std::uint8_t urg = 0x20;
inline constexpr std::uint8_t ece = 0x40;
inline constexpr std::uint8_t cwr = 0x80;
}  // namespace tcp_flag

// A structurally valid TCP header over borrowed bytes: data offset 5..15
// and within the segment. Options are not decoded here (see
// parse_tcp_options) so the fast path pays only for what it reads.
class TcpView {
public:
    static Result<TcpView> parse(std::span<const std::uint8_t> segment);

    TcpView() = default;

    std::uint16_t src_port() const;
    std::uint16_t dst_port() const;
    SeqNum seq() const;
    SeqNum ack() const;
    std::uint8_t header_len() const { return static_cast<std::uint8_t>((p_[12] >> 4) * 4); }
    std::uint8_t reserved_bits() const { return p_[12] & 0x0f; }
    std::uint8_t flags() const { return p_[13]; }
    bool has(std::uint8_t flag) const { return (p_[13] & flag) != 0; }
    std::uint16_t window() const;
    std::uint16_t checksum() const;
    std::uint16_t urgent_ptr() const;
    std::span<const std::uint8_t> options() const { return {p_ + 20, header_len() - 20u}; }
    std::span<const std::uint8_t> payload() const { return {p_ + header_len(), len_ - header_len()}; }
    std::span<const std::uint8_t> segment() const { return {p_, len_}; }

    // RFC 9293 §3.1: the checksum covers pseudo-header, header and data
    // (MUST-2/MUST-3: generated on send, checked on receipt).
    bool checksum_ok(Ipv4Addr src, Ipv4Addr dst) const;

private:
    TcpView(const std::uint8_t* p, std::size_t len) : p_(p), len_(len) {}
    const std::uint8_t* p_ = nullptr;
    std::size_t len_ = 0;
};

// Structure check plus checksum: the software receive path.
Result<TcpView> parse_tcp_checked(std::span<const std::uint8_t> segment, Ipv4Addr src,
                                  Ipv4Addr dst);

struct TcpRepr {
    std::uint16_t src_port = 0;
    std::uint16_t dst_port = 0;
    SeqNum seq;
    SeqNum ack;
    std::uint8_t flags = 0;
    std::uint16_t window = 0;
    std::uint16_t urgent_ptr = 0;
    std::span<const std::uint8_t> options;  // encoded, a multiple of 4, at most 40 bytes
    std::span<const std::uint8_t> payload;
    // The payload's running sum (checksum::accumulate) when whoever put it
    // in place summed it on the way (copy_accumulate): emit_tcp then sums
    // only the header. Used with ChecksumMode::full.
    std::optional<std::uint64_t> payload_sum;
    // Options as words (write_tcp_option_words), which emit_tcp writes and
    // sums from registers; `options` must then be empty.
    TcpOptionWords option_words;

    std::size_t option_len() const { return options.size() + option_words.size(); }
    std::size_t header_len() const { return kTcpMinHeaderLen + option_len(); }
    std::size_t segment_len() const { return header_len() + payload.size(); }
};

// Writes header, options and payload to `out` and fills in the checksum:
// the full checksum, or for TX offload the folded pseudo-header sum the NIC
// expects. Payload may already sit in place at out[header_len()].
Result<std::size_t> emit_tcp(const TcpRepr& repr, Ipv4Addr src, Ipv4Addr dst,
                             std::span<std::uint8_t> out, ChecksumMode mode = ChecksumMode::full);

}  // namespace tcpfp::wire
