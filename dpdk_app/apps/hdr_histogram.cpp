#include "dpdk_app/apps/hdr_histogram.hpp"

#include <cmath>

namespace tcpfp::app {

static_assert(HdrHistogram::kBuckets == HdrHistogram::bucket(HdrHistogram::kMaxValue) + 1);
static_assert(HdrHistogram::lower(HdrHistogram::kLinear) == HdrHistogram::kLinear);

void HdrHistogram::merge(const HdrHistogram& other) {
    for (std::size_t b = 0; b < kBuckets; ++b) counts_[b] += other.counts_[b];
    n_ += other.n_;
    sum_ += other.sum_;
    min_ = std::min(min_, other.min_);
    max_ = std::max(max_, other.max_);
}

void HdrHistogram::clear() { *this = HdrHistogram{}; }

double HdrHistogram::mean() const {
    if (n_ == 0) return 0;
    // Split so the integral part is exact before the one rounding division.
    const U128 whole = sum_ / n_;
    const U128 rest = sum_ % n_;
    return static_cast<double>(whole) + static_cast<double>(rest) / static_cast<double>(n_);
}

std::uint64_t HdrHistogram::percentile(double q) const {
    if (n_ == 0) return 0;
    if (q >= 1.0) return max_;  // exact even when max is above kMaxValue
    const double frac = q > 0 ? q : 0.0;  // NaN too
    const double want = std::ceil(frac * static_cast<double>(n_));
    const std::uint64_t rank = std::clamp<std::uint64_t>(static_cast<std::uint64_t>(want), 1, n_);
    std::uint64_t seen = 0;
    for (std::size_t b = 0; b < kBuckets; ++b) {
        seen += counts_[b];
        if (seen >= rank) {
            const std::uint64_t mid = lower(b) + (upper(b) - lower(b)) / 2;
            return std::clamp(mid, min(), max_);
        }
    }
    return max_;
}

}  // namespace tcpfp::app
