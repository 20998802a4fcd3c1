// Helpers for engine tests: building connections, crafting segments.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

#include "harness.hpp"

namespace tcpfp::tcp::test {

struct Pair {
    ConnId listener;
    ConnId a;  // active opener on engine A
    ConnId b;  // accepted on engine B
};

// B listens on kHostB:port; A connects from kHostA:a_port (0: ephemeral).
inline Pair open_pair(Net& net, std::uint16_t port = 5002, std::uint16_t a_port = 0) {
    Pair p{};
    EXPECT_EQ(net.b().listen(kHostB, port, 16, p.listener), 0);
    EXPECT_EQ(net.a().connect({kHostB, port, kHostA, a_port, {}}, net.now(), p.a), 0);
    const bool ok = net.run_until([&] { return net.b().accept(p.listener, p.b) == 0; },
                                  Duration::seconds(5));
    EXPECT_TRUE(ok) << "handshake did not complete";
    net.settle();
    return p;
}

// The initial sequence numbers of a pair's handshake, read off the trace
// (its SYN from A, its SYN-ACK from B), for tests that craft segments.
struct Isns {
    wire::SeqNum a, b;
};
inline Isns handshake_isns(const Net& net) {
    Isns isns;
    for (const Captured& c : net.trace()) {
        if (c.has(wire::tcp_flag::syn) && c.from == Side::a) isns.a = c.seq;
        if (c.has(wire::tcp_flag::syn) && c.from == Side::b) isns.b = c.seq;
    }
    return isns;
}

// The first 1-ms wheel tick at or after t.
inline Instant ceil_to_tick(Instant t) {
    return Instant::from_micros((t.micros() + 999) / 1000 * 1000);
}

inline State state_of(Engine& e, ConnId id) {
    ConnInfo info;
    return e.info(id, info) == 0 ? info.state : State::closed;
}

// n pseudo-random bytes (an LCG from `seed`): data whose every byte is
// checked end to end, and whose misplacement shows.
inline std::string pattern(std::size_t n, std::uint32_t seed) {
    std::string s(n, '\0');
    std::uint32_t x = seed;
    for (auto& c : s) {
        x = x * 1664525u + 1013904223u;
        c = static_cast<char>(x >> 24);
    }
    return s;
}

inline std::span<const std::uint8_t> bytes_of(std::string_view s) {
    return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

inline std::string recv_all(Engine& e, ConnId id, Instant now) {
    std::string out;
    std::uint8_t buf[4096];
    for (;;) {
        const auto n = e.recv(id, buf, now);
        if (n <= 0) break;
        out.append(reinterpret_cast<const char*>(buf), static_cast<std::size_t>(n));
    }
    return out;
}

// A segment as the peer of `tuple` would send it (from remote to local).
struct Craft {
    FourTuple tuple;  // from the receiving engine's view
    std::uint32_t seq = 0;
    std::uint32_t ack = 0;
    std::uint8_t flags = 0;
    std::uint16_t window = 65535;
    std::uint16_t urgent_ptr = 0;
    wire::TcpOptions options;
    std::vector<std::uint8_t> payload;
};

inline std::vector<std::uint8_t> craft(const Craft& c) {
    OutSegment s;
    s.tuple = FourTuple{c.tuple.remote_ip, c.tuple.local_ip, c.tuple.remote_port,
                        c.tuple.local_port};
    s.seq = wire::SeqNum(c.seq);
    s.ack = wire::SeqNum(c.ack);
    s.flags = c.flags;
    s.window = c.window;
    s.urgent_ptr = c.urgent_ptr;
    s.options = c.options;
    s.payload = c.payload;
    std::vector<std::uint8_t> out(20 + 60 + c.payload.size());
    auto n = serialize(s, out);
    EXPECT_TRUE(n.ok());
    out.resize(n.ok() ? *n : 0);
    return out;
}

}  // namespace tcpfp::tcp::test
