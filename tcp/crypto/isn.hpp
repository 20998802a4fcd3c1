// Initial sequence numbers per RFC 6528 §3 (and RFC 9293 §3.4.1, MUST-8):
//
//     ISN = M + F(localip, localport, remoteip, remoteport, secretkey)
//
// M is a 32-bit clock ticking every 4 µs, so a reused 4-tuple still sees its
// ISNs move forward; F is SipHash-2-4 of the 4-tuple under a secret key,
// truncated to 32 bits, so an off-path attacker cannot guess another
// connection's sequence space.
#pragma once

#include <cstdint>

#include "tcp/base/four_tuple.hpp"
#include "tcp/base/time.hpp"
#include "tcp/crypto/siphash.hpp"
#include "tcp/wire/seq.hpp"

namespace tcpfp::tcp {

class IsnGenerator {
public:
    // The secret comes from the caller (the application reads it from the
    // OS at start-up); tcp/ has no entropy source of its own.
    explicit IsnGenerator(SipKey secret) : secret_(secret) {}

    wire::SeqNum isn(const FourTuple& t, Instant now) const;

    // M: 250,000 ticks per second, wrapping every 2^32 ticks (about 4.8 h);
    // the wrap is harmless because sequence numbers compare modulo 2^32.
    static constexpr std::uint32_t clock(Instant now) {
        return static_cast<std::uint32_t>(now.micros() / 4);
    }

    // F: the per-connection offset, fixed for a tuple under one secret.
    // The tuple is hashed as 12 bytes: local ip, remote ip (4 bytes each),
    // local port, remote port (2 bytes each), every field little-endian.
    // That layout is internal; only its stability under one secret matters.
    std::uint32_t offset(const FourTuple& t) const;

private:
    SipKey secret_;
};

}  // namespace tcpfp::tcp
