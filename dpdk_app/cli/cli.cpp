#include "dpdk_app/cli/cli.hpp"

#include <cmdline.h>
#include <cmdline_parse.h>
#include <cmdline_parse_num.h>
#include <cmdline_parse_string.h>
#include <cmdline_socket.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_log.h>
#include <rte_ring.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <thread>
#include <vector>

#include "dpdk_app/cli/flood_commands.hpp"
#include "dpdk_app/cli/gen_commands.hpp"
#include "dpdk_app/cli/proxy_commands.hpp"
#include "dpdk_app/cli/mailbox.hpp"
#include "tcp/engine/counters.hpp"
#include "tcp/engine/state.hpp"

namespace tcpfp::app::cli {

namespace {

// ---------------------------------------------------------------------------
// Command table: each command is a spec such as "close <id:u32> linger <ms:u32>"
// turned into cmdline tokens. Words are fixed strings ("info#stats" is a
// choice), <name> is one word, <name:u32> a number, <name...> the rest of
// the line. Token i stores its value in Args::s[i], Args::n[i] or Args::rest.
constexpr std::size_t kMaxTokens = 10;

struct Args {
    cmdline_fixed_string_t s[kMaxTokens];
    std::uint32_t n[kMaxTokens];
    cmdline_multi_string_t rest;
};
static_assert(sizeof(Args) <= CMDLINE_PARSE_RESULT_BUFSIZE);

struct Command {
    const char* spec;
    const char* help;
    std::function<void(Args&)> run;
    // built
    std::string usage;
    std::vector<std::string> words;  // fixed strings, kept alive for the tokens
    std::vector<cmdline_parse_token_string_t> strings;
    std::vector<cmdline_parse_token_num_t> nums;
    cmdline_parse_inst_t* inst = nullptr;
};

struct State {
    const AppConfig* cfg = nullptr;
    const Port* port = nullptr;
    Shared* shared = nullptr;
    const std::atomic<int>* stop = nullptr;
    std::vector<std::unique_ptr<Command>> commands;
    std::vector<cmdline_parse_inst_t*> ctx;  // nullptr-terminated
    cmdline* cl = nullptr;
    bool quit = false;
    bool failed = false;  // the current command failed
    std::string error;
    std::map<std::uint64_t, std::set<std::string>> seen;  // states observed per id
    std::set<std::string> first_words;
};

State g;

void failf(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
void failf(const char* fmt, ...) {
    char buf[2048];
    va_list ap;
    va_start(ap, fmt);
    std::vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    g.failed = true;
    g.error = buf;
}

std::uint64_t now_ms() {
    return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::now().time_since_epoch()).count());
}

bool stopping() { return g.stop->load() > 0; }

// --- mailbox calls -----------------------------------------------------------

// Sends `r` to worker `w` and waits for the reply. On timeout the request
// is left to the worker (leaked) and false returned.
bool call(unsigned w, std::unique_ptr<Request>& r) {
    if (w >= g.shared->workers) {
        failf("no worker %u", w);
        return false;
    }
    r->done.store(false, std::memory_order_relaxed);
    if (rte_ring_sp_enqueue(g.shared->cli_rings[w], r.get()) != 0) {
        failf("worker %u's mailbox is full", w);
        return false;
    }
    const std::uint64_t end = now_ms() + 5000;
    while (!r->done.load(std::memory_order_acquire)) {
        if (now_ms() > end) {
            (void)r.release();  // the worker may still write to it
            failf("worker %u did not answer within 5 s", w);
            return false;
        }
        std::this_thread::sleep_for(std::chrono::microseconds(50));
    }
    return true;
}

std::unique_ptr<Request> request(Op op) {
    auto r = std::make_unique<Request>();
    r->op = op;
    return r;
}

// --- argument parsing -------------------------------------------------------

std::optional<wire::Ipv4Addr> parse_addr(const std::string& s) {
    if (s == "any" || s == "0.0.0.0") return wire::Ipv4Addr{};
    return wire::Ipv4Addr::parse(s);
}

std::optional<std::uint64_t> parse_u64(const std::string& s) {
    if (s.empty() || s.size() > 18) return std::nullopt;
    std::uint64_t v = 0;
    for (char c : s) {
        if (c < '0' || c > '9') return std::nullopt;
        v = v * 10 + static_cast<std::uint64_t>(c - '0');
    }
    return v;
}

// "a.b.c.d:port" (port required when need_port), or "a.b.c.d".
bool parse_endpoint(const std::string& s, bool need_port, wire::Ipv4Addr& a, std::uint16_t& port) {
    const auto colon = s.find(':');
    if (colon == std::string::npos) {
        if (need_port) return false;
        auto ip = parse_addr(s);
        if (!ip) return false;
        a = *ip;
        port = 0;
        return true;
    }
    auto ip = parse_addr(s.substr(0, colon));
    auto p = parse_u64(s.substr(colon + 1));
    if (!ip || !p || *p == 0 || *p > 65535) return false;
    a = *ip;
    port = static_cast<std::uint16_t>(*p);
    return true;
}

// A double-quoted string with C escapes (\n \r \t \\ \" \xHH).
bool parse_quoted(const std::string& in, std::string& out) {
    std::string s = in;
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\n')) s.pop_back();
    if (s.size() < 2 || s.front() != '"' || s.back() != '"') return false;
    out.clear();
    for (std::size_t i = 1; i + 1 < s.size(); ++i) {
        char c = s[i];
        if (c != '\\') {
            out += c;
            continue;
        }
        if (i + 2 >= s.size()) return false;
        c = s[++i];
        switch (c) {
            case 'n': out += '\n'; break;
            case 'r': out += '\r'; break;
            case 't': out += '\t'; break;
            case '\\': out += '\\'; break;
            case '"': out += '"'; break;
            case '0': out += '\0'; break;
            case 'x': {
                if (i + 3 >= s.size()) return false;
                char hex[3] = {s[i + 1], s[i + 2], 0};
                char* end = nullptr;
                const long v = std::strtol(hex, &end, 16);
                if (end != hex + 2) return false;
                out += static_cast<char>(v);
                i += 2;
                break;
            }
            default:
                return false;
        }
    }
    return true;
}

std::string printable(const std::string& s) {
    std::string o = "\"";
    for (unsigned char c : s) {
        if (c == '\n') o += "\\n";
        else if (c == '\r') o += "\\r";
        else if (c == '\t') o += "\\t";
        else if (c == '"' || c == '\\') { o += '\\'; o += static_cast<char>(c); }
        else if (c < 32 || c > 126) { char b[8]; std::snprintf(b, sizeof b, "\\x%02x", c); o += b; }
        else o += static_cast<char>(c);
    }
    return o + "\"";
}

bool valid_state(const std::string& s) {
    if (s == "closed") return true;
    for (std::size_t i = 0; i < tcp::kStateCount; ++i) {
        if (s == tcp::to_string(static_cast<tcp::State>(i))) return true;
    }
    return false;
}

std::string upper_state(std::string s) {
    if (s == "closed" || s == "CLOSED") return "closed";
    for (auto& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    std::replace(s.begin(), s.end(), '-', '_');
    return s;
}

std::string endpoint(wire::Ipv4Addr a, std::uint16_t p) {
    return (a.is_unspecified() ? std::string("*") : a.to_string()) + ":" +
           (p == 0 ? std::string("*") : std::to_string(p));
}

// --- connection state -------------------------------------------------------

std::optional<std::string> conn_state(std::uint64_t id) {
    auto r = request(Op::state);
    r->id = id;
    if (!call(worker_of(id), r)) return std::nullopt;
    if (r->rc != 0) {
        failf("%s", r->out.c_str());
        return std::nullopt;
    }
    g.seen[id].insert(r->state_name);
    return r->state_name;
}

// --- stats --------------------------------------------------------------------

struct Totals {
    std::vector<std::unique_ptr<Request>> per;  // one per worker
    tcp::Counters sum;
    std::uint64_t connections = 0, time_wait = 0;
};

bool gather(Totals& t) {
    for (unsigned w = 0; w < g.shared->workers; ++w) {
        auto r = request(Op::stats);
        if (!call(w, r)) return false;
        for (std::size_t i = 0; i < t.sum.mib.size(); ++i) t.sum.mib[i] += r->counters.mib[i];
        for (std::size_t i = 0; i < t.sum.drops.size(); ++i) t.sum.drops[i] += r->counters.drops[i];
        for (std::size_t i = 0; i < t.sum.by_state.size(); ++i) {
            t.sum.by_state[i] += r->counters.by_state[i];
        }
        t.connections += r->connections;
        t.time_wait += r->time_wait;
        t.per.push_back(std::move(r));
    }
    return true;
}

std::optional<std::uint64_t> stat_value(const Totals& t, const std::string& name) {
    for (std::size_t i = 0; i < t.sum.mib.size(); ++i) {
        if (name == tcp::name(static_cast<tcp::Mib>(i))) return t.sum.mib[i];
    }
    for (std::size_t i = 0; i < t.sum.drops.size(); ++i) {
        if (name == tcp::name(static_cast<tcp::Drop>(i))) return t.sum.drops[i];
    }
    if (name == "connections") return t.connections;
    if (name == "time_wait") return t.time_wait;
    for (std::size_t i = 0; i < tcp::kStateCount; ++i) {
        if (name == std::string("state.") + tcp::to_string(static_cast<tcp::State>(i))) {
            return t.sum.by_state[i];
        }
    }
    return std::nullopt;
}

void show_tcp_stats(bool json) {
    Totals t;
    if (!gather(t)) return;
    const unsigned n = g.shared->workers;
    if (json) {
        auto block = [&](const tcp::Counters& c, std::uint64_t conns, std::uint64_t tw) {
            std::string o = "{\"mib\":{";
            for (std::size_t i = 0; i < c.mib.size(); ++i) {
                o += (i ? ",\"" : "\"") + std::string(tcp::name(static_cast<tcp::Mib>(i))) +
                     "\":" + std::to_string(c.mib[i]);
            }
            o += "},\"drops\":{";
            for (std::size_t i = 0; i < c.drops.size(); ++i) {
                o += (i ? ",\"" : "\"") + std::string(tcp::name(static_cast<tcp::Drop>(i))) +
                     "\":" + std::to_string(c.drops[i]);
            }
            o += "},\"states\":{";
            for (std::size_t i = 0; i < tcp::kStateCount; ++i) {
                o += (i ? ",\"" : "\"") + std::string(tcp::to_string(static_cast<tcp::State>(i))) +
                     "\":" + std::to_string(c.by_state[i]);
            }
            o += "},\"connections\":" + std::to_string(conns) +
                 ",\"time_wait\":" + std::to_string(tw) + "}";
            return o;
        };
        std::string o = "{\"lcores\":[";
        for (unsigned w = 0; w < n; ++w) {
            const auto& r = *t.per[w];
            o += (w ? "," : "") + std::string("{\"worker\":") + std::to_string(w) + ",\"lcore\":" +
                 std::to_string(g.shared->stats[w].lcore.load(std::memory_order_relaxed)) +
                 ",\"stats\":" + block(r.counters, r.connections, r.time_wait) + "}";
        }
        o += "],\"total\":" + block(t.sum, t.connections, t.time_wait) + "}";
        std::printf("%s\n", o.c_str());
        return;
    }
    std::printf("%-28s", "counter");
    for (unsigned w = 0; w < n; ++w) {
        std::printf(" %10s", ("lcore " + std::to_string(g.shared->stats[w].lcore.load())).c_str());
    }
    std::printf(" %10s\n", "total");
    auto row = [&](const char* name, auto get, std::uint64_t total) {
        std::printf("%-28s", name);
        for (unsigned w = 0; w < n; ++w) std::printf(" %10" PRIu64, get(*t.per[w]));
        std::printf(" %10" PRIu64 "\n", total);
    };
    std::printf("-- MIB (zero counters omitted)\n");
    for (std::size_t i = 0; i < t.sum.mib.size(); ++i) {
        if (t.sum.mib[i] == 0) continue;
        row(tcp::name(static_cast<tcp::Mib>(i)), [&](const Request& r) { return r.counters.mib[i]; },
            t.sum.mib[i]);
    }
    std::printf("-- drop reasons (zero counters omitted)\n");
    for (std::size_t i = 0; i < t.sum.drops.size(); ++i) {
        if (t.sum.drops[i] == 0) continue;
        row(tcp::name(static_cast<tcp::Drop>(i)),
            [&](const Request& r) { return r.counters.drops[i]; }, t.sum.drops[i]);
    }
    std::printf("-- connections by state\n");
    for (std::size_t i = 0; i < tcp::kStateCount; ++i) {
        const auto s = static_cast<tcp::State>(i);
        if (s == tcp::State::time_wait) {
            row("TIME_WAIT (records)", [&](const Request& r) { return r.time_wait; }, t.time_wait);
            continue;
        }
        row(tcp::to_string(s), [&](const Request& r) { return r.counters.by_state[i]; },
            t.sum.by_state[i]);
    }
    row("control blocks", [&](const Request& r) { return r.connections; }, t.connections);
}

// "187ms", "2.5s", "-": time left as ss -o prints it.
std::string ms_text(std::int64_t ms) {
    if (ms < 0) return "-";
    char b[32];
    if (ms < 10000) std::snprintf(b, sizeof b, "%" PRId64 "ms", ms);
    else std::snprintf(b, sizeof b, "%.1fs", static_cast<double>(ms) / 1000.0);
    return b;
}

// ss -o: timer:(kind,left,retries); "" when none is armed.
std::string timer_text(const tcp::ConnInfo& i) {
    if (i.timer == tcp::TimerKind::none) return "";
    return std::string("timer:(") + tcp::to_string(i.timer) + "," + ms_text(i.timer_left_ms) + "," +
           std::to_string(i.retries) + ")";
}

// ss -i: options, MSS, RTT, windows (what a control block has; TIME_WAIT
// records keep the options and the last advertised window only).
std::string detail_text(const ConnRow& r) {
    const tcp::ConnInfo& i = r.info;
    std::string o;
    o += i.ts_ok ? "ts" : "nots";
    if (r.state == tcp::State::time_wait) return o + " win:" + std::to_string(i.rcv_wnd) + " (as sent)";
    if (r.state == tcp::State::listen) return "";
    if (i.sack_ok) o += " sack";
    if (i.ws_ok) o += " wscale:" + std::to_string(i.snd_wscale) + "," + std::to_string(i.rcv_wscale);
    char b[160];
    std::snprintf(b, sizeof b, " mss:%u rcvmss:%u rto:%u rtt:%.3f/%.3fms", i.snd_mss, i.rcv_mss,
                  i.rto_ms, static_cast<double>(i.srtt_us) / 1000.0,
                  static_cast<double>(i.rttvar_us) / 1000.0);
    o += b;
    o += " cwnd:" + std::to_string(i.cwnd);
    o += " ssthresh:" + (i.ssthresh == UINT32_MAX ? std::string("-") : std::to_string(i.ssthresh));
    o += " snd_wnd:" + std::to_string(i.snd_wnd) + " rcv_wnd:" + std::to_string(i.rcv_wnd);
    o += " inflight:" + std::to_string(i.in_flight);
    if (i.backoff) o += " backoff:" + std::to_string(i.backoff);
    if (r.orphan) o += " orphan";
    return o;
}

std::string conn_json(const ConnRow& r) {
    const tcp::ConnInfo& i = r.info;
    auto b = [](bool v) { return v ? std::string("true") : std::string("false"); };
    auto n = [](auto v) { return std::to_string(v); };
    return std::string("{\"id\":") + n(r.id) + ",\"state\":\"" + tcp::to_string(r.state) +
           "\",\"recv_q\":" + n(r.state == tcp::State::listen ? r.accept_q : r.recv_q) +
           ",\"send_q\":" + n(r.send_q) + ",\"local\":\"" +
           endpoint(r.tuple.local_ip, r.tuple.local_port) + "\",\"peer\":\"" +
           endpoint(r.tuple.remote_ip, r.tuple.remote_port) + "\",\"worker\":" + n(r.worker) +
           ",\"lcore\":" + n(g.shared->stats[r.worker].lcore.load()) + ",\"timer\":\"" +
           tcp::to_string(i.timer) + "\",\"timer_left_ms\":" + n(i.timer_left_ms) +
           ",\"retries\":" + n(i.retries) + ",\"ts\":" + b(r.ts_ok) + ",\"sack\":" + b(i.sack_ok) +
           ",\"snd_wscale\":" + n(i.snd_wscale) + ",\"rcv_wscale\":" + n(i.rcv_wscale) +
           ",\"mss\":" + n(i.snd_mss) + ",\"snd_wnd\":" + n(i.snd_wnd) + ",\"rcv_wnd\":" +
           n(i.rcv_wnd) + ",\"cwnd\":" + n(i.cwnd) + ",\"ssthresh\":" + n(i.ssthresh) +
           ",\"srtt_us\":" + n(i.srtt_us) + ",\"rttvar_us\":" + n(i.rttvar_us) + ",\"rto_ms\":" +
           n(i.rto_ms) + ",\"in_flight\":" + n(i.in_flight) + ",\"orphan\":" + b(r.orphan) + "}";
}

// `port` 0: any; otherwise the local or the peer port must match.
void show_conn(const std::string& state_filter, std::uint32_t port, bool json) {
    std::string want;
    if (!state_filter.empty()) {
        want = upper_state(state_filter);
        if (!valid_state(want) || want == "closed") {
            failf("bad argument: unknown state '%s' (LISTEN, SYN_SENT, ESTABLISHED, ...)",
                  state_filter.c_str());
            return;
        }
    }
    if (port > 65535) return failf("bad argument: port %u out of range 1..65535", port);
    std::vector<ConnRow> rows;
    for (unsigned w = 0; w < g.shared->workers; ++w) {
        auto r = request(Op::conns);
        if (!call(w, r)) return;
        for (auto& row : r->rows) {
            if (!want.empty() && want != tcp::to_string(row.state)) continue;
            if (port != 0 && row.tuple.local_port != port && row.tuple.remote_port != port) continue;
            rows.push_back(row);
        }
    }
    if (json) {
        std::string o = "[";
        for (std::size_t i = 0; i < rows.size(); ++i) o += (i ? "," : "") + conn_json(rows[i]);
        std::printf("%s]\n", o.c_str());
        return;
    }
    std::printf("%-8s %-13s %7s %7s %-21s %-21s %5s %s\n", "Id", "State", "Recv-Q", "Send-Q",
                "Local Address:Port", "Peer Address:Port", "Lcore", "Timer");
    for (const auto& r : rows) {
        const std::uint32_t rq = r.state == tcp::State::listen ? r.accept_q : r.recv_q;
        std::printf("%-8s %-13s %7u %7u %-21s %-21s %5u %s\n",
                    r.id ? std::to_string(r.id).c_str() : "-", tcp::to_string(r.state), rq,
                    r.send_q, endpoint(r.tuple.local_ip, r.tuple.local_port).c_str(),
                    endpoint(r.tuple.remote_ip, r.tuple.remote_port).c_str(),
                    g.shared->stats[r.worker].lcore.load(), timer_text(r.info).c_str());
        const std::string d = detail_text(r);
        if (!d.empty()) std::printf("         %s\n", d.c_str());
    }
}

// Armed timers by kind with the earliest expiry, per lcore, from each
// engine's timer_summary().
void show_timers() {
    constexpr std::size_t kinds = tcp::TimerSummary::kKinds;
    for (unsigned w = 0; w < g.shared->workers; ++w) {
        auto r = request(Op::timers);
        if (!call(w, r)) return;
        const tcp::TimerSummary& t = r->timers;
        std::printf("worker %u (lcore %u): %zu wheel entries, next wheel event %s, carried over %" PRIu64 "\n",
                    w, g.shared->stats[w].lcore.load(), t.wheel_entries,
                    t.wheel_next_ms < 0 ? "none" : ("in " + ms_text(t.wheel_next_ms)).c_str(),
                    t.carried_over);
        std::printf("  %-12s %10s %10s\n", "kind", "armed", "next in");
        for (std::size_t k = 1; k < kinds; ++k) {
            std::printf("  %-12s %10" PRIu64 " %10s\n", tcp::to_string(static_cast<tcp::TimerKind>(k)),
                        t.count[k], ms_text(t.next_ms[k]).c_str());
        }
    }
}

// rte_log level names as EAL's --log-level takes them.
std::optional<std::uint32_t> log_level(const std::string& s) {
    static const char* const names[] = {"emerg", "alert", "crit", "err",
                                        "warning", "notice", "info", "debug"};
    for (std::uint32_t i = 0; i < 8; ++i) {
        if (s == names[i]) return i + 1;  // RTE_LOG_EMERG == 1
    }
    return std::nullopt;
}

// The registered log types whose name starts with `prefix`
// (rte_log_list_types prints every type, one per line).
std::vector<std::string> log_types(const std::string& prefix) {
    char* buf = nullptr;
    std::size_t len = 0;
    std::FILE* f = open_memstream(&buf, &len);
    if (f == nullptr) return {};
    rte_log_list_types(f, "");
    std::fclose(f);
    std::vector<std::string> out;
    std::string all(buf, len), line;
    std::free(buf);
    for (char c : all) {
        if (c != '\n') {
            line += c;
            continue;
        }
        const auto b = line.find_first_not_of(" \t");
        if (b != std::string::npos && line.compare(b, prefix.size(), prefix) == 0) {
            out.push_back(line.substr(b));
        }
        line.clear();
    }
    return out;
}

std::string joined(const std::vector<std::string>& v) {
    std::string o;
    for (const auto& s : v) o += (o.empty() ? "" : " ") + s;
    return o;
}

void set_log(const std::string& type, const std::string& level) {
    auto lv = log_level(level);
    if (!lv) {
        return failf("bad argument: level '%s' (emerg alert crit err warning notice info debug)",
                     level.c_str());
    }
    const auto ours = log_types("tcpfp.");
    const bool glob = type.find_first_of("*?[") != std::string::npos;
    const bool known = std::find(ours.begin(), ours.end(), type) != ours.end();
    if (type.rfind("tcpfp.", 0) != 0 || (!glob && !known)) {
        return failf("bad argument: log type '%s'; the types are %s (or a glob such as tcpfp.*)",
                     type.c_str(), joined(ours).c_str());
    }
    if (rte_log_set_level_pattern(type.c_str(), *lv) != 0) {
        return failf("rte_log_set_level_pattern(%s, %s) failed", type.c_str(), level.c_str());
    }
    std::printf("log %s: %s\n", type.c_str(), level.c_str());
}

void set_verbose(bool on) {
    for (unsigned w = 0; w < g.shared->workers; ++w) {
        auto r = request(Op::set_verbose);
        r->num = on ? 1 : 0;
        if (!call(w, r)) return;
        if (r->rc != 0) return failf("worker %u: %s", w, r->out.c_str());
    }
    std::printf("verbose %s: every TCP segment in and out is printed%s\n", on ? "on" : "off",
                on ? "" : " no more");
}

// --- ports --------------------------------------------------------------------

std::vector<std::uint16_t> ports_of(const std::string& which) {
    std::vector<std::uint16_t> out;
    if (which == "all") {
        for (unsigned p = 0; p < RTE_MAX_ETHPORTS; ++p) {
            if (rte_eth_dev_is_valid_port(static_cast<std::uint16_t>(p))) {
                out.push_back(static_cast<std::uint16_t>(p));
            }
        }
        return out;
    }
    auto v = parse_u64(which);
    if (!v || *v >= RTE_MAX_ETHPORTS || !rte_eth_dev_is_valid_port(static_cast<std::uint16_t>(*v))) {
        failf("bad argument: no port '%s' (a port number or all)", which.c_str());
        return out;
    }
    out.push_back(static_cast<std::uint16_t>(*v));
    return out;
}

// testpmd's "show port xstats": every extended counter by name.
void show_xstats(std::uint16_t p) {
    const int n = rte_eth_xstats_get(p, nullptr, 0);
    if (n < 0) return failf("port %u: extended statistics unavailable", p);
    std::vector<rte_eth_xstat> vals(static_cast<std::size_t>(n));
    std::vector<rte_eth_xstat_name> names(static_cast<std::size_t>(n));
    if (rte_eth_xstats_get(p, vals.data(), static_cast<unsigned>(n)) != n ||
        rte_eth_xstats_get_names(p, names.data(), static_cast<unsigned>(n)) != n) {
        return failf("port %u: extended statistics changed while read", p);
    }
    std::printf("###### NIC extended statistics for port %-2u #########\n", p);
    for (const auto& v : vals) {
        if (v.id < names.size()) std::printf("%s: %" PRIu64 "\n", names[v.id].name, v.value);
    }
    std::printf("#################################################\n");
}

void show_port(const std::string& what, const std::string& which) {
    for (std::uint16_t p : ports_of(which)) {
        if (what == "info") {
            rte_eth_dev_info info{};
            rte_ether_addr mac{};
            rte_eth_link link{};
            (void)rte_eth_dev_info_get(p, &info);
            (void)rte_eth_macaddr_get(p, &mac);
            (void)rte_eth_link_get_nowait(p, &link);
            std::uint16_t mtu = 0;
            (void)rte_eth_dev_get_mtu(p, &mtu);
            char name[RTE_ETH_NAME_MAX_LEN] = {};
            (void)rte_eth_dev_get_name_by_port(p, name);
            std::printf("********************* Infos for port %u *********************\n", p);
            std::printf("Name: %s\nDriver: %s\nMAC address: " RTE_ETHER_ADDR_PRT_FMT "\n", name,
                        info.driver_name, RTE_ETHER_ADDR_BYTES(&mac));
            std::printf("Socket: %d\nLink: %s, %u Mbps, %s duplex\nMTU: %u\n",
                        rte_eth_dev_socket_id(p), link.link_status ? "up" : "down",
                        link.link_speed, link.link_duplex ? "full" : "half", mtu);
            std::printf("Queues: rx %u, tx %u (one pair per worker)\n", info.nb_rx_queues,
                        info.nb_tx_queues);
            if (p == g.port->id) {
                const LinkShared& l = g.shared->link;
                std::printf("Link changes: %" PRIu64 " up, %" PRIu64 " down; port restarts %" PRIu64
                            " (%" PRIu64 " failed)%s\n",
                            l.ups.load(), l.downs.load(), l.restarts.load(), l.restart_failures.load(),
                            g.port->memif_client ? "; memif client: reconnects with backoff" : "");
                std::printf("Checksum offload: rx %s, tx %s\nSteering: %s\nAddresses:",
                            g.port->rx_checksum ? "on" : "off", g.port->tx_checksum ? "on" : "off",
                            to_string(g.shared->steering.mode()));
                for (const auto& a : g.cfg->port.addresses) {
                    std::printf(" %s", a.addr.to_string().c_str());
                }
                std::printf("\n");
            }
        } else if (what == "xstats") {
            show_xstats(p);
        } else {
            rte_eth_stats s{};
            if (rte_eth_stats_get(p, &s) != 0) {
                failf("port %u: statistics unavailable", p);
                return;
            }
            std::printf("######################## NIC statistics for port %u ########################\n", p);
            std::printf("  RX-packets: %-12" PRIu64 " RX-missed: %-12" PRIu64 " RX-bytes: %" PRIu64 "\n",
                        s.ipackets, s.imissed, s.ibytes);
            std::printf("  RX-errors: %" PRIu64 "\n  RX-nombuf: %" PRIu64 "\n", s.ierrors, s.rx_nombuf);
            std::printf("  TX-packets: %-12" PRIu64 " TX-errors: %-12" PRIu64 " TX-bytes: %" PRIu64 "\n",
                        s.opackets, s.oerrors, s.obytes);
        }
    }
}

// --- waiting ------------------------------------------------------------------

void wait_state(std::uint64_t id, const std::string& want_raw, std::uint64_t timeout_ms) {
    const std::string want = upper_state(want_raw);
    if (!valid_state(want)) {
        failf("bad argument: unknown state '%s'", want_raw.c_str());
        return;
    }
    const std::uint64_t end = now_ms() + timeout_ms;
    std::string last;
    for (;;) {
        // The id may not exist yet (a connection a listener will accept): poll.
        auto r = request(Op::state);
        r->id = id;
        if (!call(worker_of(id), r)) return;
        if (r->rc != 0) {
            last = "(" + r->out + ")";
        } else {
            g.seen[id].insert(r->state_name);
            last = r->state_name;
        }
        if (last == want) {
            std::printf("connection %" PRIu64 ": %s\n", id, last.c_str());
            return;
        }
        if (now_ms() >= end || stopping()) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    failf("wait: connection %" PRIu64 " expected %s within %" PRIu64 " ms, found %s", id,
          want.c_str(), timeout_ms, last.c_str());
}

void wait_arp(const std::string& addr, std::uint64_t timeout_ms) {
    auto ip = wire::Ipv4Addr::parse(addr);
    if (!ip) return failf("bad argument: '%s' is not an address", addr.c_str());
    const std::uint64_t end = now_ms() + timeout_ms;
    for (;;) {
        bool all = true;
        for (unsigned w = 0; w < g.shared->workers; ++w) {
            auto r = request(Op::arp_probe);
            r->tuple.remote_ip = *ip;
            if (!call(w, r)) return;
            all = all && r->num == 1;
        }
        if (all) {
            std::printf("%s: resolved\n", addr.c_str());
            return;
        }
        if (now_ms() >= end || stopping()) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    failf("wait arp: %s not resolved within %" PRIu64 " ms", addr.c_str(), timeout_ms);
}

bool compare(std::uint64_t a, const std::string& op, std::uint64_t b, bool& ok) {
    if (op == "==") ok = a == b;
    else if (op == "!=") ok = a != b;
    else if (op == "<") ok = a < b;
    else if (op == "<=") ok = a <= b;
    else if (op == ">") ok = a > b;
    else if (op == ">=") ok = a >= b;
    else return false;
    return true;
}

std::uint64_t do_connect(const std::string& local, const std::string& remote) {
    auto r = request(Op::connect);
    if (!parse_endpoint(remote, true, r->tuple.remote_ip, r->tuple.remote_port) ||
        r->tuple.remote_ip.is_unspecified()) {
        failf("bad argument: '%s' is not ADDR:PORT", remote.c_str());
        return 0;
    }
    if (!local.empty() && !parse_endpoint(local, false, r->tuple.local_ip, r->tuple.local_port)) {
        failf("bad argument: '%s' is not ADDR or ADDR:PORT", local.c_str());
        return 0;
    }
    if (!call(0, r)) return 0;  // worker 0 opens: its port filter picks a port that maps back
    if (r->rc != 0) {
        failf("%s", r->out.c_str());
        return 0;
    }
    std::printf("connection %" PRIu64 ": %s -> %s\n", r->id, r->out.c_str(), remote.c_str());
    return r->id;
}

void do_listen(const std::string& addr, std::uint32_t port, const std::string& mode, bool on) {
    auto a = parse_addr(addr);
    if (!a) {
        failf("bad argument: '%s' is not an address or any", addr.c_str());
        return;
    }
    if (port == 0 || port > 65535) {
        failf("bad argument: port %u out of range 1..65535", port);
        return;
    }
    Mode m = Mode::sink;
    if (mode == "echo") m = Mode::echo;
    else if (mode == "discard") m = Mode::discard;
    else if (mode == "http") m = Mode::http;
    else if (mode == "hold") m = Mode::hold;
    for (unsigned w = 0; w < g.shared->workers; ++w) {
        auto r = request(on ? Op::listen : Op::unlisten);
        r->tuple.local_ip = *a;
        r->tuple.local_port = static_cast<std::uint16_t>(port);
        r->num = static_cast<std::int64_t>(m);
        if (!call(w, r)) return;
        if (r->rc != 0) {
            failf("worker %u: %s", w, r->out.c_str());
            return;
        }
    }
    if (on) std::printf("listening on %s (%s)\n", endpoint(*a, static_cast<std::uint16_t>(port)).c_str(), mode.c_str());
}

std::unique_ptr<Request> conn_op(Op op, std::uint64_t id) {
    auto r = request(op);
    r->id = id;
    if (!call(worker_of(id), r)) return nullptr;
    if (r->rc != 0) {
        failf("%s", r->out.c_str());
        return nullptr;
    }
    return r;
}

void do_send(std::uint64_t id, const std::string& what) {
    auto r = request(Op::send_text);
    r->id = id;
    std::string text;
    if (parse_quoted(what, text)) {
        r->text = text;
    } else {
        std::string w = what;
        while (!w.empty() && (w.back() == ' ' || w.back() == '\n')) w.pop_back();
        auto n = parse_u64(w);
        if (!n || *n > (64u << 20)) {
            failf("bad argument: '%s' is neither \"text\" nor a byte count", w.c_str());
            return;
        }
        r->op = Op::send_bytes;
        r->num = static_cast<std::int64_t>(*n);
    }
    if (!call(worker_of(id), r)) return;
    if (r->rc != 0) {
        failf("%s", r->out.c_str());
        return;
    }
    std::printf("connection %" PRIu64 ": sent %" PRId64 " byte(s)%s%s\n", id, r->num,
                r->out.empty() ? "" : "; ", r->out.c_str());
}

void expect_recv(std::uint64_t id, const std::string& what) {
    std::string text;
    if (!parse_quoted(what, text)) {
        failf("bad argument: expect recv needs a \"quoted text\"");
        return;
    }
    // Data may still be on its way: retry for up to 2 s.
    const std::uint64_t end = now_ms() + 2000;
    for (;;) {
        auto r = request(Op::recv_take);
        r->id = id;
        r->text = text;
        if (!call(worker_of(id), r)) return;
        if (r->rc == 0) {
            std::printf("connection %" PRIu64 ": received %s\n", id, printable(text).c_str());
            return;
        }
        if (!r->out.empty() && r->out.rfind("no connection", 0) == 0) {
            failf("%s", r->out.c_str());
            return;
        }
        if (now_ms() >= end || stopping()) {
            failf("expect recv: connection %" PRIu64 " expected %s, found %s", id,
                  printable(text).c_str(), printable(r->out).c_str());
            return;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
}

// Bytes received on a CLI connection (Op::state's num); data may still be
// arriving, so the comparison is retried for up to 2 s.
void expect_rxbytes(std::uint64_t id, const std::string& op, std::uint64_t want) {
    const std::uint64_t end = now_ms() + 2000;
    for (;;) {
        auto r = conn_op(Op::state, id);
        if (!r) return;
        const auto got = static_cast<std::uint64_t>(r->num);
        bool ok = false;
        if (!compare(got, op, want, ok)) return failf("bad argument: operator '%s'", op.c_str());
        if (ok) {
            std::printf("ok: connection %" PRIu64 " received %" PRIu64 " bytes (%s %" PRIu64 ")\n",
                        id, got, op.c_str(), want);
            return;
        }
        if (now_ms() >= end || stopping()) {
            return failf("expect rxbytes: connection %" PRIu64 " expected %s %" PRIu64
                         " bytes, found %" PRIu64, id, op.c_str(), want, got);
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
}

void set_timers(std::int64_t tw, std::int64_t fw2) {
    for (unsigned w = 0; w < g.shared->workers; ++w) {
        auto r = request(Op::set_timers);
        r->num = tw;
        r->num2 = fw2;
        if (!call(w, r)) return;
    }
    if (tw >= 0) std::printf("TIME_WAIT = %" PRId64 " ms (MSL %" PRId64 " ms) on every worker\n", tw, tw / 2);
    if (fw2 >= 0) std::printf("FIN_WAIT_2 timeout = %" PRId64 " ms on every worker\n", fw2);
}

void seed_client(const std::string& target) {
    const std::string remote = target.empty()
                                   ? g.cfg->services.seed_target.to_string() + ":" +
                                         std::to_string(g.cfg->services.seed_port)
                                   : target;
    const std::string local = g.cfg->services.seed_source.is_unspecified()
                                  ? std::string()
                                  : g.cfg->services.seed_source.to_string();
    const std::uint64_t id = do_connect(local, remote);
    if (id == 0) return;
    wait_state(id, "ESTABLISHED", 5000);
    if (g.failed) return;
    do_send(id, printable(g.cfg->services.seed_message + "\n"));
    if (g.failed) return;
    if (auto r = conn_op(Op::close, id)) {
        std::printf("connection %" PRIu64 ": close: %s\n", id, r->out.c_str());
    }
}

std::string arg(Args& a, std::size_t i) { return a.s[i]; }

// --- the table ----------------------------------------------------------------

void build_commands() {
    auto add = [](const char* spec, const char* help, std::function<void(Args&)> run) {
        auto c = std::make_unique<Command>();
        c->spec = spec;
        c->help = help;
        c->run = std::move(run);
        g.commands.push_back(std::move(c));
    };
    add("help", "list the commands", [](Args&) {
        std::printf("Commands (Tab completes, '?' lists choices; connection ids are global: worker*%" PRIu64 " + n):\n", kIdStride);
        for (const auto& c : g.commands) std::printf("  %-50s %s\n", c->usage.c_str(), c->help);
        std::printf("States: LISTEN SYN_SENT SYN_RECEIVED ESTABLISHED FIN_WAIT_1 FIN_WAIT_2 CLOSE_WAIT\n"
                    "        CLOSING LAST_ACK TIME_WAIT, or closed (gone). Scripts: '#' starts a comment.\n");
    });
    add("quit", "stop the prompt (and tcpfp)", [](Args&) {
        g.quit = true;
        if (g.cl != nullptr) cmdline_quit(g.cl);
    });
    add("show port info#stats#xstats <port>", "port details, NIC counters or extended counters (<port> = number or all)",
        [](Args& a) { show_port(arg(a, 2), arg(a, 3)); });
    add("clear port stats all", "reset the NIC counters of every port", [](Args&) {
        for (unsigned p = 0; p < RTE_MAX_ETHPORTS; ++p) {
            if (rte_eth_dev_is_valid_port(static_cast<std::uint16_t>(p))) {
                (void)rte_eth_stats_reset(static_cast<std::uint16_t>(p));
            }
        }
        std::printf("port statistics cleared\n");
    });
    add("show lcores", "the main lcore and each worker's lcore, queue and traffic", [](Args&) {
        std::printf("main lcore %u: prompt and control\n", rte_get_main_lcore());
        for (unsigned w = 0; w < g.shared->workers; ++w) {
            const auto& s = g.shared->stats[w];
            std::printf("worker %u: lcore %u, RX/TX queue %u, rx %" PRIu64 " tx %" PRIu64
                        " frames, tcp in %" PRIu64 " out %" PRIu64 ", %" PRIu64
                        " control block(s), %" PRIu64 " TIME_WAIT, handoff out %" PRIu64 " in %" PRIu64 "\n",
                        w, s.lcore.load(), w, s.rx_packets.load(), s.tx_packets.load(),
                        s.tcp_in.load(), s.tcp_out.load(), s.connections.load(), s.time_wait.load(),
                        s.handed_off.load(), s.handoff_in.load());
        }
    });
    add("show tcp stats", "MIB counters, drop reasons and states, per lcore and total",
        [](Args&) { show_tcp_stats(false); });
    add("show tcp stats json", "the same as JSON", [](Args&) { show_tcp_stats(true); });
    add("show conn", "connections like ss -tan -i -o (TIME_WAIT records included)",
        [](Args&) { show_conn("", 0, false); });
    add("show conn json", "the same as JSON", [](Args&) { show_conn("", 0, true); });
    add("show conn state <state>", "connections in one state", [](Args& a) { show_conn(arg(a, 3), 0, false); });
    add("show conn state <state> json", "the same as JSON", [](Args& a) { show_conn(arg(a, 3), 0, true); });
    add("show conn port <port:u32>", "connections with that local or peer port",
        [](Args& a) { show_conn("", a.n[3], false); });
    add("show conn port <port:u32> json", "the same as JSON", [](Args& a) { show_conn("", a.n[3], true); });
    add("show conn state <state> port <port:u32>", "both filters",
        [](Args& a) { show_conn(arg(a, 3), a.n[5], false); });
    add("show conn state <state> port <port:u32> json", "the same as JSON",
        [](Args& a) { show_conn(arg(a, 3), a.n[5], true); });
    add("show timers", "armed timers by kind and the next expiry, per lcore", [](Args&) { show_timers(); });
    add("show arp", "each worker's ARP cache", [](Args&) {
        for (unsigned w = 0; w < g.shared->workers; ++w) {
            auto r = request(Op::arp);
            if (!call(w, r)) return;
            std::printf("worker %u:\n%s", w, r->out.empty() ? "  (empty)\n" : r->out.c_str());
        }
    });
    add("set timewait <ms:u32>", "TIME_WAIT duration (2*MSL) for new TIME_WAITs",
        [](Args& a) { set_timers(a.n[2], -1); });
    add("set finwait2 <ms:u32>", "orphaned FIN_WAIT_2 timeout",
        [](Args& a) { set_timers(-1, a.n[2]); });
    add("set log <type> <level>", "rte_log level of tcpfp.* types (emerg ... debug; globs like tcpfp.*)",
        [](Args& a) { set_log(arg(a, 2), arg(a, 3)); });
    add("set verbose on#off", "print every TCP segment in and out, one line each, like tcpdump",
        [](Args& a) { set_verbose(arg(a, 2) == "on"); });
    add("listen <addr> <port:u32> echo#discard#http#sink#hold",
        "listen on <addr|any>; sink keeps data for expect recv, hold never reads",
        [](Args& a) { do_listen(arg(a, 1), a.n[2], arg(a, 3), true); });
    add("unlisten <addr> <port:u32>", "stop a listen command's listener",
        [](Args& a) { do_listen(arg(a, 1), a.n[2], "", false); });
    add("connect <raddr:rport>", "open a connection; prints its id",
        [](Args& a) { (void)do_connect("", arg(a, 1)); });
    add("connect <laddr[:lport]> <raddr:rport>", "open from a given local address/port",
        [](Args& a) { (void)do_connect(arg(a, 1), arg(a, 2)); });
    add("send <id:u32> <\"text\"|nbytes...>", "send a quoted string (C escapes) or N bytes",
        [](Args& a) { do_send(a.n[1], a.rest); });
    add("shutdown <id:u32> rd#wr#rdwr", "shutdown(2) one or both directions", [](Args& a) {
        auto r = request(Op::shutdown);
        r->id = a.n[1];
        const std::string how = arg(a, 2);
        r->num = how == "rd" ? 0 : how == "wr" ? 1 : 2;
        if (!call(worker_of(r->id), r)) return;
        if (r->rc != 0) return failf("%s", r->out.c_str());
        std::printf("connection %u: shutdown %s: %s\n", a.n[1], how.c_str(), r->state_name.c_str());
    });
    add("close <id:u32>", "close(2): FIN after the queued data", [](Args& a) {
        if (auto r = conn_op(Op::close, a.n[1])) {
            std::printf("connection %u: close: %s\n", a.n[1], r->out.c_str());
            const auto arrow = r->out.find(" -> ");
            if (arrow != std::string::npos) g.seen[a.n[1]].insert(r->out.substr(arrow + 4));
        }
    });
    add("close <id:u32> linger <ms:u32>", "close with SO_LINGER (rounded up to seconds; 0 = RST)",
        [](Args& a) {
            auto r = request(Op::close);
            r->id = a.n[1];
            r->num = a.n[3];
            if (!call(worker_of(r->id), r)) return;
            if (r->rc != 0) return failf("%s", r->out.c_str());
            std::printf("connection %u: close: %s\n", a.n[1], r->out.c_str());
        });
    add("abort <id:u32>", "abort: RST and forget", [](Args& a) {
        if (conn_op(Op::abort, a.n[1])) std::printf("connection %u: aborted\n", a.n[1]);
    });
    add("wait <id:u32> <state>", "wait (5 s) until the connection is in STATE (or closed)",
        [](Args& a) { wait_state(a.n[1], arg(a, 2), 5000); });
    add("wait <id:u32> <state> timeout <ms:u32>", "the same with a timeout",
        [](Args& a) { wait_state(a.n[1], arg(a, 2), a.n[4]); });
    add("wait arp <addr>", "resolve ADDR's next hop (5 s); scripts start with it",
        [](Args& a) { wait_arp(arg(a, 2), 5000); });
    add("wait arp <addr> timeout <ms:u32>", "the same with a timeout",
        [](Args& a) { wait_arp(arg(a, 2), a.n[4]); });
    add("sleep <ms:u32>", "pause the script", [](Args& a) {
        const std::uint64_t end = now_ms() + a.n[1];
        while (now_ms() < end && !stopping()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    });
    add("echo <text...>", "print a line (markers for test harnesses)",
        [](Args& a) { std::printf("%s\n", a.rest); });
    add("expect conn <id:u32> <state>", "fail unless the connection is in STATE now", [](Args& a) {
        const std::string want = upper_state(arg(a, 3));
        if (!valid_state(want)) return failf("bad argument: unknown state '%s'", arg(a, 3).c_str());
        auto s = conn_state(a.n[2]);
        if (!s) return;
        if (*s != want) {
            return failf("expect conn: connection %u expected %s, found %s", a.n[2], want.c_str(),
                         s->c_str());
        }
        std::printf("ok: connection %u is %s\n", a.n[2], s->c_str());
    });
    add("expect seen <id:u32> <state>", "fail unless the CLI has seen the connection in STATE",
        [](Args& a) {
            const std::string want = upper_state(arg(a, 3));
            if (!valid_state(want)) return failf("bad argument: unknown state '%s'", arg(a, 3).c_str());
            (void)conn_state(a.n[2]);
            if (g.failed) return;
            const auto& seen = g.seen[a.n[2]];
            if (!seen.count(want)) {
                std::string all;
                for (const auto& s : seen) all += (all.empty() ? "" : " ") + s;
                return failf("expect seen: connection %u expected %s among the states seen, found %s",
                             a.n[2], want.c_str(), all.c_str());
            }
            std::printf("ok: connection %u was seen in %s\n", a.n[2], want.c_str());
        });
    add("expect stat <name> ==#!=#<#<=#>#>= <value:u32>",
        "compare a MIB counter, drop reason, connections, time_wait or state.S (total over lcores)",
        [](Args& a) {
            Totals t;
            if (!gather(t)) return;
            const std::string name = arg(a, 2), op = arg(a, 3);
            auto v = stat_value(t, name);
            if (!v) return failf("bad argument: unknown counter '%s' (see show tcp stats json)", name.c_str());
            bool ok = false;
            if (!compare(*v, op, a.n[4], ok)) return failf("bad argument: operator '%s'", op.c_str());
            if (!ok) {
                return failf("expect stat: expected %s %s %u, found %" PRIu64, name.c_str(),
                             op.c_str(), a.n[4], *v);
            }
            std::printf("ok: %s = %" PRIu64 " (%s %u)\n", name.c_str(), *v, op.c_str(), a.n[4]);
        });
    add("expect rxbytes <id:u32> ==#!=#<#<=#>#>= <value:u32>",
        "compare the bytes received so far on a CLI connection (waits 2 s for them to hold)",
        [](Args& a) { expect_rxbytes(a.n[2], arg(a, 3), a.n[4]); });
    add("expect recv <id:u32> <\"text\"...>", "fail unless the connection received TEXT (waits 2 s)",
        [](Args& a) { expect_recv(a.n[2], a.rest); });
    add("seed-client", "the seed's exchange with [services] seed_target: connect, one line, close",
        [](Args&) { seed_client(""); });
    add("seed-client <raddr:rport>", "the same against another peer",
        [](Args& a) { seed_client(arg(a, 1)); });
    // The traffic generators (gen_commands.cpp) through the same table.
    GenHost host{g.cfg, g.shared, g.stop,
                 [](unsigned w, std::unique_ptr<Request>& r) { return call(w, r); },
                 [](const std::string& why) { failf("%s", why.c_str()); }};
    const GenAdd gen_add = [&add](const char* spec, const char* help,
                                  std::function<void(const GenArgs&)> run) {
        add(spec, help, [run = std::move(run)](Args& a) {
            GenArgs ga;
            for (std::size_t i = 0; i < kMaxTokens; ++i) {
                ga.s[i].assign(a.s[i], strnlen(a.s[i], sizeof a.s[i]));
                ga.n[i] = a.n[i];
            }
            ga.rest.assign(a.rest, strnlen(a.rest, sizeof a.rest));
            run(ga);
        });
    };
    add_gen_commands(host, gen_add);
    add_flood_commands(host, gen_add);  // the SYN flood (flood_commands.cpp), the same way
    add_proxy_commands(host, gen_add);  // show proxy (proxy_commands.cpp)
}

void on_parsed(void* parsed, cmdline*, void* data) {
    auto* c = static_cast<Command*>(data);
    g.failed = false;
    g.error.clear();
    c->run(*static_cast<Args*>(parsed));
    if (g.failed && g.cl != nullptr && !g.quit) {
        // Interactive: report here; scripts report with the file and line.
        std::printf("error: %s\n", g.error.c_str());
    }
    std::fflush(stdout);
}

void compile(Command& c) {
    std::vector<std::string> parts;
    {
        std::string spec = c.spec, cur;
        for (char ch : spec) {
            if (ch == ' ') {
                if (!cur.empty()) parts.push_back(cur);
                cur.clear();
            } else {
                cur += ch;
            }
        }
        if (!cur.empty()) parts.push_back(cur);
    }
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
            const bool rest = p.size() > 4 && p.substr(p.size() - 4) == "...>";
            const bool num = p.find(":u32>") != std::string::npos;
            if (num) {
                cmdline_parse_token_num_t t{};
                t.hdr.ops = &cmdline_token_num_ops;
                t.hdr.offset = static_cast<unsigned>(offsetof(Args, n) + i * sizeof(std::uint32_t));
                t.num_data.type = RTE_UINT32;
                c.nums.push_back(t);
                tok = &c.nums.back().hdr;
                usage.push_back(p.substr(0, p.find(':')) + ">");
            } else {
                cmdline_parse_token_string_t t{};
                t.hdr.ops = &cmdline_token_string_ops;
                t.hdr.offset = rest ? static_cast<unsigned>(offsetof(Args, rest))
                                    : static_cast<unsigned>(offsetof(Args, s) + i * sizeof(cmdline_fixed_string_t));
                t.string_data.str = rest ? TOKEN_STRING_MULTI : nullptr;
                c.strings.push_back(t);
                tok = &c.strings.back().hdr;
                usage.push_back(rest ? p.substr(0, p.size() - 4) + ">" : p);
            }
        } else {
            c.words.push_back(p);
            cmdline_parse_token_string_t t{};
            t.hdr.ops = &cmdline_token_string_ops;
            t.hdr.offset = static_cast<unsigned>(offsetof(Args, s) + i * sizeof(cmdline_fixed_string_t));
            t.string_data.str = c.words.back().c_str();
            c.strings.push_back(t);
            tok = &c.strings.back().hdr;
            std::string u = p;
            std::replace(u.begin(), u.end(), '#', '|');
            usage.push_back(u);
            if (i == 0) g.first_words.insert(p);
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

Prompt::Prompt(const AppConfig& cfg, const Port& port, Shared& shared, const std::atomic<int>& stop) {
    g.cfg = &cfg;
    g.port = &port;
    g.shared = &shared;
    g.stop = &stop;
    build_commands();
    for (auto& c : g.commands) {
        compile(*c);
        g.ctx.push_back(c->inst);
    }
    g.ctx.push_back(nullptr);
}

Prompt::~Prompt() {
    gen_shutdown();
    flood_shutdown();
    for (auto& c : g.commands) std::free(c->inst);
    g.commands.clear();
    g.ctx.clear();
}

bool Prompt::quit_requested() const { return g.quit; }

bool Prompt::run_file(const std::string& path) {
    std::ifstream in(path);
    if (!in) {
        std::printf("%s: cannot open: %s\n", path.c_str(), std::strerror(errno));
        return false;
    }
    // A cmdline object for parsing only (cmdline_parse returns the line length
    // on success, CMDLINE_PARSE_* < 0 otherwise); commands print to stdout.
    cmdline* cl = cmdline_new(g.ctx.data(), "", -1, -1);
    if (cl == nullptr) {
        std::printf("%s: cmdline_new failed\n", path.c_str());
        return false;
    }
    std::string raw;
    unsigned lineno = 0;
    bool ok = true;
    while (std::getline(in, raw) && !g.quit) {
        ++lineno;
        const std::string line = trim(strip_comment(raw));
        if (line.empty()) continue;
        if (stopping()) {
            std::printf("%s:%u: stopped by a signal before '%s'\n", path.c_str(), lineno, line.c_str());
            ok = false;
            break;
        }
        std::printf("tcpfp> %s\n", line.c_str());
        std::fflush(stdout);
        g.failed = false;
        g.error.clear();
        const int rc = cmdline_parse(cl, (line + "\n").c_str());
        std::string why;
        if (rc == CMDLINE_PARSE_AMBIGUOUS) {
            why = "ambiguous command";
        } else if (rc == CMDLINE_PARSE_NOMATCH || rc == CMDLINE_PARSE_BAD_ARGS) {
            const std::string first = line.substr(0, line.find_first_of(" \t"));
            why = g.first_words.count(first)
                      ? "bad arguments (usage: see help, e.g. '" + first + " ...')"
                      : "unknown command '" + first + "' (see help)";
            if (g.first_words.count(first)) {
                why = "bad arguments; usage:";
                for (const auto& c : g.commands) {
                    if (c->words.size() && c->words[0] == first) why += "\n    " + c->usage;
                }
            }
        } else if (rc < 0) {
            why = "parse error " + std::to_string(rc);
        } else if (g.failed) {
            why = g.error;
        }
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
    g.cl = cmdline_stdin_new(g.ctx.data(), "tcpfp> ");
    if (g.cl == nullptr) {
        std::printf("cannot open the prompt on stdin\n");
        return;
    }
    cmdline_interact(g.cl);
    cmdline_stdin_exit(g.cl);
    g.cl = nullptr;
    std::printf("\n");
}

}  // namespace tcpfp::app::cli
