// The prompt's agent on one worker: an app that takes the prompt's typed
// commands (command.hpp, agent_commands.hpp) from the worker's mailbox, one
// per loop iteration while they come (once a millisecond when quiet), runs
// them on this lcore, and owns the connections the prompt opens or accepts
// on a `listen ... sink` listener: it reads them into a buffer for `expect
// recv`. `listen ... echo|discard|chargen|http|hold`
// opens a listener of the worker's built-in server of that kind
// (responders.hpp), so each responder exists once.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "dpdk_app/apps/app.hpp"
#include "dpdk_app/apps/command.hpp"
#include "dpdk_app/apps/responders.hpp"

namespace tcpfp::app {

// Server behaviour of a prompt listener's accepted connections: sink keeps
// the data for `expect recv` (the agent's own); the others are responders.
enum class ListenMode : std::uint8_t { client, echo, discard, http, sink, hold, chargen, rr };

// Global connection ids: worker w numbers its connections w * kIdStride + 1, + 2, ...
inline constexpr std::uint64_t kIdStride = 100000;
inline unsigned worker_of(std::uint64_t id) { return static_cast<unsigned>(id / kIdStride); }

// Where commands come from: the worker's mailbox behind a plain function
// pointer (an rte_ring dequeue in the worker; a queue in tests). Returns
// nullptr when none is waiting.
struct CommandSource {
    Command* (*take)(void* ctx) = nullptr;
    void* ctx = nullptr;
};

class Agent : public App {
public:
    struct Conn {
        std::uint64_t id = 0;
        tcp::ConnId h;
        tcp::FourTuple tuple;
        ListenMode mode = ListenMode::client;
        std::string rx;              // received, not yet matched by `expect recv`
        std::uint64_t rx_total = 0;
        bool eof = false;            // the peer's FIN was read
        bool closed = false;         // we called close()/abort(): the socket is ours no more
    };

    Agent(unsigned worker, CommandSource source);
    // The worker's other apps and tools the commands reach (any may be null).
    void attach(Generator* gen, SynFlood* flood, WorkerTools* tools, Responders* responders);
    // The worker's proxy, for `show proxy pairs` (nullptr without [proxy]).
    void set_proxy(Proxy* proxy) { proxy_ = proxy; }

    const char* name() const override { return "agent"; }
    void start(Stack& stack, Instant now) override;
    void on_events(Stack& stack, std::span<const AppEvent> events, Instant now) override;
    // Every loop iteration while commands keep coming (see kAwake): runs at
    // most one command.
    void poll(Stack& stack, Instant now) override;
    // About once a millisecond: runs at most one command (a quiet agent is
    // not polled) and reads what the connections received.
    void on_tick(Stack& stack, Instant now) override;

    // --- for the commands, on this lcore ---
    void run(Command& c, Instant now);  // what poll() does with a command
    void service(Instant now);          // brings received data and states up to date
    Conn* find(std::uint64_t id);
    Conn& add(tcp::ConnId h, ListenMode mode);
    std::string state_of(const Conn& c) const;  // "ESTABLISHED", "TIME_WAIT", "closed", ...
    std::uint64_t id_of(tcp::ConnId h) const;   // 0: not the prompt's
    std::uint64_t id_of_time_wait(const tcp::FourTuple& t) const;
    // Listeners of `listen ADDR PORT MODE`; errors as text.
    bool listen(wire::Ipv4Addr addr, std::uint16_t port, ListenMode mode, std::string& why);
    bool unlisten(wire::Ipv4Addr addr, std::uint16_t port, Instant now, std::string& why);
    Stack& stack() { return *stack_; }
    unsigned worker() const { return worker_; }

private:
    // How long after a command the agent keeps polling for the next.
    static constexpr auto kAwake = tcp::Duration::millis(50);
    bool take_command(Stack& stack, Instant now);  // true: one ran

    struct Listener {
        tcp::ConnId h;
        wire::Ipv4Addr addr;
        std::uint16_t port;
        ListenMode mode;
    };

    void serve(Conn& c, Instant now);
    static bool responder_kind(ListenMode mode, ResponderKind& kind);

    const unsigned worker_;
    CommandSource source_;
    Stack* stack_ = nullptr;
    Generator* gen_ = nullptr;
    SynFlood* flood_ = nullptr;
    WorkerTools* tools_ = nullptr;
    Responders* responders_ = nullptr;
    Proxy* proxy_ = nullptr;
    std::uint64_t next_id_;
    Instant last_command_;  // when the last command ran (poll() stops kAwake after)
    std::vector<Conn> conns_;
    std::vector<Listener> listeners_;
    std::vector<std::uint8_t> scratch_;
};

}  // namespace tcpfp::app
