// Engine::reset(): a reused engine must be indistinguishable from a new one.
// The fuzz targets rely on it (two engines reused for every input, and
// libFuzzer needs the same input to behave the same every time), so the
// test runs one scripted exchange on a new pair of engines and on a pair
// that first ran a different exchange (other configuration and seed, a
// larger buffer size, connections left open with data in flight, loss
// states, a listener, a TIME_WAIT record, a learned path MTU, armed timers)
// and was then reset, and compares every segment on the wire (bytes and
// time), every event (with its handle) and every counter.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <stdexcept>
#include <vector>

#include "tcp/engine/engine.hpp"
#include "tcp/wire/icmp.hpp"
#include "tcp/wire/ipv4.hpp"

namespace tcpfp::tcp {
namespace {

constexpr wire::Ipv4Addr kA = wire::Ipv4Addr::from_octets(10, 9, 0, 1);
constexpr wire::Ipv4Addr kB = wire::Ipv4Addr::from_octets(10, 9, 0, 2);
constexpr wire::Ipv4Addr kRouter = wire::Ipv4Addr::from_octets(10, 9, 0, 254);

struct WirePacket {
    int from = 0;
    std::uint64_t at_us = 0;
    std::vector<std::uint8_t> bytes;
    friend bool operator==(const WirePacket&, const WirePacket&) = default;
};

struct Posted {
    int side = 0;
    ConnId conn;
    EventKind kind = EventKind::accepted;
    friend bool operator==(const Posted&, const Posted&) = default;
};

// Everything observable of one run.
struct Record {
    std::vector<WirePacket> wire;
    std::vector<Posted> events;
    std::vector<std::int64_t> results;  // socket API return values, in call order
    std::vector<std::uint64_t> state;   // counters and sizes at the end, both engines
};

// Two engines joined with no latency; every `drop_every`-th packet is lost.
class Link {
public:
    Link(Engine& a, Engine& b, Instant now) : e_{&a, &b}, now_(now) {}

    Engine& e(int side) { return *e_[side]; }
    Instant now() const { return now_; }
    Record& record() { return rec_; }
    void set_drop_every(int n) { drop_every_ = n; }
    void note(std::int64_t result) { rec_.results.push_back(result); }

    // Moves output across until both engines are quiet.
    void exchange() {
        for (bool moved = true; moved;) {
            moved = false;
            for (int s = 0; s < 2; ++s) {
                std::vector<std::vector<std::uint8_t>> packets;
                for (const OutSegment& seg : e(s).output()) {
                    std::vector<std::uint8_t> buf(20 + 60 + 9000);
                    auto n = serialize(seg, buf);
                    EXPECT_TRUE(n.ok());
                    if (!n.ok()) continue;
                    buf.resize(*n);
                    packets.push_back(std::move(buf));
                }
                e(s).clear_output();
                for (const Event& ev : e(s).events()) rec_.events.push_back({s, ev.conn, ev.kind});
                e(s).clear_events();
                for (auto& p : packets) {
                    moved = true;
                    rec_.wire.push_back({s, now_.micros(), p});
                    if (drop_every_ != 0 && ++sent_ % drop_every_ == 0) continue;
                    e(1 - s).input(p, now_);
                }
            }
        }
    }

    void run_for(Duration d) {
        const Instant end = now_ + d;
        exchange();
        for (;;) {
            const Instant next = std::min(e(0).next_deadline(), e(1).next_deadline());
            if (next > end) break;
            now_ = next > now_ ? next : now_ + Duration::micros(1);
            e(0).advance(now_);
            e(1).advance(now_);
            exchange();
        }
        now_ = end;
        e(0).advance(now_);
        e(1).advance(now_);
        exchange();
    }

    // The last packet `side` sent that carried data.
    std::vector<std::uint8_t> last_data_from(int side) const {
        for (auto it = rec_.wire.rbegin(); it != rec_.wire.rend(); ++it) {
            if (it->from == side && it->bytes.size() > 20 + 60) return it->bytes;
        }
        return {};
    }

private:
    Engine* e_[2];
    Instant now_;
    Record rec_;
    int drop_every_ = 0;
    std::uint64_t sent_ = 0;
};

EngineConfig base_config(std::uint64_t seed) {
    EngineConfig c;
    c.max_connections = 8;
    c.max_time_wait = 4;
    c.max_listeners = 4;
    c.chunk_count = 512;  // 1 MiB
    c.buffer_size = 64 * 1024;
    c.send_buffer = c.recv_buffer = 32 * 1024;
    c.max_loss_states = 4;
    c.output_queue = 256;
    c.event_queue = 64;
    c.ephemeral_port_table = 16;
    c.pmtu_cache_entries = 8;
    c.seed = seed;
    return c;
}

std::vector<std::uint8_t> pattern(std::size_t n, std::uint8_t salt) {
    std::vector<std::uint8_t> v(n);
    for (std::size_t i = 0; i < n; ++i) v[i] = static_cast<std::uint8_t>(i * 7 + salt);
    return v;
}

void drain(Link& link, int side, ConnId id) {
    std::uint8_t buf[4096];
    while (link.e(side).recv(id, buf, link.now()) > 0) {
    }
}

// The exchange that is compared: a lossy bidirectional transfer, an active
// close into TIME_WAIT, a second connection from the same port range that
// is reset, then every timer run out.
void script(Link& link) {
    Engine& a = link.e(0);
    Engine& b = link.e(1);
    a.add_address(kA);
    b.add_address(kB);
    ConnId l, ca, cb, ca2, cb2;
    link.note(b.listen(kB, 80, 4, l));
    link.note(a.connect({kB, 80, kA, 0, {}}, link.now(), ca));
    link.run_for(Duration::millis(5));
    link.note(b.accept(l, cb));
    link.set_drop_every(9);
    const auto up = pattern(30000, 1), down = pattern(10000, 2);
    link.note(a.send(ca, up, link.now()));
    link.note(b.send(cb, down, link.now()));
    for (int i = 0; i < 40; ++i) {
        link.run_for(Duration::millis(50));
        drain(link, 0, ca);
        drain(link, 1, cb);
    }
    link.set_drop_every(0);
    link.note(a.close(ca, link.now()));
    link.run_for(Duration::millis(10));
    link.note(b.close(cb, link.now()));
    link.run_for(Duration::millis(10));
    link.note(a.connect({kB, 80, kA, 0, {}}, link.now(), ca2));
    link.run_for(Duration::millis(5));
    link.note(b.accept(l, cb2));
    link.note(a.send(ca2, pattern(3000, 3), link.now()));
    link.run_for(Duration::millis(5));
    link.note(b.abort(cb2, link.now()));
    link.run_for(Duration::seconds(100));
    for (Engine* e : {&a, &b}) {
        const Counters& c = e->counters();
        auto& s = link.record().state;
        s.insert(s.end(), c.mib.begin(), c.mib.end());
        s.insert(s.end(), c.drops.begin(), c.drops.end());
        s.insert(s.end(), c.by_state.begin(), c.by_state.end());
        s.push_back(e->connection_count());
        s.push_back(e->time_wait_count());
        s.push_back(e->armed_timers());
        s.push_back(e->buffers_in_use());
        s.push_back(e->loss_states_in_use());
        s.push_back(e->path_mtu(kB));
        s.push_back(e->next_deadline().micros());
    }
}

// Leaves the engines as busy as possible: connections mid-transfer with
// losses, a listener, a TIME_WAIT record, a path MTU learned from ICMP.
void other_exchange(Link& link) {
    Engine& a = link.e(0);
    Engine& b = link.e(1);
    a.add_address(kA);
    a.add_address(wire::Ipv4Addr::from_octets(10, 9, 1, 1));
    b.add_address(kB);
    ConnId l, c[3], p[3];
    ASSERT_EQ(b.listen(kB, 443, 4, l), 0);
    ConnId l2;
    ASSERT_EQ(a.listen({}, 8080, 4, l2), 0);
    for (auto& id : c) ASSERT_EQ(a.connect({kB, 443, kA, 0, {}}, link.now(), id), 0);
    link.run_for(Duration::millis(5));
    for (auto& id : p) ASSERT_EQ(b.accept(l, id), 0);
    link.set_drop_every(5);
    for (int i = 0; i < 3; ++i) {
        ASSERT_GT(a.send(c[i], pattern(60000, 4), link.now()), 0);
        ASSERT_GT(b.send(p[i], pattern(20000, 5), link.now()), 0);
    }
    link.run_for(Duration::millis(30));
    // A router on the way asks for smaller packets (RFC 1191).
    const auto quoted = link.last_data_from(0);
    ASSERT_FALSE(quoted.empty());
    std::vector<std::uint8_t> icmp(20 + 8 + 60 + 8);
    auto n = wire::emit_icmp_error(wire::icmp_type::dest_unreachable, wire::icmp_unreach::frag_needed,
                                   1200, quoted, std::span(icmp).subspan(20));
    ASSERT_TRUE(n.ok());
    wire::Ipv4Repr ip;
    ip.src = kRouter;
    ip.dst = kA;
    ip.protocol = wire::ipproto::icmp;
    ip.payload_len = static_cast<std::uint16_t>(*n);
    ASSERT_TRUE(wire::emit_ipv4(ip, icmp).ok());
    icmp.resize(20 + *n);
    a.input_icmp(icmp, link.now());
    ASSERT_NE(a.path_mtu(kB), 0);
    link.run_for(Duration::millis(30));
    // One connection closed into TIME_WAIT, the others left mid-transfer.
    link.set_drop_every(0);
    drain(link, 0, c[0]);
    drain(link, 1, p[0]);
    ASSERT_EQ(a.abort(c[1], link.now()), 0);
    link.run_for(Duration::seconds(3));
    drain(link, 0, c[0]);
    drain(link, 1, p[0]);
    ASSERT_EQ(a.close(c[0], link.now()), 0);
    ASSERT_EQ(b.close(p[0], link.now()), 0);
    link.run_for(Duration::seconds(1));
    link.set_drop_every(3);
    ASSERT_GT(a.send(c[2], pattern(60000, 6), link.now()), 0);
    link.run_for(Duration::millis(200));
    ASSERT_GT(a.time_wait_count() + b.time_wait_count(), 0u);
    ASSERT_GT(a.connection_count(), 1u);
    ASSERT_GT(a.armed_timers() + b.armed_timers(), 0u);
    ASSERT_GT(a.buffers_in_use() + b.buffers_in_use(), 0u);
}

void expect_same(const Record& fresh, const Record& reused) {
    ASSERT_EQ(fresh.wire.size(), reused.wire.size());
    for (std::size_t i = 0; i < fresh.wire.size(); ++i) {
        ASSERT_EQ(fresh.wire[i], reused.wire[i]) << "packet " << i << " differs";
    }
    ASSERT_EQ(fresh.events.size(), reused.events.size());
    for (std::size_t i = 0; i < fresh.events.size(); ++i) {
        ASSERT_EQ(fresh.events[i], reused.events[i]) << "event " << i << " differs";
    }
    EXPECT_EQ(fresh.results, reused.results);
    EXPECT_EQ(fresh.state, reused.state);
}

TEST(EngineReset, BehavesExactlyAsANewEngine) {
    const Instant t0 = Instant::from_micros(5'000'000);
    const EngineConfig ca = base_config(11), cb = base_config(22);

    Record fresh;
    {
        Engine a(ca, t0), b(cb, t0);
        Link link(a, b, t0);
        script(link);
        fresh = link.record();
    }
    // The script itself must do what the comparison relies on.
    ASSERT_GT(fresh.wire.size(), 50u);
    EXPECT_GT(fresh.state[static_cast<std::size_t>(Mib::retrans_segs)], 0u);
    EXPECT_GT(fresh.state[static_cast<std::size_t>(Mib::timewait_entered)], 0u);

    // Another configuration (larger buffers, other seeds and options), then
    // a reset to the script's.
    EngineConfig oa = base_config(99), ob = base_config(98);
    for (EngineConfig* o : {&oa, &ob}) {
        o->buffer_size = 128 * 1024;
        o->send_buffer = o->recv_buffer = 100 * 1024;
        o->timestamps = false;
        o->wscale = 3;
        o->msl = Duration::seconds(5);
    }
    Engine a(oa, Instant::from_micros(1'000)), b(ob, Instant::from_micros(1'000));
    {
        Link other(a, b, Instant::from_micros(1'000));
        other_exchange(other);
        if (HasFatalFailure()) return;
    }
    // Twice: a reset after a reset must be just as clean.
    for (int round = 0; round < 2; ++round) {
        a.reset(ca, t0);
        b.reset(cb, t0);
        EXPECT_EQ(a.connection_count() + a.time_wait_count() + a.armed_timers(), 0u);
        EXPECT_EQ(a.buffers_in_use(), 0u);
        EXPECT_EQ(a.path_mtu(kB), 0);
        EXPECT_FALSE(a.is_local(kA));
        Link link(a, b, t0);
        script(link);
        SCOPED_TRACE(round);
        expect_same(fresh, link.record());
    }
}

TEST(EngineReset, RejectsOtherCapacities) {
    const Instant t0 = Instant::from_micros(1'000);
    const EngineConfig c = base_config(1);
    Engine e(c, t0);
    EngineConfig bigger = c;
    bigger.max_connections = c.max_connections + 1;
    EXPECT_THROW(e.reset(bigger, t0), std::invalid_argument);
    EngineConfig more_chunks = c;
    more_chunks.chunk_count = c.chunk_count + 1;
    EXPECT_THROW(e.reset(more_chunks, t0), std::invalid_argument);
    EngineConfig other_chunk_size = c;
    other_chunk_size.chunk_size = c.chunk_size / 2;
    EXPECT_THROW(e.reset(other_chunk_size, t0), std::invalid_argument);
    // buffer_size only limits SO_SNDBUF/SO_RCVBUF: the pool is the memory.
    EngineConfig larger_buffers = c;
    larger_buffers.buffer_size = c.buffer_size * 2;
    e.reset(larger_buffers, t0);
    EXPECT_EQ(e.config().buffer_size, c.buffer_size * 2);
    EngineConfig smaller_buffers = c;
    smaller_buffers.buffer_size = c.buffer_size / 4;
    e.reset(smaller_buffers, t0);
    EXPECT_EQ(e.config().buffer_size, c.buffer_size / 4);
}

// RFC 4821 state exists per connection only in an engine constructed with
// mtu_probing on (1 entry otherwise): a reset must not turn probing on
// without it, or the first probing connection would write past the array.
TEST(EngineReset, MtuProbingNeedsAnEngineConstructedWithIt) {
    const Instant t0 = Instant::from_micros(1'000);
    const EngineConfig off = base_config(1);
    EngineConfig on = off;
    on.mtu_probing = MtuProbing::on;
    EngineConfig blackhole = off;
    blackhole.mtu_probing = MtuProbing::blackhole;
    Engine without(off, t0);
    EXPECT_THROW(without.reset(on, t0), std::invalid_argument);
    EXPECT_THROW(without.reset(blackhole, t0), std::invalid_argument);
    Engine with(on, t0);
    with.reset(off, t0);
    with.reset(blackhole, t0);
    EXPECT_EQ(with.config().mtu_probing, MtuProbing::blackhole);
}

}  // namespace
}  // namespace tcpfp::tcp
