#include "dpdk_app/apps/agent.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace tcpfp::app {

namespace {
constexpr std::size_t kRxKeep = 1u << 20;  // bytes kept for `expect recv` per connection
}  // namespace

Agent::Agent(unsigned worker, CommandSource source)
    : worker_(worker), source_(source), next_id_(worker * kIdStride + 1), scratch_(16384) {}

void Agent::attach(Generator* gen, SynFlood* flood, WorkerTools* tools, Responders* responders) {
    gen_ = gen;
    flood_ = flood;
    tools_ = tools;
    responders_ = responders;
}

void Agent::start(Stack& stack, Instant) { stack_ = &stack; }

// A script's commands come back to back: once one has run, the agent looks
// at the mailbox every iteration until kAwake has passed without another,
// then only from on_tick(), once a millisecond. A quiet agent (a server
// under load) then costs its worker nothing per iteration.
void Agent::poll(Stack& stack, Instant now) {
    if (!take_command(stack, now) && now - last_command_ >= kAwake) stack.set_polled(false);
}

void Agent::on_tick(Stack& stack, Instant now) {
    (void)take_command(stack, now);
    service(now);
}

bool Agent::take_command(Stack& stack, Instant now) {
    if (source_.take == nullptr) return false;
    Command* c = source_.take(source_.ctx);
    if (c == nullptr) return false;
    run(*c, now);
    last_command_ = now;
    stack.set_polled(true);
    return true;
}

void Agent::run(Command& c, Instant now) {
    AgentContext ctx{*stack_, *this, gen_, flood_, tools_, worker_, proxy_};
    c.rc = 0;
    c.run(ctx, now);
    c.done.store(true, std::memory_order_release);  // the prompt may free it from here on
}

void Agent::on_events(Stack&, std::span<const AppEvent> events, Instant now) {
    for (const AppEvent& e : events) {
        if (e.kind == EventKind::accepted) {
            add(e.conn, ListenMode::sink);  // the agent's own listeners are sinks
            continue;
        }
        // The context word is the connection's place in conns_ + 1 (add()).
        const std::uintptr_t at = stack_->context(e.conn);
        if (at == 0 || at > conns_.size()) continue;  // closed earlier in this batch
        Conn& c = conns_[at - 1];
        if (!c.closed) serve(c, now);
    }
}

Agent::Conn* Agent::find(std::uint64_t id) {
    for (auto& c : conns_) {
        if (c.id == id) return &c;
    }
    return nullptr;
}

std::uint64_t Agent::id_of(tcp::ConnId h) const {
    for (const auto& c : conns_) {
        if (c.h == h) return c.id;
    }
    return 0;
}

std::uint64_t Agent::id_of_time_wait(const tcp::FourTuple& t) const {
    for (const auto& c : conns_) {
        if (c.tuple == t && c.closed) return c.id;
    }
    return 0;
}

Agent::Conn& Agent::add(tcp::ConnId h, ListenMode mode) {
    Conn c;
    c.id = next_id_++;
    c.h = h;
    c.mode = mode;
    tcp::ConnInfo ci;
    if (stack_->info(h, ci) == 0) c.tuple = ci.tuple;
    conns_.push_back(std::move(c));
    stack_->set_context(h, conns_.size());  // O(1) from an event to its Conn
    return conns_.back();
}

std::string Agent::state_of(const Conn& c) const {
    const tcp::State s = stack_->state(c.h);
    if (s != tcp::State::closed) return tcp::to_string(s);
    return stack_->engine().in_time_wait(c.tuple) ? "TIME_WAIT" : "closed";
}

bool Agent::responder_kind(ListenMode mode, ResponderKind& kind) {
    switch (mode) {
        case ListenMode::echo: kind = ResponderKind::echo; return true;
        case ListenMode::discard: kind = ResponderKind::discard; return true;
        case ListenMode::chargen: kind = ResponderKind::chargen; return true;
        case ListenMode::http: kind = ResponderKind::http; return true;
        case ListenMode::hold: kind = ResponderKind::hold; return true;
        case ListenMode::rr: kind = ResponderKind::rr; return true;
        default: return false;
    }
}

bool Agent::listen(wire::Ipv4Addr addr, std::uint16_t port, ListenMode mode, std::string& why) {
    for (const auto& l : listeners_) {
        if (l.addr == addr && l.port == port) {
            why = "already listening there";
            return false;
        }
    }
    tcp::ConnId h;
    ResponderKind kind{};
    int rc = 0;
    if (!responder_kind(mode, kind)) {
        rc = stack_->listen(addr, port, 0, h);
    } else if (responders_ == nullptr) {
        rc = -ENOTSUP;
    } else {
        rc = responders_->listen(kind, addr, port, h);  // the responder app owns it
    }
    if (rc != 0) {
        why = std::string("listen: ") + std::strerror(-rc);
        return false;
    }
    listeners_.push_back({h, addr, port, mode});
    return true;
}

bool Agent::unlisten(wire::Ipv4Addr addr, std::uint16_t port, Instant now, std::string& why) {
    auto it = std::find_if(listeners_.begin(), listeners_.end(),
                           [&](const Listener& l) { return l.addr == addr && l.port == port; });
    if (it == listeners_.end()) {
        why = "no CLI listener there";
        return false;
    }
    ResponderKind kind{};
    if (responder_kind(it->mode, kind) && responders_ != nullptr) {
        (void)responders_->unlisten(kind, it->h, now);
    } else {
        (void)stack_->close(it->h, now);
    }
    listeners_.erase(it);
    return true;
}

void Agent::service(Instant now) {
    for (auto& c : conns_) {
        if (!c.closed) serve(c, now);
    }
}

// Reads what the connection has into its buffer for `expect recv` (client
// and sink: the responders serve the other modes). CLOSED with the socket
// still ours: reset, timed out, or the peer's FIN took us to TIME_WAIT (the
// record lives on without the socket): read what is left (data that came
// with the FIN), then free the socket.
void Agent::serve(Conn& c, Instant now) {
    if (!stack_->engine().is_open(c.h)) return;
    const bool gone = stack_->state(c.h) == tcp::State::closed;
    while (!c.eof) {
        const std::int64_t n = stack_->recv(c.h, scratch_, now);
        if (n == 0) {
            c.eof = true;
            break;
        }
        if (n < 0) break;  // nothing more now (or the reset's error)
        const auto len = static_cast<std::size_t>(n);
        c.rx_total += len;
        if (c.rx.size() < kRxKeep) {
            c.rx.append(reinterpret_cast<const char*>(scratch_.data()), std::min(len, kRxKeep - c.rx.size()));
        }
    }
    if (gone) {
        (void)stack_->close(c.h, now);
        c.closed = true;
    }
}

}  // namespace tcpfp::app
