#include "dpdk_app/apps/pacer.hpp"

#include <algorithm>
#include <cmath>

namespace tcpfp::app {

void RatePacer::start(tcp::Instant now, double rate_per_s, tcp::Duration ramp, std::uint64_t burst) {
    *this = RatePacer{};
    start_ = now;
    rate_ = rate_per_s > 0 ? rate_per_s : 0.0;  // negative or NaN: unlimited, as 0
    ramp_us_ = static_cast<std::uint64_t>(std::max<std::int64_t>(ramp.as_micros(), 0));
    burst_ = std::max<std::uint64_t>(burst, 1);
}

std::uint64_t RatePacer::elapsed_us(tcp::Instant now) const {
    return now > start_ ? now.micros() - start_.micros() : 0;
}

double RatePacer::target_at(tcp::Instant now) const {
    const std::uint64_t e = elapsed_us(now);
    if (ramp_us_ == 0 || e >= ramp_us_) return rate_;
    return rate_ * static_cast<double>(e) / static_cast<double>(ramp_us_);
}

// The integral of target_at from start to now. During the ramp the rate is
// rate * e / T, so the area is rate * e^2 / (2T); after it, the ramp's
// triangle (rate * T / 2) plus the flat part: rate * (e - T / 2). Products
// are formed before the one division so integral rates stay exact.
std::uint64_t RatePacer::due(tcp::Instant now) const {
    if (rate_ == 0) return kUnlimited;
    const std::uint64_t e = elapsed_us(now);
    const double r = rate_;
    double starts;
    if (e < ramp_us_) {
        const double ed = static_cast<double>(e);
        starts = r * ed * ed / (2e6 * static_cast<double>(ramp_us_));
    } else {
        starts = r * static_cast<double>(2 * e - ramp_us_) / 2e6;
    }
    return static_cast<std::uint64_t>(std::floor(starts));
}

std::uint64_t RatePacer::available(tcp::Instant now) {
    if (rate_ == 0) return kUnlimited;
    const std::uint64_t d = due(now);
    const std::uint64_t spent = taken_ + missed_;
    if (d <= spent) return 0;
    const std::uint64_t backlog = d - spent;
    if (backlog <= burst_) return backlog;
    missed_ += backlog - burst_;  // fell behind: drop, never catch up in a burst
    return burst_;
}

void RatePacer::close_ms() {
    ms_sum_ += cur_count_;
    ms_sum_sq_ += static_cast<double>(cur_count_) * static_cast<double>(cur_count_);
    ms_max_ = std::max(ms_max_, cur_count_);
    cur_count_ = 0;
}

void RatePacer::take(std::uint64_t n, tcp::Instant now) {
    taken_ += n;
    const std::uint64_t ms = elapsed_us(now) / 1000;
    if (ms > cur_ms_) {  // the milliseconds skipped in between had no starts: nothing to add
        close_ms();
        cur_ms_ = ms;
    }
    cur_count_ += n;
}

RatePacer::Spread RatePacer::spread(tcp::Instant now) const {
    Spread s;
    s.ms = elapsed_us(now) / 1000;
    if (s.ms == 0) return s;
    std::uint64_t sum = ms_sum_, max = ms_max_;
    double sum_sq = ms_sum_sq_;
    if (cur_ms_ < s.ms) {  // the current millisecond is whole by now
        sum += cur_count_;
        sum_sq += static_cast<double>(cur_count_) * static_cast<double>(cur_count_);
        max = std::max(max, cur_count_);
    }
    const double w = static_cast<double>(s.ms);
    s.mean = static_cast<double>(sum) / w;
    s.stddev = std::sqrt(std::max(sum_sq / w - s.mean * s.mean, 0.0));
    s.max = max;
    return s;
}

}  // namespace tcpfp::app
