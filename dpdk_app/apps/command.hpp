// The prompt's commands as typed messages. The main lcore builds one object
// of a family's message type (agent_commands.hpp, gen.hpp, flood.hpp),
// hands its pointer to the owning worker through that worker's mailbox (an
// SPSC rte_ring, dpdk_app/cli/prompt.hpp PromptState::call) and waits for
// `done`. The worker's agent (agent.hpp) calls run() once on its own lcore:
// one virtual call per command, never per packet. The reply lives in the
// message itself, written before `done` (release) and read after it
// (acquire); on a timeout the prompt leaves the message to the worker.
#pragma once

#include <atomic>
#include <string>

#include "tcp/base/time.hpp"

namespace tcpfp::app {

class Agent;
class Generator;
class Proxy;
class Stack;
class SynFlood;

// Worker facilities that are not TCP and not the app API: the neighbour
// table's text and the `set verbose` flag. The worker implements it
// (dpdk_app/cli/prompt_apps.hpp); tests give a fake.
class WorkerTools {
public:
    virtual ~WorkerTools() = default;
    virtual std::string neighbor_table() const = 0;
    virtual void set_verbose(bool on) = 0;
};

// What a command may touch on its worker. Every pointer may be null on a
// worker built without that app; commands check.
struct AgentContext {
    Stack& stack;         // the agent's own Stack (its connections and listeners)
    Agent& agent;
    Generator* gen = nullptr;
    SynFlood* flood = nullptr;
    WorkerTools* tools = nullptr;
    unsigned worker = 0;
    Proxy* proxy = nullptr;  // [proxy] configured
};

class Command {
public:
    Command() = default;
    Command(const Command&) = delete;
    Command& operator=(const Command&) = delete;
    virtual ~Command() = default;
    // Runs on the owning worker; fills the reply fields.
    virtual void run(AgentContext& ctx, tcp::Instant now) = 0;

    void fail(std::string why) {
        rc = 1;
        out = std::move(why);
    }

    // --- reply common to every family ---
    int rc = 0;       // 0 ok; otherwise `out` says why
    std::string out;  // a message (or the family's text reply)
    std::atomic<bool> done{false};
};

}  // namespace tcpfp::app
