// The seed article's two segments as golden vectors
// (tests/fixtures/seed_segments.hpp, from ../shared/seed/README.md).
#include <gtest/gtest.h>

#include <vector>

#include "fixtures/seed_segments.hpp"
#include "tcp/wire/ethernet.hpp"
#include "tcp/wire/ipv4.hpp"
#include "tcp/wire/tcp.hpp"
#include "tcp/wire/tcp_options.hpp"

namespace tcpfp::wire {
namespace {

namespace seed = fixtures::seed;
using Bytes = std::vector<std::uint8_t>;

struct SeedCase {
    const char* name;
    const Bytes* bytes;
    Ipv4Addr src, dst;
    std::uint16_t src_port, dst_port;
    std::uint32_t seq, ack;
    std::uint8_t flags;
    std::uint16_t window, checksum;
    std::uint32_t ts_val, ts_ecr;
};

const SeedCase kCases[] = {
    {"fin_ack", &seed::fin_ack, seed::kClient, seed::kServer, 32806, 5002, 0x000007d2,
     0x7e08baa0, tcp_flag::ack | tcp_flag::fin, 1460, 0x9e1c, 0x7edb, 0x85c730},
    {"ack", &seed::ack, seed::kServer, seed::kClient, 5002, 32806, 0x7e08baa0, 0x000007d3,
     tcp_flag::ack, 1448, 0x9dff, 0x85c759, 0x7edb},
};

class SeedVector : public ::testing::TestWithParam<SeedCase> {};

TEST_P(SeedVector, ParsesToTheArticlesFields) {
    const auto& c = GetParam();
    auto t = parse_tcp_checked(*c.bytes, c.src, c.dst);
    ASSERT_TRUE(t) << name(t.error());
    EXPECT_EQ(t->src_port(), c.src_port);
    EXPECT_EQ(t->dst_port(), c.dst_port);
    EXPECT_EQ(t->seq(), SeqNum(c.seq));
    EXPECT_EQ(t->ack(), SeqNum(c.ack));
    EXPECT_EQ(t->header_len(), 32);
    EXPECT_EQ(t->flags(), c.flags);
    EXPECT_EQ(t->window(), c.window);
    EXPECT_EQ(t->checksum(), c.checksum);
    EXPECT_EQ(t->urgent_ptr(), 0);
    EXPECT_TRUE(t->payload().empty());

    // Options: exactly NOP, NOP, Timestamps.
    TcpOptionReader reader(t->options());
    std::vector<std::uint8_t> kinds;
    while (!reader.done()) kinds.push_back(reader.next()->kind);
    EXPECT_EQ(kinds, (Bytes{tcp_opt::nop, tcp_opt::nop, tcp_opt::timestamps}));
    auto o = parse_tcp_options(t->options());
    ASSERT_TRUE(o);
    EXPECT_TRUE(o->has_timestamps);
    EXPECT_EQ(o->ts_val, c.ts_val);
    EXPECT_EQ(o->ts_ecr, c.ts_ecr);
    EXPECT_FALSE(o->has_mss || o->has_wscale || o->sack_permitted || o->sack_count);
}

// Build from the fields alone; the checksum is computed, not copied.
Bytes build(const SeedCase& c) {
    TcpOptions o;
    o.has_timestamps = true;
    o.ts_val = c.ts_val;
    o.ts_ecr = c.ts_ecr;
    TcpOptionWriter w;
    auto opts = write_tcp_options(o, /*syn=*/false, w);
    EXPECT_TRUE(opts);
    TcpRepr r;
    r.src_port = c.src_port;
    r.dst_port = c.dst_port;
    r.seq = SeqNum(c.seq);
    r.ack = SeqNum(c.ack);
    r.flags = c.flags;
    r.window = c.window;
    r.options = *opts;
    Bytes out(r.segment_len());
    auto n = emit_tcp(r, c.src, c.dst, out);
    EXPECT_TRUE(n);
    return out;
}

TEST_P(SeedVector, BuildsByteForByte) {
    const auto& c = GetParam();
    EXPECT_EQ(build(c), *c.bytes);
}

// Wrap in IPv4 and Ethernet, parse the whole frame back down to the segment.
TEST_P(SeedVector, FrameRoundTrip) {
    const auto& c = GetParam();
    const Bytes seg = build(c);
    const MacAddr src_mac{{0x02, 0, 0, 0, 0, 0x0d}};
    const MacAddr dst_mac{{0x02, 0, 0, 0, 0, 0x01}};
    Bytes frame(kEthHeaderLen + kIpv4MinHeaderLen + seg.size());
    ASSERT_TRUE(emit_ethernet({dst_mac, src_mac, ethertype::ipv4}, frame));
    Ipv4Repr ip;
    ip.src = c.src;
    ip.dst = c.dst;
    ip.protocol = ipproto::tcp;
    ip.id = 0x1234;
    ip.payload_len = static_cast<std::uint16_t>(seg.size());
    ASSERT_TRUE(emit_ipv4(ip, std::span(frame).subspan(kEthHeaderLen)));
    std::copy(seg.begin(), seg.end(), frame.begin() + kEthHeaderLen + kIpv4MinHeaderLen);

    auto eth = parse_ethernet(frame);
    ASSERT_TRUE(eth);
    EXPECT_EQ(eth->ethertype, ethertype::ipv4);
    EXPECT_EQ(eth->src, src_mac);
    auto v4 = parse_ipv4_checked(eth->payload);
    ASSERT_TRUE(v4) << name(v4.error());
    EXPECT_EQ(v4->src(), c.src);
    EXPECT_EQ(v4->dst(), c.dst);
    EXPECT_EQ(v4->protocol(), ipproto::tcp);
    EXPECT_EQ(v4->total_len(), 52);
    EXPECT_TRUE(v4->dont_fragment());
    auto t = parse_tcp_checked(v4->payload(), v4->src(), v4->dst());
    ASSERT_TRUE(t) << name(t.error());
    EXPECT_TRUE(std::equal(t->segment().begin(), t->segment().end(), c.bytes->begin(),
                           c.bytes->end()));
}

INSTANTIATE_TEST_SUITE_P(Seed, SeedVector, ::testing::ValuesIn(kCases),
                         [](const auto& p) { return std::string(p.param.name); });

// The ACK acknowledges the FIN: it used exactly one sequence number.
TEST(SeedVectors, AckCoversTheFin) {
    auto fin = TcpView::parse(seed::fin_ack);
    auto ack = TcpView::parse(seed::ack);
    ASSERT_TRUE(fin && ack);
    EXPECT_EQ(ack->ack(), fin->seq() + 1);
    EXPECT_EQ(ack->seq(), fin->ack());
}

}  // namespace
}  // namespace tcpfp::wire
