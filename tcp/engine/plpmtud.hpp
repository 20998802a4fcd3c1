// Packetization-layer path MTU discovery (RFC 4821) for one connection:
// the search range and the probe in flight. Few connections ever search,
// so it lives in an array beside the control blocks (Engine::plpmtud_, same
// index); the Tcb carries only the flags plpmtud and mtu_probe_out.
//
// Sizes are IPv4 packet sizes (the MTU a segment needs), not payloads.
#pragma once

#include <cstdint>

#include "tcp/engine/tcb.hpp"

namespace tcpfp::tcp {

struct PlpmtudState {
    // RFC 4821 §7.2: search_low is a size known to work (in use now);
    // search_high the largest that might. The search ends when they are
    // closer than kProbeThreshold.
    std::uint16_t search_low = 0;
    std::uint16_t search_high = 0;
    std::uint16_t max_mtu = 0;    // where a new search starts (the negotiated ceiling)
    std::uint16_t probe_mtu = 0;  // the size of the probe in flight
    bool top_tried = false;       // this search probed search_high itself
    SeqNum probe_start;           // the probe's sequence range
    SeqNum probe_end;
    TickMs reprobe_at = 0;        // when a finished search starts again (RFC 4821 §7.7)
};

namespace plpmtud {
// RFC 4821 §7.2: "a value of 1024 bytes is probably safe enough".
inline constexpr std::uint16_t kBaseMtu = 1024;
// RFC 1191 §3: every IPv4 path carries 576; a second black hole stops there.
inline constexpr std::uint16_t kFloorMtu = 576;
// Ranges narrower than this are not searched further (Linux's tcp_probe_threshold).
inline constexpr std::uint16_t kProbeThreshold = 8;
// A finished search starts again after 10 minutes (Linux's tcp_probe_interval;
// RFC 1191 §6.3's interval for raising the estimate).
inline constexpr TickMs kReprobeMs = 10 * 60 * 1000;
}  // namespace plpmtud

}  // namespace tcpfp::tcp
