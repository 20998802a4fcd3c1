#include "dpdk_app/apps/agent_commands.hpp"

#include "dpdk_app/apps/proxy.hpp"

#include <cstring>

namespace tcpfp::app {

namespace {
std::string err(std::int64_t rc) { return std::strerror(static_cast<int>(rc < 0 ? -rc : rc)); }
std::string closed_msg(std::uint64_t id, const char* how) {
    return "connection " + std::to_string(id) + " is " + how;
}
}  // namespace

// ---- connections ------------------------------------------------------------

void ConnCommand::run(AgentContext& ctx, tcp::Instant now) {
    ctx.agent.service(now);  // bring received data and states up to date
    Agent::Conn* c = ctx.agent.find(id);
    if (c == nullptr) return fail("no connection " + std::to_string(id));
    on(ctx.agent, *c, now);
}

void OpenConn::run(AgentContext& ctx, tcp::Instant now) {
    tcp::ConnectParams p;
    p.remote_ip = tuple.remote_ip;
    p.remote_port = tuple.remote_port;
    p.local_ip = tuple.local_ip;
    p.local_port = tuple.local_port;
    tcp::ConnId h;
    const int r = ctx.stack.connect(p, now, h);
    if (r != 0) return fail("connect: " + err(r));
    const Agent::Conn& n = ctx.agent.add(h, ListenMode::client);
    id = n.id;
    out = n.tuple.local_ip.to_string() + ":" + std::to_string(n.tuple.local_port);
}

void SendConn::on(Agent& agent, Agent::Conn& c, tcp::Instant now) {
    if (c.closed) return fail(closed_msg(id, "closed"));
    std::string data = text;
    if (bytes >= 0) {
        data.resize(static_cast<std::size_t>(bytes));
        for (std::size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>('a' + i % 26);
    }
    const std::int64_t n = agent.stack().send(
        c.h, {reinterpret_cast<const std::uint8_t*>(data.data()), data.size()}, now);
    if (n < 0) return fail("send: " + err(n));
    sent = n;
    if (static_cast<std::size_t>(n) < data.size()) {
        out = "only " + std::to_string(n) + " of " + std::to_string(data.size()) +
              " bytes fit the send buffer";
    }
}

void ShutdownConn::on(Agent& agent, Agent::Conn& c, tcp::Instant now) {
    const int r = agent.stack().shutdown(c.h, how, now);
    if (r != 0) return fail("shutdown: " + err(r));
    state = agent.state_of(c);
}

void CloseConn::on(Agent& agent, Agent::Conn& c, tcp::Instant now) {
    if (c.closed) return fail(closed_msg(id, "already closed"));
    if (linger_ms >= 0) {
        // SO_LINGER is in seconds: round the milliseconds up.
        (void)agent.stack().set_option(c.h, tcp::SockOpt::linger, (linger_ms + 999) / 1000);
    }
    const std::string before = agent.state_of(c);
    const int r = agent.stack().close(c.h, now);
    if (r != 0) return fail("close: " + err(r));
    c.closed = true;
    out = before + " -> " + agent.state_of(c);
}

void AbortConn::on(Agent& agent, Agent::Conn& c, tcp::Instant now) {
    if (c.closed) return fail(closed_msg(id, "already closed"));
    const int r = agent.stack().abort(c.h, now);
    if (r != 0) return fail("abort: " + err(r));
    c.closed = true;
}

void ConnState::on(Agent& agent, Agent::Conn& c, tcp::Instant) {
    state = agent.state_of(c);
    rx_total = c.rx_total;
}

void TakeRecv::on(Agent&, Agent::Conn& c, tcp::Instant) {
    const auto pos = c.rx.find(text);
    out = c.rx;
    if (pos == std::string::npos) {
        rc = 1;
        return;
    }
    c.rx.erase(0, pos + text.size());
}

void ListenCmd::run(AgentContext& ctx, tcp::Instant now) {
    std::string why;
    const bool ok = on ? ctx.agent.listen(addr, port, mode, why)
                       : ctx.agent.unlisten(addr, port, now, why);
    if (!ok) fail(why);
}

// ---- show conn, a page at a time -------------------------------------------------

bool ListConns::wanted(const tcp::ConnInfo& i) const {
    if (state != tcp::State::closed && i.state != state) return false;
    return port == 0 || i.tuple.local_port == port || i.tuple.remote_port == port;
}

void ListConns::keep(const ConnRow& row) {
    ++matched;
    if (!count_only) rows.push_back(row);
}

void ListConns::run(AgentContext& ctx, tcp::Instant now) {
    if (cursor.slot == 0 && !cursor.time_waits) ctx.agent.service(now);
    rows.reserve(count_only ? 0 : kPageRows);
    std::uint32_t budget = kScanPerPage;
    if (!cursor.time_waits) {
        budget -= walk_tcbs(ctx, budget);
        if (cursor.time_waits) cursor.slot = 0;
    }
    if (cursor.time_waits && rows.size() < kPageRows && budget > 0) {
        (void)walk_time_waits(ctx, budget);
    }
}

namespace {

// A proxy's connection shows the other side of its pair.
void note_pair(AgentContext& ctx, tcp::ConnId id, ConnRow& row) {
    tcp::ConnId other;
    tcp::ConnInfo oi;
    if (ctx.proxy != nullptr && ctx.proxy->partner(id, other) && ctx.stack.info(other, oi) == 0) {
        row.paired = true;
        row.pair = oi.tuple;
    }
}

}  // namespace

// Returns the slots looked at; sets cursor.time_waits once past the last.
std::uint32_t ListConns::walk_tcbs(AgentContext& ctx, std::uint32_t budget) {
    tcp::ConnId ids[64];
    std::uint32_t scanned = 0;
    while (rows.size() < kPageRows && scanned < budget) {
        const std::size_t room = count_only ? std::size(ids)
                                            : std::min(std::size(ids), kPageRows - rows.size());
        const tcp::ListPage p = ctx.stack.engine().list_connections(
            cursor.slot, {ids, room}, budget - scanned);
        scanned += p.next - cursor.slot;
        cursor.slot = p.next;
        for (std::size_t i = 0; i < p.count; ++i) {
            ConnRow row;
            row.worker = ctx.worker;
            if (ctx.stack.info(ids[i], row.info) != 0 || !wanted(row.info)) continue;
            row.id = ctx.agent.id_of(ids[i]);
            row.app = ctx.stack.owner_name(ids[i]);
            note_pair(ctx, ids[i], row);
            keep(row);
        }
        if (p.done) {
            cursor.time_waits = true;
            break;
        }
    }
    return scanned;
}

std::uint32_t ListConns::walk_time_waits(AgentContext& ctx, std::uint32_t budget) {
    tcp::TimeWaitInfo tws[64];
    std::uint32_t scanned = 0;
    while (rows.size() < kPageRows && scanned < budget && !finished) {
        const std::size_t room = count_only ? std::size(tws)
                                            : std::min(std::size(tws), kPageRows - rows.size());
        const tcp::ListPage p = ctx.stack.engine().list_time_waits(
            cursor.slot, {tws, room}, budget - scanned);
        scanned += p.next - cursor.slot;
        cursor.slot = p.next;
        finished = p.done;
        for (std::size_t i = 0; i < p.count; ++i) {
            ConnRow row;
            row.worker = ctx.worker;
            row.info.state = tcp::State::time_wait;
            row.info.tuple = tws[i].tuple;
            row.info.ts_ok = tws[i].ts_ok;
            row.info.rcv_wnd = tws[i].window;
            row.info.timer = tcp::TimerKind::time_wait;
            row.info.timer_left_ms = tws[i].left_ms;
            if (!wanted(row.info)) continue;
            row.id = ctx.agent.id_of_time_wait(tws[i].tuple);
            keep(row);
        }
    }
    return scanned;
}

// ---- stack ------------------------------------------------------------------------

void SetTimers::run(AgentContext& ctx, tcp::Instant) {
    auto& engine = ctx.stack.engine_for_tools();
    if (time_wait_ms >= 0) engine.set_msl(tcp::Duration::millis(time_wait_ms / 2));
    if (fin_wait_2_ms >= 0) engine.set_fin_wait_2_timeout(tcp::Duration::millis(fin_wait_2_ms));
}

void ReadTimers::run(AgentContext& ctx, tcp::Instant) { timers = ctx.stack.engine().timer_summary(); }

// ---- scripts and the rest ------------------------------------------------------------

void SetVerbose::run(AgentContext& ctx, tcp::Instant) {
    if (ctx.tools == nullptr) return fail("this worker has no verbose hook");
    ctx.tools->set_verbose(on);
}

void ShowNeighbors::run(AgentContext& ctx, tcp::Instant) {
    if (ctx.tools != nullptr) out = ctx.tools->neighbor_table();
}

void ResolveNeighbor::run(AgentContext& ctx, tcp::Instant now) {
    resolved = ctx.stack.neighbors().resolve(addr, now.millis());
}

}  // namespace tcpfp::app
