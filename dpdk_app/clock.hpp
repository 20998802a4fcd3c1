// TSC cycles to engine time, read once per burst. Starts at one second so
// that 0 can mean "never" in millisecond fields.
#pragma once

#include <rte_cycles.h>

#include <cstdint>

#include "tcp/base/time.hpp"

namespace tcpfp::app {

class TscClock {
public:
    TscClock() : hz_(rte_get_tsc_hz()), base_(rte_get_tsc_cycles()) {}

    tcp::Instant now() const {
        const std::uint64_t c = rte_get_tsc_cycles() - base_;
        // Split to avoid overflowing c * 1e6 (after ~2 hours at 3 GHz).
        const std::uint64_t us = c / hz_ * 1000000u + c % hz_ * 1000000u / hz_;
        return tcp::Instant::from_micros(us + 1000000u);
    }

private:
    std::uint64_t hz_;
    std::uint64_t base_;
};

}  // namespace tcpfp::app
