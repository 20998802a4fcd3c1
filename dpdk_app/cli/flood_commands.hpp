// The prompt's SYN flood commands (start/stop/wait/show flood): the flood
// family's messages (dpdk_app/apps/flood.hpp) to every worker. Their state
// is one FloodState, owned by the prompt's PromptState.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "dpdk_app/apps/flood.hpp"
#include "dpdk_app/cli/prompt.hpp"

namespace tcpfp::app::cli {

struct FloodState {
    using Clock = std::chrono::steady_clock;
    struct Totals {
        std::uint64_t sent = 0, no_mbuf = 0, elapsed_us = 0;
        unsigned running = 0;
        bool started = false;
    };

    explicit FloodState(PromptState& prompt) : st(prompt) {}
    void start_flood(const Args& a, bool with_source);
    void stop_flood();
    void wait_flood();
    void show_flood(bool json);
    void shutdown();

    PromptState& st;
    bool started = false;
    FloodSpec spec;  // the whole flood (rate: the total)
    std::uint64_t runs = 0;
    Clock::time_point ends;  // when the last flood's duration is over

private:
    unsigned workers() const { return st.workers(); }
    bool overlaps_local(const FloodSpec& s) const;
    bool collect(Totals& t);
    void print(const Totals& t, bool json) const;
    bool need_run(const char* what);
};

}  // namespace tcpfp::app::cli
