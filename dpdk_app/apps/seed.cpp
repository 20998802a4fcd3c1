#include "dpdk_app/apps/seed.hpp"

#include <cstring>

namespace tcpfp::app {

double SeedClient::ms(Instant now) const {
    return static_cast<double>((now - started_).as_micros()) / 1000.0;
}

void SeedClient::start(Stack& s, Instant now) {
    started_ = now;
    phase_ = Phase::waiting_arp;
    s.log(LogLevel::info, "seed client: resolving %s before connecting", cfg_.target.to_string().c_str());
}

void SeedClient::poll(Stack& s, Instant now) {
    if (phase_ == Phase::waiting_arp) {
        if (!s.neighbors().resolve(cfg_.target, now.millis())) return;
        tcp::ConnectParams p;
        p.remote_ip = cfg_.target;
        p.remote_port = cfg_.port;
        p.local_ip = cfg_.source;
        const int rc = s.connect(p, now, conn_);
        if (rc != 0) {
            s.log(LogLevel::err, "connect: %s", std::strerror(-rc));
            phase_ = Phase::done;
            return;
        }
        phase_ = Phase::connecting;
        tcp::ConnInfo ci;
        (void)s.info(conn_, ci);
        tuple_ = ci.tuple;
        s.log(LogLevel::info, "+%.3f ms connect %s:%u -> %s:%u", ms(now),
              tuple_.local_ip.to_string().c_str(), tuple_.local_port,
              tuple_.remote_ip.to_string().c_str(), tuple_.remote_port);
    }
    if (phase_ == Phase::connecting || phase_ == Phase::sent) trace(s, now);
    if (phase_ == Phase::done) s.set_polled(false);  // the experiment is over
}

void SeedClient::note(Stack& s, ConnId, EventKind kind, Instant now) {
    s.log(LogLevel::info, "+%.3f ms event %s", ms(now), tcp::to_string(kind));
    trace(s, now);
}

void SeedClient::on_connected(Stack& s, ConnId c, Instant now) {
    note(s, c, EventKind::connected, now);
    if (phase_ != Phase::connecting) return;
    const std::string line = cfg_.message + "\n";
    const std::int64_t n = s.send(c, {reinterpret_cast<const std::uint8_t*>(line.data()), line.size()}, now);
    s.log(LogLevel::info, "+%.3f ms send(%zu bytes) = %lld, close()", ms(now), line.size(),
          static_cast<long long>(n));
    (void)s.close(c, now);
    phase_ = Phase::sent;
    trace(s, now);
}

void SeedClient::failed(Stack& s, ConnId c, EventKind kind, Instant now) {
    note(s, c, kind, now);
    s.log(LogLevel::warning, "connection failed: %s (is a server listening on %s:%u?)",
          kind == EventKind::reset ? "reset/refused" : "timed out", cfg_.target.to_string().c_str(),
          cfg_.port);
    (void)s.close(c, now);
    phase_ = Phase::sent;
}

// Logs each state change of the connection: the control block while it
// exists, then its compact TIME_WAIT record, then CLOSED. The socket is
// closed early (the seed's point), so the state is read from the engine.
void SeedClient::trace(Stack& s, Instant now) {
    const char* state = nullptr;
    tcp::ConnInfo ci;
    if (s.info(conn_, ci) == 0) {
        state = tcp::to_string(ci.state);
    } else {
        state = s.engine().in_time_wait(tuple_) ? "TIME_WAIT" : "CLOSED";  // one table lookup
    }
    if (std::strcmp(state, state_) == 0) return;
    s.log(LogLevel::info, "+%.3f ms state %s -> %s", ms(now), state_, state);
    state_ = state;
    if (std::strcmp(state, "CLOSED") == 0) phase_ = Phase::done;
}

void SeedClient::stop(Stack&, Instant) {
    if (phase_ == Phase::waiting_arp) phase_ = Phase::done;
}

}  // namespace tcpfp::app
