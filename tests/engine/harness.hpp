// Two engines wired back to back in memory, on a virtual clock, with an
// impairment layer (drop, duplicate, reorder, delay; rules and a seeded
// random source). Every packet that crosses the link is recorded in a trace
// so tests can assert on the wire as a capture would.
#pragma once

#include <cstdint>
#include <functional>
#include <memory_resource>
#include <optional>
#include <string>
#include <vector>

#include "tcp/crypto/random.hpp"
#include "tcp/engine/engine.hpp"
#include "tcp/wire/ipv4.hpp"
#include "tcp/wire/tcp.hpp"
#include "tcp/wire/tcp_options.hpp"

namespace tcpfp::tcp::test {

inline constexpr wire::Ipv4Addr kHostA = wire::Ipv4Addr::from_octets(172, 16, 48, 13);
inline constexpr wire::Ipv4Addr kHostAPrimary = wire::Ipv4Addr::from_octets(172, 16, 48, 2);
inline constexpr wire::Ipv4Addr kHostB = wire::Ipv4Addr::from_octets(172, 16, 48, 1);

enum class Side { a, b };

// One packet as it crossed the link.
struct Captured {
    Instant at;
    Side from;
    std::vector<std::uint8_t> bytes;  // IPv4 packet
    wire::SeqNum seq, ack;
    std::uint8_t flags = 0;
    std::uint16_t window = 0;
    std::uint8_t header_len = 0;
    std::size_t payload_len = 0;
    wire::TcpOptions options;
    std::vector<std::uint8_t> option_kinds;
    bool has(std::uint8_t f) const { return (flags & f) != 0; }
    // The TCP segment without the IPv4 header.
    std::span<const std::uint8_t> tcp() const { return std::span(bytes).subspan(20); }
};

struct Impairment {
    double drop = 0;       // probability per packet
    double duplicate = 0;
    double reorder = 0;    // probability a packet is held back by reorder_delay
    Duration delay = Duration::micros(100);  // one-way base latency
    Duration reorder_delay = Duration::millis(2);
    // Deterministic rule: return true to drop this packet.
    std::function<bool(const Captured&)> drop_rule;
    // Deterministic rule: return true to hold this packet back by
    // reorder_delay (packets sent after it may overtake it).
    std::function<bool(const Captured&)> hold_rule;
    // Deterministic rule, as a router's AQM: return true to mark this
    // packet CE (RFC 3168 §5), applied only to ECT packets; the trace keeps
    // the packet as sent.
    std::function<bool(const Captured&)> mark_ce_rule;
};

// Called around each call the harness makes into an engine, so that a test
// can tell the engines' own heap use from the harness's (its trace and link
// queue allocate as they grow).
struct EngineCallHooks {
    void (*enter)() = nullptr;
    void (*leave)() = nullptr;
};

class Net {
public:
    // Both engines allocate their pools and tables from `mr`.
    Net(const EngineConfig& ca, const EngineConfig& cb, std::uint64_t seed = 1,
        std::pmr::memory_resource* mr = std::pmr::get_default_resource());

    Engine& a() { return a_; }
    Engine& b() { return b_; }
    Engine& engine(Side s) { return s == Side::a ? a_ : b_; }
    Instant now() const { return now_; }
    Impairment& impair() { return impair_; }
    void set_engine_call_hooks(EngineCallHooks hooks) { hooks_ = hooks; }
    // Sees each engine's output as it leaves, before it is serialised
    // (tests of what a port does with it: TCP segmentation offload).
    void set_output_observer(std::function<void(Side, std::span<const OutSegment>)> f) {
        output_observer_ = std::move(f);
    }
    const std::vector<Captured>& trace() const { return trace_; }
    void clear_trace() { trace_.clear(); }

    // Moves both engines' output onto the link (through the impairment).
    void flush();
    // Runs the clock forward by `d`, delivering packets and running timers
    // at their exact times.
    void run_for(Duration d);
    // Runs until pred() holds or `limit` of virtual time passes; returns pred().
    bool run_until(const std::function<bool()>& pred, Duration limit = Duration::seconds(600));
    // Runs until nothing is in flight and no timer is due before `limit`.
    void settle(Duration limit = Duration::seconds(1));

    // Injects a raw IPv4 packet into one engine, as if from the link.
    void inject(Side to, std::span<const std::uint8_t> packet);

    // Leaves engine A's events in the engine for another consumer (an app
    // host, dpdk_app/apps/host.hpp); take_events(Side::a) then sees none.
    void leave_events_in_a(bool leave) { leave_events_a_ = leave; }
    // Events each engine posted, accumulated since the last take.
    std::vector<Event> take_events(Side s);
    bool saw_event(Side s, ConnId id, EventKind kind) const;

    // Packets in the trace sent by `from`, optionally filtered by flags.
    std::vector<Captured> sent_by(Side from) const;

private:
    struct InFlight {
        Instant at;
        std::uint64_t order;
        Side to;
        std::vector<std::uint8_t> bytes;
    };
    void collect(Side from);
    void deliver_due();
    void step_now();
    void collect_events();
    Instant next_event() const;

    class InEngine;  // brackets one engine call with hooks_

    Engine a_;
    Engine b_;
    Instant now_;
    Impairment impair_;
    Random rng_;
    std::uint64_t order_ = 0;
    std::vector<InFlight> in_flight_;
    std::vector<Captured> trace_;
    std::vector<Event> events_a_;
    std::vector<Event> events_b_;
    EngineCallHooks hooks_;
    std::function<void(Side, std::span<const OutSegment>)> output_observer_;
    bool leave_events_a_ = false;
};

// Parses an IPv4 packet from the trace; fails the calling test on error.
Captured capture(Instant at, Side from, std::vector<std::uint8_t> bytes);

// "S.", "F.", "P.", "R", ... as packetdrill writes flags.
std::string flag_string(std::uint8_t flags);

// A default configuration for tests: small pools, default timers.
EngineConfig test_config();

}  // namespace tcpfp::tcp::test
