#include <gtest/gtest.h>

#include <string_view>
#include <vector>

#include "fixtures/linux_frames.hpp"
#include "tcp/wire/bytes.hpp"
#include "tcp/wire/checksum.hpp"
#include "tcp/wire/ethernet.hpp"
#include "tcp/wire/ipv4.hpp"
#include "tcp/wire/tcp.hpp"
#include "tcp/wire/tcp_options.hpp"

namespace tcpfp::wire {
namespace {

namespace lc = fixtures::linux_capture;
const Ipv4Addr kA = Ipv4Addr::from_octets(172, 16, 48, 13);
const Ipv4Addr kB = Ipv4Addr::from_octets(172, 16, 48, 1);

std::vector<std::uint8_t> tcp_of(const std::vector<std::uint8_t>& frame) {
    return {frame.begin() + 34, frame.end()};
}

TEST(Tcp, ParsesLinuxSyn) {
    const auto seg = tcp_of(lc::tcp_syn);
    auto t = parse_tcp_checked(seg, kA, kB);
    ASSERT_TRUE(t) << name(t.error());
    EXPECT_EQ(t->src_port(), 36655);
    EXPECT_EQ(t->dst_port(), 5002);
    EXPECT_EQ(t->seq(), SeqNum(0xf72bf46eu));
    EXPECT_EQ(t->ack(), SeqNum(0));
    EXPECT_EQ(t->header_len(), 40);
    EXPECT_EQ(t->flags(), tcp_flag::syn);
    EXPECT_EQ(t->window(), 64240);
    EXPECT_EQ(t->urgent_ptr(), 0);
    EXPECT_EQ(t->options().size(), 20u);
    EXPECT_TRUE(t->payload().empty());
}

TEST(Tcp, ParsesLinuxDataSegment) {
    const auto seg = tcp_of(lc::tcp_data);
    auto t = parse_tcp_checked(seg, kA, kB);
    ASSERT_TRUE(t) << name(t.error());
    EXPECT_EQ(t->flags(), tcp_flag::psh | tcp_flag::ack);
    EXPECT_TRUE(t->has(tcp_flag::ack));
    EXPECT_FALSE(t->has(tcp_flag::fin));
    const std::string_view text(reinterpret_cast<const char*>(t->payload().data()),
                                t->payload().size());
    EXPECT_EQ(text, "my first tcp packet!\n");
}

TEST(Tcp, ChecksumDependsOnPseudoHeader) {
    const auto seg = tcp_of(lc::tcp_syn);
    // Swapping source and destination cannot be seen: the sum commutes.
    EXPECT_TRUE(parse_tcp_checked(seg, kB, kA).ok());
    EXPECT_EQ(parse_tcp_checked(seg, Ipv4Addr::from_octets(172, 16, 48, 2), kB).error(),
              WireError::tcp_bad_checksum);
    EXPECT_EQ(parse_tcp_checked(seg, kA, Ipv4Addr::from_octets(172, 16, 48, 2)).error(),
              WireError::tcp_bad_checksum);
}

// Every single-bit flip anywhere in the segment breaks the checksum.
TEST(Tcp, AnyBitFlipIsCaught) {
    const auto seg = tcp_of(lc::tcp_data);
    for (std::size_t i = 0; i < seg.size(); ++i) {
        for (int bit = 0; bit < 8; ++bit) {
            auto bad = seg;
            bad[i] ^= static_cast<std::uint8_t>(1u << bit);
            auto r = parse_tcp_checked(bad, kA, kB);
            ASSERT_FALSE(r.ok()) << "byte " << i << " bit " << bit;
        }
    }
}

TEST(Tcp, AllEightFlags) {
    auto seg = tcp_of(lc::tcp_syn);
    seg[13] = 0xff;
    auto t = TcpView::parse(seg);
    ASSERT_TRUE(t);
    for (auto f : {tcp_flag::fin, tcp_flag::syn, tcp_flag::rst, tcp_flag::psh, tcp_flag::ack,
                   tcp_flag::urg, tcp_flag::ece, tcp_flag::cwr}) {
        EXPECT_TRUE(t->has(f));
    }
    seg[13] = 0;
    EXPECT_EQ(TcpView::parse(seg)->flags(), 0);
}

TEST(Tcp, DataOffsetBounds) {
    auto seg = tcp_of(lc::tcp_syn);  // 40 bytes, data offset 10
    seg[12] = 0x40;
    EXPECT_EQ(TcpView::parse(seg).error(), WireError::tcp_bad_data_offset);
    seg[12] = 0x00;
    EXPECT_EQ(TcpView::parse(seg).error(), WireError::tcp_bad_data_offset);
    seg[12] = 0xb0;  // 44 > 40
    EXPECT_EQ(TcpView::parse(seg).error(), WireError::tcp_header_truncated);
    seg[12] = 0x50;  // options become payload
    auto t = TcpView::parse(seg);
    ASSERT_TRUE(t);
    EXPECT_EQ(t->payload().size(), 20u);
    EXPECT_TRUE(t->options().empty());
}

// Rebuilding Linux's SYN-ACK from its fields gives the captured bytes,
// checksum computed.
TEST(Tcp, EmitReproducesLinuxSynAck) {
    const auto seg = tcp_of(lc::tcp_syn_ack);
    auto t = parse_tcp_checked(seg, kB, kA);
    ASSERT_TRUE(t);
    auto opts = parse_tcp_options(t->options());
    ASSERT_TRUE(opts);
    TcpOptionWriter w;
    auto obytes = write_tcp_options(*opts, true, w);
    ASSERT_TRUE(obytes);
    TcpRepr r;
    r.src_port = 5002;
    r.dst_port = 36655;
    r.seq = t->seq();
    r.ack = t->ack();
    r.flags = tcp_flag::syn | tcp_flag::ack;
    r.window = t->window();
    r.options = *obytes;
    std::vector<std::uint8_t> out(r.segment_len());
    auto n = emit_tcp(r, kB, kA, out);
    ASSERT_TRUE(n);
    EXPECT_EQ(out, seg);
}

TEST(Tcp, EmitOffloadWritesPseudoHeaderSum) {
    TcpRepr r;
    r.src_port = 1;
    r.dst_port = 2;
    std::vector<std::uint8_t> out(20);
    ASSERT_TRUE(emit_tcp(r, kA, kB, out, ChecksumMode::offload));
    // What the NIC will do: sum over the segment seeded with that value.
    const auto partial = load_be16(&out[16]);
    EXPECT_NE(partial, 0);
    EXPECT_EQ(partial, checksum::fold(checksum::pseudo_header(kA, kB, ipproto::tcp, 20)));
}

TEST(Tcp, EmitRejectsBadInputs) {
    TcpRepr r;
    std::vector<std::uint8_t> small(19);
    EXPECT_EQ(emit_tcp(r, kA, kB, small).error(), WireError::buffer_too_small);
    const std::uint8_t odd_opts[3] = {1, 1, 1};
    r.options = odd_opts;
    std::vector<std::uint8_t> out(64);
    EXPECT_EQ(emit_tcp(r, kA, kB, out).error(), WireError::tcp_opt_no_space);
}

}  // namespace
}  // namespace tcpfp::wire
