// Closing a listener (RFC 9293 §3.10.4 CLOSE in LISTEN) with connections
// it still owns: the embryonic ones (SYN-RECEIVED) are dropped without a
// word, as Linux and FreeBSD do; those that completed the handshake but
// were never accepted are reset, as Linux does.
#include <gtest/gtest.h>

#include "util.hpp"

namespace tcpfp::tcp::test {
namespace {

std::uint16_t port_at(const Captured& c, std::size_t at) {
    const auto t = c.tcp();
    return static_cast<std::uint16_t>(t[at] << 8 | t[at + 1]);
}
std::uint16_t src_port(const Captured& c) { return port_at(c, 0); }
std::uint16_t dst_port(const Captured& c) { return port_at(c, 2); }

TEST(ListenerClose, DropsSynReceivedSilentlyAndResetsTheAcceptQueue) {
    Net net(test_config(), test_config());
    ConnId listener;
    ASSERT_EQ(net.b().listen(kHostB, 5002, 16, listener), 0);
    // One connection completes its handshake and waits in the accept queue.
    ConnId queued;
    ASSERT_EQ(net.a().connect({kHostB, 5002, kHostA, 40001, {}}, net.now(), queued), 0);
    net.run_for(Duration::millis(10));
    ASSERT_EQ(state_of(net.a(), queued), State::established);
    // The other's handshake ACK is lost: it stays in SYN-RECEIVED on B.
    net.impair().drop_rule = [](const Captured& c) {
        return c.from == Side::a && src_port(c) == 40002 && !c.has(wire::tcp_flag::syn);
    };
    ConnId embryonic;
    ASSERT_EQ(net.a().connect({kHostB, 5002, kHostA, 40002, {}}, net.now(), embryonic), 0);
    net.run_for(Duration::millis(10));
    ASSERT_EQ(state_of(net.a(), embryonic), State::established);
    ASSERT_EQ(net.b().counters().in_state(State::syn_received), 1u);
    ASSERT_EQ(net.b().counters().in_state(State::established), 1u);

    net.clear_trace();
    const auto fails = net.b().counters().get(Mib::attempt_fails);
    ASSERT_EQ(net.b().close(listener, net.now()), 0);
    net.flush();
    const auto sent = net.sent_by(Side::b);
    ASSERT_EQ(sent.size(), 1u) << "one RST, for the queued connection only";
    EXPECT_EQ(flag_string(sent[0].flags), "R.");
    EXPECT_EQ(dst_port(sent[0]), 40001);
    EXPECT_EQ(net.b().connection_count(), 0u);
    EXPECT_EQ(net.b().counters().get(Mib::attempt_fails), fails + 1);
    EXPECT_EQ(net.b().counters().get(Mib::listen_close_dropped), 1u);
    // No SYN-ACK comes again for the dropped one.
    net.clear_trace();
    net.run_for(Duration::seconds(5));
    EXPECT_TRUE(net.sent_by(Side::b).empty());
    EXPECT_EQ(state_of(net.a(), queued), State::closed);
    EXPECT_EQ(net.a().take_error(queued), ECONNRESET);
    // The dropped connection's next segment finds no connection: RST
    // (§3.10.7.1), and the peer learns of it only then.
    net.impair().drop_rule = nullptr;
    ASSERT_EQ(net.a().send(embryonic, bytes_of("late"), net.now()), 4);
    net.run_for(Duration::millis(10));
    EXPECT_EQ(state_of(net.a(), embryonic), State::closed);
    EXPECT_EQ(net.a().take_error(embryonic), ECONNRESET);
    EXPECT_EQ(net.b().counters().get(Drop::no_listener), 1u);
}

}  // namespace
}  // namespace tcpfp::tcp::test
