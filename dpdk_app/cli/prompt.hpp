// The prompt's state and the helpers its command families share (internal
// to dpdk_app/cli/). One PromptState per Prompt; every command handler gets
// it, and nothing of the prompt lives in a global. The families register
// their commands in cli_port.cpp, cli_stack.cpp, cli_conn.cpp,
// cli_script.cpp, gen_commands.cpp and flood_commands.cpp, as testpmd
// splits its cmdline_*.c (cli_show_conn.cpp holds `show conn`).
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "dpdk_app/app_config.hpp"
#include "dpdk_app/apps/command.hpp"
#include "dpdk_app/port.hpp"
#include "dpdk_app/shared.hpp"
#include "tcp/engine/counters.hpp"

struct cmdline;
struct cmdline_inst;

namespace tcpfp::app::cli {

constexpr std::size_t kMaxTokens = 10;

// A parsed command line, token by token as the spec numbers them: word or
// <name> i in s[i], <name:u32> i in n[i], <name...> in rest.
struct Args {
    std::array<std::string, kMaxTokens> s;
    std::array<std::uint32_t, kMaxTokens> n{};
    std::string rest;
};
using Handler = std::function<void(const Args&)>;

struct GenState;    // gen_commands.cpp
struct FloodState;  // flood_commands.cpp
struct TableEntry;  // cli.cpp

// One worker's published figures (LcoreStats), read without a mailbox trip.
struct Figures {
    tcp::Counters counters;
    std::uint64_t connections = 0, time_wait = 0;
    std::uint64_t buffer_bytes = 0;  // send/receive buffer chunks held, in bytes
};

class PromptState {
public:
    PromptState(const AppConfig& config, const Port& dpdk_port, Shared& workers_shared,
                const std::atomic<int>& stop_flag);
    ~PromptState();

    // Registers a command: spec such as "close <id:u32> linger <ms:u32>"
    // (words, <name>, <name:u32>, <name...>; "a#b" is a choice).
    void add(const char* spec, const char* help, Handler run);

    // The current command failed, with why (printf format).
    void failf(const char* fmt, ...) __attribute__((format(printf, 2, 3)));
    void fail(const std::string& why) { failf("%s", why.c_str()); }

    // Sends `c` to worker `w`'s mailbox and waits (5 s) for it to run. On
    // failure the command is failed with why; on a timeout the message is
    // left to the worker (released, never freed here).
    template <class C>
    bool call(unsigned w, std::unique_ptr<C>& c) {
        bool leave = false;
        if (send_and_wait(w, *c, leave)) return true;
        if (leave) (void)c.release();
        return false;
    }
    // call(), then the command's own failure reported as the command's.
    template <class C>
    bool call_ok(unsigned w, std::unique_ptr<C>& c) {
        if (!call(w, c)) return false;
        const Command& done_cmd = *c;
        if (done_cmd.rc != 0) fail(done_cmd.out);
        return done_cmd.rc == 0;
    }
    // Every worker's published figures, at least as new as the last command
    // (waits for one publication after now: about a millisecond).
    bool figures(std::vector<Figures>& out);

    unsigned workers() const { return shared.workers; }
    unsigned lcore_of(unsigned w) const { return shared.stats[w].lcore.load(); }
    bool stopping() const { return stop.load() > 0; }

    const AppConfig& cfg;
    const Port& port;
    Shared& shared;
    const std::atomic<int>& stop;

    bool quit = false;
    bool failed = false;  // the current command failed
    std::string error;
    cmdline* cl = nullptr;  // the interactive prompt, while it runs
    std::map<std::uint64_t, std::set<std::string>> seen;  // states observed per connection id
    std::vector<std::unique_ptr<TableEntry>> table;
    std::vector<cmdline_inst*> ctx;  // rte_cmdline's instance list, nullptr-terminated
    std::set<std::string> first_words;
    std::unique_ptr<GenState> gen;
    std::unique_ptr<FloodState> flood;

private:
    bool send_and_wait(unsigned w, Command& c, bool& leave);
};

// A table entry's usage line and help text (for `help`).
const std::string& entry_usage(const TableEntry& e);
const char* entry_help(const TableEntry& e);

// The families' registrations (each file's only entry point).
void add_script_commands(PromptState& st);
void add_port_commands(PromptState& st);
void add_stack_commands(PromptState& st);
void add_conn_commands(PromptState& st);
void add_show_conn_commands(PromptState& st);
void add_gen_commands(PromptState& st);
void add_flood_commands(PromptState& st);
void add_proxy_commands(PromptState& st);  // proxy_commands.cpp
// At the prompt's end: stop what may still run.
void gen_shutdown(PromptState& st);
void flood_shutdown(PromptState& st);

// --- shared by the families (prompt.cpp) ---
std::uint64_t now_ms();
void sleep_ms(std::uint64_t ms);
std::optional<wire::Ipv4Addr> parse_addr(const std::string& s);  // also "any"
std::optional<std::uint64_t> parse_u64(const std::string& s);
// "a.b.c.d:port" (port required when need_port), or "a.b.c.d"; "any" allowed.
bool parse_endpoint(const std::string& s, bool need_port, wire::Ipv4Addr& a, std::uint16_t& port);
// "a.b.c.d:port" with a unicast address and port 1..65535 (gen, flood).
bool parse_target(const std::string& s, wire::Ipv4Addr& a, std::uint16_t& port);
// A double-quoted string with C escapes (\n \r \t \\ \" \0 \xHH).
bool parse_quoted(const std::string& in, std::string& out);
std::string printable(const std::string& s);
bool valid_state(const std::string& s);  // a state name or "closed"
std::string upper_state(std::string s);  // "time_wait" -> "TIME_WAIT"
std::string endpoint(wire::Ipv4Addr a, std::uint16_t p);  // "*" for 0
std::string ms_text(std::int64_t ms);                     // "187ms", "2.5s", "-"
bool compare(double a, const std::string& op, double b, bool& ok);  // false: unknown op
std::vector<std::string> words(const std::string& s);
// Resolves `raddr`'s next hop on every worker (3 s); fails `command` if not.
bool resolve_next_hop(PromptState& st, wire::Ipv4Addr raddr, const char* command);

}  // namespace tcpfp::app::cli
