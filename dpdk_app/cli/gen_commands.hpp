// The prompt's traffic-generator commands (start/stop/wait/show/expect gen):
// the generator family's messages (dpdk_app/apps/gen.hpp) to every worker,
// the counters the workers publish, and the once-per-second line. Their
// state is one GenState, owned by the prompt's PromptState.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

#include "dpdk_app/apps/gen.hpp"
#include "dpdk_app/cli/prompt.hpp"

namespace tcpfp::app::cli {

struct GenState {
    using Clock = std::chrono::steady_clock;
    // What the prompt remembers of the current (or last) run.
    struct Run {
        bool started = false;
        GenMode mode = GenMode::rr;
        wire::Ipv4Addr raddr;
        std::uint16_t rport = 0;
        std::uint32_t conns = 0;
        std::uint32_t size = 0;
        double duration_s = 0;    // 0: none
        std::uint64_t count = 0;  // 0: none
        bool verify = false;
        std::uint32_t locals = 0;
        Clock::time_point started_at;
        std::uint64_t retrans_base[kMaxWorkers] = {};
    };
    // Sums of the published counters (the per-second line, wait gen).
    struct Sums {
        std::uint64_t opened = 0, failed = 0, requests = 0, sent = 0, received = 0, errors = 0,
                      active = 0, retrans = 0;
        unsigned running = 0, finished = 0;
    };
    // The workers' reports summed (show gen, expect gen, wait gen).
    struct Summary {
        GenRun run = GenRun::idle;
        GenCounters c;
        std::uint64_t active = 0, elapsed_us = 0, retrans = 0, time_wait_local = 0;
        std::uint64_t max_gap_us = 0, stalls = 0, cpu_us = 0;
        LatencyHistogram latency;
    };
    // One named figure: the number (for expect) and its JSON text.
    struct Field {
        std::string name;
        double value;
        std::string text;
    };

    explicit GenState(PromptState& prompt) : st(prompt) {}
    ~GenState() { stop_reporter(); }

    void start_gen(const Args& a, bool with_options);
    void stop_gen();
    void wait_gen(std::uint64_t timeout_ms, bool given);
    void expect_gen(const std::string& field, const std::string& op, const std::string& value);
    void show_gen(bool json);
    void shutdown();

    PromptState& st;
    // The per-worker blocks the workers publish into; they outlive every run.
    GenPublished published[kMaxWorkers];
    Run run;
    std::uint64_t runs = 0;
    // The once-per-second line runs on a thread of its own so the prompt stays usable.
    std::thread reporter_thread;
    std::atomic<bool> reporter_stop{false};

private:
    void fail(const char* fmt, ...) __attribute__((format(printf, 2, 3)));
    unsigned workers() const { return st.workers(); }
    bool signalled() const { return st.stopping(); }
    Sums sum_published();
    bool any_running() { return sum_published().running > 0; }
    void reporter();
    void stop_reporter();
    bool collect(Summary& s);
    std::vector<Field> fields(const Summary& s) const;
    std::string describe_run() const;
    void print_json(const Summary& s) const;
    void print_text(const Summary& s) const;
    bool need_run(const char* what);
    bool parse_options(const std::string& rest, Run& r);
    bool check_run(const Run& r);
    std::uint32_t pick_locals(wire::Ipv4Addr raddr, GenSpec& spec) const;
    GenSpec spec_for(const Run& r, unsigned w);
    bool reached_goal(const Sums& s) const;
};

}  // namespace tcpfp::app::cli
