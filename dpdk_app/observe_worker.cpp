#include "dpdk_app/observe_worker.hpp"

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
}

void answer_snapshot(ConnSnapshot& snap, const tcp::Engine& engine) {
    const std::uint64_t req = snap.requested.load(std::memory_order_acquire);
    if (req == snap.answered.load(std::memory_order_relaxed)) return;  // nothing asked
    const int filter = snap.filter.load(std::memory_order_relaxed);
    snap.count = 0;
    snap.matched = 0;
    engine.for_each_connection([&](tcp::ConnId h, const tcp::Tcb& t) {
        if (!wanted(filter, t.state)) return;
        SnapshotRow row;
        row.tuple = t.tuple;
        row.state = t.state;
        row.orphan = t.orphan;
        row.recv_q = t.rcv_buf.len;
        row.send_q = t.snd_buf.len;
        if (t.state == tcp::State::listen && snap.count < ConnSnapshot::kRows) {
            tcp::ConnInfo ci;
            if (engine.info(h, ci) == 0) row.recv_q = ci.accept_q;  // as ss: Recv-Q = backlog
        }
        add_row(snap, row);
    });
    if (wanted(filter, tcp::State::time_wait)) {
        engine.for_each_time_wait([&](const tcp::TimeWaitRecord& tw) {
            SnapshotRow row;
            row.tuple = tw.tuple;
            row.state = tcp::State::time_wait;
            add_row(snap, row);
        });
    }
    snap.answered.store(req, std::memory_order_release);
}

}  // namespace tcpfp::app
