// The seed article's experiment (../shared/seed/README.md) between two
// engines: A (172.16.48.13) connects to B (172.16.48.1:5002), sends one line
// and closes; B holds its socket open (half-close), then closes; A ACKs B's
// FIN from TIME_WAIT and the wheel deletes the record at exactly 2*MSL.
#include <gtest/gtest.h>

#include "fixtures/seed_segments.hpp"
#include "util.hpp"

namespace tcpfp::tcp::test {
namespace {

using wire::tcp_flag::ack;
using wire::tcp_flag::fin;
using wire::tcp_flag::rst;

constexpr std::string_view kLine = "my first tcp packet!\n";

TEST(SeedExperiment, CloseHalfCloseAndTimeWait) {
    Net net(test_config(), test_config());
    Pair p = open_pair(net);
    // The handshake negotiated timestamps, so every later segment carries them.
    const auto syn = net.sent_by(Side::a).front();
    EXPECT_EQ(flag_string(syn.flags), "S");
    EXPECT_TRUE(syn.options.has_mss && syn.options.has_timestamps && syn.options.sack_permitted &&
                syn.options.has_wscale);

    ASSERT_EQ(net.a().send(p.a, bytes_of(kLine), net.now()), static_cast<std::int64_t>(kLine.size()));
    ASSERT_EQ(net.a().close(p.a, net.now()), 0);
    net.clear_trace();
    net.run_for(Duration::millis(50));

    // A's FIN is FIN|ACK with NOP,NOP,TS: header length 32, as in the seed.
    auto a_sent = net.sent_by(Side::a);
    auto fin_it = std::find_if(a_sent.begin(), a_sent.end(), [](auto& c) { return c.has(fin); });
    ASSERT_NE(fin_it, a_sent.end());
    EXPECT_EQ(fin_it->flags & (fin | ack), fin | ack);
    EXPECT_EQ(fin_it->header_len, 32);
    EXPECT_EQ(fin_it->option_kinds,
              (std::vector<std::uint8_t>{wire::tcp_opt::nop, wire::tcp_opt::nop, wire::tcp_opt::timestamps}));
    // B ACKed it: A is in FIN_WAIT_2, socketless.
    auto b_sent = net.sent_by(Side::b);
    EXPECT_TRUE(std::any_of(b_sent.begin(), b_sent.end(),
                            [&](auto& c) { return c.has(ack) && c.ack == fin_it->seq + 1; }));
    std::uint8_t buf[8];
    EXPECT_EQ(net.a().recv(p.a, buf, net.now()), -EBADF);  // the socket is gone
    EXPECT_EQ(net.a().counters().in_state(State::fin_wait_2), 1u);
    EXPECT_EQ(state_of(net.b(), p.b), State::close_wait);
    EXPECT_EQ(recv_all(net.b(), p.b, net.now()), kLine);
    EXPECT_EQ(net.b().recv(p.b, buf, net.now()), 0);  // end of stream

    // The half-close lasts as long as B's application keeps its socket.
    net.run_for(Duration::seconds(30));
    EXPECT_EQ(net.a().counters().in_state(State::fin_wait_2), 1u);

    // B closes: its FIN is ACKed by A on behalf of a socket that no longer
    // exists, and A's connection waits out 2*MSL as a TIME_WAIT record.
    ASSERT_EQ(net.b().close(p.b, net.now()), 0);
    net.clear_trace();
    net.flush();
    net.run_until([&] { return net.a().time_wait_count() == 1; }, Duration::seconds(1));
    const Instant tw_start = net.now();
    net.run_for(Duration::millis(10));
    a_sent = net.sent_by(Side::a);
    ASSERT_FALSE(a_sent.empty());
    EXPECT_EQ(flag_string(a_sent.back().flags), ".");
    EXPECT_EQ(net.b().connection_count(), 1u);  // only the listener is left on B
    EXPECT_EQ(net.a().counters().in_state(State::time_wait), 1u);
    EXPECT_EQ(net.a().connection_count(), 0u);

    // The wheel ticks every millisecond: the record goes at the first tick
    // at or after 2*MSL, and not one tick earlier.
    const Instant due = ceil_to_tick(tw_start + test_config().msl * 2);
    net.run_for(due - Duration::millis(1) - net.now());
    EXPECT_EQ(net.a().time_wait_count(), 1u) << "deleted before 2*MSL";
    net.run_for(Duration::millis(1));
    EXPECT_EQ(net.a().time_wait_count(), 0u) << "not deleted at 2*MSL";
    EXPECT_EQ(net.a().counters().get(Mib::timewait_expired), 1u);
    EXPECT_EQ(net.a().armed_timers(), 0u);
    EXPECT_EQ(net.a().buffers_in_use(), 0u);
}

TEST(SeedExperiment, ShutdownWrThenPeerKeepsSending) {
    Net net(test_config(), test_config());
    Pair p = open_pair(net);
    ASSERT_EQ(net.a().send(p.a, bytes_of(kLine), net.now()), 21);
    ASSERT_EQ(net.a().shutdown(p.a, Shutdown::wr, net.now()), 0);
    net.run_for(Duration::millis(50));
    EXPECT_EQ(state_of(net.a(), p.a), State::fin_wait_2);
    EXPECT_EQ(recv_all(net.b(), p.b, net.now()), kLine);
    // B keeps sending long after A's FIN; A receives, reads and ACKs it all.
    std::string expected;
    for (int i = 0; i < 50; ++i) {
        const std::string chunk = "reply " + std::to_string(i) + "\n";
        expected += chunk;
        ASSERT_GT(net.b().send(p.b, bytes_of(chunk), net.now()), 0);
        net.run_for(Duration::seconds(1));
    }
    EXPECT_EQ(recv_all(net.a(), p.a, net.now()), expected);
    EXPECT_EQ(state_of(net.a(), p.a), State::fin_wait_2);
    const Tcb* bt = net.b().tcb(p.b);
    ASSERT_NE(bt, nullptr);
    EXPECT_EQ(bt->snd_una, bt->snd_max) << "A acknowledged everything B sent";
    ASSERT_EQ(net.b().close(p.b, net.now()), 0);
    net.run_for(Duration::millis(50));
    std::uint8_t buf[4];
    EXPECT_EQ(net.a().recv(p.a, buf, net.now()), 0);
    EXPECT_EQ(net.a().time_wait_count(), 1u);
}

TEST(SeedExperiment, DataAfterCloseIsAnsweredWithRst) {
    Net net(test_config(), test_config());
    Pair p = open_pair(net);
    ASSERT_EQ(net.a().close(p.a, net.now()), 0);
    net.run_for(Duration::millis(50));
    EXPECT_EQ(net.a().counters().in_state(State::fin_wait_2), 1u);
    net.clear_trace();
    ASSERT_GT(net.b().send(p.b, bytes_of("too late\n"), net.now()), 0);
    net.run_for(Duration::millis(50));
    auto a_sent = net.sent_by(Side::a);
    ASSERT_FALSE(a_sent.empty());
    EXPECT_TRUE(a_sent.back().has(rst));
    EXPECT_EQ(net.a().counters().get(Mib::orphan_data_rst), 1u);
    EXPECT_EQ(net.a().connection_count(), 0u);
    EXPECT_EQ(state_of(net.b(), p.b), State::closed);
    EXPECT_EQ(net.b().take_error(p.b), ECONNRESET);
}

TEST(SeedExperiment, BareFinAfterCloseIsAcked) {
    Net net(test_config(), test_config());
    Pair p = open_pair(net);
    ASSERT_EQ(net.a().close(p.a, net.now()), 0);
    net.run_for(Duration::millis(50));
    ASSERT_EQ(net.b().close(p.b, net.now()), 0);
    net.run_for(Duration::millis(50));
    EXPECT_EQ(net.a().counters().get(Mib::orphan_data_rst), 0u);
    EXPECT_EQ(net.a().time_wait_count(), 1u);
    EXPECT_EQ(net.b().connection_count(), 1u);  // the listener
}

// The seed's own numbers: with A's state set as in the article, close()
// emits exactly the article's FIN, and the article's ACK moves A to
// FIN_WAIT_2.
TEST(SeedExperiment, SeedSegmentsByteForByte) {
    EngineConfig ca = test_config();
    ca.wscale = 0;  // "Neither side uses window scaling in this exchange."
    EngineConfig cb = ca;
    Net net(ca, cb);
    Pair p = open_pair(net, fixtures::seed::kServerPort, fixtures::seed::kClientPort);
    net.settle();
    net.clear_trace();
    Tcb* t = net.a().tcb(p.a);
    ASSERT_NE(t, nullptr);
    ASSERT_TRUE(t->ts_ok);
    ASSERT_EQ(t->rcv_wscale, 0);
    t->snd_una = t->snd_nxt = t->snd_max = wire::SeqNum(0x7d2);
    t->rcv_nxt = t->rcv_adv = wire::SeqNum(0x7e08baa0);
    t->rcv_limit = 1460;
    t->ts_offset = 0x7edb - net.a().ts_now(0);
    t->ts_recent = 0x85c730;
    t->snd_wl1 = wire::SeqNum(0x7e08baa0);

    ASSERT_EQ(net.a().close(p.a, net.now()), 0);
    ASSERT_EQ(net.a().output().size(), 1u);
    std::vector<std::uint8_t> pkt(100);
    auto n = serialize(net.a().output()[0], pkt);
    ASSERT_TRUE(n.ok());
    pkt.resize(*n);
    const std::vector<std::uint8_t> tcp(pkt.begin() + 20, pkt.end());
    EXPECT_EQ(tcp, fixtures::seed::fin_ack);
    net.a().clear_output();

    // Feed the article's ACK, wrapped in IPv4 from 172.16.48.1.
    std::vector<std::uint8_t> ack_pkt(20 + fixtures::seed::ack.size());
    wire::Ipv4Repr ip{kHostB, kHostA, wire::ipproto::tcp, 64, 0, 0, true,
                      static_cast<std::uint16_t>(fixtures::seed::ack.size())};
    ASSERT_TRUE(wire::emit_ipv4(ip, ack_pkt).ok());
    std::copy(fixtures::seed::ack.begin(), fixtures::seed::ack.end(), ack_pkt.begin() + 20);
    net.a().input(ack_pkt, net.now());
    EXPECT_EQ(net.a().counters().in_state(State::fin_wait_2), 1u);
    const Tcb* after = net.a().tcb(p.a);
    ASSERT_NE(after, nullptr);
    EXPECT_EQ(after->state, State::fin_wait_2);
    EXPECT_EQ(after->snd_una, wire::SeqNum(0x7d3));
    EXPECT_EQ(after->ts_recent, 0x85c759u);
}

}  // namespace
}  // namespace tcpfp::tcp::test
