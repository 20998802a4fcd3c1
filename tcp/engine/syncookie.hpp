// SYN cookies (RFC 4987 §3.6): when a listener's SYN queue is full, the
// SYN-ACK's ISN carries everything needed to rebuild the connection from
// the final ACK, so a flood of spoofed SYNs costs no memory.
//
// ISS layout: [31:27] a 64-second time counter (mod 32), [26:24] an MSS
// index, [23:0] a keyed hash of the 4-tuple, the counter and the MSS index.
// When the peer offered timestamps, our SYN-ACK's TSval carries the window
// scale and SACK-permitted in its low 5 bits, and the ACK's TSecr echoes
// them back (the technique Linux uses; RFC 4987 §3.6 notes the loss of
// options as cookies' main cost).
#pragma once

#include <array>
#include <cstdint>
#include <optional>

#include "tcp/base/four_tuple.hpp"
#include "tcp/base/time.hpp"
#include "tcp/crypto/siphash.hpp"
#include "tcp/wire/seq.hpp"

namespace tcpfp::tcp {

// MSS values a cookie can carry: the largest not above the peer's is used.
inline constexpr std::array<std::uint16_t, 8> kCookieMss = {216,  536,  1024, 1220,
                                                             1300, 1400, 1440, 1460};

struct CookieOptions {
    std::uint16_t mss = 536;
    bool has_wscale = false;
    std::uint8_t wscale = 0;  // the peer's shift
    bool sack = false;
};

class SynCookies {
public:
    explicit SynCookies(SipKey secret) : secret_(secret) {}

    // The ISS for a SYN from `tuple` (our view: local = destination) whose
    // initial sequence number is `irs`, offering `peer_mss`.
    wire::SeqNum make(const FourTuple& tuple, wire::SeqNum irs, std::uint16_t peer_mss,
                      Instant now) const;
    // Checks the ACK of a cookie SYN-ACK (iss = SEG.ACK - 1, irs = SEG.SEQ - 1)
    // and returns the MSS it carried; nothing when forged or older than two
    // periods (64-128 s).
    std::optional<std::uint16_t> check(const FourTuple& tuple, wire::SeqNum irs, wire::SeqNum iss,
                                       Instant now) const;

    // Low TSval bits that carry window scale and SACK, and back.
    static std::uint32_t encode_ts(std::uint32_t ts_val, const CookieOptions& o);
    static void decode_ts(std::uint32_t ts_ecr, CookieOptions& o);
    // A per-tuple TSval offset, the same for the SYN-ACK and the connection.
    std::uint32_t ts_offset(const FourTuple& tuple) const;

private:
    std::uint32_t hash(const FourTuple& tuple, wire::SeqNum irs, std::uint32_t counter,
                       std::uint32_t mss_index) const;
    SipKey secret_;
};

}  // namespace tcpfp::tcp
