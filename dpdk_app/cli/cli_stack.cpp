// The prompt's TCP stack commands: show tcp stats and expect stat (from the
// figures the workers publish, no mailbox trip), show timers, and the
// TIME_WAIT and FIN_WAIT_2 durations (messages to every worker).
#include <cinttypes>
#include <cstdio>

#include "dpdk_app/apps/agent_commands.hpp"
#include "dpdk_app/cli/prompt.hpp"
#include "tcp/engine/state.hpp"

namespace tcpfp::app::cli {

namespace {

struct Totals {
    std::vector<Figures> per;  // one per worker
    Figures sum;
};

bool gather(PromptState& st, Totals& t) {
    if (!st.figures(t.per)) return false;
    for (const Figures& f : t.per) {
        for (std::size_t i = 0; i < t.sum.counters.mib.size(); ++i) t.sum.counters.mib[i] += f.counters.mib[i];
        for (std::size_t i = 0; i < t.sum.counters.drops.size(); ++i) {
            t.sum.counters.drops[i] += f.counters.drops[i];
        }
        for (std::size_t i = 0; i < t.sum.counters.by_state.size(); ++i) {
            t.sum.counters.by_state[i] += f.counters.by_state[i];
        }
        t.sum.connections += f.connections;
        t.sum.time_wait += f.time_wait;
        t.sum.buffer_bytes += f.buffer_bytes;
    }
    return true;
}

std::optional<std::uint64_t> stat_value(const Totals& t, const std::string& name) {
    const tcp::Counters& c = t.sum.counters;
    for (std::size_t i = 0; i < c.mib.size(); ++i) {
        if (name == tcp::name(static_cast<tcp::Mib>(i))) return c.mib[i];
    }
    for (std::size_t i = 0; i < c.drops.size(); ++i) {
        if (name == tcp::name(static_cast<tcp::Drop>(i))) return c.drops[i];
    }
    if (name == "connections") return t.sum.connections;
    if (name == "time_wait") return t.sum.time_wait;
    if (name == "buffer_bytes") return t.sum.buffer_bytes;
    for (std::size_t i = 0; i < tcp::kStateCount; ++i) {
        if (name == std::string("state.") + tcp::to_string(static_cast<tcp::State>(i))) {
            return c.by_state[i];
        }
    }
    return std::nullopt;
}

std::string json_block(const Figures& f) {
    const tcp::Counters& c = f.counters;
    std::string o = "{\"mib\":{";
    for (std::size_t i = 0; i < c.mib.size(); ++i) {
        o += i ? ",\"" : "\"";
        o += tcp::name(static_cast<tcp::Mib>(i));
        o += "\":";
        o += std::to_string(c.mib[i]);
    }
    o += "},\"drops\":{";
    for (std::size_t i = 0; i < c.drops.size(); ++i) {
        o += i ? ",\"" : "\"";
        o += tcp::name(static_cast<tcp::Drop>(i));
        o += "\":";
        o += std::to_string(c.drops[i]);
    }
    o += "},\"states\":{";
    for (std::size_t i = 0; i < tcp::kStateCount; ++i) {
        o += i ? ",\"" : "\"";
        o += tcp::to_string(static_cast<tcp::State>(i));
        o += "\":";
        o += std::to_string(c.by_state[i]);
    }
    o += "},\"connections\":" + std::to_string(f.connections) +
         ",\"time_wait\":" + std::to_string(f.time_wait) +
         ",\"buffer_bytes\":" + std::to_string(f.buffer_bytes) + "}";
    return o;
}

void print_json(PromptState& st, const Totals& t) {
    std::string o = "{\"lcores\":[";
    for (unsigned w = 0; w < t.per.size(); ++w) {
        if (w) o += ',';
        o += "{\"worker\":" + std::to_string(w) + ",\"lcore\":" + std::to_string(st.lcore_of(w)) +
             ",\"stats\":" + json_block(t.per[w]) + "}";
    }
    o += "],\"total\":" + json_block(t.sum) + "}";
    std::printf("%s\n", o.c_str());
}

void print_table(PromptState& st, const Totals& t) {
    const auto n = static_cast<unsigned>(t.per.size());
    std::printf("%-28s", "counter");
    for (unsigned w = 0; w < n; ++w) {
        std::printf(" %10s", ("lcore " + std::to_string(st.lcore_of(w))).c_str());
    }
    std::printf(" %10s\n", "total");
    auto row = [&](const char* name, auto get) {
        std::printf("%-28s", name);
        for (unsigned w = 0; w < n; ++w) std::printf(" %10" PRIu64, get(t.per[w]));
        std::printf(" %10" PRIu64 "\n", get(t.sum));
    };
    const tcp::Counters& sum = t.sum.counters;
    std::printf("-- MIB (zero counters omitted)\n");
    for (std::size_t i = 0; i < sum.mib.size(); ++i) {
        if (sum.mib[i] == 0) continue;
        row(tcp::name(static_cast<tcp::Mib>(i)), [&](const Figures& f) { return f.counters.mib[i]; });
    }
    std::printf("-- drop reasons (zero counters omitted)\n");
    for (std::size_t i = 0; i < sum.drops.size(); ++i) {
        if (sum.drops[i] == 0) continue;
        row(tcp::name(static_cast<tcp::Drop>(i)), [&](const Figures& f) { return f.counters.drops[i]; });
    }
    std::printf("-- connections by state\n");
    for (std::size_t i = 0; i < tcp::kStateCount; ++i) {
        const auto s = static_cast<tcp::State>(i);
        if (s == tcp::State::time_wait) {
            row("TIME_WAIT (records)", [&](const Figures& f) { return f.time_wait; });
            continue;
        }
        row(tcp::to_string(s), [&](const Figures& f) { return f.counters.by_state[i]; });
    }
    row("control blocks", [&](const Figures& f) { return f.connections; });
    row("buffer bytes (chunks held)", [&](const Figures& f) { return f.buffer_bytes; });
}

void show_tcp_stats(PromptState& st, bool json) {
    Totals t;
    if (!gather(st, t)) return;
    if (json) return print_json(st, t);
    print_table(st, t);
}

// expect stat (timeout_ms 0: now) and wait stat (until it holds, or fail
// at the timeout): a script on a busy machine waits for the peer's work
// to be counted instead of sleeping a guessed time.
void expect_stat(PromptState& st, const std::string& name, const std::string& op, std::uint32_t want,
                 std::uint64_t timeout_ms = 0) {
    const std::uint64_t end = now_ms() + timeout_ms;
    for (;;) {
        Totals t;
        if (!gather(st, t)) return;
        auto v = stat_value(t, name);
        if (!v) return st.failf("bad argument: unknown counter '%s' (see show tcp stats json)", name.c_str());
        bool ok = false;
        if (!compare(static_cast<double>(*v), op, want, ok)) {
            return st.failf("bad argument: operator '%s'", op.c_str());
        }
        if (ok) {
            std::printf("ok: %s = %" PRIu64 " (%s %u)\n", name.c_str(), *v, op.c_str(), want);
            return;
        }
        if (now_ms() >= end || st.stopping()) {
            return st.failf("%s stat: expected %s %s %u, found %" PRIu64 "%s", timeout_ms ? "wait" : "expect",
                            name.c_str(), op.c_str(), want, *v, timeout_ms ? " at the timeout" : "");
        }
        sleep_ms(10);
    }
}

// Armed timers by kind with the earliest expiry, per lcore, from each
// engine's timer_summary().
void show_timers(PromptState& st) {
    constexpr std::size_t kinds = tcp::TimerSummary::kKinds;
    for (unsigned w = 0; w < st.workers(); ++w) {
        auto c = std::make_unique<ReadTimers>();
        if (!st.call(w, c)) return;
        const tcp::TimerSummary& t = c->timers;
        std::printf("worker %u (lcore %u): %zu wheel entries, next wheel event %s, carried over %" PRIu64 "\n",
                    w, st.lcore_of(w), t.wheel_entries,
                    t.wheel_next_ms < 0 ? "none" : ("in " + ms_text(t.wheel_next_ms)).c_str(),
                    t.carried_over);
        std::printf("  %-12s %10s %10s\n", "kind", "armed", "next in");
        for (std::size_t k = 1; k < kinds; ++k) {
            std::printf("  %-12s %10" PRIu64 " %10s\n", tcp::to_string(static_cast<tcp::TimerKind>(k)),
                        t.count[k], ms_text(t.next_ms[k]).c_str());
        }
    }
}

void set_timers(PromptState& st, std::int64_t tw, std::int64_t fw2) {
    for (unsigned w = 0; w < st.workers(); ++w) {
        auto c = std::make_unique<SetTimers>();
        c->time_wait_ms = tw;
        c->fin_wait_2_ms = fw2;
        if (!st.call(w, c)) return;
    }
    if (tw >= 0) std::printf("TIME_WAIT = %" PRId64 " ms (MSL %" PRId64 " ms) on every worker\n", tw, tw / 2);
    if (fw2 >= 0) std::printf("FIN_WAIT_2 timeout = %" PRId64 " ms on every worker\n", fw2);
}

}  // namespace

void add_stack_commands(PromptState& st) {
    st.add("show tcp stats", "MIB counters, drop reasons and states, per lcore and total",
           [&st](const Args&) { show_tcp_stats(st, false); });
    st.add("show tcp stats json", "the same as JSON", [&st](const Args&) { show_tcp_stats(st, true); });
    st.add("show timers", "armed timers by kind and the next expiry, per lcore",
           [&st](const Args&) { show_timers(st); });
    st.add("set timewait <ms:u32>", "TIME_WAIT duration (2*MSL) for new TIME_WAITs",
           [&st](const Args& a) { set_timers(st, a.n[2], -1); });
    st.add("set finwait2 <ms:u32>", "orphaned FIN_WAIT_2 timeout",
           [&st](const Args& a) { set_timers(st, -1, a.n[2]); });
    st.add("expect stat <name> ==#!=#<#<=#>#>= <value:u32>",
           "compare a MIB counter, drop reason, connections, time_wait or state.S (total over lcores)",
           [&st](const Args& a) { expect_stat(st, a.s[2], a.s[3], a.n[4]); });
    st.add("wait stat <name> ==#!=#<#<=#>#>= <value:u32> timeout <ms:u32>",
           "wait until the comparison holds (what the peer does may take a while on a busy machine)",
           [&st](const Args& a) { expect_stat(st, a.s[2], a.s[3], a.n[4], a.n[6]); });
}

}  // namespace tcpfp::app::cli
