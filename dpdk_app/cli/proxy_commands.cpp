#include "dpdk_app/cli/proxy_commands.hpp"

#include <cinttypes>
#include <cstdio>
#include <memory>
#include <string>

#include "dpdk_app/apps/proxy_command.hpp"

namespace tcpfp::app::cli {

namespace {

ProxyCounters read(const LcoreStats& s) {
    ProxyCounters c;
#define TCPFP_X(name, desc) c.name = s.proxy_##name.load(std::memory_order_relaxed);
    TCPFP_PROXY_COUNTERS(TCPFP_X)
#undef TCPFP_X
    return c;
}

std::string endpoint(const Endpoint& e) { return e.addr.to_string() + ":" + std::to_string(e.port); }

void print_text(PromptState& st, const ProxyCounters* per, const ProxyCounters& total) {
    const ProxyConfig& cfg = st.cfg.proxy;
    std::string backends;
    for (const Endpoint& b : cfg.backends) {
        if (!backends.empty()) backends += ", ";
        backends += endpoint(b);
    }
    std::printf("proxy on %s -> %s (round robin), connect timeout %u ms\n", endpoint(*cfg.listen).c_str(),
                backends.c_str(), cfg.connect_timeout_ms);
    const unsigned n = st.shared.workers;
    std::printf("%-24s", "");
    for (unsigned w = 0; w < n; ++w) std::printf(" %12s", ("worker " + std::to_string(w)).c_str());
    std::printf(" %12s\n", "total");
    auto row = [&](const char* name, auto get) {
        std::printf("%-24s", name);
        for (unsigned w = 0; w < n; ++w) std::printf(" %12" PRIu64, get(per[w]));
        std::printf(" %12" PRIu64 "\n", get(total));
    };
    row("pairs_active", [](const ProxyCounters& c) { return c.active(); });
#define TCPFP_X(name, desc) row(#name, [](const ProxyCounters& c) { return c.name; });
    TCPFP_PROXY_COUNTERS(TCPFP_X)
#undef TCPFP_X
}

void print_json(const ProxyCounters& total) {
    std::string out = "{\"pairs_active\":" + std::to_string(total.active());
#define TCPFP_X(name, desc) out += ",\"" #name "\":" + std::to_string(total.name);
    TCPFP_PROXY_COUNTERS(TCPFP_X)
#undef TCPFP_X
    std::printf("%s}\n", out.c_str());
}

void show_proxy(PromptState& st, bool json) {
    if (!st.cfg.proxy.enabled()) {
        st.fail("show proxy: no [proxy] in the configuration");
        return;
    }
    ProxyCounters per[kMaxWorkers];
    ProxyCounters total;
    for (unsigned w = 0; w < st.shared.workers; ++w) {
        per[w] = read(st.shared.stats[w]);
#define TCPFP_X(name, desc) total.name += per[w].name;
        TCPFP_PROXY_COUNTERS(TCPFP_X)
#undef TCPFP_X
    }
    if (json) {
        print_json(total);
    } else {
        print_text(st, per, total);
    }
}

std::string tuple_text(const tcp::FourTuple& t) {
    return t.local_ip.to_string() + ":" + std::to_string(t.local_port) + " <-> " + t.remote_ip.to_string() +
           ":" + std::to_string(t.remote_port);
}

// Each worker's pairs, a page per round trip, as `ss` would list the two
// connections of a pair: client side, then backend side.
void show_proxy_pairs(PromptState& st) {
    if (!st.cfg.proxy.enabled()) {
        st.fail("show proxy pairs: no [proxy] in the configuration");
        return;
    }
    std::uint64_t shown = 0;
    std::printf("%-5s %-45s %-12s %-45s %-12s %12s %12s %s\n", "Lcore", "client", "state", "backend", "state",
                "to_backend", "to_client", "fin");
    for (unsigned w = 0; w < st.workers(); ++w) {
        std::size_t cursor = 0;
        for (bool done = false; !done && !st.stopping();) {
            auto c = std::make_unique<ListProxyPairs>();
            c->cursor = cursor;
            if (!st.call_ok(w, c)) return;
            for (const ProxyPairRow& r : c->rows) {
                const std::string fin = std::string(r.pair.fin_to_backend ? ">" : "-") +
                                        (r.pair.fin_to_client ? "<" : "-");
                std::printf("%-5u %-45s %-12s %-45s %-12s %12" PRIu64 " %12" PRIu64 " %s\n", w,
                            tuple_text(r.client).c_str(), tcp::to_string(r.client_state),
                            r.pair.connected || r.backend_state != tcp::State::closed
                                ? tuple_text(r.backend).c_str() : "(connecting)",
                            tcp::to_string(r.backend_state), r.pair.bytes_to_backend, r.pair.bytes_to_client,
                            fin.c_str());
                ++shown;
            }
            cursor = c->cursor;
            done = c->finished;
        }
    }
    std::printf("%" PRIu64 " pair(s)\n", shown);
}

}  // namespace

void add_proxy_commands(PromptState& st) {
    st.add("show proxy pairs", "the live pairs: both connections' 4-tuples and states, bytes each way, FINs forwarded",
           [&st](const Args&) { show_proxy_pairs(st); });
    st.add("show proxy", "the L4 proxy's pairs, half-closes, resets and bytes, per worker and total",
           [&st](const Args&) { show_proxy(st, false); });
    st.add("show proxy json", "the totals as one line of JSON", [&st](const Args&) { show_proxy(st, true); });
}

}  // namespace tcpfp::app::cli
