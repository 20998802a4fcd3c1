#include "dpdk_app/apps/proxy.hpp"

#include <algorithm>
#include <cerrno>
#include <cinttypes>
#include <string>

namespace tcpfp::app {

Proxy::Proxy(const ProxyConfig& config, std::pmr::memory_resource* mr)
    : config_(config), pairs_(mr) {}

void Proxy::start(Stack& s, Instant now) {
    (void)now;
    stack_ = &s;
    if (!config_.enabled() || config_.backends.empty()) return;
    // Each pair holds two connections: half the table bounds the pairs. The
    // only allocation the proxy makes, once.
    pairs_.assign(std::max<std::size_t>(s.engine().config().max_connections / 2, 1), Pair{});
    for (std::size_t i = pairs_.size(); i-- > 0;) {
        pairs_[i].next = free_head_;
        free_head_ = static_cast<std::uint32_t>(i);
    }
    const int rc = s.listen(config_.listen->addr, config_.listen->port, 0, listener_);
    listening_ = rc == 0;
    const std::string where = config_.listen->addr.to_string() + ":" + std::to_string(config_.listen->port);
    if (!listening_) {
        s.log(LogLevel::err, "cannot listen on %s (error %d): no proxy", where.c_str(), -rc);
        return;
    }
    s.log(LogLevel::info, "listening on %s: %zu backend(s) round robin, up to %zu pair(s), connect timeout %u ms",
          where.c_str(), config_.backends.size(), pairs_.size(), config_.connect_timeout_ms);
}

std::uint32_t Proxy::take_pair() {
    const std::uint32_t p = free_head_;
    if (p == kNone) return kNone;
    free_head_ = pairs_[p].next;
    pairs_[p] = Pair{};
    pairs_[p].in_use = true;
    return p;
}

void Proxy::free_pair(std::uint32_t p) {
    unwait(p);
    pairs_[p].in_use = false;
    pairs_[p].next = free_head_;
    free_head_ = p;
}

void Proxy::wait_on(List& l, std::uint32_t p, Wait w) {
    Pair& pr = pairs_[p];
    pr.wait = w;
    pr.prev = l.tail;
    pr.next = kNone;
    if (l.tail == kNone) {
        l.head = p;
    } else {
        pairs_[l.tail].next = p;
    }
    l.tail = p;
}

void Proxy::unwait(std::uint32_t p) {
    Pair& pr = pairs_[p];
    if (pr.wait == Wait::none) return;
    List& l = pr.wait == Wait::connect ? connecting_ : retry_;
    (pr.prev == kNone ? l.head : pairs_[pr.prev].next) = pr.next;
    (pr.next == kNone ? l.tail : pairs_[pr.next].prev) = pr.prev;
    pr.prev = pr.next = kNone;
    pr.wait = Wait::none;
}

bool Proxy::partner(ConnId c, ConnId& other) const {
    std::uint32_t pair = 0;
    unsigned side = 0;
    if (stack_ == nullptr || !find(*stack_, c, pair, side)) return false;
    other = pairs_[pair].conn[side ^ 1u];
    return !other.is_invalid();
}

bool Proxy::find(const Stack& s, ConnId c, std::uint32_t& pair, unsigned& side) const {
    const std::uintptr_t ctx = s.context(c);
    if (ctx < 2) return false;  // the listener, or not ours
    pair = static_cast<std::uint32_t>((ctx >> 1) - 1);
    side = static_cast<unsigned>(ctx & 1);
    return pair < pairs_.size() && pairs_[pair].in_use && pairs_[pair].conn[side] == c;
}

// A new client: take a pair and open its backend connection. The client is
// not read until the backend answers (its data waits in the receive ring,
// and TCP's window holds the rest back).
void Proxy::on_accepted(Stack& s, ConnId c, ConnId listener, Instant now) {
    (void)listener;
    const std::uint32_t p = take_pair();
    if (p == kNone) {
        ++counters_.rejected;
        (void)s.abort(c, now);
        return;
    }
    Pair& pr = pairs_[p];
    pr.conn[kClient] = c;
    s.set_context(c, context_of(p, kClient));
    pr.backend = static_cast<std::uint16_t>(next_backend_);
    next_backend_ = (next_backend_ + 1) % config_.backends.size();
    tcp::ConnectParams params;
    params.remote_ip = config_.backends[pr.backend].addr;
    params.remote_port = config_.backends[pr.backend].port;
    params.local_ip = config_.listen->addr;  // unspecified: the engine's first address
    if (s.connect(params, now, pr.conn[kBackend], context_of(p, kBackend)) != 0) {
        ++counters_.rejected;
        (void)s.abort(c, now);
        free_pair(p);
        return;
    }
    ++counters_.pairs_opened;
    pr.deadline = now + tcp::Duration::millis(config_.connect_timeout_ms);
    wait_on(connecting_, p, Wait::connect);
}

void Proxy::on_connected(Stack& s, ConnId c, Instant now) {
    std::uint32_t p = 0;
    unsigned side = 0;
    if (!find(s, c, p, side) || side != kBackend) return;
    unwait(p);
    pairs_[p].connected = true;
    pump(s, p, kClient, now);
    if (pairs_[p].in_use && pairs_[p].conn[kBackend] == c) pump(s, p, kBackend, now);
}

void Proxy::pump_from(Stack& s, ConnId c, Instant now) {
    std::uint32_t p = 0;
    unsigned side = 0;
    if (find(s, c, p, side) && pairs_[p].connected) pump(s, p, side, now);
}

// Space freed on `c`: the other side's bytes may flow into it again.
void Proxy::on_writable(Stack& s, ConnId c, Instant now) {
    std::uint32_t p = 0;
    unsigned side = 0;
    if (find(s, c, p, side) && pairs_[p].connected) pump(s, p, 1 - side, now);
}

// The side has both FINs behind it; its last bytes may still wait in the
// receive ring (the engine keeps them until close), so read on to the end.
void Proxy::on_closed(Stack& s, ConnId c, Instant now) {
    std::uint32_t p = 0;
    unsigned side = 0;
    if (!find(s, c, p, side)) {
        (void)s.close(c, now);
        return;
    }
    if (pairs_[p].connected) pump(s, p, side, now);
}

void Proxy::pump(Stack& s, std::uint32_t p, unsigned from, Instant now) {
    Pair& pr = pairs_[p];
    if (pr.eof[from]) return;
    switch (relay(s, pr, from, now)) {
        case Relay::blocked: return;
        case Relay::stalled:
            if (pr.wait == Wait::none) wait_on(retry_, p, Wait::retry);
            return;
        case Relay::eof: forward_eof(s, p, from, now); return;
    }
}

// Moves bytes from side `from` to the other side while both allow: each
// round views the receive ring, sends the first span (the second, if the
// ring wraps, is the first span of the next view) up to the send space, and
// consumes what was taken. One copy per byte, into the send ring.
Proxy::Relay Proxy::relay(Stack& s, Pair& pr, unsigned from, Instant now) {
    const ConnId src = pr.conn[from], dst = pr.conn[1 - from];
    std::uint64_t& bytes = from == kClient ? counters_.bytes_to_backend : counters_.bytes_to_client;
    for (;;) {
        std::span<const std::uint8_t> first, second;
        const std::int64_t n = s.recv_view(src, first, second);
        if (n == 0) return Relay::eof;
        // -EAGAIN: nothing yet. Any other error: the reset or closed event
        // of `src` ends the pair.
        if (n < 0) return Relay::blocked;
        const std::uint32_t space = s.send_space(dst);
        if (space == 0) return Relay::blocked;  // full: `writable` follows
        const auto take = std::min<std::size_t>(first.size(), space);
        const std::int64_t w = s.send(dst, first.first(take), now);
        if (w == -ENOBUFS) {
            ++counters_.send_stalls;
            return Relay::stalled;
        }
        if (w <= 0) return Relay::blocked;
        (void)s.consume(src, static_cast<std::size_t>(w), now);
        pr.bytes[from] += static_cast<std::uint64_t>(w);
        bytes += static_cast<std::uint64_t>(w);
    }
}

// Half-close: `from` sent FIN and everything before it is queued on the
// other side, so the other side's FIN goes after it.
void Proxy::forward_eof(Stack& s, std::uint32_t p, unsigned from, Instant now) {
    Pair& pr = pairs_[p];
    pr.eof[from] = true;
    (void)s.shutdown(pr.conn[1 - from], tcp::Shutdown::wr, now);
    ++(from == kClient ? counters_.half_closes_to_backend : counters_.half_closes_to_client);
    if (pr.eof[kClient] && pr.eof[kBackend]) finish(s, p, now);
}

// Both directions are done: close both sides. Their receive rings are empty
// (each was read to its FIN), so close() is graceful; the engine finishes
// sending what is queued and the FIN handshakes on its own.
void Proxy::finish(Stack& s, std::uint32_t p, Instant now) {
    Pair& pr = pairs_[p];
    (void)s.close(pr.conn[kClient], now);
    (void)s.close(pr.conn[kBackend], now);
    ++counters_.pairs_closed;
    free_pair(p);
}

// A reset or timeout ended side `c`: the other side is aborted (RST), as a
// direct connection would have seen it.
void Proxy::ended(Stack& s, ConnId c, bool timed_out, Instant now) {
    std::uint32_t p = 0;
    unsigned side = 0;
    if (!find(s, c, p, side)) {
        (void)s.close(c, now);
        return;
    }
    if (side == kBackend && !pairs_[p].connected) {
        backend_failed(s, p, timed_out, now);
        return;
    }
    ++(side == kClient ? counters_.resets_to_backend : counters_.resets_to_client);
    abort_pair(s, p, now);
}

void Proxy::backend_failed(Stack& s, std::uint32_t p, bool timed_out, Instant now) {
    ++(timed_out ? counters_.backend_timeouts : counters_.backend_refused);
    abort_pair(s, p, now);
}

void Proxy::abort_pair(Stack& s, std::uint32_t p, Instant now) {
    Pair& pr = pairs_[p];
    for (const ConnId c : pr.conn) {
        if (s.owns(c)) (void)s.abort(c, now);
    }
    ++counters_.pairs_aborted;
    free_pair(p);
}

void Proxy::on_tick(Stack& s, Instant now) {
    // Deadlines only grow along the list (one timeout for all): stop at the
    // first that has not passed.
    while (connecting_.head != kNone && pairs_[connecting_.head].deadline <= now) {
        backend_failed(s, connecting_.head, true, now);
    }
    // Pairs whose send found no buffer: detach the list, then pump each
    // once (a pair that stalls again joins the new list).
    std::uint32_t p = retry_.head;
    retry_ = List{};
    while (p != kNone) {
        Pair& pr = pairs_[p];
        const std::uint32_t next = pr.next;
        pr.prev = pr.next = kNone;
        pr.wait = Wait::none;
        pump(s, p, kClient, now);
        if (pairs_[p].in_use) pump(s, p, kBackend, now);
        p = next;
    }
}

// The worker is stopping: no new clients; pairs still open are closed
// (aborted where unread data would be lost, as close() does).
void Proxy::stop(Stack& s, Instant now) {
    if (listening_) (void)s.close(listener_, now);
    listening_ = false;
    for (std::uint32_t p = 0; p < pairs_.size(); ++p) {
        if (!pairs_[p].in_use) continue;
        for (const ConnId c : pairs_[p].conn) (void)s.close(c, now);
        ++counters_.pairs_aborted;
        free_pair(p);
    }
}

std::size_t Proxy::list_pairs(std::size_t& cursor, std::size_t scan,
                              std::span<ProxyPairView> out) const {
    std::size_t rows = 0;
    const std::size_t end = std::min(pairs_.size(), cursor + scan);
    for (; cursor < end && rows < out.size(); ++cursor) {
        const Pair& pr = pairs_[cursor];
        if (!pr.in_use) continue;
        ProxyPairView& v = out[rows++];
        v.client = pr.conn[kClient];
        v.backend = pr.conn[kBackend];
        v.backend_index = pr.backend;
        v.connected = pr.connected;
        v.fin_to_backend = pr.eof[kClient];
        v.fin_to_client = pr.eof[kBackend];
        v.bytes_to_backend = pr.bytes[kClient];
        v.bytes_to_client = pr.bytes[kBackend];
    }
    if (cursor >= pairs_.size()) cursor = 0;
    return rows;
}

void print_counters(std::FILE* out, unsigned worker, const ProxyCounters& c) {
    std::fprintf(out,
                 "proxy %u: pairs opened %" PRIu64 " closed %" PRIu64 " aborted %" PRIu64
                 " active %" PRIu64 ", bytes to backend %" PRIu64 " to client %" PRIu64 "\n",
                 worker, c.pairs_opened, c.pairs_closed, c.pairs_aborted, c.active(),
                 c.bytes_to_backend, c.bytes_to_client);
#define TCPFP_X(name, desc)                                                              \
    if (c.name != 0) {                                                                   \
        std::fprintf(out, "proxy %u:   %-24s %12" PRIu64 "  %s\n", worker, #name, c.name, desc); \
    }
    TCPFP_PROXY_COUNTERS(TCPFP_X)
#undef TCPFP_X
}

}  // namespace tcpfp::app
