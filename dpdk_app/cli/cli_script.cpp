// The prompt's script and housekeeping commands: help, quit, sleep, echo,
// log levels, `set verbose`, and the workers' ARP (show arp, wait arp).
#include <cmdline.h>
#include <rte_log.h>

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>

#include "dpdk_app/apps/agent_commands.hpp"
#include "dpdk_app/cli/prompt.hpp"

namespace tcpfp::app::cli {

namespace {

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

void set_log(PromptState& st, const std::string& type, const std::string& level) {
    auto lv = log_level(level);
    if (!lv) {
        return st.failf("bad argument: level '%s' (emerg alert crit err warning notice info debug)",
                        level.c_str());
    }
    const auto ours = log_types("tcpfp.");
    const bool glob = type.find_first_of("*?[") != std::string::npos;
    const bool known = std::find(ours.begin(), ours.end(), type) != ours.end();
    if (type.rfind("tcpfp.", 0) != 0 || (!glob && !known)) {
        return st.failf("bad argument: log type '%s'; the types are %s (or a glob such as tcpfp.*)",
                        type.c_str(), joined(ours).c_str());
    }
    if (rte_log_set_level_pattern(type.c_str(), *lv) != 0) {
        return st.failf("rte_log_set_level_pattern(%s, %s) failed", type.c_str(), level.c_str());
    }
    std::printf("log %s: %s\n", type.c_str(), level.c_str());
}

void set_verbose(PromptState& st, bool on) {
    for (unsigned w = 0; w < st.workers(); ++w) {
        auto c = std::make_unique<SetVerbose>(on);
        if (!st.call(w, c)) return;
        if (c->rc != 0) return st.failf("worker %u: %s", w, c->out.c_str());
    }
    std::printf("verbose %s: every TCP segment in and out is printed%s\n", on ? "on" : "off",
                on ? "" : " no more");
}

// True when every worker has `addr`'s next hop (each starts resolving it).
std::optional<bool> resolved_everywhere(PromptState& st, wire::Ipv4Addr addr) {
    bool all = true;
    for (unsigned w = 0; w < st.workers(); ++w) {
        auto c = std::make_unique<ResolveNeighbor>(addr);
        if (!st.call(w, c)) return std::nullopt;
        all = all && c->resolved;
    }
    return all;
}

void wait_arp(PromptState& st, const std::string& addr, std::uint64_t timeout_ms) {
    auto ip = wire::Ipv4Addr::parse(addr);
    if (!ip) return st.failf("bad argument: '%s' is not an address", addr.c_str());
    const std::uint64_t end = now_ms() + timeout_ms;
    for (;;) {
        const auto all = resolved_everywhere(st, *ip);
        if (!all) return;
        if (*all) {
            std::printf("%s: resolved\n", addr.c_str());
            return;
        }
        if (now_ms() >= end || st.stopping()) break;
        sleep_ms(20);
    }
    st.failf("wait arp: %s not resolved within %" PRIu64 " ms", addr.c_str(), timeout_ms);
}

void show_arp(PromptState& st) {
    for (unsigned w = 0; w < st.workers(); ++w) {
        auto c = std::make_unique<ShowNeighbors>();
        if (!st.call(w, c)) return;
        std::printf("worker %u:\n%s", w, c->out.empty() ? "  (empty)\n" : c->out.c_str());
    }
}

}  // namespace

bool resolve_next_hop(PromptState& st, wire::Ipv4Addr raddr, const char* command) {
    const std::uint64_t end = now_ms() + 3000;
    for (;;) {
        const auto all = resolved_everywhere(st, raddr);
        if (!all) return false;
        if (*all) return true;
        if (now_ms() > end || st.stopping()) break;
        sleep_ms(10);
    }
    st.fail(std::string(command) + ": " + raddr.to_string() + " did not resolve (ARP) within 3 s");
    return false;
}

void add_script_commands(PromptState& st) {
    st.add("help", "list the commands", [&st](const Args&) {
        std::printf("Commands (Tab completes, '?' lists choices; connection ids are global: worker*%" PRIu64
                    " + n):\n", kIdStride);
        for (const auto& c : st.table) std::printf("  %-50s %s\n", entry_usage(*c).c_str(), entry_help(*c));
        std::printf("States: LISTEN SYN_SENT SYN_RECEIVED ESTABLISHED FIN_WAIT_1 FIN_WAIT_2 CLOSE_WAIT\n"
                    "        CLOSING LAST_ACK TIME_WAIT, or closed (gone). Scripts: '#' starts a comment.\n");
    });
    st.add("quit", "stop the prompt (and tcpfp)", [&st](const Args&) {
        st.quit = true;
        if (st.cl != nullptr) cmdline_quit(st.cl);
    });
    st.add("sleep <ms:u32>", "pause the script", [&st](const Args& a) {
        const std::uint64_t end = now_ms() + a.n[1];
        while (now_ms() < end && !st.stopping()) sleep_ms(1);
    });
    st.add("echo <text...>", "print a line (markers for test harnesses)",
           [](const Args& a) { std::printf("%s\n", a.rest.c_str()); });
    st.add("set log <type> <level>", "rte_log level of tcpfp.* types (emerg ... debug; globs like tcpfp.*)",
           [&st](const Args& a) { set_log(st, a.s[2], a.s[3]); });
    st.add("set verbose on#off", "print every TCP segment in and out, one line each, like tcpdump",
           [&st](const Args& a) { set_verbose(st, a.s[2] == "on"); });
    st.add("show arp", "each worker's ARP cache", [&st](const Args&) { show_arp(st); });
    st.add("wait arp <addr>", "resolve ADDR's next hop (5 s); scripts start with it",
           [&st](const Args& a) { wait_arp(st, a.s[2], 5000); });
    st.add("wait arp <addr> timeout <ms:u32>", "the same with a timeout",
           [&st](const Args& a) { wait_arp(st, a.s[2], a.n[4]); });
}

}  // namespace tcpfp::app::cli
