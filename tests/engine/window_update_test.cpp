// The send window after a blind in-window segment (RFC 9293 §3.10.7.4 window
// update; RFC 5961 §1 on blind in-window attacks). Found by fuzz_engine: a
// segment with a sequence number ahead of RCV.NXT but inside the window, an
// acceptable ACK and a tiny window set SND.WL1 ahead of every real segment
// of a peer that sends no data, so by the RFC's SND.WL1/SND.WL2 rule alone
// none of the peer's ACKs could update the window again. Like Linux
// (tcp_may_update_window), an ACK of new data also updates it.
#include <gtest/gtest.h>

#include <string>

#include "util.hpp"

namespace tcpfp::tcp::test {
namespace {

TEST(WindowUpdate, AnAckOfNewDataUpdatesTheWindowAfterABlindSegment) {
    EngineConfig c = test_config();
    c.timestamps = false;  // the forged segment carries no TSopt
    Net net(c, c);
    const Pair p = open_pair(net);
    const auto [a_iss, b_iss] = handshake_isns(net);
    ConnInfo info;
    ASSERT_EQ(net.b().info(p.b, info), 0);
    const std::uint32_t real_window = info.snd_wnd;
    ASSERT_GT(real_window, 60000u);
    // From A's 4-tuple, 58 bytes beyond what B expects next, acknowledging
    // exactly what B sent, window 2.
    Craft forged;
    forged.tuple = info.tuple;
    forged.seq = (a_iss + 1 + 58).raw();
    forged.ack = (b_iss + 1).raw();
    forged.flags = wire::tcp_flag::ack;
    forged.window = 2;
    net.inject(Side::b, craft(forged));
    ASSERT_EQ(net.b().info(p.b, info), 0);
    ASSERT_EQ(info.snd_wnd, 2u << info.snd_wscale) << "the forged window took effect";

    const std::string data(32 * 1024, 'd');
    ASSERT_EQ(net.b().send(p.b, bytes_of(data), net.now()), static_cast<std::int64_t>(data.size()));
    // Sender-side SWS avoidance (MUST-38) holds 256 bytes back until its
    // override timer; the ACK of those bytes then reopens the window.
    net.run_for(Duration::seconds(3));
    ASSERT_EQ(net.b().info(p.b, info), 0);
    EXPECT_GT(info.snd_wnd, 60000u) << "A's ACKs of new data restore its real window";
    EXPECT_EQ(recv_all(net.a(), p.a, net.now()).size(), data.size());
}

}  // namespace
}  // namespace tcpfp::tcp::test
