// SYN cookies (RFC 4987 §3.6): with the SYN queue full, legitimate clients
// still connect, with MSS, window scale, SACK and timestamps recovered; a
// forged ACK is refused; a spoofed flood costs no memory.
#include <gtest/gtest.h>

#include "tcp/engine/syncookie.hpp"
#include "tcp/wire/bytes.hpp"
#include "util.hpp"

namespace tcpfp::tcp::test {
namespace {

using namespace wire::tcp_flag;

TEST(SynCookies, CookieEncodesMssAndExpiresAfterTwoPeriods) {
    SynCookies c(SipKey{1, 2});
    const FourTuple t{kHostB, kHostA, 80, 40000};
    const Instant now = Instant::from_micros(1000ull * 1000 * 1000);
    const auto iss = c.make(t, wire::SeqNum(12345), 1460, now);
    EXPECT_EQ(c.check(t, wire::SeqNum(12345), iss, now), 1460);
    EXPECT_EQ(c.check(t, wire::SeqNum(12345), iss, now + Duration::seconds(64)), 1460);
    EXPECT_FALSE(c.check(t, wire::SeqNum(12345), iss, now + Duration::seconds(129)));
    EXPECT_FALSE(c.check(t, wire::SeqNum(12346), iss, now)) << "another IRS";
    EXPECT_FALSE(c.check(FourTuple{kHostB, kHostA, 80, 40001}, wire::SeqNum(12345), iss, now));
    EXPECT_FALSE(c.check(t, wire::SeqNum(12345), iss + 1, now));
    EXPECT_EQ(c.check(t, wire::SeqNum(1), c.make(t, wire::SeqNum(1), 1000, now), now), 536)
        << "the largest table MSS not above the peer's";
    CookieOptions o{1460, true, 9, true}, back;
    SynCookies::decode_ts(SynCookies::encode_ts(0xabcdef00u, o), back);
    EXPECT_TRUE(back.has_wscale && back.sack);
    EXPECT_EQ(back.wscale, 9);
}

// RFC 7323 §5.3: a cookie SYN-ACK's TSval is never ahead of the clock, or
// the peer's PAWS drops our next segments (regression: low clock bits below
// the encoded options put it up to 31 ticks ahead).
TEST(SynCookies, EncodedTsvalNeverAheadOfTheClock) {
    const CookieOptions o{1460, false, 0, true};  // SACK, no window scale: the largest encoding, 0x1f
    for (const std::uint32_t now : {0x1000u, 0x1001u, 0x101eu, 0x101fu, 0x5u, 0xffffffe3u}) {
        const std::uint32_t ts = SynCookies::encode_ts(now, o);
        EXPECT_LE(static_cast<std::int32_t>(ts - now), 0) << std::hex << now;
        EXPECT_LT(now - ts, 0x40u) << std::hex << now;
        CookieOptions back;
        SynCookies::decode_ts(ts, back);
        EXPECT_TRUE(back.sack);
        EXPECT_FALSE(back.has_wscale);
    }
}

// B's listener has backlog 1 and one embryonic connection stuck in
// SYN_RECEIVED, so the next client gets a cookie.
struct FullSynQueue {
    Net net{test_config(), test_config()};
    ConnId listener;
    ConnId stuck;
    FullSynQueue() {
        EXPECT_EQ(net.b().listen(kHostB, 80, 1, listener), 0);
        net.impair().drop_rule = [](const Captured& c) { return c.from == Side::a && !c.has(syn); };
        EXPECT_EQ(net.a().connect({kHostB, 80, kHostA, 50000, {}}, net.now(), stuck), 0);
        net.run_for(Duration::millis(5));
        EXPECT_EQ(net.b().counters().in_state(State::syn_received), 1u);
        net.impair().drop_rule = nullptr;
    }
};

TEST(SynCookies, LegitimateClientConnectsWithOptionsIntact) {
    FullSynQueue s;
    ConnId c, acc;
    ASSERT_EQ(s.net.a().connect({kHostB, 80, kHostA, 50001, {}}, s.net.now(), c), 0);
    s.net.run_for(Duration::millis(5));
    EXPECT_EQ(s.net.b().counters().get(Mib::syncookies_sent), 1u);
    EXPECT_EQ(s.net.b().counters().get(Mib::syncookies_ok), 1u);
    ASSERT_EQ(s.net.b().accept(s.listener, acc), 0);
    const Tcb* t = s.net.b().tcb(acc);
    ASSERT_NE(t, nullptr);
    EXPECT_EQ(t->state, State::established);
    EXPECT_TRUE(t->ts_ok);
    EXPECT_TRUE(t->sack_ok);
    EXPECT_TRUE(t->ws_ok);
    EXPECT_EQ(t->snd_wscale, 7);
    EXPECT_EQ(t->snd_mss, 1460 - 12);
    ASSERT_EQ(s.net.a().send(c, bytes_of("through a cookie"), s.net.now()), 16);
    s.net.run_for(Duration::millis(5));
    EXPECT_EQ(recv_all(s.net.b(), acc, s.net.now()), "through a cookie");
    ASSERT_EQ(s.net.b().send(acc, bytes_of("and back"), s.net.now()), 8);
    s.net.run_for(Duration::millis(5));
    EXPECT_EQ(recv_all(s.net.a(), c, s.net.now()), "and back");
}

TEST(SynCookies, ForgedAckIsRefused) {
    FullSynQueue s;
    Craft f;
    f.tuple = FourTuple{kHostB, kHostA, 80, 50002};
    f.seq = 1000;
    f.ack = 0x12345678;
    f.flags = ack;
    s.net.clear_trace();
    s.net.inject(Side::b, craft(f));
    EXPECT_EQ(s.net.b().counters().get(Mib::syncookies_failed), 1u);
    EXPECT_EQ(s.net.b().connection_count(), 2u);  // the listener and the stuck embryo
    const auto sent = s.net.sent_by(Side::b);
    ASSERT_EQ(sent.size(), 1u);
    EXPECT_EQ(flag_string(sent[0].flags), "R");
}

TEST(SynCookies, SpoofedFloodCostsNoMemoryAndServiceGoesOn) {
    FullSynQueue s;
    // B's answers to spoofed sources go nowhere, and the stuck embryo stays
    // stuck (its final ACK never arrives), so the SYN queue stays full.
    s.net.impair().drop_rule = [](const Captured& c) {
        if (c.from == Side::b) return wire::load_be32(&c.bytes[16]) != kHostA.value;
        return wire::load_be16(&c.bytes[20]) == 50000 && !c.has(syn);
    };
    Random rng(99);
    const std::size_t flood = 100'000;
    const std::size_t b_before = s.net.b().connection_count();
    for (std::size_t i = 0; i < flood; ++i) {
        Craft syn_pkt;
        syn_pkt.tuple = FourTuple{kHostB,
                                  wire::Ipv4Addr::from_octets(10, static_cast<std::uint8_t>(rng.uniform(250)),
                                                              static_cast<std::uint8_t>(rng.uniform(250)),
                                                              static_cast<std::uint8_t>(1 + rng.uniform(250))),
                                  80, static_cast<std::uint16_t>(1024 + rng.uniform(60000))};
        syn_pkt.seq = rng.next_u32();
        syn_pkt.flags = syn;
        syn_pkt.options.has_mss = true;
        syn_pkt.options.mss = 1460;
        s.net.b().input(craft(syn_pkt), s.net.now());
        s.net.b().clear_output();
        if (i % 1000 == 0) {
            // A legitimate client in the middle of the flood (100k SYN/s).
            ConnId c;
            if (i == 50'000) {
                ASSERT_EQ(s.net.a().connect({kHostB, 80, kHostA, 50003, {}}, s.net.now(), c), 0);
                s.net.run_for(Duration::millis(5));
                ConnId acc;
                ASSERT_EQ(s.net.b().accept(s.listener, acc), 0) << "legitimate client refused";
                ConnInfo info;
                ASSERT_EQ(s.net.b().info(acc, info), 0);
                EXPECT_EQ(info.tuple.remote_port, 50003);
                EXPECT_EQ(info.state, State::established);
            }
            s.net.run_for(Duration::millis(10));
        }
    }
    EXPECT_GE(s.net.b().counters().get(Mib::syncookies_sent), flood);
    EXPECT_LE(s.net.b().connection_count(), b_before + 1) << "the flood created state";
    EXPECT_EQ(s.net.b().counters().in_state(State::syn_received), 1u);
    EXPECT_LE(s.net.b().buffers_in_use(), 1u);
}

}  // namespace
}  // namespace tcpfp::tcp::test
