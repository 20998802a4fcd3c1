// Congestion control (RFC 5681 slow start and congestion avoidance, RFC 6582
// NewReno, RFC 9438 CUBIC) behind three calls the engine makes. The
// algorithm is chosen per connection; dispatch is a switch on Tcb::cc.
#pragma once

#include <cstdint>

#include "tcp/engine/tcb.hpp"

namespace tcpfp::tcp::cc {

// An ACK advanced SND.UNA by `acked` bytes outside loss recovery.
void on_ack(Tcb& t, std::uint32_t acked, TickMs now_ms);

// A loss was detected (fast retransmit or RTO): returns the new ssthresh
// and records what the algorithm needs for the next epoch.
std::uint32_t on_congestion(Tcb& t, std::uint32_t flight);

}  // namespace tcpfp::tcp::cc
