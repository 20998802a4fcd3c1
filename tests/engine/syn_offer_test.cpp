// What a SYN offers, per socket (SockOpt::sack, timestamps, window_scale;
// the load tester's per-profile `sack`/`ts`/`wscale` knobs): RFC 2018 §2
// and RFC 7323 §2.2/§3.2 — an option is used only when both SYNs carried
// it, so a socket that does not offer one never uses it, and a listener's
// choice is what its SYN-ACKs answer with.
#include <gtest/gtest.h>

#include <optional>

#include "util.hpp"

namespace tcpfp::tcp::test {
namespace {

// A copy: sent_by() returns a fresh vector each call.
std::optional<Captured> first_syn(const std::vector<Captured>& sent) {
    for (const Captured& c : sent) {
        if (c.has(wire::tcp_flag::syn)) return c;
    }
    return std::nullopt;
}

TEST(SynOffer, ByDefaultTheSynOffersAllThree) {
    Net net(test_config(), test_config());
    Pair p = open_pair(net);
    const auto syn = first_syn(net.sent_by(Side::b));
    ASSERT_TRUE(syn.has_value());
    EXPECT_TRUE(syn->options.sack_permitted);
    EXPECT_TRUE(syn->options.has_timestamps);
    EXPECT_TRUE(syn->options.has_wscale);
    ConnInfo ci;
    ASSERT_EQ(net.b().info(p.b, ci), 0);
    EXPECT_TRUE(ci.sack_ok && ci.ts_ok);
}

TEST(SynOffer, AnActiveOpenOffersOnlyWhatItsSocketAllows) {
    Net net(test_config(), test_config());
    ConnId listener, c, accepted;
    ASSERT_EQ(net.a().listen(kHostA, 80, 16, listener), 0);
    SocketOptions o;
    o.sack = 0;
    o.timestamps = 0;
    o.window_scale = 0;
    ASSERT_EQ(net.b().connect({kHostA, 80, kHostB, 0, o}, net.now(), c), 0);
    net.flush();
    ASSERT_TRUE(net.run_until([&] { return net.a().accept(listener, accepted) == 0; }));
    const auto syn = first_syn(net.sent_by(Side::b));
    ASSERT_TRUE(syn.has_value());
    EXPECT_FALSE(syn->options.sack_permitted);
    EXPECT_FALSE(syn->options.has_timestamps);
    EXPECT_FALSE(syn->options.has_wscale);
    EXPECT_TRUE(syn->options.has_mss);  // SHLD-5: MSS always
    // The SYN-ACK answers only what was offered, and neither side uses more.
    const auto synack = first_syn(net.sent_by(Side::a));
    ASSERT_TRUE(synack.has_value());
    EXPECT_FALSE(synack->options.sack_permitted || synack->options.has_timestamps || synack->options.has_wscale);
    for (Side s : {Side::a, Side::b}) {
        ConnInfo ci;
        ASSERT_EQ((s == Side::a ? net.a() : net.b()).info(s == Side::a ? accepted : c, ci), 0);
        EXPECT_FALSE(ci.sack_ok);
        EXPECT_FALSE(ci.ts_ok);
        EXPECT_EQ(ci.snd_wscale, 0);
        EXPECT_EQ(ci.rcv_wscale, 0);
    }
    std::int64_t v = -1;
    ASSERT_EQ(net.b().get_option(c, SockOpt::sack, v), 0);
    EXPECT_EQ(v, 0);
}

TEST(SynOffer, AListenersChoiceIsWhatItsSynAcksAnswer) {
    Net net(test_config(), test_config());
    SocketOptions o;
    o.timestamps = 0;  // SACK and window scaling still offered
    ConnId listener, c, accepted;
    ASSERT_EQ(net.a().listen(kHostA, 80, 16, listener, o), 0);
    ASSERT_EQ(net.b().connect({kHostA, 80, kHostB, 0, {}}, net.now(), c), 0);
    net.flush();
    ASSERT_TRUE(net.run_until([&] { return net.a().accept(listener, accepted) == 0; }));
    const auto syn = first_syn(net.sent_by(Side::b));
    const auto synack = first_syn(net.sent_by(Side::a));
    ASSERT_TRUE(syn.has_value() && synack.has_value());
    EXPECT_TRUE(syn->options.has_timestamps);        // offered by the client
    EXPECT_FALSE(synack->options.has_timestamps);    // not answered
    EXPECT_TRUE(synack->options.sack_permitted);
    EXPECT_TRUE(synack->options.has_wscale);
    ConnInfo ci;
    ASSERT_EQ(net.b().info(c, ci), 0);
    EXPECT_FALSE(ci.ts_ok);
    EXPECT_TRUE(ci.sack_ok);
}

TEST(SynOffer, OnlyZeroOrOne) {
    Net net(test_config(), test_config());
    Pair p = open_pair(net);
    for (SockOpt opt : {SockOpt::sack, SockOpt::timestamps, SockOpt::window_scale}) {
        EXPECT_EQ(net.a().set_option(p.a, opt, 2), -EINVAL);
        EXPECT_EQ(net.a().set_option(p.a, opt, -2), -EINVAL);
    }
}

}  // namespace
}  // namespace tcpfp::tcp::test
