// The public per-lcore app API. An app is a class derived from App (or, for
// typed callbacks, from Handlers<Derived>) added to a worker's Host. It runs
// on that worker's lcore only, owns the connections it opens or accepts,
// and sees only their events. It includes no rte_* header: time comes in as
// a value, and a unit test drives it against an in-memory Engine.
// "Writing an app" in dpdk_app/apps/README.md walks through an example.
#pragma once

#include <cstdint>
#include <span>

#include "tcp/engine/engine.hpp"

namespace tcpfp::app {

using tcp::ConnId;
using tcp::EventKind;
using tcp::Instant;

class Host;
class Stack;

enum class LogLevel : std::uint8_t { err, warning, notice, info, debug };

// One event of a connection the app owns. For `accepted`, `conn` is the new
// connection (already accepted and owned by the listener's app) and
// `listener` the listening socket; for every other kind `listener` is
// invalid.
struct AppEvent {
    ConnId conn;
    EventKind kind;
    ConnId listener;
};

// Non-TCP services of the worker an app may use (ARP and the like). The
// worker implements it; tests give a fake.
class Neighbors {
public:
    virtual ~Neighbors() = default;
    // True when `addr`'s next hop is resolved; otherwise starts resolving it.
    virtual bool resolve(wire::Ipv4Addr addr, std::uint64_t now_ms) = 0;
};

// What an app calls: the engine's socket calls, with ownership kept by the
// host. Each app gets its own Stack; a connection opened or accepted through
// it belongs to that app, and its events go to that app only. Results are
// the engine's: 0 or a byte count, or -errno.
class Stack {
public:
    // --- opening; `context` is the app's word for the connection ---
    int listen(wire::Ipv4Addr local, std::uint16_t port, int backlog, ConnId& out,
               std::uintptr_t context = 0, const tcp::SocketOptions& options = {});
    // params.local_ip / local_port may be 0: the engine picks them.
    int connect(const tcp::ConnectParams& params, Instant now, ConnId& out,
                std::uintptr_t context = 0);

    // --- data ---
    std::int64_t send(ConnId id, std::span<const std::uint8_t> data, Instant now) {
        return engine_->send(id, data, now);
    }
    std::int64_t recv(ConnId id, std::span<std::uint8_t> out, Instant now) {
        return engine_->recv(id, out, now);
    }
    // Zero-copy receive: the first in-order bytes as two spans (the receive
    // buffer's first two chunks: at least one chunk's worth, or all there
    // is), valid until the next call into this Stack; consume(n) releases
    // the first n of them and the next view shows what follows.
    std::int64_t recv_view(ConnId id, std::span<const std::uint8_t>& first,
                           std::span<const std::uint8_t>& second) {
        return engine_->recv_view(id, first, second);
    }
    std::int64_t consume(ConnId id, std::size_t n, Instant now) { return engine_->consume(id, n, now); }
    // MSG_PEEK: copies in-order bytes out without consuming them.
    std::int64_t peek(ConnId id, std::span<std::uint8_t> out) { return engine_->peek(id, out); }

    // --- ending; close() and abort() end the app's ownership ---
    int shutdown(ConnId id, tcp::Shutdown how, Instant now) { return engine_->shutdown(id, how, now); }
    int close(ConnId id, Instant now);
    int abort(ConnId id, Instant now);

    // --- options and O(1) queries (no struct filled) ---
    int set_option(ConnId id, tcp::SockOpt opt, std::int64_t value) {
        return engine_->set_option(id, opt, value);
    }
    int get_option(ConnId id, tcp::SockOpt opt, std::int64_t& value) const {
        return engine_->get_option(id, opt, value);
    }
    int take_error(ConnId id) { return engine_->take_error(id); }
    std::uint32_t send_space(ConnId id) const { return engine_->send_space(id); }
    std::uint32_t recv_available(ConnId id) const { return engine_->recv_available(id); }
    // Urgent data not yet read (RFC 9293 MUST-33; Engine::urgent_left).
    std::uint32_t urgent_left(ConnId id) const { return engine_->urgent_left(id); }
    tcp::State state(ConnId id) const { return engine_->state(id); }
    bool peer_closed(ConnId id) const { return engine_->peer_closed(id); }
    // The full picture (windows, RTT, timers): for display, not per packet.
    int info(ConnId id, tcp::ConnInfo& out) const { return engine_->info(id, out); }

    // --- ownership ---
    // True while `id` is a live connection of this app (not closed by it,
    // not reused by another connection).
    bool owns(ConnId id) const;
    std::uintptr_t context(ConnId id) const;  // 0 when not owned
    // The name of the app that owns `id` (any app's), or nullptr: for listings.
    const char* owner_name(ConnId id) const;
    void set_context(ConnId id, std::uintptr_t context);
    // Calls f(ConnId) for every connection and listener this app owns; f may
    // close them. O(connection table): for stop() and listings, not per packet.
    template <class F>
    void for_each_owned(F&& f) {
        for_each_owned_fn([](void* ctx, ConnId c) { (*static_cast<F*>(ctx))(c); }, &f);
    }
    void for_each_owned_fn(void (*fn)(void* ctx, ConnId id), void* ctx);

    // --- the worker ---
    // Whether the app's poll() runs every loop iteration (Host::add's
    // `poll` sets the start). An app that paces work turns it on while it
    // has some and off when done: an app not polled costs nothing per
    // iteration, and on_tick() still comes about once a millisecond.
    void set_polled(bool on);
    // A line in the worker's log under the app's name (rte_log's tcpfp.svc,
    // or tcpfp.seed for the seed client): for rare events, not per packet.
    void log(LogLevel level, const char* fmt, ...) const __attribute__((format(printf, 3, 4)));
    unsigned worker() const { return worker_; }
    Neighbors& neighbors() const { return *neighbors_; }
    // Frames waiting for room in the port's TX ring after the last flush: 0
    // while the link keeps up. An app that makes many segments at once of
    // its own accord (the generator closing a million connections) waits
    // while it is not 0, so the ring's overflow does not turn them into
    // drops and retransmission storms.
    std::uint32_t link_backlog() const;
    // Read-only engine inspection (counters, config, connection counts).
    const tcp::Engine& engine() const { return *engine_; }
    // Calls into the engine the API does not wrap (for the prompt's agent,
    // which inspects and tunes the engine on request).
    tcp::Engine& engine_for_tools() { return *engine_; }

private:
    friend class Host;
    Host* host_ = nullptr;
    tcp::Engine* engine_ = nullptr;
    Neighbors* neighbors_ = nullptr;
    std::uint16_t app_ = 0;
    unsigned worker_ = 0;
};

// The interface the host calls. Calls are batched: on_events() gets every
// routed event of this app from one pass over the engine's events, so the
// host makes one virtual call per batch, never one per packet.
class App {
public:
    virtual ~App() = default;
    virtual const char* name() const = 0;
    // Once, when the worker starts: listen or connect here.
    virtual void start(Stack& stack, Instant now) { (void)stack, (void)now; }
    // The events of this app's connections, in the engine's order.
    virtual void on_events(Stack& stack, std::span<const AppEvent> events, Instant now) = 0;
    // About once a millisecond.
    virtual void on_tick(Stack& stack, Instant now) { (void)stack, (void)now; }
    // Every loop iteration while the app is polled (Host::add's `poll`,
    // Stack::set_polled): pacing.
    virtual void poll(Stack& stack, Instant now) { (void)stack, (void)now; }
    // The worker is stopping: close what you own (the worker then waits up
    // to 2 s for connections to finish).
    virtual void stop(Stack& stack, Instant now) { (void)stack, (void)now; }
};

// Typed callbacks, dispatched without a virtual call per event: derive as
// `class Echo : public Handlers<Echo>` and define the handlers you need.
// Events of a connection the app closed earlier in the same batch are
// skipped. The defaults close a connection once it has ended (closed, reset,
// timed out), which frees it; override to read the error first.
template <class Derived>
class Handlers : public App {
public:
    void on_events(Stack& stack, std::span<const AppEvent> events, Instant now) final {
        auto& self = static_cast<Derived&>(*this);
        for (const AppEvent& e : events) {
            if (!stack.owns(e.conn)) continue;
            switch (e.kind) {
                case EventKind::accepted: self.on_accepted(stack, e.conn, e.listener, now); break;
                case EventKind::connected: self.on_connected(stack, e.conn, now); break;
                case EventKind::readable: self.on_readable(stack, e.conn, now); break;
                case EventKind::writable: self.on_writable(stack, e.conn, now); break;
                case EventKind::peer_closed: self.on_peer_closed(stack, e.conn, now); break;
                case EventKind::closed: self.on_closed(stack, e.conn, now); break;
                case EventKind::reset: self.on_reset(stack, e.conn, now); break;
                case EventKind::timed_out: self.on_timed_out(stack, e.conn, now); break;
                case EventKind::linger_done:
                case EventKind::linger_timeout: self.on_linger(stack, e.conn, e.kind, now); break;
                case EventKind::soft_error: self.on_soft_error(stack, e.conn, now); break;
                case EventKind::urgent: self.on_urgent(stack, e.conn, now); break;
            }
        }
    }

    // A connection accepted on `listener` (it may already hold data: the
    // host follows with `readable` and `peer_closed` when so).
    void on_accepted(Stack&, ConnId, ConnId, Instant) {}
    void on_connected(Stack&, ConnId, Instant) {}
    void on_readable(Stack&, ConnId, Instant) {}
    void on_writable(Stack&, ConnId, Instant) {}
    // Half-close: the peer sent FIN; recv() returns 0 once the data is read.
    void on_peer_closed(Stack&, ConnId, Instant) {}
    void on_closed(Stack& s, ConnId c, Instant now) { (void)s.close(c, now); }
    void on_reset(Stack& s, ConnId c, Instant now) { (void)s.close(c, now); }
    void on_timed_out(Stack& s, ConnId c, Instant now) { (void)s.close(c, now); }
    void on_linger(Stack&, ConnId, EventKind, Instant) {}
    // An ICMP soft error (info().soft_error says which); the connection goes on.
    void on_soft_error(Stack&, ConnId, Instant) {}
    // The peer sent urgent data (MUST-32); it arrives inline, and
    // stack.urgent_left() says how many bytes from the read point it spans.
    void on_urgent(Stack&, ConnId, Instant) {}
};

}  // namespace tcpfp::app
