#include "dpdk_app/cli/prompt.hpp"

#include <rte_ring.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cinttypes>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <thread>

#include "dpdk_app/cli/flood_commands.hpp"
#include "dpdk_app/cli/gen_commands.hpp"
#include "tcp/engine/state.hpp"

namespace tcpfp::app::cli {

namespace {
constexpr std::uint64_t kAnswerMs = 5000;  // a worker that takes longer is stuck
}  // namespace

void PromptState::failf(const char* fmt, ...) {
    char buf[2048];
    va_list ap;
    va_start(ap, fmt);
    std::vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    failed = true;
    error = buf;
}

// The mailbox protocol (dpdk_app/apps/command.hpp): `done` is written by the
// worker with release after the reply, read here with acquire.
bool PromptState::send_and_wait(unsigned w, Command& c, bool& leave) {
    if (w >= shared.workers) {
        failf("no worker %u", w);
        return false;
    }
    c.done.store(false, std::memory_order_relaxed);
    if (rte_ring_sp_enqueue(shared.cli_rings[w], &c) != 0) {
        failf("worker %u's mailbox is full", w);
        return false;
    }
    const std::uint64_t end = now_ms() + kAnswerMs;
    while (!c.done.load(std::memory_order_acquire)) {
        if (now_ms() > end) {
            leave = true;  // the worker may still write to it
            failf("worker %u did not answer within 5 s", w);
            return false;
        }
        std::this_thread::sleep_for(std::chrono::microseconds(50));
    }
    return true;
}

// A worker publishes about once a millisecond and counts its publications
// (release after the figures): one more than now means figures at least as
// new as everything the worker did before this call.
bool PromptState::figures(std::vector<Figures>& out) {
    out.assign(workers(), Figures{});
    std::uint64_t seen_at[kMaxWorkers] = {};
    for (unsigned w = 0; w < workers(); ++w) {
        seen_at[w] = shared.stats[w].publications.load(std::memory_order_acquire);
    }
    const std::uint64_t end = now_ms() + kAnswerMs;
    for (unsigned w = 0; w < workers(); ++w) {
        const LcoreStats& s = shared.stats[w];
        while (s.publications.load(std::memory_order_acquire) == seen_at[w]) {
            if (now_ms() > end) {
                failf("worker %u published no figures within 5 s", w);
                return false;
            }
            std::this_thread::sleep_for(std::chrono::microseconds(50));
        }
        Figures& f = out[w];
        auto get = [](const std::atomic<std::uint64_t>& a) { return a.load(std::memory_order_relaxed); };
        for (std::size_t i = 0; i < f.counters.mib.size(); ++i) f.counters.mib[i] = get(s.mib[i]);
        for (std::size_t i = 0; i < f.counters.drops.size(); ++i) f.counters.drops[i] = get(s.tcp_drops[i]);
        for (std::size_t i = 0; i < f.counters.by_state.size(); ++i) {
            f.counters.by_state[i] = get(s.by_state[i]);
        }
        f.connections = get(s.connections);
        f.time_wait = get(s.time_wait);
        f.buffer_bytes = get(s.buffer_bytes);
    }
    return true;
}

// --- shared helpers ------------------------------------------------------------

std::uint64_t now_ms() {
    return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::now().time_since_epoch()).count());
}

void sleep_ms(std::uint64_t ms) { std::this_thread::sleep_for(std::chrono::milliseconds(ms)); }

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

bool parse_target(const std::string& s, wire::Ipv4Addr& a, std::uint16_t& port) {
    const auto colon = s.find(':');
    if (colon == std::string::npos) return false;
    const auto ip = wire::Ipv4Addr::parse(s.substr(0, colon));
    const std::string p = s.substr(colon + 1);
    char* end = nullptr;
    const unsigned long v = std::strtoul(p.c_str(), &end, 10);
    if (!ip || ip->is_unspecified() || p.empty() || *end != '\0' || v == 0 || v > 65535) return false;
    a = *ip;
    port = static_cast<std::uint16_t>(v);
    return true;
}

namespace {
// One escape after a backslash at in[i] (i at the backslash); false if bad.
bool unescape(const std::string& s, std::size_t& i, std::string& out) {
    if (i + 2 >= s.size()) return false;
    const char c = s[++i];
    switch (c) {
        case 'n': out += '\n'; return true;
        case 'r': out += '\r'; return true;
        case 't': out += '\t'; return true;
        case '\\': out += '\\'; return true;
        case '"': out += '"'; return true;
        case '0': out += '\0'; return true;
        case 'x': {
            if (i + 3 >= s.size()) return false;
            char hex[3] = {s[i + 1], s[i + 2], 0};
            char* end = nullptr;
            const long v = std::strtol(hex, &end, 16);
            if (end != hex + 2) return false;
            out += static_cast<char>(v);
            i += 2;
            return true;
        }
        default:
            return false;
    }
}
}  // namespace

bool parse_quoted(const std::string& in, std::string& out) {
    std::string s = in;
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\n')) s.pop_back();
    if (s.size() < 2 || s.front() != '"' || s.back() != '"') return false;
    out.clear();
    for (std::size_t i = 1; i + 1 < s.size(); ++i) {
        if (s[i] != '\\') {
            out += s[i];
        } else if (!unescape(s, i, out)) {
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

std::string ms_text(std::int64_t ms) {
    if (ms < 0) return "-";
    char b[32];
    if (ms < 10000) std::snprintf(b, sizeof b, "%" PRId64 "ms", ms);
    else std::snprintf(b, sizeof b, "%.1fs", static_cast<double>(ms) / 1000.0);
    return b;
}

bool compare(double a, const std::string& op, double b, bool& ok) {
    if (op == "==") ok = a == b;
    else if (op == "!=") ok = a != b;
    else if (op == "<") ok = a < b;
    else if (op == "<=") ok = a <= b;
    else if (op == ">") ok = a > b;
    else if (op == ">=") ok = a >= b;
    else return false;
    return true;
}

std::vector<std::string> words(const std::string& s) {
    std::vector<std::string> out;
    std::string cur;
    for (char c : s) {
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
            if (!cur.empty()) out.push_back(cur);
            cur.clear();
        } else {
            cur += c;
        }
    }
    if (!cur.empty()) out.push_back(cur);
    return out;
}

}  // namespace tcpfp::app::cli
