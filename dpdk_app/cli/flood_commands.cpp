#include "dpdk_app/cli/flood_commands.hpp"

#include <algorithm>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>

#include "dpdk_app/cli/flood.hpp"

namespace tcpfp::app::cli {

namespace {

using Clock = std::chrono::steady_clock;

GenHost g_host;
bool g_started = false;
FloodSpec g_spec;  // the whole flood (rate: the total)
std::uint64_t g_runs = 0;
Clock::time_point g_ends;  // when the last flood's duration is over

unsigned workers() { return g_host.shared->workers; }
bool signalled() { return g_host.stop->load() > 0; }

void fail(const std::string& why) { g_host.fail(why); }

std::unique_ptr<Request> request(Op op) {
    auto r = std::make_unique<Request>();
    r->op = op;
    return r;
}


// "a.b.c.d/len", len 8..30: room for random hosts, and never a local subnet
// or the target's (the target would answer a spoofed neighbour by ARP, and
// our own addresses would be LAND or bad-source drops, not a flood).
bool parse_source(const std::string& s, FloodSpec& spec) {
    const auto slash = s.find('/');
    if (slash == std::string::npos) return false;
    const auto ip = wire::Ipv4Addr::parse(s.substr(0, slash));
    char* end = nullptr;
    const std::string l = s.substr(slash + 1);
    const unsigned long len = std::strtoul(l.c_str(), &end, 10);
    if (!ip || l.empty() || *end != '\0' || len < 8 || len > 30) return false;
    if (ip->is_multicast() || ip->is_loopback() || ip->is_unspecified() || ip->value >= 0xf0000000u) {
        return false;
    }
    spec.source_net = *ip;
    spec.source_prefix = static_cast<std::uint8_t>(len);
    return true;
}

bool overlaps_local(const FloodSpec& spec) {
    const std::uint32_t mask = ~std::uint32_t{0} << (32 - spec.source_prefix);
    auto inside = [&](wire::Ipv4Addr a) { return (a.value & mask) == (spec.source_net.value & mask); };
    if (inside(spec.remote_ip)) return true;
    for (const auto& a : g_host.cfg->port.addresses) {
        if (inside(a.addr) || a.same_subnet(spec.source_net)) return true;
    }
    return false;
}


struct Totals {
    std::uint64_t sent = 0, no_mbuf = 0, elapsed_us = 0;
    unsigned running = 0;
    bool started = false;
};

bool collect(Totals& t) {
    for (unsigned w = 0; w < workers(); ++w) {
        auto r = request(Op::flood_report);
        if (!g_host.call(w, r)) return false;
        const FloodReport& f = r->flood_report;
        t.sent += f.sent;
        t.no_mbuf += f.no_mbuf;
        t.elapsed_us = std::max(t.elapsed_us, f.elapsed_us);
        t.running += f.running;
        t.started = t.started || f.started;
    }
    return true;
}

double rate_of(const Totals& t) {
    return t.elapsed_us > 0 ? static_cast<double>(t.sent) * 1e6 / static_cast<double>(t.elapsed_us) : 0;
}

void print(const Totals& t, bool json) {
    const char* state = t.running ? "running" : t.started ? "finished" : "idle";
    if (json) {
        std::printf("{\"target\":\"%s:%u\",\"from\":\"%s/%u\",\"target_rate\":%.0f,\"sent\":%" PRIu64
                    ",\"elapsed_s\":%.3f,\"rate_pps\":%.1f,\"no_mbuf\":%" PRIu64 ",\"state\":\"%s\"}\n",
                    g_spec.remote_ip.to_string().c_str(), g_spec.remote_port,
                    g_spec.source_net.to_string().c_str(), g_spec.source_prefix, g_spec.rate, t.sent,
                    static_cast<double>(t.elapsed_us) / 1e6, rate_of(t), t.no_mbuf, state);
        return;
    }
    std::printf("flood syn %s:%u from %s/%u at %.0f SYN/s: %s after %.3f s\n"
                "  sent %" PRIu64 " SYNs (%.0f SYN/s achieved), pool empty %" PRIu64 " time(s)\n",
                g_spec.remote_ip.to_string().c_str(), g_spec.remote_port,
                g_spec.source_net.to_string().c_str(), g_spec.source_prefix, g_spec.rate, state,
                static_cast<double>(t.elapsed_us) / 1e6, t.sent, rate_of(t), t.no_mbuf);
}

void start_flood(const GenArgs& a, bool with_source) {
    FloodSpec spec;
    if (!parse_endpoint(a.s[3], spec.remote_ip, spec.remote_port)) {
        return fail("bad argument: '" + a.s[3] + "' is not ADDR:PORT");
    }
    if (a.n[5] == 0 || a.n[7] == 0) return fail("bad argument: rate and duration must be >= 1");
    if (with_source && !parse_source(a.s[9], spec)) {
        return fail("bad argument: from '" + a.s[9] + "' (a.b.c.d/len, len 8..30, unicast)");
    }
    if (overlaps_local(spec)) {
        return fail("bad argument: the source prefix overlaps a local subnet or the target");
    }
    Totals now;
    if (!collect(now)) return;
    if (now.running > 0) return fail("start flood: a flood is running (stop flood first)");
    // The frames take the peer's MAC from the ARP cache: resolve it first.
    if (!resolve_next_hop(g_host, spec.remote_ip, "start flood")) return;
    spec.rate = a.n[5];
    spec.duration_us = std::uint64_t{a.n[7]} * 1000000;
    spec.seed = 0x666c6f6f64ull + ++g_runs;  // "flood": deterministic per run
    g_spec = spec;
    g_started = true;
    g_ends = Clock::now() + std::chrono::microseconds(spec.duration_us);
    for (unsigned w = 0; w < workers(); ++w) {
        auto r = request(Op::flood_start);
        r->flood = spec;
        r->flood.rate = spec.rate / workers();
        if (!g_host.call(w, r)) return;
        if (r->rc != 0) return fail("start flood: worker " + std::to_string(w) + ": " + r->out);
    }
    std::printf("flood: started syn %s:%u from %s/%u at %u SYN/s for %u s on %u worker(s)\n",
                spec.remote_ip.to_string().c_str(), spec.remote_port,
                spec.source_net.to_string().c_str(), spec.source_prefix, a.n[5], a.n[7], workers());
}

bool need_run(const char* what) {
    if (g_started) return true;
    fail(std::string(what) + ": no flood has run (start flood syn ...)");
    return false;
}

void stop_flood() {
    if (!need_run("stop flood")) return;
    for (unsigned w = 0; w < workers(); ++w) {
        auto r = request(Op::flood_stop);
        if (!g_host.call(w, r)) return;
    }
    g_ends = Clock::now();
    Totals t;
    if (collect(t)) print(t, false);
}

void wait_flood() {
    if (!need_run("wait flood")) return;
    const auto end = Clock::now() + std::chrono::microseconds(g_spec.duration_us) + std::chrono::seconds(30);
    Totals t;
    for (;;) {
        t = Totals{};
        if (!collect(t)) return;
        if (t.running == 0) break;
        if (Clock::now() > end || signalled()) return fail("wait flood: still running");
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    print(t, false);
}

void show_flood(bool json) {
    if (!need_run("show flood")) return;
    Totals t;
    if (collect(t)) print(t, json);
}

}  // namespace

void add_flood_commands(const GenHost& host, const GenAdd& add) {
    g_host = host;
    add("start flood syn <raddr:rport> rate <pps:u32> duration <s:u32>",
        "spoofed SYN flood from random 10.0.0.0/8 sources (RFC 4987), paced, for a test",
        [](const GenArgs& a) { start_flood(a, false); });
    add("start flood syn <raddr:rport> rate <pps:u32> duration <s:u32> from <net>",
        "the same from random hosts of NET (a.b.c.d/len, never a local subnet)",
        [](const GenArgs& a) { start_flood(a, true); });
    add("stop flood", "stop the SYN flood and print its figures", [](const GenArgs&) { stop_flood(); });
    add("wait flood", "wait until the SYN flood's duration is over, print its figures",
        [](const GenArgs&) { wait_flood(); });
    add("show flood", "the SYN flood's figures: SYNs sent, achieved rate",
        [](const GenArgs&) { show_flood(false); });
    add("show flood json", "the same as one line of JSON", [](const GenArgs&) { show_flood(true); });
}

void flood_shutdown() {
    // Only while one may still run: a call to a stopped worker would wait 5 s.
    if (!g_started || g_host.shared == nullptr || Clock::now() >= g_ends) return;
    for (unsigned w = 0; w < workers(); ++w) {
        auto r = request(Op::flood_stop);
        (void)g_host.call(w, r);
    }
}

}  // namespace tcpfp::app::cli
