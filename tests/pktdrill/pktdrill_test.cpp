// Unit tests for the script runner's lexer, parser and packet matcher.
#include <gtest/gtest.h>

#include "lexer.hpp"
#include "packet.hpp"
#include "parser.hpp"
#include "symbols.hpp"
#include "tcp/wire/ipv4.hpp"

namespace tcpfp::pktdrill {
namespace {

TEST(Lexer, SplitsTimesEllipsisAndFlags) {
    const auto t = lex("+0...0.200 accept(3, ..., ...) = 4\n+.1 < S. 0:0(0)");
    ASSERT_GE(t.size(), 12u);
    EXPECT_TRUE(t[0].is('+'));
    EXPECT_EQ(t[1].text, "0");
    EXPECT_EQ(t[2].kind, Tok::ellipsis);
    EXPECT_EQ(t[3].text, "0.200");
    EXPECT_EQ(t[4].text, "accept");
    // Line 2: "+", ".1", "<", "S", "."
    const auto it = std::find_if(t.begin(), t.end(), [](const Token& k) { return k.line == 2; });
    ASSERT_NE(it, t.end());
    EXPECT_TRUE(it->is('+'));
    EXPECT_EQ((it + 1)->text, ".1");
    EXPECT_TRUE((it + 2)->is('<'));
    EXPECT_TRUE((it + 3)->is_word("S"));
    EXPECT_TRUE((it + 4)->is('.'));
}

TEST(Lexer, CommentsCommandsCodeAndOptions) {
    const auto t = lex("--tolerance_usecs=10000\n// comment\n`cmd\n more`\n/* x\n y */ %{ a = 1 }%\n\"s\\n\"");
    ASSERT_EQ(t.size(), 5u);
    EXPECT_EQ(t[0].kind, Tok::option);
    EXPECT_EQ(t[0].text, "tolerance_usecs=10000");
    EXPECT_EQ(t[1].kind, Tok::backquote);
    EXPECT_EQ(t[1].line, 3);
    EXPECT_EQ(t[2].kind, Tok::code);
    EXPECT_EQ(t[2].line, 6);
    EXPECT_EQ(t[3].kind, Tok::string);
    EXPECT_EQ(t[3].text, "s\n");
}

TEST(Lexer, RejectsUnterminated) {
    EXPECT_THROW(lex("`never closed"), LexError);
    EXPECT_THROW(lex("%{ never closed"), LexError);
    EXPECT_THROW(lex("\"open"), LexError);
}

TEST(Parser, SecondsToMicros) {
    EXPECT_EQ(seconds_to_us("0.200"), 200000);
    EXPECT_EQ(seconds_to_us(".1"), 100000);
    EXPECT_EQ(seconds_to_us("3"), 3000000);
    EXPECT_EQ(seconds_to_us("0.0000015"), 1);
    EXPECT_FALSE(seconds_to_us("1x"));
}

TEST(Parser, PacketLine) {
    const Script s = parse_script(
        "+0 > S. 0:0(0) ack 1 win 5 <mss 1460,sackOK,TS val 100 ecr 7,nop,wscale 8>\n"
        "+.1 < . 1:1001(1000) ack 1 win 257 <nop,nop,sack 1:2 3:4>\n",
        "x.pkt");
    ASSERT_EQ(s.events.size(), 2u);
    const PacketSpec& p = s.events[0].packet;
    EXPECT_FALSE(p.inbound);
    EXPECT_EQ(p.flags, 0x12);
    EXPECT_EQ(*p.ack, 1u);
    EXPECT_EQ(*p.win, 5);
    ASSERT_EQ(p.options.size(), 5u);
    EXPECT_EQ(p.options[2].kind, TcpOptionSpec::Kind::timestamp);
    EXPECT_EQ(p.options[2].a, 100u);
    EXPECT_EQ(p.options[2].b, 7u);
    EXPECT_EQ(p.options[4].a, 8u);
    const PacketSpec& q = s.events[1].packet;
    EXPECT_TRUE(q.inbound);
    EXPECT_EQ(q.len, 1000u);
    EXPECT_EQ(s.events[1].time.us, 100000);
    EXPECT_TRUE(s.events[1].time.relative);
    ASSERT_EQ(q.options[2].blocks.size(), 2u);
    EXPECT_EQ(q.options[2].blocks[1].second, 4u);
}

TEST(Parser, SyscallsAndTimes) {
    const Script s = parse_script(
        "--tcp_ts_tick_usecs=1000\n"
        "`defaults.sh`\n"
        "0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n"
        "+0...0.200 accept(3, ..., ...) = 4\n"
        "+0 write(4, ..., 1000) = -1 EPIPE (Broken pipe)\n"
        "+.3~+.4 fcntl(3, F_SETFL, O_RDWR|O_NONBLOCK) = 0\n"
        "+0 setsockopt(3, SOL_SOCKET, SO_LINGER, {onoff=1, linger=0}, 8) = 0\n"
        "* %{ assert x }%\n",
        "x.pkt");
    ASSERT_EQ(s.options.size(), 1u);
    EXPECT_EQ(s.options[0].first, "tcp_ts_tick_usecs");
    ASSERT_EQ(s.events.size(), 7u);
    EXPECT_EQ(s.events[0].kind, Event::Kind::command);
    EXPECT_EQ(s.events[2].syscall.name, "accept");
    EXPECT_TRUE(s.events[2].syscall.blocking);
    EXPECT_EQ(s.events[2].syscall.end_us, 200000);
    EXPECT_EQ(s.events[3].syscall.result.value, -1);
    EXPECT_EQ(s.events[3].syscall.errno_name, "EPIPE");
    EXPECT_TRUE(s.events[4].time.has_range);
    EXPECT_EQ(s.events[4].time.range_end_us, 400000);
    EXPECT_EQ(s.events[4].syscall.args[2].kind, Expr::Kind::bit_or);
    EXPECT_EQ(s.events[5].syscall.args[3].kind, Expr::Kind::structure);
    EXPECT_TRUE(s.events[6].time.any);
    EXPECT_EQ(s.events[6].kind, Event::Kind::code);
}

PacketSpec spec(const char* line) { return parse_script(line, "x.pkt").events.at(0).packet; }

TEST(Parser, UnsupportedIsNamed) {
    try {
        parse_script("0 < (flowlabel 0x1) S 0:0(0)\n", "x.pkt");
        FAIL() << "accepted";
    } catch (const ParseError& e) {
        EXPECT_EQ(e.message.rfind("unsupported:", 0), 0u) << e.message;
    }
    EXPECT_THROW(parse_script("0 > S 0:0(0) <md5 abc>\n", "x.pkt"), ParseError);
    EXPECT_THROW(parse_script("0 > S 0:5(0)\n", "x.pkt"), ParseError);  // range vs length
    EXPECT_THROW(parse_script("0 < [ect0, flowlabel 0x1] S 0:0(0)\n", "x.pkt"), ParseError);
    EXPECT_THROW(parse_script("0 < [ect01] S 0:0(0)\n", "x.pkt"), ParseError);  // outbound only
    EXPECT_THROW(parse_script("0 < (ttl 256) S 0:0(0)\n", "x.pkt"), ParseError);
    EXPECT_THROW(parse_script("0 < [ect0) S 0:0(0)\n", "x.pkt"), ParseError);  // brackets pair up
}

// packetdrill's ip_info: an ECN codepoint, `tos HEX` or `ttl N` in
// brackets or parentheses before the flags.
TEST(Parser, IpFieldsOnAPacketLine) {
    EXPECT_EQ(spec("0 < [ect0] . 1:11(10) ack 1\n").ecn, EcnSpec::ect0);
    EXPECT_EQ(spec("0 > (ce) . 1:1(0) ack 1\n").ecn, EcnSpec::ce);
    EXPECT_EQ(spec("0 > [noecn] S. 0:0(0) ack 1\n").ecn, EcnSpec::no_ecn);
    EXPECT_EQ(spec("0 > [ect01] . 1:11(10) ack 1\n").ecn, EcnSpec::ect01);
    EXPECT_EQ(spec("0 > . 1:1(0) ack 1\n").ecn, EcnSpec::unchecked);
    EXPECT_EQ(spec("0 > (tos 0x2a) . 1:1(0) ack 1\n").tos, 0x2a);
    EXPECT_EQ(spec("0 > (ttl 32) SEW 0:0(0)\n").ttl, 32);
    EXPECT_EQ(spec("0 > (ttl 32) SEW 0:0(0)\n").flags, 0x02 | 0x40 | 0x80);
}

TEST(Symbols, NamesAndErrnos) {
    EXPECT_EQ(constant("SO_LINGER"), 13);
    EXPECT_EQ(constant("TCP_USER_TIMEOUT"), 18);
    EXPECT_FALSE(constant("NOPE"));
    EXPECT_EQ(errno_name(*errno_value("ECONNRESET")), "ECONNRESET");
}

Captured captured(std::uint8_t flags, std::uint32_t seq, std::uint32_t ack, std::uint32_t len) {
    Captured c;
    c.flags = flags;
    c.seq = seq;
    c.ack = ack;
    c.payload_len = len;
    c.window = 100;
    return c;
}

TEST(Matcher, RelativeSequenceAndFlags) {
    SeqState st;
    st.isn_known = true;
    st.local_isn = 5000;
    EXPECT_FALSE(match_outbound(spec("0 > F. 1001:1001(0) ack 1\n"), captured(0x11, 6001, 1, 0), st));
    const auto diff = match_outbound(spec("0 > F. 1001:1001(0) ack 1\n"), captured(0x10, 6001, 1, 0), st);
    ASSERT_TRUE(diff);
    EXPECT_NE(diff->find("flags"), std::string::npos);
    EXPECT_TRUE(match_outbound(spec("0 > . 1:1(0) ack 2\n"), captured(0x10, 5001, 1, 0), st));
    EXPECT_TRUE(match_outbound(spec("0 > . 1:1(0) ack 1 win 5\n"), captured(0x10, 5001, 1, 0), st));
    EXPECT_EQ(describe_captured(captured(0x10, 5001, 1, 0), st), ". 1:1(0) ack 1 win 100");
}

TEST(Matcher, IpFieldsAreCheckedOnlyWhenWritten) {
    SeqState st;
    st.isn_known = true;
    st.local_isn = 5000;
    Captured c = captured(0x10, 5001, 1, 10);
    c.tos = 0x28 | wire::ecn::ect0;
    c.ttl = 64;
    EXPECT_FALSE(match_outbound(spec("0 > . 1:11(10) ack 1\n"), c, st));
    EXPECT_FALSE(match_outbound(spec("0 > [ect0] . 1:11(10) ack 1\n"), c, st));
    EXPECT_FALSE(match_outbound(spec("0 > [ect01] . 1:11(10) ack 1\n"), c, st));
    EXPECT_FALSE(match_outbound(spec("0 > (tos 0x2a) . 1:11(10) ack 1\n"), c, st));
    EXPECT_FALSE(match_outbound(spec("0 > (ttl 64) . 1:11(10) ack 1\n"), c, st));
    const auto ecn = match_outbound(spec("0 > [noecn] . 1:11(10) ack 1\n"), c, st);
    ASSERT_TRUE(ecn);
    EXPECT_NE(ecn->find("ECN field differs: expected noecn, actual ect0"), std::string::npos) << *ecn;
    const auto tos = match_outbound(spec("0 > (tos 0x28) . 1:11(10) ack 1\n"), c, st);
    ASSERT_TRUE(tos);
    EXPECT_NE(tos->find("TOS differs: expected 0x28, actual 0x2a"), std::string::npos) << *tos;
    EXPECT_TRUE(match_outbound(spec("0 > (ttl 63) . 1:11(10) ack 1\n"), c, st));
    c.tos = wire::ecn::ce;
    EXPECT_TRUE(match_outbound(spec("0 > [ect01] . 1:11(10) ack 1\n"), c, st));
    EXPECT_EQ(describe_captured(c, st), "[ce] . 1:11(10) ack 1 win 100");
}

TEST(Matcher, SynTeachesIsnAndOptionsCompareInOrder) {
    SeqState st;
    Captured c = captured(0x02, 777, 0, 0);
    c.options = {{2, 1460, 0, {}}, {1, 0, 0, {}}, {3, 7, 0, {}}};
    EXPECT_FALSE(match_outbound(spec("0 > S 0:0(0) <mss 1460,nop,wscale 7>\n"), c, st));
    EXPECT_EQ(st.local_isn, 777u);
    EXPECT_TRUE(match_outbound(spec("0 > S 0:0(0) <mss 1460,nop,wscale 8>\n"), c, st));
    EXPECT_TRUE(match_outbound(spec("0 > S 0:0(0) <nop,mss 1460,wscale 7>\n"), c, st));
    EXPECT_FALSE(match_outbound(spec("0 > S 0:0(0) <...>\n"), c, st));
}

TEST(Matcher, TimestampsMapForEchoAndTickCheck) {
    SeqState st;
    st.ts_tick_us = 1000;
    Captured c = captured(0x12, 10, 1, 0);
    c.options = {{8, 555, 100, {}}};
    EXPECT_FALSE(match_outbound(spec("0 > S. 0:0(0) ack 1 <TS val 100 ecr 100>\n"), c, st));
    EXPECT_EQ(st.ts_map.at(100), 555u);
    Captured later = captured(0x10, 11, 1, 0);
    later.options = {{8, 555 + 1100, 200, {}}};
    EXPECT_FALSE(match_outbound(spec("0 > . 1:1(0) ack 1 <TS val 1200 ecr 200>\n"), later, st));
    later.options = {{8, 555 + 2000, 200, {}}};
    EXPECT_TRUE(match_outbound(spec("0 > . 1:1(0) ack 1 <TS val 1200 ecr 200>\n"), later, st));
}

TEST(Builder, InboundEchoesActualTsvalAndChecksums) {
    SeqState st;
    st.isn_known = true;
    st.local_isn = 1000;
    st.ts_map[100] = 555;
    Endpoints ep{wire::Ipv4Addr::from_octets(172, 16, 48, 13), wire::Ipv4Addr::from_octets(172, 16, 48, 1), 8080,
                 40000};
    const auto bytes = build_inbound(spec("0 < . 1:11(10) ack 1 win 257 <nop,nop,TS val 200 ecr 100>\n"), ep, st);
    // Parse it back as the engine would see it if it were sent to the script.
    auto c = parse_captured(bytes, tcp::Instant{});
    ASSERT_TRUE(c);
    EXPECT_EQ(c->seq, 1u);
    EXPECT_EQ(c->ack, 1001u);
    EXPECT_EQ(c->payload_len, 10u);
    EXPECT_EQ(c->window, 257);
    ASSERT_EQ(c->options.size(), 3u);
    EXPECT_EQ(c->options[2].a, 200u);
    EXPECT_EQ(c->options[2].b, 555u);
    EXPECT_THROW(build_inbound(spec("0 < . 1:1(0) <...>\n"), ep, st), BuildError);
}

TEST(Builder, InboundIpFields) {
    SeqState st;
    Endpoints ep{wire::Ipv4Addr::from_octets(172, 16, 48, 13), wire::Ipv4Addr::from_octets(172, 16, 48, 1), 8080,
                 40000};
    const auto ce = parse_captured(build_inbound(spec("0 < [ce] . 1:11(10) ack 1\n"), ep, st), tcp::Instant{});
    ASSERT_TRUE(ce) << "checksums still verify";
    EXPECT_EQ(ce->tos, wire::ecn::ce);
    EXPECT_EQ(ce->ttl, 64);
    const auto tos = parse_captured(build_inbound(spec("0 < (tos 0xb8) . 1:1(0) ack 1\n"), ep, st), tcp::Instant{});
    ASSERT_TRUE(tos);
    EXPECT_EQ(tos->tos, 0xb8);
    const auto ttl = parse_captured(build_inbound(spec("0 < (ttl 3) . 1:1(0) ack 1\n"), ep, st), tcp::Instant{});
    ASSERT_TRUE(ttl);
    EXPECT_EQ(ttl->ttl, 3);
    EXPECT_EQ(ttl->tos, 0);
}

}  // namespace
}  // namespace tcpfp::pktdrill
