#include "harness.hpp"

#include <gtest/gtest.h>

#include <algorithm>

#include "tcp/wire/bytes.hpp"
#include "tcp/wire/checksum.hpp"

namespace tcpfp::tcp::test {

EngineConfig test_config() {
    EngineConfig c;
    c.max_connections = 1024;
    c.max_time_wait = 1024;
    c.max_listeners = 16;
    c.chunk_count = 8 * 1024;  // 16 MiB of 2 KiB chunks: far more than any test queues
    c.buffer_size = 256 * 1024;
    c.output_queue = 4096;
    c.event_queue = 4096;
    return c;
}

Captured capture(Instant at, Side from, std::vector<std::uint8_t> bytes) {
    Captured c;
    c.at = at;
    c.from = from;
    c.bytes = std::move(bytes);
    auto ip = wire::parse_ipv4_checked(c.bytes);
    EXPECT_TRUE(ip.ok()) << "engine emitted a bad IPv4 header: " << wire::name(ip.error());
    if (!ip) return c;
    auto t = wire::parse_tcp_checked(ip->payload(), ip->src(), ip->dst());
    EXPECT_TRUE(t.ok()) << "engine emitted a bad TCP segment: " << wire::name(t.error());
    if (!t) return c;
    c.seq = t->seq();
    c.ack = t->ack();
    c.flags = t->flags();
    c.window = t->window();
    c.header_len = t->header_len();
    c.payload_len = t->payload().size();
    auto o = wire::parse_tcp_options(t->options());
    EXPECT_TRUE(o.ok());
    if (o) c.options = *o;
    wire::TcpOptionReader r(t->options());
    while (!r.done()) {
        auto opt = r.next();
        if (!opt) break;
        c.option_kinds.push_back(opt->kind);
    }
    return c;
}

std::string flag_string(std::uint8_t f) {
    using namespace wire::tcp_flag;
    std::string s;
    if (f & fin) s += 'F';
    if (f & syn) s += 'S';
    if (f & rst) s += 'R';
    if (f & psh) s += 'P';
    if (f & ack) s += '.';
    if (f & urg) s += 'U';
    if (f & ece) s += 'E';
    if (f & cwr) s += 'W';
    return s.empty() ? "-" : s;
}

class Net::InEngine {
public:
    explicit InEngine(const EngineCallHooks& hooks) : hooks_(hooks) {
        if (hooks_.enter != nullptr) hooks_.enter();
    }
    ~InEngine() {
        if (hooks_.leave != nullptr) hooks_.leave();
    }
    InEngine(const InEngine&) = delete;
    InEngine& operator=(const InEngine&) = delete;

private:
    const EngineCallHooks& hooks_;
};

Net::Net(const EngineConfig& ca, const EngineConfig& cb, std::uint64_t seed,
         std::pmr::memory_resource* mr)
    : a_(ca, Instant::from_micros(1'000'000), mr),
      b_(cb, Instant::from_micros(1'000'000), mr),
      now_(Instant::from_micros(1'000'000)),
      rng_(seed) {
    a_.add_address(kHostA);
    a_.add_address(kHostAPrimary);
    b_.add_address(kHostB);
}

void Net::collect(Side from) {
    Engine& e = engine(from);
    if (output_observer_) output_observer_(from, e.output());
    for (const OutSegment& seg : e.output()) {
        std::vector<std::uint8_t> bytes(20 + 60 + seg.payload_len());
        const auto n = [&] {
            const InEngine in(hooks_);
            return serialize(seg, bytes);
        }();
        EXPECT_TRUE(n.ok()) << wire::name(n.error());
        if (!n) continue;
        bytes.resize(*n);
        Captured c = capture(now_, from, bytes);
        trace_.push_back(c);
        if (impair_.drop_rule && impair_.drop_rule(c)) continue;
        if (impair_.drop > 0 && rng_.next_double() < impair_.drop) continue;
        const std::uint8_t ecn_field = bytes[1] & wire::ecn::mask;
        if (impair_.mark_ce_rule && (ecn_field == wire::ecn::ect0 || ecn_field == wire::ecn::ect1) &&
            impair_.mark_ce_rule(c)) {
            const std::uint16_t old_word = wire::load_be16(&bytes[0]);
            bytes[1] |= wire::ecn::ce;
            const std::uint16_t hc = wire::load_be16(&bytes[10]);
            wire::store_be16(&bytes[10], wire::checksum::update16(hc, old_word, wire::load_be16(&bytes[0])));
        }
        const Side to = from == Side::a ? Side::b : Side::a;
        Instant at = now_ + impair_.delay;
        if (impair_.reorder > 0 && rng_.next_double() < impair_.reorder) {
            at = at + impair_.reorder_delay;
        } else if (impair_.hold_rule && impair_.hold_rule(c)) {
            at = at + impair_.reorder_delay;
        }
        in_flight_.push_back({at, order_++, to, bytes});
        if (impair_.duplicate > 0 && rng_.next_double() < impair_.duplicate) {
            in_flight_.push_back({at + Duration::micros(10), order_++, to, bytes});
        }
    }
    const InEngine in(hooks_);
    e.clear_output();
}

void Net::collect_events() {
    // The harness's own vectors grow outside the bracket: only the engines'
    // calls count as engine heap use.
    if (!leave_events_a_) {
        for (const Event& ev : a_.events()) events_a_.push_back(ev);
    }
    for (const Event& ev : b_.events()) events_b_.push_back(ev);
    const InEngine in(hooks_);
    if (!leave_events_a_) a_.clear_events();
    b_.clear_events();
}

void Net::flush() {
    collect(Side::a);
    collect(Side::b);
    collect_events();
}

void Net::inject(Side to, std::span<const std::uint8_t> packet) {
    {
        const InEngine in(hooks_);
        engine(to).input(packet, now_);
    }
    flush();
}

void Net::deliver_due() {
    for (;;) {
        auto it = std::min_element(in_flight_.begin(), in_flight_.end(),
                                   [](const InFlight& x, const InFlight& y) {
                                       return x.at < y.at || (x.at == y.at && x.order < y.order);
                                   });
        if (it == in_flight_.end() || it->at > now_) return;
        InFlight p = std::move(*it);
        in_flight_.erase(it);
        {
            const InEngine in(hooks_);
            engine(p.to).input(p.bytes, now_);
        }
        flush();
    }
}

Instant Net::next_event() const {
    Instant next = [&] {
        const InEngine in(hooks_);
        return std::min(a_.next_deadline(), b_.next_deadline());
    }();
    for (const auto& p : in_flight_) next = std::min(next, p.at);
    return next;
}

void Net::step_now() {
    deliver_due();
    {
        const InEngine in(hooks_);
        a_.advance(now_);
        b_.advance(now_);
    }
    flush();
    deliver_due();
}

void Net::run_for(Duration d) {
    const Instant end = now_ + d;
    flush();
    for (;;) {
        step_now();
        const Instant next = next_event();
        if (next > end) break;
        // Always move forward, even when work is due "now" (a carried-over
        // timer batch), so the loop cannot spin.
        now_ = next > now_ ? next : now_ + Duration::micros(1);
    }
    now_ = end;
    step_now();
}

bool Net::run_until(const std::function<bool()>& pred, Duration limit) {
    const Instant end = now_ + limit;
    flush();
    for (;;) {
        step_now();
        if (pred()) return true;
        const Instant next = next_event();
        if (next > end) {
            now_ = end;
            step_now();
            return pred();
        }
        now_ = next > now_ ? next : now_ + Duration::micros(1);
    }
}

void Net::settle(Duration limit) {
    (void)run_until([&] { return in_flight_.empty(); }, limit);
}

std::vector<Event> Net::take_events(Side s) {
    auto& v = s == Side::a ? events_a_ : events_b_;
    std::vector<Event> out;
    out.swap(v);
    return out;
}

bool Net::saw_event(Side s, ConnId id, EventKind kind) const {
    const auto& v = s == Side::a ? events_a_ : events_b_;
    return std::any_of(v.begin(), v.end(),
                       [&](const Event& e) { return e.conn == id && e.kind == kind; });
}

std::vector<Captured> Net::sent_by(Side from) const {
    std::vector<Captured> out;
    for (const auto& c : trace_) {
        if (c.from == from) out.push_back(c);
    }
    return out;
}

}  // namespace tcpfp::tcp::test
