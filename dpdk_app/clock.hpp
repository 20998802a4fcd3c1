// TSC cycles to engine time, read once per burst. Starts at one second so
// that 0 can mean "never" in millisecond fields.
#pragma once

#include <rte_cycles.h>

#include <cstdint>

#include "tcp/base/time.hpp"

namespace tcpfp::app {

class TscClock {
public:
    TscClock() : base_(rte_get_tsc_cycles()), us_per_cycle_(scale(rte_get_tsc_hz())) {}

    // A multiply and a shift, not two 64-bit divisions: this runs once per
    // loop iteration. The scale's rounding error is below 1e-11 relative
    // (40 bits of fraction), under a microsecond in a day.
    tcp::Instant now() const {
        const std::uint64_t c = rte_get_tsc_cycles() - base_;
        const auto us = static_cast<std::uint64_t>((static_cast<Wide>(c) * us_per_cycle_) >> kShift);
        return tcp::Instant::from_micros(us + 1000000u);
    }

private:
    __extension__ using Wide = unsigned __int128;
    static constexpr unsigned kShift = 40;
    // Microseconds per TSC cycle in 24.40 fixed point (hz >= 1 MHz assumed:
    // a TSC is a GHz counter).
    static std::uint64_t scale(std::uint64_t hz) {
        return static_cast<std::uint64_t>((static_cast<Wide>(1000000u) << kShift) / hz);
    }

    std::uint64_t base_;
    std::uint64_t us_per_cycle_;
};

}  // namespace tcpfp::app
