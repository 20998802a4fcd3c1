#include "dpdk_app/worker_apps.hpp"

#include <cinttypes>
#include <cstring>

#include "dpdk_app/apps/registry.hpp"
#include "dpdk_app/arp.hpp"
#include "dpdk_app/log.hpp"
#include "dpdk_app/shared.hpp"

namespace tcpfp::app {

bool ArpNeighbors::resolve(wire::Ipv4Addr addr, std::uint64_t now_ms) { return arp_.probe(addr, now_ms); }

void log_to_rte(void*, LogLevel level, const char* app, const char* text) {
    static constexpr std::uint32_t kLevels[] = {RTE_LOG_ERR, RTE_LOG_WARNING, RTE_LOG_NOTICE,
                                                RTE_LOG_INFO, RTE_LOG_DEBUG};
    const auto lvl = kLevels[static_cast<std::size_t>(level)];
    if (std::strcmp(app, "seed") == 0) {
        rte_log(lvl, static_cast<std::uint32_t>(g_log.seed), "tcpfp.seed: %s\n", text);
    } else {
        rte_log(lvl, static_cast<std::uint32_t>(g_log.svc), "tcpfp.svc: %s: %s\n", app, text);
    }
}

WorkerApps::WorkerApps(const AppConfig& config, unsigned worker, Host& host)
    : echo(config.services.echo ? 7 : 0),
      discard(config.services.discard ? 9 : 0),
      chargen(config.services.chargen ? 19 : 0),
      http(config.services.http_body, config.services.http ? 80 : 0, config.services.http_body_slots),
      hold(config.services.hold_port),
      rr(config.services.rr ? config.services.rr_port : 0) {
    const ServicesConfig& cfg = config.services;
    echo.set_keepalive(cfg.keepalive);  // before host.add(): start() opens the listeners
    discard.set_keepalive(cfg.keepalive);
    chargen.set_keepalive(cfg.keepalive);
    http.set_keepalive(cfg.keepalive);
    hold.set_keepalive(cfg.keepalive);
    rr.set_keepalive(cfg.keepalive);
    for (App* app : {static_cast<App*>(&echo), static_cast<App*>(&discard), static_cast<App*>(&chargen),
                     static_cast<App*>(&http), static_cast<App*>(&hold), static_cast<App*>(&rr)}) {
        host.add(*app);
    }
    if (cfg.seed_client && worker == 0) {
        host.add(seed.emplace(SeedConfig{cfg.seed_source, cfg.seed_target, cfg.seed_port, cfg.seed_message}),
                 true);
    }
    if (config.proxy.enabled()) host.add(proxy.emplace(config.proxy));
    for (const AppRun& run : config.apps) {
        std::string why;  // load_config checked the args already
        auto app = find_app(run.name)->make(run.args, why);
        host.add(*app);
        configured.push_back(std::move(app));
    }
}

void WorkerApps::print_stats(unsigned w) const {
    ServiceCounters sum;
    auto add = [&](const ServiceCounters& c) {
        sum.accepted += c.accepted;
        sum.passive_closes += c.passive_closes;
    };
    add(echo.counters());
    add(discard.counters());
    add(chargen.counters());
    add(http.counters());
    add(hold.counters());
    add(rr.counters());
    std::printf("services %u: accepted %" PRIu64 ", passive closes (CLOSE_WAIT -> LAST_ACK) %" PRIu64
                ", chargen bytes sent %" PRIu64 ", http requests %" PRIu64 " (oversized %" PRIu64 ")\n",
                w, sum.accepted, sum.passive_closes, chargen.counters().bytes_out, http.http_counters().requests,
                http.http_counters().oversized);
    print_http_rr(w);
    if (proxy) print_counters(stdout, w, proxy->counters());
}

// Only what moved, so a run without load-test traffic prints nothing more.
void WorkerApps::print_http_rr(unsigned w) const {
    const HttpCounters& h = http.http_counters();
    if (h.bytes_routes + h.chunked_routes + h.status_routes + h.responses_4xx + h.responses_5xx +
            h.body_bytes > 0) {
        std::printf("http %u: bytes out %" PRIu64 ", /bytes %" PRIu64 ", /chunked %" PRIu64 ", /status %" PRIu64
                    ", 2xx %" PRIu64 " 3xx %" PRIu64 " 4xx %" PRIu64 " 5xx %" PRIu64 ", bad requests %" PRIu64
                    ", 501 %" PRIu64 ", no body slot %" PRIu64 ", body bytes dropped %" PRIu64 "\n",
                    w, http.counters().bytes_out, h.bytes_routes, h.chunked_routes, h.status_routes,
                    h.responses_2xx, h.responses_3xx, h.responses_4xx, h.responses_5xx, h.bad_requests,
                    h.not_implemented, h.no_slot, h.body_bytes);
    }
    const RrCounters& r = rr.rr_counters();
    if (r.requests + r.bad_requests > 0) {
        std::printf("rr %u: requests %" PRIu64 ", bytes in %" PRIu64 ", bytes out %" PRIu64
                    ", bad requests %" PRIu64 ", closes asked %" PRIu64 "\n",
                    w, r.requests, rr.counters().bytes_in, rr.counters().bytes_out, r.bad_requests,
                    r.close_requests);
    }
}

void WorkerApps::publish(LcoreStats& out) const {
    if (!proxy) return;
    const ProxyCounters& c = proxy->counters();
#define TCPFP_X(name, desc) out.proxy_##name.store(c.name, std::memory_order_relaxed);
    TCPFP_PROXY_COUNTERS(TCPFP_X)
#undef TCPFP_X
}

}  // namespace tcpfp::app
