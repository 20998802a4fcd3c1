// The agent's message types, by family (the generator's and the flood's are
// in gen.hpp and flood.hpp). Each is built by the prompt (dpdk_app/cli/),
// run once on the owning worker (Command::run) and read back by the prompt.
// A message holds only its own arguments and reply.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "dpdk_app/apps/agent.hpp"
#include "tcp/base/four_tuple.hpp"
#include "tcp/engine/engine.hpp"

namespace tcpfp::app {

// ---- stack and connections -------------------------------------------------

// A command on one of the prompt's connections; the agent finds it first.
class ConnCommand : public Command {
public:
    explicit ConnCommand(std::uint64_t conn) : id(conn) {}
    void run(AgentContext& ctx, tcp::Instant now) final;
    const std::uint64_t id;

protected:
    virtual void on(Agent& agent, Agent::Conn& c, tcp::Instant now) = 0;
};

// connect: tuple.local_* may be 0. Reply: the new id; out = "laddr:lport".
struct OpenConn : Command {
    void run(AgentContext& ctx, tcp::Instant now) override;
    tcp::FourTuple tuple;
    std::uint64_t id = 0;
};

// send: `text`, or `bytes` bytes of a-z when bytes >= 0. Reply: sent.
struct SendConn : ConnCommand {
    using ConnCommand::ConnCommand;
    std::string text;
    std::int64_t bytes = -1;
    std::int64_t sent = 0;

private:
    void on(Agent& agent, Agent::Conn& c, tcp::Instant now) override;
};

// Reply: the state after the shutdown.
struct ShutdownConn : ConnCommand {
    ShutdownConn(std::uint64_t conn, tcp::Shutdown which) : ConnCommand(conn), how(which) {}
    const tcp::Shutdown how;
    std::string state;

private:
    void on(Agent& agent, Agent::Conn& c, tcp::Instant now) override;
};

// close, with SO_LINGER when linger_ms >= 0. Reply: out = "BEFORE -> AFTER".
struct CloseConn : ConnCommand {
    CloseConn(std::uint64_t conn, std::int64_t linger) : ConnCommand(conn), linger_ms(linger) {}
    const std::int64_t linger_ms;

private:
    void on(Agent& agent, Agent::Conn& c, tcp::Instant now) override;
};

struct AbortConn : ConnCommand {
    using ConnCommand::ConnCommand;

private:
    void on(Agent& agent, Agent::Conn& c, tcp::Instant now) override;
};

// Reply: the state name ("closed" when gone) and the bytes received so far.
struct ConnState : ConnCommand {
    using ConnCommand::ConnCommand;
    std::string state;
    std::uint64_t rx_total = 0;

private:
    void on(Agent& agent, Agent::Conn& c, tcp::Instant now) override;
};

// Succeeds when the received data holds `text` (consumed up to its end);
// out = what was received either way.
struct TakeRecv : ConnCommand {
    TakeRecv(std::uint64_t conn, std::string wanted) : ConnCommand(conn), text(std::move(wanted)) {}
    const std::string text;

private:
    void on(Agent& agent, Agent::Conn& c, tcp::Instant now) override;
};

// listen / unlisten on ADDR:PORT.
struct ListenCmd : Command {
    void run(AgentContext& ctx, tcp::Instant now) override;
    bool on = true;
    wire::Ipv4Addr addr;
    std::uint16_t port = 0;
    ListenMode mode = ListenMode::sink;
};

// One row of `show conn`: a control block's ConnInfo, or a TIME_WAIT
// record's (state, tuple, options, window as sent, timer and time left).
struct ConnRow {
    std::uint64_t id = 0;  // the prompt's id, 0 when not the prompt's
    unsigned worker = 0;
    tcp::ConnInfo info;
    const char* app = nullptr;  // the owning app's name (a static string), or nullptr
    bool paired = false;        // a proxy pair: `pair` is the other connection's 4-tuple
    tcp::FourTuple pair;
};

// A page of `show conn`: the worker walks its control blocks, then its
// TIME_WAIT records, from `cursor` on, and stops at kPageRows matching rows
// or kScanPerPage slots looked at, whichever comes first, so one round trip
// never stalls the worker for long. With count_only it returns no rows, only
// how many matched (`show conn` saying how many it left out).
struct ListConns : Command {
    static constexpr std::size_t kPageRows = 256;
    static constexpr std::uint32_t kScanPerPage = 65536;
    struct Cursor {
        bool time_waits = false;  // past the control blocks
        std::uint32_t slot = 0;
    };
    void run(AgentContext& ctx, tcp::Instant now) override;
    // Filters: state (closed: any) and a local or peer port (0: any).
    tcp::State state = tcp::State::closed;
    std::uint16_t port = 0;
    bool count_only = false;
    Cursor cursor;  // in: where to start; out: where the next page starts
    // Reply.
    bool finished = false;      // every slot seen
    std::uint64_t matched = 0;  // matching rows on this page (listed or counted)
    std::vector<ConnRow> rows;

private:
    bool wanted(const tcp::ConnInfo& i) const;
    void keep(const ConnRow& row);
    std::uint32_t walk_tcbs(AgentContext& ctx, std::uint32_t budget);
    std::uint32_t walk_time_waits(AgentContext& ctx, std::uint32_t budget);
};

// set timewait / set finwait2 (each < 0: unchanged).
struct SetTimers : Command {
    void run(AgentContext& ctx, tcp::Instant now) override;
    std::int64_t time_wait_ms = -1, fin_wait_2_ms = -1;
};

// show timers: the engine's timer summary.
struct ReadTimers : Command {
    void run(AgentContext& ctx, tcp::Instant now) override;
    tcp::TimerSummary timers;
};

// ---- scripts and the rest ------------------------------------------------------

struct SetVerbose : Command {
    explicit SetVerbose(bool enable) : on(enable) {}
    void run(AgentContext& ctx, tcp::Instant now) override;
    const bool on;
};

// show arp: out = the neighbour table as text.
struct ShowNeighbors : Command {
    void run(AgentContext& ctx, tcp::Instant now) override;
};

// wait arp: resolved, or resolving starts.
struct ResolveNeighbor : Command {
    explicit ResolveNeighbor(wire::Ipv4Addr next_hop) : addr(next_hop) {}
    void run(AgentContext& ctx, tcp::Instant now) override;
    const wire::Ipv4Addr addr;
    bool resolved = false;
};

}  // namespace tcpfp::app
