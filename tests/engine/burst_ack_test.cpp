// ACKs per receive burst (RFC 9293 §3.8.6.3, MUST-58/59): the engine
// processes every segment a caller feeds it before output() sends the ACKs
// they call for, one per connection, and a segment the application sends
// before that drain carries the ACK instead of a pure ACK going first.
// Packet-level counterpart: tests/scenarios/delayed-ack/burst-one-ack.pkt.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "util.hpp"

namespace tcpfp::tcp::test {
namespace {

EngineConfig no_timestamps() {
    EngineConfig c = test_config();
    c.timestamps = false;  // crafted segments below carry no TSopt
    return c;
}

std::vector<Captured> pure_acks(const std::vector<Captured>& from) {
    std::vector<Captured> out;
    for (const Captured& c : from) {
        if (c.payload_len == 0 && c.flags == wire::tcp_flag::ack) out.push_back(c);
    }
    return out;
}

// Four full-sized segments from B reach A in one burst: A takes all four
// before its output is drained (the harness itself drains after every
// packet, so the burst is fed in by hand here).
TEST(BurstAck, FourFullSegmentsInOneBurstDrawOneAck) {
    Net net(no_timestamps(), no_timestamps());  // a full segment is then 1460 bytes
    const Pair p = open_pair(net);
    const std::string data(4 * 1460, 'x');
    Engine& a = net.a();
    Engine& b = net.b();
    ASSERT_EQ(b.send(p.b, bytes_of(data), net.now()), static_cast<std::int64_t>(data.size()));
    std::vector<std::vector<std::uint8_t>> burst;
    for (const OutSegment& s : b.output()) {
        std::vector<std::uint8_t> bytes(20 + 60 + s.payload_len());
        const auto n = serialize(s, bytes);
        ASSERT_TRUE(n.ok());
        bytes.resize(*n);
        burst.push_back(std::move(bytes));
    }
    b.clear_output();
    ASSERT_EQ(burst.size(), 4u);
    for (const auto& packet : burst) a.input(packet, net.now());
    std::vector<wire::SeqNum> acks;
    for (const OutSegment& s : a.output()) {
        EXPECT_EQ(s.payload_len(), 0u);
        acks.push_back(s.ack);
    }
    a.clear_output();
    ASSERT_EQ(acks.size(), 1u) << "one ACK per two segments would be 2";
    const Captured first = capture(net.now(), Side::b, burst.front());
    EXPECT_EQ(acks[0], first.seq + static_cast<std::uint32_t>(data.size())) << "covers all four";
    ConnInfo info;
    ASSERT_EQ(a.info(p.a, info), 0);
    EXPECT_EQ(info.recv_q, data.size());
}

// The crr client's case: the response and the server's FIN arrive in one
// burst, and the client answers and closes before its output is drained.
// Its data and FIN carry the ACK of the server's FIN: no pure ACK first.
TEST(BurstAck, ReplyAndCloseBeforeTheDrainCarryTheOwedAck) {
    Net net(no_timestamps(), no_timestamps());
    const Pair p = open_pair(net);
    const auto [a_iss, b_iss] = handshake_isns(net);
    ConnInfo info;
    ASSERT_EQ(net.a().info(p.a, info), 0);
    const std::string response = "response";
    Craft seg;
    seg.tuple = info.tuple;
    seg.seq = (b_iss + 1).raw();
    seg.ack = (a_iss + 1).raw();
    seg.flags = wire::tcp_flag::psh | wire::tcp_flag::ack;
    seg.payload.assign(response.begin(), response.end());
    Craft fin = seg;
    fin.seq = (b_iss + 1 + static_cast<std::uint32_t>(response.size())).raw();
    fin.flags = wire::tcp_flag::fin | wire::tcp_flag::ack;
    fin.payload.clear();
    Engine& a = net.a();
    a.input(craft(seg), net.now());
    a.input(craft(fin), net.now());
    EXPECT_EQ(recv_all(a, p.a, net.now()), response);
    ASSERT_EQ(a.send(p.a, bytes_of("bye"), net.now()), 3);
    ASSERT_EQ(a.close(p.a, net.now()), 0);
    const auto out = a.output();
    ASSERT_FALSE(out.empty());
    const wire::SeqNum fin_acked = b_iss + 1 + static_cast<std::uint32_t>(response.size()) + 1;
    for (const OutSegment& s : out) {
        EXPECT_TRUE(s.payload_len() > 0 || (s.flags & wire::tcp_flag::fin) != 0)
            << "a pure ACK went out before the reply";
        EXPECT_EQ(s.ack, fin_acked);
    }
    EXPECT_EQ(out.front().payload_len(), 3u);
    a.clear_output();
}

// Without a reply, the drain sends the owed ACK: one, covering the FIN.
TEST(BurstAck, DrainSendsTheOwedAckOnce) {
    Net net(test_config(), test_config());
    const Pair p = open_pair(net);
    net.clear_trace();
    ASSERT_EQ(net.b().send(p.b, bytes_of("response"), net.now()), 8);
    ASSERT_EQ(net.b().close(p.b, net.now()), 0);
    net.run_for(Duration::millis(5));
    const auto acks = pure_acks(net.sent_by(Side::a));
    ASSERT_EQ(acks.size(), 1u);
    const auto from_b = net.sent_by(Side::b);
    ASSERT_FALSE(from_b.empty());
    EXPECT_TRUE(from_b.back().has(wire::tcp_flag::fin));
    EXPECT_EQ(acks[0].ack, from_b.back().seq + static_cast<std::uint32_t>(from_b.back().payload_len) + 1u);
}

}  // namespace
}  // namespace tcpfp::tcp::test

namespace tcpfp::tcp::test {
namespace {

// Output is drained once per burst, so a segment's payload must stay valid
// until clear_output(): send chunks freed meanwhile (here by an abort) are
// parked, and a second connection's data lands elsewhere. Reused at once,
// the first connection's segment would carry the second one's bytes.
TEST(BurstAck, PayloadsStayValidUntilTheDrain) {
    Net net(test_config(), test_config());
    const Pair x = open_pair(net, 5002);
    const Pair y = open_pair(net, 5003);
    Engine& a = net.a();
    const std::string xs(100, 'x'), ys(100, 'y');
    ASSERT_EQ(a.send(x.a, bytes_of(xs), net.now()), 100);
    ASSERT_EQ(a.abort(x.a, net.now()), 0);  // x's send buffer goes back
    ASSERT_EQ(a.send(y.a, bytes_of(ys), net.now()), 100);
    // In the order sent: x's data (its RST after it), then y's.
    std::vector<const OutSegment*> data;
    for (const OutSegment& s : a.output()) {
        if (s.payload_len() > 0) data.push_back(&s);
    }
    ASSERT_EQ(data.size(), 2u);
    for (const auto piece : data[0]->payload.parts()) {
        for (std::uint8_t b : piece) ASSERT_EQ(static_cast<char>(b), 'x') << "x's segment carries y's bytes";
    }
    for (const auto piece : data[1]->payload.parts()) {
        for (std::uint8_t b : piece) ASSERT_EQ(static_cast<char>(b), 'y');
    }
    a.clear_output();
    EXPECT_EQ(a.buffers_in_use(), 1u) << "after the drain only y holds a chunk";
}

}  // namespace
}  // namespace tcpfp::tcp::test

namespace tcpfp::tcp::test {
namespace {

// The same when an ACK in the burst frees the chunks: it acknowledges the
// data a queued segment carries (its chunks go back while the segment
// still points into them), and another connection's send right after
// must not be given those chunks before the drain.
TEST(BurstAck, ChunksAnAckFreesStayParkedUntilTheDrain) {
    Net net(test_config(), test_config());
    const Pair x = open_pair(net, 5002);
    const Pair y = open_pair(net, 5003);
    Engine& a = net.a();
    const std::string xs(3000, 'x'), ys(3000, 'y');
    ASSERT_EQ(a.set_option(x.a, SockOpt::nodelay, 1), 0);  // no sub-MSS tail held back
    ASSERT_EQ(a.send(x.a, bytes_of(xs), net.now()), 3000);
    const Tcb* t = a.tcb(x.a);
    ASSERT_NE(t, nullptr);
    // B's ACK of all of it, taken in before A's output is drained.
    Craft ack;
    ack.tuple = t->tuple;
    ack.seq = t->rcv_nxt.raw();
    ack.ack = t->snd_nxt.raw();
    ack.flags = wire::tcp_flag::ack;
    if (t->ts_ok) {
        ack.options.has_timestamps = true;
        ack.options.ts_val = t->ts_recent + 1;
        ack.options.ts_ecr = a.ts_now(t->ts_offset);
    }
    const std::uint32_t before = a.buffers_in_use();
    a.input(craft(ack), net.now());
    ASSERT_EQ(a.tcb(x.a)->snd_buf.len, 0u) << "the ACK took all of x's bytes";
    EXPECT_EQ(a.buffers_in_use(), before) << "x's chunks are parked, still counted";
    ASSERT_EQ(a.send(y.a, bytes_of(ys), net.now()), 3000);
    std::size_t x_bytes = 0;
    for (const OutSegment& s : a.output()) {
        if (s.tuple.local_port != t->tuple.local_port || s.payload_len() == 0) continue;
        for (const auto piece : s.payload.parts()) {
            for (std::uint8_t b : piece) ASSERT_EQ(static_cast<char>(b), 'x') << "x's segment carries y's bytes";
            x_bytes += piece.size();
        }
    }
    EXPECT_EQ(x_bytes, 3000u);
    a.clear_output();
    EXPECT_EQ(a.buffers_in_use(), a.tcb(y.a)->snd_buf.chunks(a.buffer_pool()))
        << "after the drain x's chunks are free, y holds its own";
}

}  // namespace
}  // namespace tcpfp::tcp::test
