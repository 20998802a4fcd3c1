// Open-loop pacing for the load tester: connection (or request) starts are
// due on a fixed schedule, a rate that rises linearly over a ramp and then
// stays, independent of how fast the server answers (so a slow server cannot
// slow the offered load: no coordinated omission). A worker that falls
// behind loses the backlog beyond `burst` instead of bursting to catch up,
// and the loss is counted. Fixed state, nothing allocated; time comes in as
// tcp::Instant, never from a clock.
#pragma once

#include <cstdint>

#include "tcp/base/time.hpp"

namespace tcpfp::app {

class RatePacer {
public:
    static constexpr std::uint64_t kUnlimited = UINT64_MAX / 2;

    // rate_per_s == 0: unlimited (available() is always kUnlimited).
    // The schedule: the rate rises linearly from 0 to rate_per_s over `ramp`
    // (Duration zero: no ramp), then stays. due(t) is the exact integral of
    // that curve from `start` to t (floor), so the long-run count is exact.
    // A burst of 0 is taken as 1: otherwise nothing could ever start.
    void start(tcp::Instant now, double rate_per_s, tcp::Duration ramp, std::uint64_t burst);
    // The ramped rate at now (per s); 0 when unlimited.
    double target_at(tcp::Instant now) const;
    // Starts the schedule allowed by now; kUnlimited when unlimited.
    std::uint64_t due(tcp::Instant now) const;
    // Credits that may be spent now: due - taken - missed. When that backlog
    // exceeds `burst` (the worker fell behind: descheduled, or no free
    // connection), the excess is dropped and counted in missed(), so a late
    // worker never bursts.
    std::uint64_t available(tcp::Instant now);
    void take(std::uint64_t n, tcp::Instant now);  // n starts made now (also feeds the spread)
    std::uint64_t taken() const { return taken_; }
    std::uint64_t missed() const { return missed_; }

    // Per-millisecond spread of the starts since start(): over every whole
    // millisecond elapsed (those with no start count as 0), the mean, the
    // standard deviation and the largest count in one millisecond. `now`
    // should not be before the last take().
    struct Spread {
        std::uint64_t ms = 0;
        double mean = 0, stddev = 0;
        std::uint64_t max = 0;
    };
    Spread spread(tcp::Instant now) const;

private:
    std::uint64_t elapsed_us(tcp::Instant now) const;
    void close_ms();

    tcp::Instant start_;
    double rate_ = 0;          // per second; 0: unlimited
    std::uint64_t ramp_us_ = 0;
    std::uint64_t burst_ = 1;
    std::uint64_t taken_ = 0;
    std::uint64_t missed_ = 0;
    // The spread: the millisecond being counted, and sums over the closed ones.
    std::uint64_t cur_ms_ = 0;
    std::uint64_t cur_count_ = 0;
    std::uint64_t ms_sum_ = 0;
    double ms_sum_sq_ = 0;
    std::uint64_t ms_max_ = 0;
};

}  // namespace tcpfp::app
