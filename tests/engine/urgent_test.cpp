// Urgent data as the application sees it (RFC 9293 §3.8.5 and §3.10.7.4
// sixth step, MUST-32/33; RFC 6093: the bytes stay inline): one
// EventKind::urgent per run of urgent data, Engine::urgent_left() counting
// the bytes up to its last octet, recv() stopping before that octet, and
// the mode ending once it is read, by recv() or by the zero-copy consume().
// Packet-level behaviour: tests/scenarios/urgent/.
#include <gtest/gtest.h>

#include <string>

#include "util.hpp"

namespace tcpfp::tcp::test {
namespace {

using wire::tcp_flag::ack;
using wire::tcp_flag::psh;
using wire::tcp_flag::urg;

struct UrgentPeer {
    Net& net;
    FourTuple tuple;  // B's view
    wire::SeqNum next;
    wire::SeqNum b_iss;

    // A segment from A's side with `len` bytes and, when `up` > 0, URG.
    void send(std::size_t len, std::uint16_t up) {
        Craft c;
        c.tuple = tuple;
        c.seq = next.raw();
        c.ack = (b_iss + 1).raw();
        c.flags = static_cast<std::uint8_t>(ack | psh | (up > 0 ? urg : 0));
        c.urgent_ptr = up;
        c.payload.assign(len, 'u');
        net.inject(Side::b, craft(c));
        next += static_cast<std::uint32_t>(len);
    }
};

std::size_t urgent_events(Net& net, ConnId id) {
    std::size_t n = 0;
    for (const Event& e : net.take_events(Side::b)) {
        if (e.conn == id && e.kind == EventKind::urgent) ++n;
    }
    return n;
}

struct UrgentFixture {
    Net net;
    Pair p;
    UrgentPeer peer;

    static EngineConfig config() {
        EngineConfig c = test_config();
        c.timestamps = false;  // crafted segments carry no TSopt
        return c;
    }
    UrgentFixture() : net(config(), config()), p(open_pair(net)), peer{net, {}, {}, {}} {
        const auto [a_iss, b_iss] = handshake_isns(net);
        ConnInfo info;
        EXPECT_EQ(net.b().info(p.b, info), 0);
        peer.tuple = info.tuple;
        peer.next = a_iss + 1;
        peer.b_iss = b_iss;
        (void)net.take_events(Side::b);
    }
};

TEST(Urgent, OneEventPerRunAndReadsStopAtTheMark) {
    UrgentFixture f;
    Engine& b = f.net.b();
    f.peer.send(100, 30);  // urgent data: the first 30 bytes
    EXPECT_EQ(urgent_events(f.net, f.p.b), 1u);
    EXPECT_EQ(b.urgent_left(f.p.b), 30u);
    ConnInfo info;
    ASSERT_EQ(b.info(f.p.b, info), 0);
    EXPECT_EQ(info.urgent_left, 30u);
    // The pointer moves on while the first run is unread: the same run, no
    // second signal (RFC 9293 §3.10.7.4: "do not signal the user again").
    f.peer.send(10, 5);
    EXPECT_EQ(urgent_events(f.net, f.p.b), 0u);
    EXPECT_EQ(b.urgent_left(f.p.b), 105u);
    std::uint8_t buf[200];
    EXPECT_EQ(b.recv(f.p.b, buf, f.net.now()), 104) << "stops before the last urgent octet";
    EXPECT_EQ(b.urgent_left(f.p.b), 1u) << "at the mark";
    EXPECT_EQ(b.recv(f.p.b, buf, f.net.now()), 6) << "reads on through it";
    EXPECT_EQ(b.urgent_left(f.p.b), 0u);
    // A new run after the last one was read is signalled again.
    f.peer.send(20, 10);
    EXPECT_EQ(urgent_events(f.net, f.p.b), 1u);
    EXPECT_EQ(b.urgent_left(f.p.b), 10u);
}

TEST(Urgent, ConsumingPastTheMarkEndsUrgentMode) {
    UrgentFixture f;
    Engine& b = f.net.b();
    f.peer.send(50, 20);
    EXPECT_EQ(urgent_events(f.net, f.p.b), 1u);
    std::span<const std::uint8_t> first, second;
    ASSERT_EQ(b.recv_view(f.p.b, first, second), 50);
    ASSERT_EQ(b.consume(f.p.b, 19, f.net.now()), 19);
    EXPECT_EQ(b.urgent_left(f.p.b), 1u);
    ASSERT_EQ(b.consume(f.p.b, 31, f.net.now()), 31);
    EXPECT_EQ(b.urgent_left(f.p.b), 0u);
    f.peer.send(10, 0);  // no URG: nothing new
    EXPECT_EQ(urgent_events(f.net, f.p.b), 0u);
    EXPECT_EQ(b.urgent_left(f.p.b), 0u);
}

TEST(Urgent, APointerAheadOfTheDataWaitsForIt) {
    UrgentFixture f;
    Engine& b = f.net.b();
    f.peer.send(10, 25);  // urgent data runs 15 bytes past this segment
    EXPECT_EQ(urgent_events(f.net, f.p.b), 1u);
    EXPECT_EQ(b.urgent_left(f.p.b), 25u);
    std::uint8_t buf[100];
    EXPECT_EQ(b.recv(f.p.b, buf, f.net.now()), 10) << "what came first is not held back";
    f.peer.send(30, 0);
    EXPECT_EQ(b.recv(f.p.b, buf, f.net.now()), 14);
    EXPECT_EQ(b.urgent_left(f.p.b), 1u);
    EXPECT_EQ(b.recv(f.p.b, buf, f.net.now()), 16);
    EXPECT_EQ(b.urgent_left(f.p.b), 0u);
    EXPECT_EQ(urgent_events(f.net, f.p.b), 0u);
}

}  // namespace
}  // namespace tcpfp::tcp::test
