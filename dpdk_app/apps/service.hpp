// What the built-in servers (echo, discard, chargen, HTTP, hold) share: a
// base that listens on the configured port at start, lets the prompt's
// agent open more listeners of the same kind (`listen ADDR PORT echo`),
// closes everything at stop, and counts what the final statistics print.
// Each server keeps its per-connection state in the context word, so none
// holds a table sized by the connection count.
#pragma once

#include <cerrno>
#include <cstdint>
#include <cstring>

#include "dpdk_app/apps/app.hpp"

namespace tcpfp::app {

struct ServiceCounters {
    std::uint64_t accepted = 0;
    std::uint64_t bytes_in = 0;   // read from the peer
    std::uint64_t bytes_out = 0;  // accepted by send()
    // Connections the peer closed first that went CLOSE_WAIT -> LAST_ACK
    // when we closed (the passive close, RFC 9293 §3.6 case 2).
    std::uint64_t passive_closes = 0;
};

// Frees the socket; after a reset or timeout that is all close() does.
void end_connection(Stack& s, ConnId c, Instant now, ServiceCounters& counters);

template <class Derived>
class Service : public Handlers<Derived> {
public:
    static constexpr bool kNoDelay = false;  // a server's TCP_NODELAY (listen_on)
    // port 0: no listener of its own (the agent may still add some).
    explicit Service(std::uint16_t port) : port_(port) {}

    void start(Stack& s, Instant now) override {
        stack_ = &s;
        (void)now;
        if (port_ == 0) return;
        const int rc = listen_on({}, port_, own_listener_);
        if (rc != 0) {
            s.log(LogLevel::err, "listen on port %u: %s", port_, std::strerror(-rc));
        } else {
            s.log(LogLevel::info, "listening on TCP port %u", port_);
        }
    }
    // A listener whose connections this server answers (0 or -errno).
    int listen_on(wire::Ipv4Addr addr, std::uint16_t port, ConnId& out) {
        if (stack_ == nullptr) return -ENOTCONN;
        // Servers whose answers span segments set TCP_NODELAY (inherited
        // by what the listener accepts): otherwise Nagle holds a response's
        // last partial segment until the client's delayed ACK, ~40 ms.
        tcp::SocketOptions o;
        if (Derived::kNoDelay) o.nodelay = 1;
        if (keepalive_) o.keepalive = 1;
        return stack_->listen(addr, port, 0, out, 0, o);
    }
    int unlisten(ConnId listener, Instant now) {
        return stack_ == nullptr ? -ENOTCONN : stack_->close(listener, now);
    }
    void stop(Stack& s, Instant now) override {
        s.for_each_owned([&](ConnId c) { end_connection(s, c, now, counters_); });
    }

    void on_accepted(Stack& s, ConnId c, ConnId, Instant now) {
        ++counters_.accepted;
        static_cast<Derived&>(*this).serve(s, c, now);
    }
    void on_readable(Stack& s, ConnId c, Instant now) { static_cast<Derived&>(*this).serve(s, c, now); }
    void on_writable(Stack& s, ConnId c, Instant now) { static_cast<Derived&>(*this).serve(s, c, now); }
    void on_peer_closed(Stack& s, ConnId c, Instant now) {
        static_cast<Derived&>(*this).serve(s, c, now);
    }
    void on_closed(Stack& s, ConnId c, Instant now) { end_connection(s, c, now, counters_); }
    void on_reset(Stack& s, ConnId c, Instant now) { end_connection(s, c, now, counters_); }
    void on_timed_out(Stack& s, ConnId c, Instant now) { end_connection(s, c, now, counters_); }

    const ServiceCounters& counters() const { return counters_; }
    // SO_KEEPALIVE on the listeners opened from here on, inherited by what
    // they accept ([services] keepalive; the timing is [engine] keepalive_*):
    // a peer that vanished, its RST lost, is found by the probes (RFC 9293
    // §3.8.4) instead of holding the connection for good.
    void set_keepalive(bool on) { keepalive_ = on; }

protected:
    void finish(Stack& s, ConnId c, Instant now) { end_connection(s, c, now, counters_); }
    ServiceCounters counters_;

private:
    std::uint16_t port_;
    bool keepalive_ = false;
    Stack* stack_ = nullptr;
    ConnId own_listener_;
};

}  // namespace tcpfp::app
