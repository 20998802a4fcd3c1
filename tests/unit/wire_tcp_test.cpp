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

// The fields of a captured segment, its options as words
// (write_tcp_option_words, TcpRepr::option_words).
TcpRepr repr_with_option_words(const TcpView& t) {
    auto opts = parse_tcp_options(t.options());
    EXPECT_TRUE(opts);
    TcpRepr r;
    r.src_port = t.src_port();
    r.dst_port = t.dst_port();
    r.seq = t.seq();
    r.ack = t.ack();
    r.flags = t.flags();
    r.window = t.window();
    EXPECT_EQ(write_tcp_option_words(*opts, (t.flags() & tcp_flag::syn) != 0, r.option_words), WireError::none);
    r.payload = t.payload();
    return r;
}

// Linux's SYN-ACK (MSS, sackOK, TS, NOP, wscale), data segment and FIN
// (NOP, NOP, TS) from tests/fixtures/linux_frames.hpp, rebuilt with the
// options as words: the captured bytes, checksum too.
TEST(Tcp, EmitOptionWordsReproducesLinuxSegments) {
    for (const auto* frame : {&lc::tcp_syn_ack, &lc::tcp_data, &lc::tcp_fin_ack}) {
        const auto seg = tcp_of(*frame);
        const Ipv4Addr src = frame == &lc::tcp_data ? kA : kB;
        const Ipv4Addr dst = frame == &lc::tcp_data ? kB : kA;
        auto t = parse_tcp_checked(seg, src, dst);
        ASSERT_TRUE(t);
        const TcpRepr r = repr_with_option_words(*t);
        EXPECT_EQ(r.header_len(), kTcpMinHeaderLen + t->options().size());
        std::vector<std::uint8_t> out(r.segment_len());
        ASSERT_TRUE(emit_tcp(r, src, dst, out));
        EXPECT_EQ(out, seg);
    }
}

// Options as words and the same options encoded by TcpOptionWriter give the
// same segment, for every payload length's parity, with the payload summed
// by emit_tcp or handed in pre-summed, and in each checksum mode.
TEST(Tcp, EmitOptionWordsMatchEncodedOptions) {
    TcpOptions o;
    o.has_timestamps = true;
    o.ts_val = 0xfedcba98;
    o.ts_ecr = 0x01234567;
    o.sack_count = 2;
    o.sack[0] = {SeqNum(100), SeqNum(200)};
    o.sack[1] = {SeqNum(0xfffffff0), SeqNum(16)};
    TcpOptionWriter w;
    auto encoded = write_tcp_options(o, false, w);
    ASSERT_TRUE(encoded);
    TcpOptionWords words;
    ASSERT_EQ(write_tcp_option_words(o, false, words), WireError::none);
    for (std::size_t len : {0u, 1u, 2u, 63u, 64u, 1447u}) {
        std::vector<std::uint8_t> payload(len);
        for (std::size_t i = 0; i < len; ++i) payload[i] = static_cast<std::uint8_t>(i * 7 + 3);
        for (bool presummed : {false, true}) {
            for (auto mode : {ChecksumMode::full, ChecksumMode::offload, ChecksumMode::segmentation}) {
                TcpRepr a;
                a.src_port = 40000;
                a.dst_port = 80;
                a.seq = SeqNum(0xfffffff0);
                a.ack = SeqNum(7);
                a.flags = tcp_flag::ack | tcp_flag::psh;
                a.window = 502;
                a.payload = payload;
                if (presummed) a.payload_sum = checksum::accumulate(payload);
                TcpRepr b = a;
                a.options = *encoded;
                b.option_words = words;
                ASSERT_EQ(a.segment_len(), b.segment_len());
                std::vector<std::uint8_t> out_a(a.segment_len()), out_b(b.segment_len());
                ASSERT_TRUE(emit_tcp(a, kA, kB, out_a, mode));
                ASSERT_TRUE(emit_tcp(b, kA, kB, out_b, mode));
                EXPECT_EQ(out_a, out_b) << "payload " << len << " presummed " << presummed;
                if (mode == ChecksumMode::full) {
                    EXPECT_TRUE(parse_tcp_checked(out_b, kA, kB));
                }
            }
        }
    }
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
    // Options as words come alone: encoded options beside them are refused.
    const std::uint8_t nops[4] = {1, 1, 1, 1};
    r.options = nops;
    r.option_words.w[0] = 0x01010101u;
    r.option_words.n = 1;
    EXPECT_EQ(emit_tcp(r, kA, kB, out).error(), WireError::tcp_opt_no_space);
}

}  // namespace
}  // namespace tcpfp::wire
