// Runs one parsed script against one Engine through the SocketApi on a
// virtual clock. Time is an Instant the runner moves: to the engine's next
// deadline or to the next script event, whichever comes first, so every
// outbound segment is stamped with the exact virtual time it was emitted.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "packet.hpp"
#include "script.hpp"
#include "tcp/engine/engine.hpp"
#include "tcp/posix/socket_api.hpp"

namespace tcpfp::pktdrill {

struct RunOptions {
    std::optional<int> wscale;  // engine's window shift (Linux uses 8; the engine defaults to 7)
    std::optional<std::int64_t> delayed_ack_us;  // engine's delayed-ACK timeout (Linux quick-ACKs)
    bool verbose = false;       // print every event as it runs
};

struct RunResult {
    bool passed = false;
    std::string error;  // "path:line: message" (possibly several lines)
    int events = 0;
    int skipped_commands = 0;  // backquoted shell commands (never executed)
    int skipped_code = 0;      // %{ }% python blocks (never executed)
    std::vector<std::string> ignored_flags;
    std::set<std::string> refused_options;  // socket options the engine answered ENOPROTOOPT
};

struct ScriptError {
    int line;
    std::string message;
};

class Runner {
public:
    Runner(const Script& script, const RunOptions& options);
    ~Runner();
    Runner(const Runner&) = delete;
    Runner& operator=(const Runner&) = delete;

    RunResult run();

private:
    // A blocking system call in progress: retried after every step.
    struct Pending {
        const Event* event = nullptr;
        tcp::Instant started;
        tcp::Instant end;  // when the script says it returns
        tcp::Instant wake;  // a time the call itself must be retried at (poll timeout)
    };

    // runner.cpp: configuration, clock and packets
    void configure(const Script& script);
    void execute(const Event& e, const Event* next);
    tcp::Instant at(std::int64_t script_us) const { return epoch_ + tcp::Duration::micros(script_us); }
    std::int64_t script_time(tcp::Instant t) const { return (t - epoch_).as_micros(); }
    void step(tcp::Instant t);
    bool tick_toward(tcp::Instant limit);
    void run_clock_to(tcp::Instant t);
    void drain();
    void expect_no_output(int line);
    // `burst_continues`: the next event is another inbound packet at the
    // same time, so this one is fed in without a drain (one RX burst).
    void inbound(const Event& e, tcp::Instant t, bool burst_continues);
    tcp::Instant outbound(const Event& e, tcp::Instant lo, tcp::Instant hi);
    void check_pending_deadline();
    void coalesce(Captured& c, const PacketSpec& p, tcp::Instant limit);

    // syscalls.cpp: system calls against the SocketApi
    void start_syscall(const Event& e, tcp::Instant start, tcp::Instant end);
    void retry_pending();
    void finish_syscall(const Event& e, const tcp::posix::SysResult& r, tcp::Instant started,
                        tcp::Instant end);
    tcp::posix::SysResult call(const SyscallSpec& s, tcp::Instant started);
    tcp::posix::SysResult call_sockopt(const SyscallSpec& s, bool set);
    tcp::posix::SysResult call_poll(const SyscallSpec& s, tcp::Instant started);
    tcp::posix::SysResult call_data(const SyscallSpec& s);
    tcp::posix::SysResult call_ioctl(const SyscallSpec& s);
    tcp::posix::SysResult call_addressing(const SyscallSpec& s);
    std::int64_t int_arg(const SyscallSpec& s, std::size_t i) const;
    std::int64_t eval(const Expr& e) const;
    [[noreturn]] void fail(const std::string& message) const;

    const Script& script_;
    RunOptions options_;
    RunResult result_;
    std::int64_t tolerance_us_ = 4000;
    tcp::EngineConfig config_;
    tcp::Instant epoch_;
    tcp::Instant now_;
    std::unique_ptr<tcp::Engine> engine_;
    std::unique_ptr<tcp::posix::SocketApi> api_;
    Endpoints ep_;
    SeqState seq_;
    std::deque<Captured> queue_;  // emitted, not yet matched by a `>` line
    std::optional<Pending> pending_;
    int line_ = 0;                // line of the event being executed
    bool in_burst_ = false;       // the previous event was an inbound packet whose burst goes on
    int stuck_ = 0;
    std::int64_t last_us_ = 0;    // time of the previous event (script clock)
};

// Runs a script file; parse errors and unsupported constructs are failures.
RunResult run_file(const std::string& path, const RunOptions& options);

}  // namespace tcpfp::pktdrill
