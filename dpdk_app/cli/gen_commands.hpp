// The prompt's load-tester commands (start/stop/wait/show/expect/save gen,
// each with an optional profile NAME): the generator family's messages
// (dpdk_app/apps/gen.hpp) to every worker, the counters and seconds the
// workers publish, and the once-per-second line per profile. Their state is
// one GenState, owned by the prompt's PromptState.
//   gen_commands.cpp  the commands and the profile's options
//   gen_report.cpp    the per-second reporter, the figures, show/expect/save
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "dpdk_app/apps/gen.hpp"
#include "dpdk_app/cli/prompt.hpp"

namespace tcpfp::app::cli {

struct GenState {
    using Clock = std::chrono::steady_clock;
    // A profile as the prompt remembers it: what was asked.
    struct Run {
        GenMode mode = GenMode::rr;
        GenProto proto = GenProto::echo;
        bool proto_given = false;
        wire::Ipv4Addr raddr;
        std::uint16_t rport = 0;
        std::uint32_t conns = 0;
        std::uint32_t request = 64, response = 64;
        bool response_given = false;
        bool request_given = false;  // size or request: hold sends that many bytes once
        double duration_s = 0;    // 0: none
        std::uint64_t count = 0;  // 0: none
        bool verify = false;
        double rate = 0, ramp_s = 0, think_ms = 0;
        std::uint32_t pipeline = 1;
        GenCloser closer = GenCloser::client;
        bool closer_given = false;
        bool close_rst = false;
        std::uint32_t drain_ms = 1000;
        std::uint32_t connect_timeout_ms = 10000;
        std::uint32_t syn_window = 1024;  // connection attempts in flight at most (per worker)
        std::uint32_t close_window = 1024;  // end-of-run FINs unanswered at most (per worker)
        std::string method = "GET", path, host;
        std::vector<std::string> headers;
        std::uint32_t body = 0;
        int keep_alive = -1;  // -1: by mode (rr on, crr off)
        std::string sha256;   // hex; "" none
        tcp::SocketOptions options;
        wire::Ipv4Addr src_lo, src_hi;  // unspecified: the addresses on the peer's subnet
        std::uint16_t port_lo = 0, port_hi = 0;
        std::uint32_t locals = 0;
        std::string http_request;  // built from the above
    };
    // One second of a profile, all workers summed: the per-second line and
    // what `save gen` writes.
    struct Row {
        double t = 0, dt = 0, target = 0, conn_per_s = 0, req_per_s = 0, tx_gbps = 0, rx_gbps = 0;
        std::uint64_t active = 0, retrans = 0, errors = 0, status4 = 0, status5 = 0, missed = 0, closed = 0;
        std::uint64_t failed = 0;  // connections lost (failed.<reason>) in this second
        std::uint64_t p50 = 0, p99 = 0, samples = 0;
        std::uint64_t second = 0;  // k: the second (k-1, k] of the run
        bool final = false;        // the run ended within it (t says when)
    };
    // The workers' reports summed (show gen, expect gen, wait gen, save gen).
    struct Summary {
        GenRun run = GenRun::idle;
        GenCounters c;
        std::uint64_t active = 0, elapsed_us = 0, retrans = 0, time_wait_local = 0;
        std::uint64_t max_gap_us = 0, stalls = 0, cpu_us = 0;
        double target_rate = 0;
        std::uint64_t due = 0, started = 0, spread_max = 0;
        double spread_stddev = 0;
        HdrHistogram connect, first_byte, latency;
    };
    // Sums of the published counters (the wait loop).
    struct Sums {
        std::uint64_t opened = 0, failed = 0, requests = 0, active = 0, errors = 0;
        unsigned running = 0, draining = 0, finished = 0;
    };
    // The reporter's place in one worker's seconds.
    struct Follow {
        std::uint64_t next = 1;  // the next second to read
        bool done = false;       // its final second was read
        GenSecond last;          // the previous second's counters
    };
    struct Profile {
        std::string name;
        bool used = false;
        Run run;
        std::uint64_t runs = 0;
        Clock::time_point started_at;
        std::unique_ptr<std::array<GenPublished, kMaxWorkers>> published;
        std::vector<Row> series;                  // under GenState::mu
        std::array<Follow, kMaxWorkers> follow;   // the reporter's
        bool reporting = false;                   // under mu: the reporter follows it
    };
    // One named figure: the number (for expect) and its JSON text.
    struct Field {
        std::string name;
        double value;
        std::string text;
    };

    explicit GenState(PromptState& prompt) : st(prompt) {}
    ~GenState() { stop_reporter(); }

    // gen_commands.cpp
    void start_gen(const Args& a, bool named, bool with_options);
    void stop_gen(const std::string& name);
    void wait_gen(const std::string& name, std::uint64_t timeout_ms, bool given);
    void shutdown();
    // gen_report.cpp
    void show_gen(const std::string& name, bool json);
    void expect_gen(const std::string& name, const std::string& field, const std::string& op,
                    const std::string& value);
    void save_gen(const std::string& name, const std::string& path);

    PromptState& st;
    std::array<Profile, kMaxProfiles> profiles;
    std::mutex mu;  // profiles' series and reporting flags (the reporter thread reads them)
    // The once-per-second lines run on a thread of their own so the prompt stays usable.
    std::thread reporter_thread;
    std::atomic<bool> reporter_stop{false};

private:
    void fail(const char* fmt, ...) __attribute__((format(printf, 2, 3)));
    unsigned workers() const { return st.workers(); }
    bool signalled() const { return st.stopping(); }
    // gen_commands.cpp
    Profile* find(const std::string& name, const char* command);
    Profile* slot_for(const std::string& name);
    bool parse_options(const std::vector<std::string>& w, Run& r);
    bool parse_option(const std::vector<std::string>& w, std::size_t& i, Run& r);
    bool parse_tcp_option(const std::string& key, const std::string& v, Run& r, bool& known);
    bool parse_http_option(const std::vector<std::string>& w, std::size_t& i, Run& r, bool& known);
    bool check_run(Run& r);
    bool check_http(Run& r);
    void build_http_request(Run& r) const;
    std::uint32_t pick_locals(const Run& r, GenSpec& spec);
    GenSpec spec_for(const Profile& p, unsigned w) const;
    bool send_start(Profile& p, const GenSpec& probe);
    Sums sum_published(const Profile& p) const;
    bool reached_goal(const Profile& p, const Sums& s) const;
    std::string wait_failure(Profile& p, std::uint64_t timeout_ms);
    // gen_report.cpp
    void start_reporter();
    void stop_reporter();
    void reporter();
    bool report_second(Profile& p);
    void flush_reports(Profile& p);
    bool collect(const Profile& p, Summary& s);
    std::vector<Field> fields(const Profile& p, const Summary& s) const;
    std::string describe(const Profile& p) const;
    void print_json(const Profile& p, const Summary& s) const;
    void print_text(const Profile& p, const Summary& s) const;
    void print_errors(const Summary& s) const;
    bool fail_on_errors(const Profile& p, const Summary& s);
};

}  // namespace tcpfp::app::cli
