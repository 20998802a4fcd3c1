#include "dpdk_app/cli/agent.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "dpdk_app/arp.hpp"

namespace tcpfp::app::cli {

namespace {
constexpr std::size_t kRxKeep = 1u << 20;  // bytes kept for `expect recv` per connection
std::string err(int rc) { return std::strerror(rc < 0 ? -rc : rc); }
}  // namespace

Agent::Agent(tcp::Engine& engine, Arp& arp, unsigned worker, rte_ring* mailbox)
    : engine_(engine),
      arp_(arp),
      worker_(worker),
      mailbox_(mailbox),
      next_id_(worker * kIdStride + 1),
      scratch_(16384),
      gen_(engine, worker),
      flood_(worker) {}

class Agent::HostedApp : public App {
public:
    explicit HostedApp(Agent& agent) : agent_(agent) {}
    const char* name() const override { return "agent"; }
    void start(Stack& s, Instant) override { agent_.gen_.set_stack(&s); }
    void on_events(Stack&, std::span<const AppEvent> events, Instant) override {
        for (const AppEvent& e : events) agent_.gen_events_.push_back(tcp::Event{e.conn, e.kind});
    }
    void poll(Stack&, Instant now) override {
        agent_.gen_.on_events(agent_.gen_events_, now);
        agent_.gen_events_.clear();
        if (agent_.tx_ != nullptr) agent_.flood_.poll(now, *agent_.tx_, agent_.arp_);
    }

private:
    Agent& agent_;
};

std::unique_ptr<App> Agent::make_app() {
    gen_events_.reserve(engine_.config().event_queue);
    return std::make_unique<HostedApp>(*this);
}

bool Agent::poll(tcp::Instant now) {
    if (mailbox_ == nullptr) return false;
    void* p = nullptr;
    if (rte_ring_sc_dequeue(mailbox_, &p) != 0) return false;
    auto* r = static_cast<Request*>(p);
    execute(*r, now);
    r->done.store(true, std::memory_order_release);
    return true;
}

Agent::Conn* Agent::find(std::uint64_t id) {
    for (auto& c : conns_) {
        if (c.id == id) return &c;
    }
    return nullptr;
}

Agent::Conn& Agent::add(tcp::ConnId h, Mode mode) {
    Conn c;
    c.id = next_id_++;
    c.h = h;
    c.mode = mode;
    tcp::ConnInfo ci;
    if (engine_.info(h, ci) == 0) c.tuple = ci.tuple;
    conns_.push_back(std::move(c));
    return conns_.back();
}

std::string Agent::state_of(const Conn& c) const {
    tcp::ConnInfo ci;
    if (engine_.info(c.h, ci) == 0) {
        if (ci.state == tcp::State::closed) return "closed";
        return tcp::to_string(ci.state);
    }
    bool tw = false;
    engine_.for_each_time_wait([&](const tcp::TimeWaitRecord& r) {
        if (r.tuple == c.tuple) tw = true;
    });
    return tw ? "TIME_WAIT" : "closed";
}

void Agent::service(tcp::Instant now) {
    for (const auto& l : listeners_) {
        tcp::ConnId h;
        while (engine_.accept(l.h, h) == 0) add(h, l.mode);
    }
    for (auto& c : conns_) {
        if (!c.closed) serve(c, now);
    }
}

void Agent::serve(Conn& c, tcp::Instant now) {
    tcp::ConnInfo ci;
    if (engine_.info(c.h, ci) != 0) return;
    // CLOSED with the socket still open: reset, timed out, or the peer's FIN
    // took us to TIME_WAIT (the record lives on without the socket). Read
    // what is left (data that arrived with the FIN), then free the socket.
    const bool gone = ci.state == tcp::State::closed;
    if (c.mode == Mode::hold && !gone) return;
    while (!c.eof) {
        std::size_t room = scratch_.size();
        if (c.mode == Mode::echo && !gone) {
            if (engine_.info(c.h, ci) != 0) return;
            room = std::min<std::size_t>(room, ci.send_space);
            if (room == 0) return;
        }
        const std::int64_t n = engine_.recv(c.h, {scratch_.data(), room}, now);
        if (n == 0) {
            c.eof = true;
            break;
        }
        if (n < 0) break;  // nothing more now (or the reset's error)
        const auto len = static_cast<std::size_t>(n);
        const char* d = reinterpret_cast<const char*>(scratch_.data());
        c.rx_total += len;
        switch (c.mode) {
            case Mode::echo:
                (void)engine_.send(c.h, {scratch_.data(), len}, now);
                break;
            case Mode::http:
                c.http.append(d, std::min(len, std::size_t{4096}));
                if (c.http.find("\r\n\r\n") != std::string::npos) {
                    static const char kReply[] =
                        "HTTP/1.1 200 OK\r\nContent-Length: 15\r\nConnection: close\r\n\r\n"
                        "hello from cli\n";
                    (void)engine_.send(
                        c.h, {reinterpret_cast<const std::uint8_t*>(kReply), sizeof kReply - 1},
                        now);
                    (void)engine_.close(c.h, now);
                    c.closed = true;
                    return;
                }
                break;
            case Mode::discard:
                break;
            default:  // client, sink: keep for `expect recv`
                if (c.rx.size() < kRxKeep) c.rx.append(d, std::min(len, kRxKeep - c.rx.size()));
                break;
        }
    }
    if (gone) {
        (void)engine_.close(c.h, now);
        c.closed = true;
        return;
    }
    if (c.eof && (c.mode == Mode::echo || c.mode == Mode::discard || c.mode == Mode::http)) {
        (void)engine_.close(c.h, now);
        c.closed = true;
    }
}

void Agent::execute(Request& r, tcp::Instant now) {
    r.rc = 0;
    auto fail = [&](std::string why) {
        r.rc = 1;
        r.out = std::move(why);
    };
    Conn* c = nullptr;
    switch (r.op) {
        case Op::send_text:
        case Op::send_bytes:
        case Op::shutdown:
        case Op::close:
        case Op::abort:
        case Op::state:
        case Op::recv_take:
            service(now);  // bring received data and state up to date
            c = find(r.id);
            if (c == nullptr) return fail("no connection " + std::to_string(r.id));
            break;
        default:
            break;
    }
    switch (r.op) {
        case Op::connect: {
            tcp::ConnectParams p;
            p.remote_ip = r.tuple.remote_ip;
            p.remote_port = r.tuple.remote_port;
            p.local_ip = r.tuple.local_ip;
            p.local_port = r.tuple.local_port;
            tcp::ConnId h;
            const int rc = engine_.connect(p, now, h);
            if (rc != 0) return fail("connect: " + err(rc));
            Conn& n = add(h, Mode::client);
            r.id = n.id;
            r.out = n.tuple.local_ip.to_string() + ":" + std::to_string(n.tuple.local_port);
            return;
        }
        case Op::send_text:
        case Op::send_bytes: {
            if (c->closed) return fail("connection " + std::to_string(r.id) + " is closed");
            std::string data = r.text;
            if (r.op == Op::send_bytes) {
                data.resize(static_cast<std::size_t>(r.num));
                for (std::size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>('a' + i % 26);
            }
            const std::int64_t n = engine_.send(
                c->h, {reinterpret_cast<const std::uint8_t*>(data.data()), data.size()}, now);
            if (n < 0) return fail("send: " + err(static_cast<int>(n)));
            r.num = n;
            if (static_cast<std::size_t>(n) < data.size()) {
                r.out = "only " + std::to_string(n) + " of " + std::to_string(data.size()) +
                        " bytes fit the send buffer";
            }
            return;
        }
        case Op::shutdown: {
            const auto how = r.num == 0 ? tcp::Shutdown::rd
                                        : r.num == 1 ? tcp::Shutdown::wr : tcp::Shutdown::rdwr;
            const int rc = engine_.shutdown(c->h, how, now);
            if (rc != 0) return fail("shutdown: " + err(rc));
            r.state_name = state_of(*c);
            return;
        }
        case Op::close: {
            if (c->closed) return fail("connection " + std::to_string(r.id) + " is already closed");
            if (r.num >= 0) {
                // SO_LINGER is in seconds: round the milliseconds up.
                (void)engine_.set_option(c->h, tcp::SockOpt::linger, (r.num + 999) / 1000);
            }
            r.state_name = state_of(*c);
            const int rc = engine_.close(c->h, now);
            if (rc != 0) return fail("close: " + err(rc));
            c->closed = true;
            r.out = r.state_name + " -> " + state_of(*c);
            r.state_name = state_of(*c);
            return;
        }
        case Op::abort: {
            if (c->closed) return fail("connection " + std::to_string(r.id) + " is already closed");
            const int rc = engine_.abort(c->h, now);
            if (rc != 0) return fail("abort: " + err(rc));
            c->closed = true;
            return;
        }
        case Op::state:
            r.state_name = state_of(*c);
            r.num = static_cast<std::int64_t>(c->rx_total);
            return;
        case Op::recv_take: {
            const auto pos = c->rx.find(r.text);
            r.out = c->rx;
            if (pos == std::string::npos) {
                r.rc = 1;
                return;
            }
            c->rx.erase(0, pos + r.text.size());
            return;
        }
        case Op::listen: {
            for (const auto& l : listeners_) {
                if (l.addr == r.tuple.local_ip && l.port == r.tuple.local_port) {
                    return fail("already listening there");
                }
            }
            tcp::ConnId h;
            const int rc = engine_.listen(r.tuple.local_ip, r.tuple.local_port, 0, h);
            if (rc != 0) return fail("listen: " + err(rc));
            listeners_.push_back({h, r.tuple.local_ip, r.tuple.local_port, static_cast<Mode>(r.num)});
            return;
        }
        case Op::unlisten: {
            auto it = std::find_if(listeners_.begin(), listeners_.end(), [&](const Listener& l) {
                return l.addr == r.tuple.local_ip && l.port == r.tuple.local_port;
            });
            if (it == listeners_.end()) return fail("no CLI listener there");
            (void)engine_.close(it->h, now);
            listeners_.erase(it);
            return;
        }
        case Op::conns: {
            service(now);
            engine_.for_each_connection([&](tcp::ConnId h, const tcp::Tcb& t) {
                ConnRow row;
                row.state = t.state;
                row.tuple = t.tuple;
                row.recv_q = t.rcv_buf.len;
                row.send_q = t.snd_buf.len;
                row.orphan = t.orphan;
                row.ts_ok = t.ts_ok;
                row.snd_wnd = t.snd_wnd;
                row.worker = worker_;
                if (engine_.info(h, row.info) == 0 && t.state == tcp::State::listen) {
                    row.accept_q = row.info.accept_q;
                }
                for (const auto& cc : conns_) {
                    if (cc.h == h) row.id = cc.id;
                }
                r.rows.push_back(row);
            });
            engine_.for_each_time_wait_info([&](const tcp::TimeWaitInfo& tw) {
                ConnRow row;
                row.state = tcp::State::time_wait;
                row.tuple = tw.tuple;
                row.ts_ok = tw.ts_ok;
                row.worker = worker_;
                row.info.state = tcp::State::time_wait;
                row.info.tuple = tw.tuple;
                row.info.ts_ok = tw.ts_ok;
                row.info.rcv_wnd = tw.window;
                row.info.timer = tcp::TimerKind::time_wait;
                row.info.timer_left_ms = tw.left_ms;
                for (const auto& cc : conns_) {
                    if (cc.tuple == tw.tuple && cc.closed) row.id = cc.id;
                }
                r.rows.push_back(row);
            });
            return;
        }
        case Op::stats:
            r.counters = engine_.counters();
            r.connections = engine_.connection_count();
            r.time_wait = engine_.time_wait_count();
            return;
        case Op::set_timers:
            if (r.num >= 0) engine_.set_msl(tcp::Duration::millis(r.num / 2));
            if (r.num2 >= 0) engine_.set_fin_wait_2_timeout(tcp::Duration::millis(r.num2));
            return;
        case Op::arp:
            r.out = arp_.dump();
            return;
        case Op::arp_probe:
            r.num = arp_.probe(r.tuple.remote_ip, now.millis()) ? 1 : 0;
            return;
        case Op::timers:
            r.timers = engine_.timer_summary();
            return;
        case Op::set_verbose:
            if (verbose_ == nullptr) return fail("this worker has no verbose hook");
            *verbose_ = r.num != 0;
            return;
        case Op::gen_start: {
            std::string why;
            if (!gen_.start(r.gen, now, why)) return fail(why);
            return;
        }
        case Op::gen_stop:
            gen_.stop(now);
            return;
        case Op::gen_report:
            gen_.report(r.gen_report, now);
            return;
        case Op::flood_start: {
            if (tx_ == nullptr) return fail("this worker has no TX hook for the flood");
            std::string why;
            if (!flood_.start(r.flood, now, why)) return fail(why);
            return;
        }
        case Op::flood_stop:
            flood_.stop(now);
            return;
        case Op::flood_report:
            flood_.report(r.flood_report, now);
            return;
    }
}

}  // namespace tcpfp::app::cli
