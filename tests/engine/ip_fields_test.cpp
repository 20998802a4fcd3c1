// IP_TTL and IP_TOS per socket (RFC 9293 §3.9.1.1 MUST-48/49, RFC 2474,
// RFC 3168 §6.1: the ECN field belongs to TCP): what the IPv4 header of
// every segment carries, for connections, accepted connections and the
// segments of no connection.
#include <gtest/gtest.h>

#include "util.hpp"
#include "tcp/wire/ipv4.hpp"

namespace tcpfp::tcp::test {
namespace {

std::uint8_t ttl_of(const Captured& c) { return c.bytes[8]; }
std::uint8_t tos_of(const Captured& c) { return c.bytes[1]; }

TEST(IpFields, EverySegmentCarriesTheConfiguredTtlByDefault) {
    EngineConfig cfg = test_config();
    cfg.ttl = 33;
    Net net(cfg, test_config());
    Pair p = open_pair(net);
    ASSERT_EQ(net.a().send(p.a, bytes_of("hello"), net.now()), 5);
    net.flush();
    net.settle();
    const auto sent = net.sent_by(Side::a);
    ASSERT_FALSE(sent.empty());
    for (const Captured& c : sent) {
        EXPECT_EQ(ttl_of(c), 33);
        EXPECT_EQ(tos_of(c), 0);
    }
    std::int64_t v = 0;
    ASSERT_EQ(net.a().get_option(p.a, SockOpt::ttl, v), 0);
    EXPECT_EQ(v, 33);
}

TEST(IpFields, IpTtlAndIpTosApplyFromTheNextSegmentOn) {
    Net net(test_config(), test_config());
    Pair p = open_pair(net);
    ASSERT_EQ(net.a().set_option(p.a, SockOpt::ttl, 7), 0);
    ASSERT_EQ(net.a().set_option(p.a, SockOpt::tos, 0x2b), 0);  // AF11 with both ECN bits set
    net.clear_trace();
    ASSERT_EQ(net.a().send(p.a, bytes_of("x"), net.now()), 1);
    net.flush();
    const auto sent = net.sent_by(Side::a);
    ASSERT_EQ(sent.size(), 1u);
    EXPECT_EQ(ttl_of(sent[0]), 7);
    EXPECT_EQ(tos_of(sent[0]), 0x28);  // the DSCP; ECN stays TCP's (not ECN-capable here)
    std::int64_t v = 0;
    ASSERT_EQ(net.a().get_option(p.a, SockOpt::tos, v), 0);
    EXPECT_EQ(v, 0x28);
    // -1 restores the default; out of range is refused, as Linux does.
    ASSERT_EQ(net.a().set_option(p.a, SockOpt::ttl, -1), 0);
    ASSERT_EQ(net.a().get_option(p.a, SockOpt::ttl, v), 0);
    EXPECT_EQ(v, 64);
    EXPECT_EQ(net.a().set_option(p.a, SockOpt::ttl, 0), -EINVAL);
    EXPECT_EQ(net.a().set_option(p.a, SockOpt::ttl, 256), -EINVAL);
    EXPECT_EQ(net.a().set_option(p.a, SockOpt::tos, 256), -EINVAL);
}

TEST(IpFields, AcceptedConnectionsInheritTheListenersFields) {
    Net net(test_config(), test_config());
    SocketOptions o;
    o.ttl = 200;
    o.tos = 0xb8;  // EF
    ConnId listener, c, accepted;
    ASSERT_EQ(net.a().listen(kHostA, 80, 16, listener, o), 0);
    ASSERT_EQ(net.b().connect({kHostA, 80, kHostB, 0, {}}, net.now(), c), 0);
    net.flush();
    ASSERT_TRUE(net.run_until([&] { return net.a().accept(listener, accepted) == 0; }));
    const auto sent = net.sent_by(Side::a);
    ASSERT_FALSE(sent.empty());  // the SYN-ACK at least
    for (const Captured& k : sent) {
        EXPECT_EQ(ttl_of(k), 200);
        EXPECT_EQ(tos_of(k), 0xb8);
    }
    std::int64_t v = 0;
    ASSERT_EQ(net.a().get_option(accepted, SockOpt::ttl, v), 0);
    EXPECT_EQ(v, 200);
}

TEST(IpFields, ARstForNoConnectionCarriesTheConfiguredTtl) {
    EngineConfig cfg = test_config();
    cfg.ttl = 99;
    Net net(cfg, test_config());
    ConnId c;
    ASSERT_EQ(net.b().connect({kHostA, 4444, kHostB, 0, {}}, net.now(), c), 0);  // nobody listens
    net.flush();
    net.settle();
    const auto sent = net.sent_by(Side::a);
    ASSERT_EQ(sent.size(), 1u);
    EXPECT_TRUE(sent[0].has(wire::tcp_flag::rst));
    EXPECT_EQ(ttl_of(sent[0]), 99);
}

}  // namespace
}  // namespace tcpfp::tcp::test
