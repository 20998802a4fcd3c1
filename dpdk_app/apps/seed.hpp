// The seed experiment's client (../shared/seed): once the next hop
// resolves, connect from `source` to `target:port`, send one line, close,
// and log every event and state change on the way: SYN-SENT, ESTABLISHED,
// FIN-WAIT-1/2 while the peer holds its half open, then TIME-WAIT (the
// compact record that ACKs the peer's FIN for a socket that no longer
// exists) until CLOSED.
#pragma once

#include <string>

#include "dpdk_app/apps/app.hpp"

namespace tcpfp::app {

struct SeedConfig {
    wire::Ipv4Addr source;
    wire::Ipv4Addr target;
    std::uint16_t port = 5002;
    std::string message;
};

class SeedClient : public Handlers<SeedClient> {
public:
    explicit SeedClient(SeedConfig cfg) : cfg_(std::move(cfg)) {}
    const char* name() const override { return "seed"; }
    void start(Stack& s, Instant now) override;
    void poll(Stack& s, Instant now) override;
    void stop(Stack& s, Instant now) override;

    void on_connected(Stack& s, ConnId c, Instant now);
    void on_readable(Stack& s, ConnId c, Instant now) { note(s, c, EventKind::readable, now); }
    void on_writable(Stack& s, ConnId c, Instant now) { note(s, c, EventKind::writable, now); }
    void on_peer_closed(Stack& s, ConnId c, Instant now) { note(s, c, EventKind::peer_closed, now); }
    void on_closed(Stack& s, ConnId c, Instant now) { note(s, c, EventKind::closed, now); }
    void on_reset(Stack& s, ConnId c, Instant now) { failed(s, c, EventKind::reset, now); }
    void on_timed_out(Stack& s, ConnId c, Instant now) { failed(s, c, EventKind::timed_out, now); }

    bool done() const { return phase_ == Phase::done; }
    const char* state() const { return state_; }  // last logged state

private:
    enum class Phase : std::uint8_t { off, waiting_arp, connecting, sent, done };
    void note(Stack& s, ConnId c, EventKind kind, Instant now);
    void failed(Stack& s, ConnId c, EventKind kind, Instant now);
    void trace(Stack& s, Instant now);
    double ms(Instant now) const;

    SeedConfig cfg_;
    Phase phase_ = Phase::off;
    ConnId conn_;
    tcp::FourTuple tuple_;
    const char* state_ = "CLOSED";
    Instant started_;
};

}  // namespace tcpfp::app
