#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "fixtures/linux_frames.hpp"
#include "tcp/wire/bytes.hpp"
#include "tcp/wire/checksum.hpp"
#include "tcp/wire/ethernet.hpp"
#include "tcp/wire/icmp.hpp"
#include "tcp/wire/ipv4.hpp"

namespace tcpfp::wire {
namespace {

namespace lc = fixtures::linux_capture;

std::vector<std::uint8_t> ip_of(const std::vector<std::uint8_t>& frame) {
    return {frame.begin() + 14, frame.end()};
}

TEST(Ipv4, ParsesLinuxEchoRequest) {
    const auto pkt = ip_of(lc::icmp_echo_request);
    auto ip = parse_ipv4_checked(pkt);
    ASSERT_TRUE(ip) << name(ip.error());
    EXPECT_EQ(ip->header_len(), 20);
    EXPECT_EQ(ip->total_len(), 44);
    EXPECT_EQ(ip->id(), 0xce43);
    EXPECT_TRUE(ip->dont_fragment());
    EXPECT_FALSE(ip->more_fragments());
    EXPECT_EQ(ip->fragment_offset(), 0);
    EXPECT_FALSE(ip->is_fragment());
    EXPECT_EQ(ip->ttl(), 64);
    EXPECT_EQ(ip->protocol(), ipproto::icmp);
    EXPECT_EQ(ip->checksum(), 0xb45e);
    EXPECT_EQ(ip->src(), Ipv4Addr::from_octets(172, 16, 48, 13));
    EXPECT_EQ(ip->dst(), Ipv4Addr::from_octets(172, 16, 48, 1));
    EXPECT_TRUE(ip->options().empty());
    EXPECT_EQ(ip->payload().size(), 24u);
}

TEST(Ipv4, EmitReproducesLinuxHeader) {
    const auto pkt = ip_of(lc::icmp_echo_reply);
    Ipv4Repr r;
    r.src = Ipv4Addr::from_octets(172, 16, 48, 1);
    r.dst = Ipv4Addr::from_octets(172, 16, 48, 13);
    r.protocol = ipproto::icmp;
    r.id = 0x7adb;
    r.dont_fragment = false;  // Linux's echo reply leaves DF clear
    r.payload_len = 24;
    std::vector<std::uint8_t> out(20);
    ASSERT_TRUE(emit_ipv4(r, out));
    EXPECT_TRUE(std::equal(out.begin(), out.end(), pkt.begin()));
}

// emit_ipv4 computes the checksum from the field values: it must equal the
// sum over the bytes it wrote, for any values (carries included).
TEST(Ipv4, EmittedChecksumVerifiesForAnyFieldValues) {
    std::mt19937 rng(791);
    for (int round = 0; round < 20000; ++round) {
        const bool ones = round % 4 == 0;
        Ipv4Repr r;
        r.src = Ipv4Addr{ones ? 0xffffffffu : static_cast<std::uint32_t>(rng())};
        r.dst = Ipv4Addr{ones ? 0xffffffffu : static_cast<std::uint32_t>(rng())};
        r.protocol = static_cast<std::uint8_t>(ones ? 0xff : rng());
        r.ttl = static_cast<std::uint8_t>(ones ? 0xff : rng());
        r.tos = static_cast<std::uint8_t>(ones ? 0xff : rng());
        r.id = static_cast<std::uint16_t>(ones ? 0xffff : rng());
        r.dont_fragment = (rng() & 1) != 0;
        r.payload_len = static_cast<std::uint16_t>(rng() % (0xffff - 20 + 1));
        std::vector<std::uint8_t> out(20);
        ASSERT_TRUE(emit_ipv4(r, out));
        ASSERT_TRUE(checksum::verifies(checksum::accumulate(out))) << "round " << round;
        auto view = parse_ipv4_checked(out);
        ASSERT_FALSE(!view && view.error() == WireError::ip_bad_checksum) << "round " << round;
    }
}

TEST(Ipv4, OffloadModeLeavesChecksumZero) {
    Ipv4Repr r;
    r.payload_len = 10;
    std::vector<std::uint8_t> out(20);
    ASSERT_TRUE(emit_ipv4(r, out, ChecksumMode::offload));
    EXPECT_EQ(load_be16(&out[10]), 0);
}

TEST(Ipv4, TrimsEthernetPadding) {
    auto pkt = ip_of(lc::icmp_echo_request);
    pkt.resize(pkt.size() + 6, 0xee);
    auto ip = Ipv4View::parse(pkt);
    ASSERT_TRUE(ip);
    EXPECT_EQ(ip->payload().size(), 24u);
}

TEST(Ipv4, SkipsOptions) {
    // Insert a 4-byte option block (NOP NOP NOP EOL) and fix IHL, length, sum.
    auto pkt = ip_of(lc::icmp_echo_request);
    pkt.insert(pkt.begin() + 20, {0x01, 0x01, 0x01, 0x00});
    pkt[0] = 0x46;
    store_be16(&pkt[2], static_cast<std::uint16_t>(pkt.size()));
    store_be16(&pkt[10], 0);
    store_be16(&pkt[10], checksum::finish(checksum::accumulate({pkt.data(), 24})));
    auto ip = parse_ipv4_checked(pkt);
    ASSERT_TRUE(ip) << name(ip.error());
    EXPECT_EQ(ip->header_len(), 24);
    EXPECT_EQ(ip->options().size(), 4u);
    EXPECT_TRUE(parse_icmp_echo(ip->payload()));
}

TEST(Ipv4, ExposesFragments) {
    auto pkt = ip_of(lc::icmp_echo_request);
    ASSERT_GE(pkt.size(), kIpv4MinHeaderLen);
    store_be16(&pkt[6], 0x2000);  // MF, offset 0: first fragment
    const auto first = Ipv4View::parse(pkt);
    ASSERT_TRUE(first);
    EXPECT_TRUE(first->is_fragment());
    EXPECT_TRUE(first->more_fragments());
    store_be16(&pkt[6], 0x00b9);  // last fragment at offset 185*8
    const auto last = Ipv4View::parse(pkt);
    ASSERT_TRUE(last);
    EXPECT_TRUE(last->is_fragment());
    EXPECT_EQ(last->fragment_offset(), 0xb9);
}

struct IpBadCase {
    const char* what;
    std::size_t offset;
    std::uint8_t value;
    WireError expected;
};

class Ipv4Rejects : public ::testing::TestWithParam<IpBadCase> {};

TEST_P(Ipv4Rejects, FieldMutation) {
    const auto& c = GetParam();
    auto pkt = ip_of(lc::icmp_echo_request);
    pkt[c.offset] = c.value;
    EXPECT_EQ(parse_ipv4_checked(pkt).error(), c.expected) << c.what;
}

INSTANTIATE_TEST_SUITE_P(
    Table, Ipv4Rejects,
    ::testing::Values(IpBadCase{"version 6", 0, 0x65, WireError::ip_bad_version},
                      IpBadCase{"version 0", 0, 0x05, WireError::ip_bad_version},
                      IpBadCase{"IHL 4", 0, 0x44, WireError::ip_bad_ihl},
                      IpBadCase{"IHL 0", 0, 0x40, WireError::ip_bad_ihl},
                      IpBadCase{"IHL 15 past a 44-byte buffer", 0, 0x4f,
                                WireError::ip_header_truncated},
                      IpBadCase{"total length 19", 3, 19, WireError::ip_bad_total_length},
                      IpBadCase{"total length 45 > buffer", 3, 45,
                                WireError::ip_length_exceeds_buffer},
                      IpBadCase{"TTL flipped, checksum stale", 8, 0x3f,
                                WireError::ip_bad_checksum},
                      IpBadCase{"checksum byte flipped", 10, 0x00,
                                WireError::ip_bad_checksum}));

TEST(Icmp, ParsesLinuxEcho) {
    const auto pkt = ip_of(lc::icmp_echo_request);
    auto e = parse_icmp_echo(Ipv4View::parse(pkt)->payload());
    ASSERT_TRUE(e) << name(e.error());
    EXPECT_EQ(e->type, icmp_type::echo_request);
    EXPECT_EQ(e->code, 0);
    EXPECT_EQ(e->id, 0x1755);
    EXPECT_EQ(e->seq, 1);
    EXPECT_EQ(e->data.size(), 16u);
}

// Linux's reply to Linux's request: our in-place conversion must produce
// the identical ICMP message (same id, seq and data; type 0; checksum by
// RFC 1624), and a full emit must agree.
TEST(Icmp, RequestToReplyMatchesLinuxReply) {
    auto req = ip_of(lc::icmp_echo_request);
    const auto rep = ip_of(lc::icmp_echo_reply);
    std::span<std::uint8_t> msg(req.data() + 20, req.size() - 20);
    ASSERT_EQ(icmp_echo_request_to_reply_in_place(msg), WireError::none);
    EXPECT_TRUE(std::equal(msg.begin(), msg.end(), rep.begin() + 20));

    auto parsed = parse_icmp_echo(std::span(rep).subspan(20));
    ASSERT_TRUE(parsed);
    std::vector<std::uint8_t> out(24);
    IcmpEcho e = *parsed;
    ASSERT_TRUE(emit_icmp_echo(e, out));
    EXPECT_TRUE(std::equal(out.begin(), out.end(), rep.begin() + 20));
}

// Regression (fuzz_wire, tests/fuzz/corpus/wire/crash-icmp-reply-zero-checksum):
// a request with id 0, seq 0 and zero data (checksum 0xF7FF) became a reply
// whose RFC 1624 update left checksum 0x0000 over all-zero words, which no
// receiver accepts; the reply must carry 0xFFFF and parse.
TEST(Icmp, RequestToReplyOfAllZeroMessageKeepsAValidChecksum) {
    std::vector<std::uint8_t> msg(16, 0);
    msg[0] = icmp_type::echo_request;
    msg[2] = 0xf7;
    msg[3] = 0xff;
    ASSERT_TRUE(parse_icmp_echo(msg));
    ASSERT_EQ(icmp_echo_request_to_reply_in_place(msg), WireError::none);
    EXPECT_EQ(msg[2], 0xff);
    EXPECT_EQ(msg[3], 0xff);
    auto reply = parse_icmp_echo(msg);
    ASSERT_TRUE(reply);
    EXPECT_EQ(reply->type, icmp_type::echo_reply);
}

TEST(Icmp, RequestToReplyRefusesOthers) {
    auto rep = ip_of(lc::icmp_echo_reply);
    std::span<std::uint8_t> msg(rep.data() + 20, rep.size() - 20);
    EXPECT_EQ(icmp_echo_request_to_reply_in_place(msg), WireError::icmp_not_echo);
    EXPECT_EQ(icmp_echo_request_to_reply_in_place(msg.first(7)), WireError::icmp_truncated);
}

TEST(Icmp, Rejects) {
    auto pkt = ip_of(lc::icmp_echo_request);
    std::vector<std::uint8_t> msg(pkt.begin() + 20, pkt.end());
    auto bad = msg;
    bad[10] ^= 0xff;
    EXPECT_EQ(parse_icmp_echo(bad).error(), WireError::icmp_bad_checksum);
    // A destination-unreachable with a valid checksum is not an echo.
    auto unreach = msg;
    unreach[0] = 3;
    store_be16(&unreach[2], 0);
    store_be16(&unreach[2], checksum::finish(checksum::accumulate(unreach)));
    EXPECT_EQ(parse_icmp_echo(unreach).error(), WireError::icmp_not_echo);
    EXPECT_EQ(parse_icmp_echo(std::span(msg).first(7)).error(), WireError::icmp_truncated);
}

// Errors built by emit_icmp_error around Linux's own echo request as the
// quoted datagram; the layout is RFC 792's (type, code, checksum, unused or
// RFC 1191's next-hop MTU in bytes 6-7, then the quoted header + 8 bytes).
TEST(IcmpError, RoundTripsAFragmentationNeededQuote) {
    const auto quoted = ip_of(lc::icmp_echo_request);
    std::vector<std::uint8_t> msg(8 + 28);
    auto n = emit_icmp_error(icmp_type::dest_unreachable, icmp_unreach::frag_needed, 1280, quoted, msg);
    ASSERT_TRUE(n);
    EXPECT_EQ(*n, 8u + 20 + 8);  // header + IPv4 header + 8 bytes, no more
    EXPECT_EQ(load_be16(&msg[6]), 1280);
    auto e = parse_icmp_error(msg);
    ASSERT_TRUE(e);
    EXPECT_EQ(e->type, icmp_type::dest_unreachable);
    EXPECT_EQ(e->code, icmp_unreach::frag_needed);
    EXPECT_EQ(e->next_hop_mtu, 1280);
    EXPECT_EQ(e->quoted_protocol, ipproto::icmp);
    auto ip = Ipv4View::parse(quoted);
    ASSERT_TRUE(ip);
    EXPECT_EQ(e->quoted_src, ip->src());
    EXPECT_EQ(e->quoted_dst, ip->dst());
    EXPECT_EQ(e->quoted_total_len, ip->total_len());
    EXPECT_EQ(e->quoted_payload.size(), 8u);
}

TEST(IcmpError, OnlyFragmentationNeededCarriesAnMtu) {
    const auto quoted = ip_of(lc::icmp_echo_request);
    std::vector<std::uint8_t> msg(64);
    auto n = emit_icmp_error(icmp_type::time_exceeded, 0, 1280, quoted, msg);
    ASSERT_TRUE(n);
    auto e = parse_icmp_error(std::span(msg).first(*n));
    ASSERT_TRUE(e);
    EXPECT_EQ(e->next_hop_mtu, 0);
}

TEST(IcmpError, Rejects) {
    const auto quoted = ip_of(lc::icmp_echo_request);
    std::vector<std::uint8_t> msg(64);
    const std::size_t n = *emit_icmp_error(icmp_type::dest_unreachable, icmp_unreach::host, 0, quoted, msg);
    msg.resize(n);
    auto bad = msg;
    bad[20] ^= 0x01;
    EXPECT_EQ(parse_icmp_error(bad).error(), WireError::icmp_bad_checksum);
    EXPECT_EQ(parse_icmp_error(std::span(msg).first(7)).error(), WireError::icmp_truncated);
    // A quote cut inside its 8 bytes of payload: re-checksummed, still refused.
    auto short_quote = std::vector<std::uint8_t>(msg.begin(), msg.end() - 1);
    store_be16(&short_quote[2], 0);
    store_be16(&short_quote[2], checksum::finish(checksum::accumulate(short_quote)));
    EXPECT_EQ(parse_icmp_error(short_quote).error(), WireError::icmp_bad_quote);
    // An echo request is not an error.
    auto echo = ip_of(lc::icmp_echo_request);
    EXPECT_EQ(parse_icmp_error(std::span(echo).subspan(20)).error(), WireError::icmp_not_error);
    // A quote that is not IPv4.
    auto v6 = msg;
    v6[8] = 0x65;
    store_be16(&v6[2], 0);
    store_be16(&v6[2], checksum::finish(checksum::accumulate(v6)));
    EXPECT_EQ(parse_icmp_error(v6).error(), WireError::icmp_bad_quote);
}

// peek_tcp_flow: the 4-tuple of an IPv4/TCP packet before the full parse
// (steering and the RX prefetch), and nullopt for what has no TCP ports.
TEST(Ipv4, PeekTcpFlowReadsThePortsAndRefusesWhatHasNone) {
    // RFC 791 header, 172.16.48.13 -> 172.16.48.1, then TCP ports 49163 -> 5002.
    std::vector<std::uint8_t> p = {0x45, 0, 0, 44, 0, 1, 0x40, 0, 64, 6, 0, 0, 172, 16, 48, 13, 172, 16, 48, 1,
                                   0xc0, 0x0b, 0x13, 0x8a};
    auto f = peek_tcp_flow(p);
    ASSERT_TRUE(f.has_value());
    EXPECT_EQ(f->src, Ipv4Addr::from_octets(172, 16, 48, 13));
    EXPECT_EQ(f->dst, Ipv4Addr::from_octets(172, 16, 48, 1));
    EXPECT_EQ(f->src_port, 49163);
    EXPECT_EQ(f->dst_port, 5002);
    auto with_options = p;  // IHL 6: one word of options before the ports
    with_options[0] = 0x46;
    with_options.insert(with_options.begin() + 20, {1, 1, 1, 0});
    ASSERT_TRUE(peek_tcp_flow(with_options).has_value());
    EXPECT_EQ(peek_tcp_flow(with_options)->dst_port, 5002);
    auto later_fragment = p;
    later_fragment[7] = 8;  // fragment offset 64 bytes: no TCP header here
    EXPECT_FALSE(peek_tcp_flow(later_fragment).has_value());
    auto udp = p;
    udp[9] = 17;
    EXPECT_FALSE(peek_tcp_flow(udp).has_value());
    auto v6 = p;
    v6[0] = 0x65;
    EXPECT_FALSE(peek_tcp_flow(v6).has_value());
    auto bad_ihl = p;
    bad_ihl[0] = 0x44;
    EXPECT_FALSE(peek_tcp_flow(bad_ihl).has_value());
    EXPECT_FALSE(peek_tcp_flow(std::span(p).first(23)).has_value());
}

}  // namespace
}  // namespace tcpfp::wire
