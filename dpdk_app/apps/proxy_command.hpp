// `show proxy pairs`: the proxy's live pairs, a page per mailbox round trip
// (at most kPage rows and kScan pair slots looked at), each side with its
// 4-tuple and state, run on the owning worker (apps/command.hpp).
#pragma once

#include <vector>

#include "dpdk_app/apps/command.hpp"
#include "dpdk_app/apps/proxy.hpp"

namespace tcpfp::app {

struct ProxyPairRow {
    ProxyPairView pair;
    tcp::FourTuple client, backend;
    tcp::State client_state = tcp::State::closed, backend_state = tcp::State::closed;
    unsigned worker = 0;
};

class ListProxyPairs : public Command {
public:
    static constexpr std::size_t kPage = 256, kScan = 65536;

    void run(AgentContext& ctx, tcp::Instant) override {
        if (ctx.proxy == nullptr) return fail("no proxy on worker " + std::to_string(ctx.worker));
        std::vector<ProxyPairView> views(kPage);
        const std::size_t before = cursor;
        views.resize(ctx.proxy->list_pairs(cursor, kScan, views));
        finished = cursor == 0 || cursor <= before;  // list_pairs wraps to 0 at the end
        for (const ProxyPairView& v : views) {
            ProxyPairRow r;
            r.pair = v;
            r.worker = ctx.worker;
            tcp::ConnInfo ci;
            if (ctx.stack.info(v.client, ci) == 0) r.client = ci.tuple, r.client_state = ci.state;
            if (ctx.stack.info(v.backend, ci) == 0) r.backend = ci.tuple, r.backend_state = ci.state;
            rows.push_back(r);
        }
    }

    std::size_t cursor = 0;  // in: where to go on; out: where the next page starts
    bool finished = false;
    std::vector<ProxyPairRow> rows;
};

}  // namespace tcpfp::app
