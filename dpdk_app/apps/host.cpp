#include "dpdk_app/apps/host.hpp"

#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <stdexcept>

namespace tcpfp::app {

namespace {

constexpr std::size_t kBatch = 256;  // events per on_events() call at most

}  // namespace

Host::Host(tcp::Engine& engine, Neighbors& neighbors, unsigned worker,
           std::pmr::memory_resource* mr)
    : engine_(engine), routes_(engine.config().max_connections, mr), neighbors_(neighbors),
      worker_(worker) {
    apps_.reserve(kMaxApps);  // Stack references stay valid
    taken_.reserve(engine.config().event_queue);
    batch_.reserve(kBatch);
}

Stack& Host::add(App& app, bool poll) {
    if (apps_.size() == kMaxApps) throw std::length_error("tcpfp: too many apps on one worker");
    Entry& e = apps_.emplace_back();
    e.app = &app;
    e.stack.host_ = this;
    e.stack.engine_ = &engine_;
    e.stack.neighbors_ = &neighbors_;
    e.stack.app_ = static_cast<std::uint16_t>(apps_.size() - 1);
    e.stack.worker_ = worker_;
    set_polled(e.stack.app_, poll);
    return e.stack;
}

void Host::own(ConnId id, std::uint16_t app, std::uintptr_t context) {
    if (id.index >= routes_.size()) return;  // cannot happen: sized like the engine's table
    routes_[id.index] = Route{id.generation, app, context};
}

void Host::disown(ConnId id) {
    if (id.index < routes_.size() && routes_[id.index].generation == id.generation) {
        routes_[id.index] = Route{};
    }
}

const Host::Route* Host::route(ConnId id) const {
    if (id.index >= routes_.size()) return nullptr;
    const Route& r = routes_[id.index];
    if (r.app == kNoApp || r.generation != id.generation) return nullptr;
    return &r;
}

App* Host::owner_of(ConnId id) const {
    const Route* r = route(id);
    return r == nullptr ? nullptr : apps_[r->app].app;
}

void Host::start(Instant now) {
    for (Entry& e : apps_) {
        e.app->start(e.stack, now);
        drain(now);
    }
}

void Host::dispatch(Instant now) {
    for (unsigned pass = 0; pass < kMaxPasses; ++pass) {
        const auto ev = engine_.events();
        if (ev.empty()) return;
        // Copy once, clear once: the apps' calls post new events, which the
        // next pass routes (to whichever app owns them, the caller included).
        taken_.assign(ev.begin(), ev.end());
        engine_.clear_events();
        counters_.events += taken_.size();
        for (const tcp::Event& e : taken_) route_event(e, now);
        flush(now);
    }
    if (!engine_.events().empty()) ++counters_.passes_capped;
}

void Host::route_event(const tcp::Event& e, Instant now) {
    const Route* r = route(e.conn);
    if (r == nullptr) {
        ++counters_.unowned;
        return;
    }
    if (e.kind == EventKind::accepted) {
        accept_all(e.conn, *r, now);
        return;
    }
    push(r->app, e.conn, e.kind, ConnId::invalid(), now);
}

// An accepted connection inherits its listener's app and context word. Data
// or a FIN that came with the handshake posted no event (nobody had the
// socket yet), so the app hears of them right after `accepted`.
void Host::accept_all(ConnId listener, const Route& r, Instant now) {
    const Route lr = r;  // own() may not touch it, but keep a copy for clarity
    ConnId child;
    while (engine_.accept(listener, child) == 0) {
        own(child, lr.app, lr.context);
        ++counters_.accepted;
        push(lr.app, child, EventKind::accepted, listener, now);
        if (engine_.recv_available(child) > 0) {
            push(lr.app, child, EventKind::readable, ConnId::invalid(), now);
        }
        if (engine_.peer_closed(child)) {
            push(lr.app, child, EventKind::peer_closed, ConnId::invalid(), now);
        }
    }
}

void Host::push(std::uint16_t app, ConnId conn, EventKind kind, ConnId listener, Instant now) {
    if (app != batch_app_ || batch_.size() == kBatch) flush(now);
    batch_app_ = app;
    batch_.push_back(AppEvent{conn, kind, listener});
    ++counters_.routed;
}

void Host::flush(Instant now) {
    if (batch_.empty()) return;
    Entry& e = apps_[batch_app_];
    ++counters_.batches;
    e.app->on_events(e.stack, batch_, now);
    batch_.clear();
    batch_app_ = kNoApp;
    drain(now);
}

void Host::drain(Instant now) {
    if (drain_.fn != nullptr && engine_.output_crowded()) drain_.fn(drain_.ctx, now);
}

// In app order. An app polled from here on (a command the agent ran
// started the generator) is polled from the next iteration.
void Host::poll_apps(Instant now) {
    for (std::uint32_t left = polled_; left != 0; left &= left - 1) {
        Entry& e = apps_[static_cast<std::size_t>(__builtin_ctz(left))];
        e.app->poll(e.stack, now);
        drain(now);
    }
}

void Host::set_polled(std::uint16_t app, bool on) {
    const std::uint32_t bit = 1u << app;
    polled_ = on ? polled_ | bit : polled_ & ~bit;
}

void Host::tick(Instant now) {
    for (Entry& e : apps_) {
        e.app->on_tick(e.stack, now);
        drain(now);
    }
}

void Host::stop(Instant now) {
    for (Entry& e : apps_) {
        e.app->stop(e.stack, now);
        drain(now);
    }
}

// --- Stack: the engine calls that change ownership ---

void Stack::set_polled(bool on) { host_->set_polled(app_, on); }

int Stack::listen(wire::Ipv4Addr local, std::uint16_t port, int backlog, ConnId& out,
                  std::uintptr_t context, const tcp::SocketOptions& options) {
    const int rc = engine_->listen(local, port, backlog, out, options);
    if (rc == 0) host_->own(out, app_, context);
    return rc;
}

int Stack::connect(const tcp::ConnectParams& params, Instant now, ConnId& out,
                   std::uintptr_t context) {
    const int rc = engine_->connect(params, now, out);
    if (rc == 0) host_->own(out, app_, context);
    return rc;
}

// A close with SO_LINGER keeps the socket until linger_done/timeout: the
// app keeps it (and its events) until then.
int Stack::close(ConnId id, Instant now) {
    if (!owns(id)) return -EBADF;
    const int rc = engine_->close(id, now);
    if (!engine_->is_open(id)) host_->disown(id);
    return rc;
}

int Stack::abort(ConnId id, Instant now) {
    if (!owns(id)) return -EBADF;
    const int rc = engine_->abort(id, now);
    host_->disown(id);
    return rc;
}

void Stack::log(LogLevel level, const char* fmt, ...) const {
    char text[512];
    va_list ap;
    va_start(ap, fmt);
    std::vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    const char* app = host_->apps_[app_].app->name();
    if (host_->log_.fn != nullptr) {
        host_->log_.fn(host_->log_.ctx, level, app, text);
    } else {
        std::fprintf(stderr, "%s: %s\n", app, text);
    }
}

std::uint32_t Stack::link_backlog() const { return host_->link_backlog_; }

bool Stack::owns(ConnId id) const {
    const Host::Route* r = host_->route(id);
    return r != nullptr && r->app == app_;
}

const char* Stack::owner_name(ConnId id) const {
    const App* a = host_->owner_of(id);
    return a == nullptr ? nullptr : a->name();
}

std::uintptr_t Stack::context(ConnId id) const {
    const Host::Route* r = host_->route(id);
    return r != nullptr && r->app == app_ ? r->context : 0;
}

void Stack::for_each_owned_fn(void (*fn)(void* ctx, ConnId id), void* ctx) {
    const auto& routes = host_->routes_;
    for (std::uint32_t i = 0; i < routes.size(); ++i) {
        const Host::Route r = routes[i];
        if (r.app == app_) fn(ctx, ConnId{i, r.generation});
    }
}

void Stack::set_context(ConnId id, std::uintptr_t context) {
    if (owns(id)) host_->routes_[id.index].context = context;
}

}  // namespace tcpfp::app
