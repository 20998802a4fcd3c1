#include "dpdk_app/cli/flood_commands.hpp"

#include <algorithm>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>


namespace tcpfp::app::cli {

namespace {

using Clock = FloodState::Clock;
using Totals = FloodState::Totals;


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

double rate_of(const Totals& t) {
    return t.elapsed_us > 0 ? static_cast<double>(t.sent) * 1e6 / static_cast<double>(t.elapsed_us) : 0;
}

}  // namespace

bool FloodState::overlaps_local(const FloodSpec& s) const {
    const std::uint32_t mask = ~std::uint32_t{0} << (32 - s.source_prefix);
    auto inside = [&](wire::Ipv4Addr a) { return (a.value & mask) == (s.source_net.value & mask); };
    if (inside(s.remote_ip)) return true;
    for (const auto& a : st.cfg.port.addresses) {
        if (inside(a.addr) || a.same_subnet(s.source_net)) return true;
    }
    return false;
}

bool FloodState::collect(Totals& t) {
    for (unsigned w = 0; w < workers(); ++w) {
        auto r = std::make_unique<FloodRead>();
        if (!st.call(w, r)) return false;
        const FloodReport& f = r->report;
        t.sent += f.sent;
        t.no_mbuf += f.no_mbuf;
        t.elapsed_us = std::max(t.elapsed_us, f.elapsed_us);
        t.running += f.running;
        t.started = t.started || f.started;
    }
    return true;
}

void FloodState::print(const Totals& t, bool json) const {
    const char* state = t.running ? "running" : t.started ? "finished" : "idle";
    if (json) {
        std::printf("{\"target\":\"%s:%u\",\"from\":\"%s/%u\",\"target_rate\":%.0f,\"sent\":%" PRIu64
                    ",\"elapsed_s\":%.3f,\"rate_pps\":%.1f,\"no_mbuf\":%" PRIu64 ",\"state\":\"%s\"}\n",
                    spec.remote_ip.to_string().c_str(), spec.remote_port,
                    spec.source_net.to_string().c_str(), spec.source_prefix, spec.rate, t.sent,
                    static_cast<double>(t.elapsed_us) / 1e6, rate_of(t), t.no_mbuf, state);
        return;
    }
    std::printf("flood syn %s:%u from %s/%u at %.0f SYN/s: %s after %.3f s\n"
                "  sent %" PRIu64 " SYNs (%.0f SYN/s achieved), pool empty %" PRIu64 " time(s)\n",
                spec.remote_ip.to_string().c_str(), spec.remote_port,
                spec.source_net.to_string().c_str(), spec.source_prefix, spec.rate, state,
                static_cast<double>(t.elapsed_us) / 1e6, t.sent, rate_of(t), t.no_mbuf);
}

void FloodState::start_flood(const Args& a, bool with_source) {
    FloodSpec next;
    if (!parse_target(a.s[3], next.remote_ip, next.remote_port)) {
        return st.fail("bad argument: '" + a.s[3] + "' is not ADDR:PORT");
    }
    if (a.n[5] == 0 || a.n[7] == 0) return st.fail("bad argument: rate and duration must be >= 1");
    if (with_source && !parse_source(a.s[9], next)) {
        return st.fail("bad argument: from '" + a.s[9] + "' (a.b.c.d/len, len 8..30, unicast)");
    }
    if (overlaps_local(next)) {
        return st.fail("bad argument: the source prefix overlaps a local subnet or the target");
    }
    Totals now;
    if (!collect(now)) return;
    if (now.running > 0) return st.fail("start flood: a flood is running (stop flood first)");
    // The frames take the peer's MAC from the ARP cache: resolve it first.
    if (!resolve_next_hop(st, next.remote_ip, "start flood")) return;
    next.rate = a.n[5];
    next.duration_us = std::uint64_t{a.n[7]} * 1000000;
    next.seed = 0x666c6f6f64ull + ++runs;  // "flood": deterministic per run
    spec = next;
    started = true;
    ends = Clock::now() + std::chrono::microseconds(next.duration_us);
    for (unsigned w = 0; w < workers(); ++w) {
        FloodSpec share = next;
        share.rate = next.rate / workers();
        auto r = std::make_unique<FloodStart>(share);
        if (!st.call(w, r)) return;
        if (r->rc != 0) return st.fail("start flood: worker " + std::to_string(w) + ": " + r->out);
    }
    std::printf("flood: started syn %s:%u from %s/%u at %u SYN/s for %u s on %u worker(s)\n",
                next.remote_ip.to_string().c_str(), next.remote_port,
                next.source_net.to_string().c_str(), next.source_prefix, a.n[5], a.n[7], workers());
}

bool FloodState::need_run(const char* what) {
    if (started) return true;
    st.fail(std::string(what) + ": no flood has run (start flood syn ...)");
    return false;
}

void FloodState::stop_flood() {
    if (!need_run("stop flood")) return;
    for (unsigned w = 0; w < workers(); ++w) {
        auto r = std::make_unique<FloodStop>();
        if (!st.call(w, r)) return;
    }
    ends = Clock::now();
    Totals t;
    if (collect(t)) print(t, false);
}

void FloodState::wait_flood() {
    if (!need_run("wait flood")) return;
    const auto end = Clock::now() + std::chrono::microseconds(spec.duration_us) + std::chrono::seconds(30);
    Totals t;
    for (;;) {
        t = Totals{};
        if (!collect(t)) return;
        if (t.running == 0) break;
        if (Clock::now() > end || st.stopping()) return st.fail("wait flood: still running");
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    print(t, false);
}

void FloodState::show_flood(bool json) {
    if (!need_run("show flood")) return;
    Totals t;
    if (collect(t)) print(t, json);
}

void FloodState::shutdown() {
    // Only while one may still run: a call to a stopped worker would wait 5 s.
    if (!started || Clock::now() >= ends) return;
    for (unsigned w = 0; w < workers(); ++w) {
        auto r = std::make_unique<FloodStop>();
        (void)st.call(w, r);
    }
}

void add_flood_commands(PromptState& st) {
    st.flood = std::make_unique<FloodState>(st);
    FloodState& f = *st.flood;
    st.add("start flood syn <raddr:rport> rate <pps:u32> duration <s:u32>",
           "spoofed SYN flood from random 10.0.0.0/8 sources (RFC 4987), paced, for a test",
           [&f](const Args& a) { f.start_flood(a, false); });
    st.add("start flood syn <raddr:rport> rate <pps:u32> duration <s:u32> from <net>",
           "the same from random hosts of NET (a.b.c.d/len, never a local subnet)",
           [&f](const Args& a) { f.start_flood(a, true); });
    st.add("stop flood", "stop the SYN flood and print its figures", [&f](const Args&) { f.stop_flood(); });
    st.add("wait flood", "wait until the SYN flood's duration is over, print its figures",
           [&f](const Args&) { f.wait_flood(); });
    st.add("show flood", "the SYN flood's figures: SYNs sent, achieved rate",
           [&f](const Args&) { f.show_flood(false); });
    st.add("show flood json", "the same as one line of JSON", [&f](const Args&) { f.show_flood(true); });
}

void flood_shutdown(PromptState& st) {
    if (st.flood) st.flood->shutdown();
}

}  // namespace tcpfp::app::cli
