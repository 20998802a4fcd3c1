// Latency in microseconds for the load tester: HdrHistogram-style log-linear
// buckets in a fixed array (no allocation). Values below 2 * 128 are exact;
// above, each power of two has 128 sub-buckets, so a bucket is at most 1/128
// of its lower bound wide (under 1 % relative error). Count, min, max and the
// sum are kept exactly beside the buckets.
#pragma once

#include <algorithm>
#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>

namespace tcpfp::app {

class HdrHistogram {
public:
    static constexpr std::uint64_t kMaxValue = 60'000'000;  // 60 s in us
    static constexpr unsigned kSubBits = 7;
    static constexpr std::uint64_t kSub = std::uint64_t{1} << kSubBits;  // sub-buckets per power of two
    static constexpr std::uint64_t kLinear = 2 * kSub;                   // exact below this

    // The bucket of a value: values below kLinear are their own bucket; above,
    // (shift << kSubBits) + (us >> shift) with shift = floor(log2 us) - kSubBits,
    // which numbers the log-linear buckets consecutively after the linear ones.
    static constexpr std::size_t bucket(std::uint64_t us) {
        const unsigned e = static_cast<unsigned>(std::bit_width(us | (kLinear - 1))) - 1;  // >= kSubBits
        const unsigned shift = e - kSubBits;
        return static_cast<std::size_t>((std::uint64_t{shift} << kSubBits) + (us >> shift));
    }
    static constexpr std::uint64_t lower(std::size_t b) {
        const unsigned shift = b < kLinear ? 0 : static_cast<unsigned>(b >> kSubBits) - 1;
        return (b - (std::uint64_t{shift} << kSubBits)) << shift;
    }
    static constexpr std::uint64_t upper(std::size_t b) {  // inclusive
        const unsigned shift = b < kLinear ? 0 : static_cast<unsigned>(b >> kSubBits) - 1;
        return lower(b) + (std::uint64_t{1} << shift) - 1;
    }
    // Up to the bucket holding kMaxValue (bucket(kMaxValue) + 1, spelled out
    // because bucket() is not usable here yet); larger values clamp into it.
    static constexpr unsigned kTopShift = static_cast<unsigned>(std::bit_width(kMaxValue)) - 1 - kSubBits;
    static constexpr std::size_t kBuckets = (std::size_t{kTopShift} << kSubBits) + (kMaxValue >> kTopShift) + 1;

    void record(std::uint64_t us) { record_n(us, 1); }
    void record_n(std::uint64_t us, std::uint64_t n) {
        counts_[bucket(std::min(us, kMaxValue))] += n;
        n_ += n;
        sum_ += static_cast<U128>(us) * n;
        min_ = std::min(min_, n != 0 ? us : UINT64_MAX);
        max_ = std::max(max_, n != 0 ? us : 0);
    }
    void merge(const HdrHistogram& other);
    void clear();

    std::uint64_t count() const { return n_; }
    std::uint64_t min() const { return n_ != 0 ? min_ : 0; }  // exact
    std::uint64_t max() const { return max_; }                // exact
    double mean() const;                                     // exact sum / count
    // The value at fraction q (0..1) of the samples: the midpoint of the bucket
    // holding the ceil(q * count)-th smallest sample, clamped to [min, max];
    // percentile(1.0) == max(); 0 when empty.
    std::uint64_t percentile(double q) const;

    // Non-empty buckets in increasing order: f(lower, upper_inclusive, count).
    template <class F>
    void for_each_bucket(F&& f) const {
        for (std::size_t b = 0; b < kBuckets; ++b) {
            if (counts_[b] != 0) f(lower(b), upper(b), counts_[b]);
        }
    }

private:
    __extension__ typedef unsigned __int128 U128;  // a sum of 2^64 samples of 2^64 us cannot wrap

    std::array<std::uint64_t, kBuckets> counts_{};
    std::uint64_t n_ = 0;
    std::uint64_t min_ = UINT64_MAX;
    std::uint64_t max_ = 0;
    U128 sum_ = 0;
};

}  // namespace tcpfp::app
