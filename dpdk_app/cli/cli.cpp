#include "dpdk_app/cli/cli.hpp"

#include <cmdline.h>
#include <cmdline_parse.h>
#include <cmdline_parse_num.h>
#include <cmdline_parse_string.h>
#include <cmdline_socket.h>
#include <rte_errno.h>
#include <rte_ring.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>

#include "dpdk_app/cli/flood_commands.hpp"
#include "dpdk_app/cli/gen_commands.hpp"
#include "dpdk_app/cli/prompt.hpp"

namespace tcpfp::app::cli {

// ---------------------------------------------------------------------------
// The command table: each spec becomes rte_cmdline tokens. Token i stores its
// value in RawArgs::s[i], RawArgs::n[i] or RawArgs::rest; the handler gets
// them as an Args of std::strings.
struct RawArgs {
    cmdline_fixed_string_t s[kMaxTokens];
    std::uint32_t n[kMaxTokens];
    cmdline_multi_string_t rest;
};

struct TableEntry {
    PromptState* st = nullptr;
    const char* spec;
    const char* help;
    Handler run;
    // built
    std::string usage;
    std::vector<std::string> words;  // fixed strings, kept alive for the tokens
    std::vector<cmdline_parse_token_string_t> strings;
    std::vector<cmdline_parse_token_num_t> nums;
    cmdline_parse_inst_t* inst = nullptr;
};

PromptState::PromptState(const AppConfig& config, const Port& dpdk_port, Shared& workers_shared,
                         const std::atomic<int>& stop_flag)
    : cfg(config), port(dpdk_port), shared(workers_shared), stop(stop_flag) {}

PromptState::~PromptState() = default;  // here, where TableEntry is complete

void PromptState::add(const char* spec, const char* help, Handler run) {
    auto e = std::make_unique<TableEntry>();
    e->st = this;
    e->spec = spec;
    e->help = help;
    e->run = std::move(run);
    table.push_back(std::move(e));
}

const std::string& entry_usage(const TableEntry& e) { return e.usage; }
const char* entry_help(const TableEntry& e) { return e.help; }

namespace {

// rte_cmdline's callback: `data` is the table entry, which knows its prompt.
void on_parsed(void* parsed, cmdline*, void* data) {
    auto* e = static_cast<TableEntry*>(data);
    PromptState& st = *e->st;
    const auto& raw = *static_cast<RawArgs*>(parsed);
    Args a;
    for (std::size_t i = 0; i < kMaxTokens; ++i) {
        a.s[i].assign(raw.s[i], strnlen(raw.s[i], sizeof raw.s[i]));
        a.n[i] = raw.n[i];
    }
    a.rest.assign(raw.rest, strnlen(raw.rest, sizeof raw.rest));
    st.failed = false;
    st.error.clear();
    e->run(a);
    if (st.failed && st.cl != nullptr && !st.quit) {
        // Interactive: report here; scripts report with the file and line.
        std::printf("error: %s\n", st.error.c_str());
    }
    std::fflush(stdout);
}

// Splits a spec into its words.
std::vector<std::string> spec_parts(const char* spec) {
    std::vector<std::string> parts;
    std::string cur;
    for (const char* p = spec; *p != '\0'; ++p) {
        if (*p == ' ') {
            if (!cur.empty()) parts.push_back(cur);
            cur.clear();
        } else {
            cur += *p;
        }
    }
    if (!cur.empty()) parts.push_back(cur);
    return parts;
}

// A <...> token: a number or a string (the rest of the line for <name...>).
cmdline_parse_token_hdr_t* value_token(TableEntry& c, const std::string& p, std::size_t i,
                                       std::vector<std::string>& usage) {
    const bool rest = p.size() > 4 && p.substr(p.size() - 4) == "...>";
    if (p.find(":u32>") != std::string::npos) {
        cmdline_parse_token_num_t t{};
        t.hdr.ops = &cmdline_token_num_ops;
        t.hdr.offset = static_cast<unsigned>(offsetof(RawArgs, n) + i * sizeof(std::uint32_t));
        t.num_data.type = RTE_UINT32;
        c.nums.push_back(t);
        usage.push_back(p.substr(0, p.find(':')) + ">");
        return &c.nums.back().hdr;
    }
    cmdline_parse_token_string_t t{};
    t.hdr.ops = &cmdline_token_string_ops;
    t.hdr.offset = rest ? static_cast<unsigned>(offsetof(RawArgs, rest))
                        : static_cast<unsigned>(offsetof(RawArgs, s) + i * sizeof(cmdline_fixed_string_t));
    t.string_data.str = rest ? TOKEN_STRING_MULTI : nullptr;
    c.strings.push_back(t);
    usage.push_back(rest ? p.substr(0, p.size() - 4) + ">" : p);
    return &c.strings.back().hdr;
}

void compile(TableEntry& c, std::set<std::string>& first_words) {
    static_assert(sizeof(RawArgs) <= CMDLINE_PARSE_RESULT_BUFSIZE);
    const std::vector<std::string> parts = spec_parts(c.spec);
    c.words.reserve(parts.size());
    c.strings.reserve(parts.size());
    c.nums.reserve(parts.size());
    c.inst = static_cast<cmdline_parse_inst_t*>(
        std::calloc(1, sizeof(cmdline_parse_inst_t) + (parts.size() + 1) * sizeof(void*)));
    c.inst->f = on_parsed;
    c.inst->data = &c;
    c.inst->help_str = c.help;
    std::vector<std::string> usage;
    for (std::size_t i = 0; i < parts.size(); ++i) {
        const std::string& p = parts[i];
        cmdline_parse_token_hdr_t* tok = nullptr;
        if (p.front() == '<') {
            tok = value_token(c, p, i, usage);
        } else {
            c.words.push_back(p);
            cmdline_parse_token_string_t t{};
            t.hdr.ops = &cmdline_token_string_ops;
            t.hdr.offset = static_cast<unsigned>(offsetof(RawArgs, s) + i * sizeof(cmdline_fixed_string_t));
            t.string_data.str = c.words.back().c_str();
            c.strings.push_back(t);
            tok = &c.strings.back().hdr;
            std::string u = p;
            std::replace(u.begin(), u.end(), '#', '|');
            usage.push_back(u);
            if (i == 0) first_words.insert(p);
        }
        c.inst->tokens[i] = tok;
    }
    c.inst->tokens[parts.size()] = nullptr;
    for (const auto& u : usage) c.usage += (c.usage.empty() ? "" : " ") + u;
}

std::string trim(const std::string& s) {
    const auto b = s.find_first_not_of(" \t\r\n");
    if (b == std::string::npos) return "";
    const auto e = s.find_last_not_of(" \t\r\n");
    return s.substr(b, e - b + 1);
}

// Drops a '#' comment that is not inside double quotes.
std::string strip_comment(const std::string& line) {
    bool quoted = false;
    for (std::size_t i = 0; i < line.size(); ++i) {
        if (line[i] == '\\' && quoted) {
            ++i;
        } else if (line[i] == '"') {
            quoted = !quoted;
        } else if (line[i] == '#' && !quoted) {
            return line.substr(0, i);
        }
    }
    return line;
}

}  // namespace

bool make_mailboxes(Shared& shared, std::string& error) {
    for (unsigned w = 0; w < shared.workers; ++w) {
        const std::string name = "tcpfp_cli_" + std::to_string(w);
        shared.cli_rings[w] = rte_ring_create(name.c_str(), 64, SOCKET_ID_ANY,
                                              RING_F_SP_ENQ | RING_F_SC_DEQ);
        if (shared.cli_rings[w] == nullptr) {
            error = "mailbox " + name + ": " + rte_strerror(rte_errno);
            return false;
        }
    }
    return true;
}

void free_mailboxes(Shared& shared) {
    for (auto*& r : shared.cli_rings) {
        rte_ring_free(r);
        r = nullptr;
    }
}

Prompt::Prompt(const AppConfig& cfg, const Port& port, Shared& shared, const std::atomic<int>& stop)
    : st_(std::make_unique<PromptState>(cfg, port, shared, stop)) {
    PromptState& st = *st_;
    // The order of `help`.
    add_script_commands(st);
    add_port_commands(st);
    add_stack_commands(st);
    add_show_conn_commands(st);
    add_conn_commands(st);
    add_gen_commands(st);
    add_flood_commands(st);
    add_proxy_commands(st);
    for (auto& c : st.table) {
        compile(*c, st.first_words);
        st.ctx.push_back(c->inst);
    }
    st.ctx.push_back(nullptr);
}

Prompt::~Prompt() {
    gen_shutdown(*st_);
    flood_shutdown(*st_);
    for (auto& c : st_->table) std::free(c->inst);
}

bool Prompt::quit_requested() const { return st_->quit; }

namespace {

// Runs one line through the command table; "" when it succeeded, else why.
std::string run_line(PromptState& st, cmdline* cl, const std::string& line) {
    st.failed = false;
    st.error.clear();
    const int rc = cmdline_parse(cl, (line + "\n").c_str());
    if (rc == CMDLINE_PARSE_AMBIGUOUS) return "ambiguous command";
    if (rc == CMDLINE_PARSE_NOMATCH || rc == CMDLINE_PARSE_BAD_ARGS) {
        const std::string first = line.substr(0, line.find_first_of(" \t"));
        if (!st.first_words.count(first)) return "unknown command '" + first + "' (see help)";
        std::string why = "bad arguments; usage:";
        for (const auto& c : st.table) {
            if (c->words.size() && c->words[0] == first) why += "\n    " + c->usage;
        }
        return why;
    }
    if (rc < 0) return "parse error " + std::to_string(rc);
    return st.failed ? st.error : std::string();
}

// A script line `expect-fail "TEXT" COMMAND...`: COMMAND must fail with an
// error that contains TEXT (negative cases in one script). "" when it did.
std::string run_expect_fail(PromptState& st, cmdline* cl, const std::string& line) {
    const auto open = line.find('"');
    const auto close = open == std::string::npos ? open : line.find('"', open + 1);
    if (close == std::string::npos) return "usage: expect-fail \"TEXT\" COMMAND...";
    const std::string text = line.substr(open + 1, close - open - 1);
    const std::string command = trim(line.substr(close + 1));
    const std::string why = run_line(st, cl, command);
    if (why.empty()) return "expect-fail: '" + command + "' succeeded";
    if (why.find(text) == std::string::npos) return "expect-fail: the error was '" + why + "', not '" + text + "'";
    std::printf("ok: failed as expected: %s\n", why.c_str());
    return "";
}

}  // namespace

bool Prompt::run_file(const std::string& path) {
    PromptState& st = *st_;
    std::ifstream in(path);
    if (!in) {
        std::printf("%s: cannot open: %s\n", path.c_str(), std::strerror(errno));
        return false;
    }
    // A cmdline object for parsing only (cmdline_parse returns the line length
    // on success, CMDLINE_PARSE_* < 0 otherwise); commands print to stdout.
    cmdline* cl = cmdline_new(st.ctx.data(), "", -1, -1);
    if (cl == nullptr) {
        std::printf("%s: cmdline_new failed\n", path.c_str());
        return false;
    }
    std::string raw;
    unsigned lineno = 0;
    bool ok = true;
    while (std::getline(in, raw) && !st.quit) {
        ++lineno;
        const std::string line = trim(strip_comment(raw));
        if (line.empty()) continue;
        if (st.stopping()) {
            std::printf("%s:%u: stopped by a signal before '%s'\n", path.c_str(), lineno, line.c_str());
            ok = false;
            break;
        }
        std::printf("tcpfp> %s\n", line.c_str());
        std::fflush(stdout);
        const bool negative = line.rfind("expect-fail ", 0) == 0;
        const std::string why = negative ? run_expect_fail(st, cl, line) : run_line(st, cl, line);
        if (!why.empty()) {
            std::printf("%s:%u: error in '%s': %s\n", path.c_str(), lineno, line.c_str(), why.c_str());
            ok = false;
            break;
        }
    }
    std::fflush(stdout);
    cmdline_free(cl);
    std::printf("%s: %s\n", path.c_str(), ok ? "every command succeeded" : "FAILED");
    return ok;
}

void Prompt::interact() {
    PromptState& st = *st_;
    st.cl = cmdline_stdin_new(st.ctx.data(), "tcpfp> ");
    if (st.cl == nullptr) {
        std::printf("cannot open the prompt on stdin\n");
        return;
    }
    cmdline_interact(st.cl);
    cmdline_stdin_exit(st.cl);
    st.cl = nullptr;
    std::printf("\n");
}

}  // namespace tcpfp::app::cli
