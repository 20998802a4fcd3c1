#include "dpdk_app/services.hpp"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <string_view>

#include "dpdk_app/arp.hpp"
#include "dpdk_app/log.hpp"

namespace tcpfp::app {

namespace {

using tcp::EventKind;

bool iequals_prefix(std::string_view line, std::string_view prefix) {
    if (line.size() < prefix.size()) return false;
    for (std::size_t i = 0; i < prefix.size(); ++i) {
        if (std::tolower(static_cast<unsigned char>(line[i])) != prefix[i]) return false;
    }
    return true;
}

bool contains_token(std::string_view value, std::string_view token) {
    std::string lower(value);
    for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return lower.find(token) != std::string::npos;
}

// RFC 864's pattern: line n is 72 printable characters (of the 95 from
// ' ' to '~') starting at the n-th, then CRLF; it repeats after 95 lines.
constexpr std::size_t kChargenLine = 74, kChargenPeriod = 95 * kChargenLine;
constexpr std::size_t kChargenChunk = 16384;  // bytes per send() at most

std::string chargen_pattern() {
    std::string p;
    const std::size_t periods = (kChargenChunk + kChargenPeriod - 1) / kChargenPeriod + 1;
    for (std::size_t n = 0; n < 95 * periods; ++n) {
        for (std::size_t i = 0; i < 72; ++i) p += static_cast<char>(' ' + (n + i) % 95);
        p += "\r\n";
    }
    return p;
}

double ms_since(tcp::Instant now, tcp::Instant start) {
    return static_cast<double>((now - start).as_micros()) / 1000.0;
}

}  // namespace

Services::Services(const ServicesConfig& cfg, tcp::Engine& engine, Arp& arp,
                   std::pmr::memory_resource* mr)
    : cfg_(cfg),
      engine_(engine),
      arp_(arp),
      slots_(engine.config().max_connections, mr),
      requests_(cfg.http ? std::size_t{engine.config().max_connections} * kRequestMax : 0, mr),
      scratch_(16384),
      chargen_(cfg.chargen ? chargen_pattern() : std::string()) {
    events_.reserve(engine.config().event_queue);
}

Services::Slot* Services::slot(tcp::ConnId id) {
    if (id.index >= slots_.size()) return nullptr;
    Slot& s = slots_[id.index];
    if (s.kind == Kind::none || s.generation != id.generation) return nullptr;
    return &s;
}

void Services::listen(std::uint16_t port, Kind kind) {
    tcp::ConnId id;
    const int rc = engine_.listen({}, port, 0, id);
    if (rc != 0) {
        TLOG(ERR, svc, "listen on port %u: %s", port, std::strerror(-rc));
        return;
    }
    listeners_.push_back({id, kind});
    TLOG(INFO, svc, "listening on TCP port %u", port);
}

void Services::start(tcp::Instant now) {
    started_ = now;
    if (cfg_.echo) listen(7, Kind::echo);
    if (cfg_.discard) listen(9, Kind::discard);
    if (cfg_.chargen) listen(19, Kind::chargen);
    if (cfg_.http) listen(80, Kind::http);
    if (cfg_.seed_client) {
        seed_ = Seed::waiting_arp;
        TLOG(INFO, seed, "seed client: resolving %s before connecting",
             cfg_.seed_target.to_string().c_str());
    }
}

void Services::accept_all(const Listener& l, tcp::Instant now) {
    tcp::ConnId id;
    while (engine_.accept(l.id, id) == 0) {
        if (id.index >= slots_.size()) {  // cannot happen: the table is sized alike
            (void)engine_.abort(id, now);
            continue;
        }
        slots_[id.index] = Slot{id.generation, l.kind};
        serve(id, slots_[id.index], now);  // data may have come with the handshake
    }
}

void Services::on_events(tcp::Instant now) {
    // Copy first: serving calls into the engine, which may post more events.
    const auto ev = engine_.events();
    events_.assign(ev.begin(), ev.end());
    engine_.clear_events();
    for (const tcp::Event& e : events_) {
        if (seed_ != Seed::off && e.conn == seed_id_) {
            seed_event(e.kind, now);
            continue;
        }
        if (e.kind == EventKind::accepted) {
            for (const auto& l : listeners_) {
                if (l.id == e.conn) accept_all(l, now);
            }
            continue;
        }
        Slot* s = slot(e.conn);
        if (s == nullptr) continue;
        switch (e.kind) {
            case EventKind::readable:
            case EventKind::writable:
            case EventKind::peer_closed:
                serve(e.conn, *s, now);
                break;
            case EventKind::reset:
            case EventKind::timed_out:
            case EventKind::closed:
                finish(e.conn, *s, now);
                break;
            default:
                break;
        }
    }
}

void Services::serve(tcp::ConnId id, Slot& s, tcp::Instant now) {
    switch (s.kind) {
        case Kind::echo:
            return serve_echo(id, s, now);
        case Kind::discard:
            return serve_discard(id, s, now);
        case Kind::chargen:
            return serve_chargen(id, s, now);
        case Kind::http:
            return serve_http(id, s, now);
        case Kind::none:
            return;
    }
}

void Services::finish(tcp::ConnId id, Slot& s, tcp::Instant now) {
    tcp::ConnInfo before, after;
    const bool was_close_wait = engine_.info(id, before) == 0 && before.state == tcp::State::close_wait;
    (void)engine_.close(id, now);  // after reset/timeout this only frees the socket
    if (was_close_wait && engine_.info(id, after) == 0 && after.state == tcp::State::last_ack) {
        passive_closes_++;
    }
    s = Slot{};
}

void Services::serve_echo(tcp::ConnId id, Slot& s, tcp::Instant now) {
    for (;;) {
        tcp::ConnInfo ci;
        if (engine_.info(id, ci) != 0) return finish(id, s, now);
        // Read only what can be sent back, so nothing is held here.
        const std::size_t room = std::min<std::size_t>(ci.send_space, scratch_.size());
        if (room == 0) return;  // resumed by the writable event
        const std::int64_t n = engine_.recv(id, {scratch_.data(), room}, now);
        if (n == 0) return finish(id, s, now);
        if (n < 0) {
            if (n != -EAGAIN) finish(id, s, now);
            return;
        }
        (void)engine_.send(id, {scratch_.data(), static_cast<std::size_t>(n)}, now);
    }
}

void Services::serve_discard(tcp::ConnId id, Slot& s, tcp::Instant now) {
    for (;;) {
        const std::int64_t n = engine_.recv(id, scratch_, now);
        if (n == 0 || (n < 0 && n != -EAGAIN)) return finish(id, s, now);
        if (n < 0) return;
    }
}

// Sends the pattern while there is room; whatever the peer sends is read and
// dropped. Ends when the peer closes or resets.
void Services::serve_chargen(tcp::ConnId id, Slot& s, tcp::Instant now) {
    for (;;) {
        const std::int64_t n = engine_.recv(id, scratch_, now);
        if (n == 0 || (n < 0 && n != -EAGAIN)) return finish(id, s, now);
        if (n < 0) break;
    }
    for (;;) {
        tcp::ConnInfo ci;
        if (engine_.info(id, ci) != 0) return finish(id, s, now);
        const std::size_t len = std::min<std::size_t>(ci.send_space, kChargenChunk);
        if (len == 0) return;  // resumed by the writable event
        const auto* p = reinterpret_cast<const std::uint8_t*>(chargen_.data()) + s.sent % kChargenPeriod;
        const std::int64_t n = engine_.send(id, {p, len}, now);
        if (n <= 0) return;
        s.sent += static_cast<std::uint64_t>(n);
        chargen_bytes_ += static_cast<std::uint64_t>(n);
    }
}

bool Services::http_respond(tcp::ConnId id, Slot& s, tcp::Instant now) {
    response_ = "HTTP/1.1 200 OK\r\nServer: tcpfp\r\nContent-Type: text/plain\r\nContent-Length: " +
                std::to_string(cfg_.http_body.size()) + "\r\n";
    if (s.close_after) response_ += "Connection: close\r\n";
    response_ += "\r\n";
    if (!s.head) response_ += cfg_.http_body;
    tcp::ConnInfo ci;
    if (engine_.info(id, ci) != 0) return false;
    if (ci.send_space < response_.size()) return false;  // wait for writable
    const auto* p = reinterpret_cast<const std::uint8_t*>(response_.data());
    (void)engine_.send(id, {p, response_.size()}, now);
    s.reply_pending = false;
    if (s.close_after) finish(id, s, now);
    return true;
}

void Services::serve_http(tcp::ConnId id, Slot& s, tcp::Instant now) {
    char* buf = requests_.data() + std::size_t{id.index} * kRequestMax;
    for (;;) {
        if (s.reply_pending && !http_respond(id, s, now)) return;
        if (s.kind == Kind::none) return;  // closed after the response
        // Answer every complete request already buffered (pipelining).
        std::string_view have(buf, s.len);
        const auto end = have.find("\r\n\r\n");
        if (end != std::string_view::npos) {
            const std::string_view head = have.substr(0, end);
            const auto eol = head.find("\r\n");
            const std::string_view request_line = head.substr(0, eol);
            s.head = request_line.starts_with("HEAD ");
            bool keep_alive = !request_line.ends_with("HTTP/1.0");
            std::size_t pos = eol;
            while (pos != std::string_view::npos && pos < head.size()) {
                const auto next = head.find("\r\n", pos + 2);
                const auto line = head.substr(pos + 2, next == std::string_view::npos
                                                           ? std::string_view::npos
                                                           : next - pos - 2);
                if (iequals_prefix(line, "connection:")) {
                    if (contains_token(line, "close")) keep_alive = false;
                    if (contains_token(line, "keep-alive")) keep_alive = true;
                }
                pos = next;
            }
            s.close_after = !keep_alive;
            const std::size_t used = end + 4;
            std::memmove(buf, buf + used, s.len - used);
            s.len = static_cast<std::uint16_t>(s.len - used);
            s.reply_pending = true;
            continue;
        }
        if (s.len == kRequestMax) {
            TLOG(NOTICE, svc, "HTTP request header over %zu bytes: closing", kRequestMax);
            return finish(id, s, now);
        }
        const std::int64_t n = engine_.recv(
            id, {reinterpret_cast<std::uint8_t*>(buf) + s.len, kRequestMax - s.len}, now);
        if (n == 0 || (n < 0 && n != -EAGAIN)) return finish(id, s, now);
        if (n < 0) return;
        s.len = static_cast<std::uint16_t>(s.len + n);
    }
}

void Services::poll(tcp::Instant now) {
    if (seed_ == Seed::waiting_arp) {
        if (!arp_.probe(cfg_.seed_target, now.millis())) return;
        tcp::ConnectParams p;
        p.remote_ip = cfg_.seed_target;
        p.remote_port = cfg_.seed_port;
        p.local_ip = cfg_.seed_source;
        const int rc = engine_.connect(p, now, seed_id_);
        if (rc != 0) {
            TLOG(ERR, seed, "connect: %s", std::strerror(-rc));
            seed_ = Seed::done;
            return;
        }
        seed_ = Seed::connecting;
        tcp::ConnInfo ci;
        (void)engine_.info(seed_id_, ci);
        seed_tuple_ = ci.tuple;
        TLOG(INFO, seed, "+%.3f ms connect %s:%u -> %s:%u", ms_since(now, started_),
             seed_tuple_.local_ip.to_string().c_str(), seed_tuple_.local_port,
             seed_tuple_.remote_ip.to_string().c_str(), seed_tuple_.remote_port);
    }
    if (seed_ == Seed::connecting || seed_ == Seed::sent) seed_trace(now);
}

void Services::seed_event(tcp::EventKind kind, tcp::Instant now) {
    TLOG(INFO, seed, "+%.3f ms event %s", ms_since(now, started_), tcp::to_string(kind));
    seed_trace(now);
    if (kind == EventKind::connected && seed_ == Seed::connecting) {
        std::string line = cfg_.seed_message + "\n";
        const auto* p = reinterpret_cast<const std::uint8_t*>(line.data());
        const std::int64_t n = engine_.send(seed_id_, {p, line.size()}, now);
        TLOG(INFO, seed, "+%.3f ms send(%zu bytes) = %lld, close()", ms_since(now, started_),
             line.size(), static_cast<long long>(n));
        (void)engine_.close(seed_id_, now);
        seed_ = Seed::sent;
        seed_trace(now);
    } else if (kind == EventKind::reset || kind == EventKind::timed_out) {
        TLOG(WARNING, seed, "connection failed: %s (is a server listening on %s:%u?)",
             kind == EventKind::reset ? "reset/refused" : "timed out",
             cfg_.seed_target.to_string().c_str(), cfg_.seed_port);
        (void)engine_.close(seed_id_, now);
        seed_ = Seed::sent;
    }
}

// Logs each state change of the seed connection: the control block while it
// exists, then its compact TIME_WAIT record, then CLOSED.
void Services::seed_trace(tcp::Instant now) {
    const char* state = nullptr;
    tcp::ConnInfo ci;
    if (engine_.info(seed_id_, ci) == 0) {
        state = tcp::to_string(ci.state);
    } else {
        // Scanning the records is not free: look at most every 10 ms.
        if (now < next_tw_check_) return;
        next_tw_check_ = now + tcp::Duration::millis(10);
        bool in_tw = false;
        engine_.for_each_time_wait(
            [&](const tcp::TimeWaitRecord& tw) { in_tw |= tw.tuple == seed_tuple_; });
        state = in_tw ? "TIME_WAIT" : "CLOSED";
    }
    if (std::strcmp(state, seed_state_) == 0) return;
    TLOG(INFO, seed, "+%.3f ms state %s -> %s", ms_since(now, started_), seed_state_, state);
    seed_state_ = state;
    if (std::strcmp(state, "CLOSED") == 0) seed_ = Seed::done;
}

void Services::stop(tcp::Instant now) {
    for (const auto& l : listeners_) (void)engine_.close(l.id, now);
    listeners_.clear();
    for (std::uint32_t i = 0; i < slots_.size(); ++i) {
        if (slots_[i].kind != Kind::none) {
            finish(tcp::ConnId{i, slots_[i].generation}, slots_[i], now);
        }
    }
    if (seed_ == Seed::waiting_arp) seed_ = Seed::done;
}

}  // namespace tcpfp::app
