// Per-connection congestion-control selection and the little state CUBIC
// keeps (RFC 9438 §4); kept apart so the control block can embed it.
#pragma once

#include <cstdint>

namespace tcpfp::tcp {

// Chosen per connection (SockOpt::congestion); dispatch is a switch, so an
// algorithm added here costs no indirect call per ACK.
enum class CongestionControl : std::uint8_t {
    newreno,  // RFC 5681 + RFC 6582
    cubic,    // RFC 9438 (the Linux default)
};

struct CubicState {
    std::uint32_t w_max = 0;        // bytes, window before the last reduction
    std::uint32_t epoch_start = 0;  // low 32 bits of the ms tick the epoch began, plus 1; 0 = none
    std::uint32_t k_ms = 0;         // time to climb back to w_max
    std::uint32_t w_est = 0;        // bytes, the Reno-friendly estimate (§4.3)
};

}  // namespace tcpfp::tcp
