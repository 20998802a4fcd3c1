// TSC cycles to engine time, read once per burst. Starts at one second so
// that 0 can mean "never" in millisecond fields.
#pragma once

#include <rte_cycles.h>

#include <cstdint>

#include "tcp/base/time.hpp"

namespace tcpfp::app {

// The conversion, apart from the counter so that it can be tested: cycles
// since a base to microseconds, never backwards. The base is read where the
// worker is constructed (the main lcore) and the cycles on the worker's own
// CPU, whose TSC may lag by a little (a VM's vCPUs are not exactly in step):
// an unsigned difference then wrapped to 2^64 cycles, 278 years at 2.1 GHz
// (a generator under load reported elapsed_s = 8784145234). A reading below
// the base, or below the last one, gives the last time again.
class TscScale {
public:
    TscScale(std::uint64_t base, std::uint64_t hz) : base_(base), us_per_cycle_(scale(hz)) {}

    tcp::Instant at(std::uint64_t cycles) {
        const auto since = static_cast<std::int64_t>(cycles - base_);
        if (since > 0) {
            // A multiply and a shift, not two 64-bit divisions: this runs once
            // per loop iteration. The scale has 64 bits of fraction, rounded
            // up, so a whole number of seconds of cycles is exact and the
            // error stays under a microsecond for centuries.
            const auto us = static_cast<std::uint64_t>(
                (static_cast<Wide>(static_cast<std::uint64_t>(since)) * us_per_cycle_) >> kShift);
            if (us > last_us_) last_us_ = us;
        }
        return tcp::Instant::from_micros(last_us_ + 1000000u);
    }

private:
    __extension__ using Wide = unsigned __int128;
    static constexpr unsigned kShift = 64;
    // Microseconds per TSC cycle in 0.64 fixed point, rounded up (hz above
    // 1 MHz assumed: a TSC is a GHz counter). 40 bits of fraction, as
    // before, lost 6 us an hour at 2.1 GHz.
    static std::uint64_t scale(std::uint64_t hz) {
        return static_cast<std::uint64_t>(((static_cast<Wide>(1000000u) << kShift) + hz - 1) / hz);
    }

    std::uint64_t base_;
    std::uint64_t us_per_cycle_;
    std::uint64_t last_us_ = 0;
};

// One per worker, read by that worker only.
class TscClock {
public:
    TscClock() : scale_(rte_get_tsc_cycles(), rte_get_tsc_hz()) {}
    tcp::Instant now() {
        cycles_ = rte_get_tsc_cycles();
        return scale_.at(cycles_);
    }
    // The TSC as the last now() read it: finer than an Instant's microsecond.
    std::uint64_t last_cycles() const { return cycles_; }

private:
    TscScale scale_;
    std::uint64_t cycles_ = 0;
};

}  // namespace tcpfp::app
