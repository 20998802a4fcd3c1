#include "dpdk_app/observe_worker.hpp"

#include "dpdk_app/log.hpp"

namespace tcpfp::app {

namespace {

template <std::size_t N>
void put_all(std::atomic<std::uint64_t> (&out)[N], const std::array<std::uint64_t, N>& in) {
    for (std::size_t i = 0; i < N; ++i) out[i].store(in[i], std::memory_order_relaxed);
}

bool wanted(int filter, tcp::State s) {
    return filter == ConnSnapshot::kAllStates || filter == static_cast<int>(s);
}

void add_row(ConnSnapshot& snap, const SnapshotRow& row) {
    if (snap.count < ConnSnapshot::kRows) snap.rows[snap.count++] = row;
    ++snap.matched;
}

}  // namespace

void publish_counters(LcoreStats& out, const tcp::Counters& engine, const AppCounters& app) {
    put_all(out.mib, engine.mib);
    put_all(out.tcp_drops, engine.drops);
    put_all(out.by_state, engine.by_state);
    put_all(out.app_drops, app.drops);
    // Last, with release: the figures above (and the worker's others, put
    // before this call) are visible to whoever sees the new count.
    out.publications.store(out.publications.load(std::memory_order_relaxed) + 1,
                           std::memory_order_release);
}

void answer_snapshot(ConnSnapshot& snap, const tcp::Engine& engine) {
    const std::uint64_t req = snap.requested.load(std::memory_order_acquire);
    if (req == snap.answered.load(std::memory_order_relaxed)) return;  // nothing asked
    const int filter = snap.filter.load(std::memory_order_relaxed);
    snap.count = 0;
    snap.matched = 0;
    // Through the engine's cursor walks and ConnInfo (no control block read
    // directly): the state filter costs O(1) per connection, info() is only
    // filled for the rows kept.
    tcp::ConnId ids[256];
    std::uint32_t cursor = 0;
    for (tcp::ListPage p; !p.done;) {
        p = engine.list_connections(cursor, ids);
        cursor = p.next;
        for (std::size_t i = 0; i < p.count; ++i) {
            if (!wanted(filter, engine.state(ids[i]))) continue;
            tcp::ConnInfo ci;
            if (snap.count < ConnSnapshot::kRows && engine.info(ids[i], ci) == 0) {
                // as ss: a listener's Recv-Q is its accept queue
                const std::uint32_t recv_q = ci.state == tcp::State::listen ? ci.accept_q : ci.recv_q;
                add_row(snap, SnapshotRow{ci.tuple, recv_q, ci.send_q, ci.state, ci.orphan});
            } else {
                add_row(snap, SnapshotRow{});
            }
        }
    }
    if (wanted(filter, tcp::State::time_wait)) {
        tcp::TimeWaitInfo tws[64];
        cursor = 0;
        for (tcp::ListPage p; !p.done;) {
            p = engine.list_time_waits(cursor, tws);
            cursor = p.next;
            for (std::size_t i = 0; i < p.count; ++i) {
                SnapshotRow row;
                row.tuple = tws[i].tuple;
                row.state = tcp::State::time_wait;
                add_row(snap, row);
            }
        }
    }
    snap.answered.store(req, std::memory_order_release);
}

void log_open_connections(const tcp::Engine& engine, unsigned worker, const char* when,
                          std::size_t limit) {
    tcp::ConnId ids[256];
    std::uint32_t cursor = 0;
    std::size_t open = 0;
    for (tcp::ListPage p; !p.done;) {
        p = engine.list_connections(cursor, ids);
        cursor = p.next;
        for (std::size_t i = 0; i < p.count; ++i) {
            tcp::ConnInfo ci;
            if (engine.info(ids[i], ci) != 0 || ci.state == tcp::State::listen) continue;
            if (++open > limit) continue;
            TLOG(INFO, app,
                 "worker %u %s: %s %s:%u <-> %s:%u%s send_q %u in_flight %u recv_q %u, "
                 "timer %s %lld ms, backoff %u, retries %u",
                 worker, when, tcp::to_string(ci.state), ci.tuple.local_ip.to_string().c_str(),
                 ci.tuple.local_port, ci.tuple.remote_ip.to_string().c_str(), ci.tuple.remote_port,
                 ci.orphan ? " (orphan)" : "", ci.send_q, ci.in_flight, ci.recv_q,
                 tcp::to_string(ci.timer), static_cast<long long>(ci.timer_left_ms), ci.backoff,
                 ci.retries);
        }
    }
    if (open > limit) TLOG(INFO, app, "worker %u %s: %zu more connection(s)", worker, when, open - limit);
}

}  // namespace tcpfp::app
