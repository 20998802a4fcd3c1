#include "tcp/engine/congestion.hpp"

#include <algorithm>
#include <cmath>

namespace tcpfp::tcp::cc {

namespace {

constexpr double kCubicC = 0.4;     // RFC 9438 §4.1: C, segments per second^3
constexpr double kCubicBeta = 0.7;  // RFC 9438 §4.6: beta_cubic
// RFC 9438 §4.3: alpha_cubic = 3 * (1 - beta) / (1 + beta).
constexpr double kCubicAlpha = 3.0 * (1.0 - kCubicBeta) / (1.0 + kCubicBeta);

// RFC 5681 §3.1: one SMSS per RTT, counted per ACK.
void reno_avoidance(Tcb& t, std::uint32_t acked) {
    (void)acked;
    t.cwnd += std::max<std::uint32_t>(1, t.snd_mss * t.snd_mss / std::max(t.cwnd, 1u));
}

// RFC 9438 §4.2-4.5, in bytes.
void cubic_avoidance(Tcb& t, std::uint32_t acked, TickMs now_ms) {
    CubicState& c = t.cubic;
    const double mss = t.snd_mss;
    const auto now32 = static_cast<std::uint32_t>(now_ms);
    if (c.epoch_start == 0) {
        c.epoch_start = now32 + 1;  // stored +1: 0 means "no epoch"
        // §4.2: K = cubic_root((W_max - cwnd_epoch) / C), in segments.
        const double gap = c.w_max > t.cwnd ? (c.w_max - t.cwnd) / mss : 0.0;
        c.k_ms = static_cast<std::uint32_t>(std::cbrt(gap / kCubicC) * 1000.0);
        if (c.w_max < t.cwnd) c.w_max = t.cwnd;
        c.w_est = t.cwnd;
    }
    // §4.2: target = W_cubic(t + RTT).
    const double rtt_s = t.srtt_us / 1e6;
    const double elapsed = static_cast<double>(now32 - (c.epoch_start - 1)) / 1000.0 + rtt_s;
    const double d = elapsed - c.k_ms / 1000.0;
    double target = c.w_max + kCubicC * d * d * d * mss;
    target = std::clamp(target, static_cast<double>(t.cwnd), 1.5 * t.cwnd);  // §4.4: at most 1.5x
    // §4.3: the Reno-friendly estimate grows alpha segments per RTT.
    c.w_est += static_cast<std::uint32_t>(kCubicAlpha * mss * acked / std::max(t.cwnd, 1u));
    if (target <= c.w_est) {
        t.cwnd = std::max(t.cwnd, c.w_est);  // Reno-friendly region
        return;
    }
    // §4.4/4.5: concave and convex regions, (target - cwnd) / cwnd per SMSS acked.
    const double inc = (target - t.cwnd) * acked / t.cwnd;
    t.cwnd += std::max<std::uint32_t>(static_cast<std::uint32_t>(inc), acked >= t.snd_mss ? 1u : 0u);
}

}  // namespace

void on_ack(Tcb& t, std::uint32_t acked, TickMs now_ms) {
    if (acked == 0) return;
    if (t.cwnd < t.ssthresh) {
        // RFC 5681 §3.1 slow start (RFC 3465 L=1: at most one SMSS per ACK).
        t.cwnd += std::min<std::uint32_t>(acked, t.snd_mss);
        return;
    }
    switch (t.cc) {
        case CongestionControl::newreno:
            reno_avoidance(t, acked);
            return;
        case CongestionControl::cubic:
            cubic_avoidance(t, acked, now_ms);
            return;
    }
}

std::uint32_t on_congestion(Tcb& t, std::uint32_t flight) {
    const std::uint32_t floor = 2u * t.snd_mss;
    switch (t.cc) {
        case CongestionControl::newreno:
            // RFC 5681 eq. 4: ssthresh = max(FlightSize / 2, 2*SMSS).
            return std::max(flight / 2, floor);
        case CongestionControl::cubic: {
            CubicState& c = t.cubic;
            // §4.7 fast convergence: release bandwidth to newer flows.
            const std::uint32_t cwnd = t.cwnd;
            c.w_max = cwnd < c.w_max ? static_cast<std::uint32_t>(cwnd * (1.0 + kCubicBeta) / 2.0) : cwnd;
            c.epoch_start = 0;
            // §4.6: ssthresh = cwnd * beta_cubic.
            return std::max(static_cast<std::uint32_t>(cwnd * kCubicBeta), floor);
        }
    }
    return std::max(flight / 2, floor);
}

}  // namespace tcpfp::tcp::cc
