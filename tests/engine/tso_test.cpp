// TCP segmentation offload (tcp/engine/segment.hpp): which runs of the
// engine's segments may go to a port as one super-segment, the header that
// leads it, and EngineConfig::send_mtu. The reference for what a port does
// with a super-segment is DPDK's (lib/gso/gso_tcp4.c, the Intel NICs'
// TSO): cut the payload into tso_segsz pieces, give each the first header
// with its own SEQ, IPv4 length and the next IPv4 ID, and keep PSH and FIN
// on the last piece only.
#include <gtest/gtest.h>

#include <cstring>

#include "tcp/engine/segment.hpp"
#include "tcp/wire/checksum.hpp"
#include "util.hpp"

namespace tcpfp::tcp::test {
namespace {

using namespace wire;

// A port's cut of `super` (IPv4 + TCP + payload) into pieces of `segsz`
// payload bytes, with checksums computed in full.
std::vector<std::vector<std::uint8_t>> port_cut(const std::vector<std::uint8_t>& super, std::size_t segsz) {
    if (super.size() < 20 + 20 || segsz == 0) {
        ADD_FAILURE() << "no super-segment";
        return {};
    }
    const std::size_t tcp_hlen = (super[20 + 12] >> 4) * 4u;
    const std::size_t hlen = 20 + tcp_hlen;
    const std::size_t payload = super.size() - hlen;
    const std::uint32_t seq0 = load_be32(&super[20 + 4]);
    const std::uint16_t id0 = load_be16(&super[4]);
    std::vector<std::vector<std::uint8_t>> out;
    for (std::size_t off = 0, i = 0; off < payload; off += segsz, ++i) {
        const std::size_t n = std::min(segsz, payload - off);
        std::vector<std::uint8_t> p(super.begin(), super.begin() + static_cast<std::ptrdiff_t>(hlen));
        p.insert(p.end(), super.begin() + static_cast<std::ptrdiff_t>(hlen + off),
                 super.begin() + static_cast<std::ptrdiff_t>(hlen + off + n));
        store_be16(&p[2], static_cast<std::uint16_t>(p.size()));
        store_be16(&p[4], static_cast<std::uint16_t>(id0 + i));
        store_be16(&p[10], 0);
        store_be16(&p[10], checksum::finish(checksum::accumulate({p.data(), 20})));
        store_be32(&p[20 + 4], seq0 + static_cast<std::uint32_t>(off));
        if (off + n < payload) p[20 + 13] &= static_cast<std::uint8_t>(~(tcp_flag::psh | tcp_flag::fin));
        store_be16(&p[20 + 16], 0);
        Ipv4Addr src{load_be32(&p[12])}, dst{load_be32(&p[16])};
        const auto ph = checksum::pseudo_header(src, dst, ipproto::tcp, static_cast<std::uint16_t>(p.size() - 20));
        store_be16(&p[20 + 16], checksum::finish(checksum::accumulate({p.data() + 20, p.size() - 20}, ph)));
        out.push_back(std::move(p));
    }
    return out;
}

// The super-segment for `run`, as the worker builds it: header, then every
// segment's payload in order.
std::vector<std::uint8_t> super_segment(std::span<const OutSegment> run, std::uint16_t ip_id) {
    std::uint32_t bytes = 0;
    for (const OutSegment& s : run) bytes += s.payload.bytes;
    std::vector<std::uint8_t> out(20 + 60 + bytes);
    auto h = serialize_tso_header(run.front(), tso_flags(run), bytes, out, ip_id);
    EXPECT_TRUE(h.ok());
    if (!h) return {};
    std::size_t at = *h;
    for (const OutSegment& s : run) {
        s.payload.copy_to(&out[at]);
        at += s.payload.bytes;
    }
    out.resize(at);
    return out;
}

// A's data segments are capped by send_mtu; its SYN still offers mtu - 40,
// so B sends full-size segments back.
TEST(Tso, SendMtuCapsTheSegmentsWeSendButNotTheMssWeAdvertise) {
    EngineConfig ca = test_config();
    ca.send_mtu = 1486;  // net_tap with TSO: 1500 less the Ethernet header
    Net net(ca, test_config());
    Pair p = open_pair(net);
    for (const Captured& c : net.sent_by(Side::a)) {
        if (c.has(tcp_flag::syn)) {
            EXPECT_EQ(c.options.mss, 1460);
        }
    }
    EXPECT_EQ(net.a().tcb(p.a)->snd_mss, 1486 - 40 - 12);  // less the timestamps every segment carries
    EXPECT_EQ(net.b().tcb(p.b)->snd_mss, 1460 - 12);
    const std::string data = pattern(100'000, 7);
    ASSERT_EQ(net.a().send(p.a, bytes_of(data), net.now()), 100'000);
    ASSERT_EQ(net.b().send(p.b, bytes_of(data), net.now()), 100'000);
    net.run_for(Duration::seconds(2));
    EXPECT_EQ(recv_all(net.b(), p.b, net.now()), data);
    EXPECT_EQ(recv_all(net.a(), p.a, net.now()), data);
    std::size_t a_max = 0, b_max = 0;
    for (const Captured& c : net.trace()) {
        std::size_t& largest = c.from == Side::a ? a_max : b_max;
        largest = std::max(largest, c.payload_len);
    }
    EXPECT_EQ(a_max, 1434u);
    EXPECT_EQ(b_max, 1448u);
}

// send_mtu below what any host must take (RFC 791: 576) is refused.
TEST(Tso, ASendMtuBelow576IsRefused) {
    EngineConfig c = test_config();
    c.send_mtu = 575;
    EXPECT_THROW(Engine(c, Instant{}), std::invalid_argument);
    c.send_mtu = 576;
    EXPECT_NO_THROW(Engine(c, Instant{}));
}

// A bulk transfer in both directions (so ACK numbers and windows move under
// the sender), with loss so that SACK blocks, retransmissions and PSH come
// and go: every run tso_run() finds, cut as a port cuts it, gives exactly
// the segments the engine made, byte for byte, except that a PSH inside a
// run moves to its last segment.
TEST(Tso, APortsCutOfEveryRunIsTheEnginesSegmentsByteForByte) {
    Net net(test_config(), test_config());
    Pair p = open_pair(net);
    std::size_t runs = 0, merged = 0, longest = 0, checked = 0;
    std::uint16_t ip_id = 1000;
    net.set_output_observer([&](Side, std::span<const OutSegment> out) {
        for (std::size_t i = 0; i < out.size();) {
            const std::size_t n = tso_run(out.subspan(i), TsoLimits{});
            ASSERT_GE(n, 1u);
            const auto run = out.subspan(i, n);
            i += n;
            ++runs;
            if (n == 1) continue;
            merged += n;
            longest = std::max(longest, n);
            const auto pieces = port_cut(super_segment(run, ip_id), run.front().payload.bytes);
            ASSERT_EQ(pieces.size(), n);
            const std::uint8_t run_psh = tso_flags(run) & tcp_flag::psh;
            for (std::size_t k = 0; k < n; ++k) {
                OutSegment expect = run[k];
                expect.flags &= static_cast<std::uint8_t>(~tcp_flag::psh);
                if (k + 1 == n) expect.flags |= run_psh;
                std::vector<std::uint8_t> bytes(20 + 60 + expect.payload_len());
                auto len = serialize(expect, bytes, static_cast<std::uint16_t>(ip_id + k));
                ASSERT_TRUE(len.ok());
                bytes.resize(*len);
                ASSERT_EQ(pieces[k], bytes) << "piece " << k << " of " << n;
                ++checked;
            }
            ip_id = static_cast<std::uint16_t>(ip_id + n);
        }
    });
    net.impair().drop_rule = [n = 0](const Captured& c) mutable { return c.payload_len > 0 && ++n % 97 == 0; };
    const std::string a_data = pattern(3'000'000, 11), b_data = pattern(1'000'000, 12);
    std::size_t a_sent = 0, b_sent = 0;
    std::string a_got, b_got;
    ASSERT_TRUE(net.run_until(
        [&] {
            auto push = [&](Engine& e, ConnId id, const std::string& d, std::size_t& sent) {
                if (sent == d.size()) return;
                const auto n = e.send(id, bytes_of(std::string_view(d).substr(sent)), net.now());
                if (n > 0) sent += static_cast<std::size_t>(n);
            };
            push(net.a(), p.a, a_data, a_sent);
            push(net.b(), p.b, b_data, b_sent);
            b_got += recv_all(net.b(), p.b, net.now());
            a_got += recv_all(net.a(), p.a, net.now());
            net.flush();
            return b_got.size() == a_data.size() && a_got.size() == b_data.size();
        },
        Duration::seconds(120)));
    EXPECT_EQ(b_got, a_data);
    EXPECT_EQ(a_got, b_data);
    EXPECT_GT(merged, 0u);
    EXPECT_GE(longest, 10u);  // the initial window goes as one run
    EXPECT_EQ(checked, merged);
    std::printf("runs %zu, segments in merged runs %zu, longest %zu\n", runs, merged, longest);
}

// Hand-built segments: one rule broken at a time.
struct TsoRun : ::testing::Test {
    std::uint8_t data[65536] = {};
    std::vector<OutSegment> segs;

    OutSegment seg(std::uint32_t seq, std::uint32_t len, std::uint8_t flags = tcp_flag::ack) {
        OutSegment s;
        s.tuple = {kHostB, kHostA, 80, 40000};
        s.seq = SeqNum(seq);
        s.ack = SeqNum(777);
        s.flags = flags;
        s.window = 500;
        s.options.has_timestamps = true;
        s.options.ts_val = 5;
        s.options.ts_ecr = 6;
        s.payload = std::span<const std::uint8_t>(data, len);
        return s;
    }
    // n segments of `len` bytes in sequence from 1000.
    void line(std::size_t n, std::uint32_t len = 1448) {
        segs.clear();
        for (std::size_t i = 0; i < n; ++i) segs.push_back(seg(1000 + static_cast<std::uint32_t>(i) * len, len));
    }
    std::size_t run(TsoLimits lim = {}) { return tso_run(segs, lim); }
};

TEST_F(TsoRun, SegmentsInSequenceWithOneHeaderMakeOneRun) {
    line(10);
    EXPECT_EQ(run(), 10u);
    segs.back().payload = std::span<const std::uint8_t>(data, 100);  // a short last one
    segs.back().flags |= tcp_flag::psh | tcp_flag::fin;
    EXPECT_EQ(run(), 10u);
    EXPECT_EQ(tso_flags(segs), tcp_flag::ack | tcp_flag::psh | tcp_flag::fin);
}

TEST_F(TsoRun, AnyHeaderDifferenceEndsTheRun) {
    const std::vector<std::function<void(OutSegment&)>> changes = {
        [](OutSegment& s) { s.ack = s.ack + 1; },
        [](OutSegment& s) { s.window = 501; },
        [](OutSegment& s) { s.options.ts_val = 9; },
        [](OutSegment& s) { s.options.ts_ecr = 9; },
        [](OutSegment& s) { s.options.sack_count = 1; s.options.sack[0] = {SeqNum(1), SeqNum(2)}; },
        [](OutSegment& s) { s.tuple.remote_port = 40001; },
        [](OutSegment& s) { s.ttl = 3; },
        [](OutSegment& s) { s.tos = ecn::ect0; },
        [](OutSegment& s) { s.seq = s.seq + 1; },
        [](OutSegment& s) { s.flags |= tcp_flag::cwr; },
        [](OutSegment& s) { s.flags |= tcp_flag::ece; },
        [](OutSegment& s) { s.flags |= tcp_flag::urg; s.urgent_ptr = 1; },
        [](OutSegment& s) { s.payload = std::span<const std::uint8_t>(); },
    };
    for (std::size_t c = 0; c < changes.size(); ++c) {
        line(6);
        changes[c](segs[3]);
        EXPECT_EQ(run(), 3u) << "change " << c;
    }
}

TEST_F(TsoRun, OnlyTheLastMayBeShortOrCarryAFin) {
    line(6);
    segs[2].payload = std::span<const std::uint8_t>(data, 1000);
    EXPECT_EQ(run(), 3u);  // the short one ends it
    line(6);
    segs[2].flags |= tcp_flag::fin;
    EXPECT_EQ(run(), 3u);
    line(6);
    segs[3].payload = std::span<const std::uint8_t>(data, 1449);  // longer than the cut
    EXPECT_EQ(run(), 3u);
}

TEST_F(TsoRun, AnInteriorPshIsFoldedIntoTheLast) {
    line(6);
    segs[1].flags |= tcp_flag::psh;
    EXPECT_EQ(run(), 6u);
    EXPECT_EQ(tso_flags(segs), tcp_flag::ack | tcp_flag::psh);
}

TEST_F(TsoRun, WhatCannotLeadGoesAlone) {
    for (int f : {tcp_flag::syn | tcp_flag::ack, tcp_flag::rst | tcp_flag::ack, tcp_flag::fin | tcp_flag::ack,
                  tcp_flag::ack | tcp_flag::cwr, 0}) {
        line(4);
        segs[0].flags = static_cast<std::uint8_t>(f);
        EXPECT_EQ(run(), 1u) << f;
    }
    line(4);
    segs[0].payload = std::span<const std::uint8_t>();  // a pure ACK
    EXPECT_EQ(run(), 1u);
    segs.clear();
    EXPECT_EQ(run(), 0u);
}

TEST_F(TsoRun, AnOddCutGoesAloneWhereThePortNeedsAnEvenOne) {
    line(6, 1203);  // a path MTU probe's size
    EXPECT_EQ(run(), 6u);
    EXPECT_EQ(run({.even_cut = true}), 1u);
    line(6, 1434);
    EXPECT_EQ(run({.even_cut = true}), 6u);
}

TEST_F(TsoRun, TheLimitsCapARun) {
    line(64);
    EXPECT_EQ(run(), 45u);  // 45 x 1448 = 65160 <= 65455 < 46 x 1448
    EXPECT_EQ(run({.max_bytes = 0xffff, .max_segments = 10}), 10u);
    line(100, 256);
    EXPECT_EQ(run(), 64u);
}

// Segments under 256 bytes (a peer's tiny MSS) go alone: some NICs refuse
// to cut so small (i40e, iavf, hns3).
TEST_F(TsoRun, ACutUnderTheMinimumGoesAlone) {
    line(10, 255);
    EXPECT_EQ(run(), 1u);
    EXPECT_EQ(run({.min_cut = 64}), 10u);
}

// The header: IPv4 length for the whole, IPv4 checksum 0, and the TCP
// checksum field the pseudo-header sum without the length, as
// rte_ipv4_phdr_cksum() gives it for RTE_MBUF_F_TX_TCP_SEG.
TEST_F(TsoRun, TheHeaderLeavesLengthsAndChecksumsToThePort) {
    line(3);
    std::uint8_t out[80];
    auto h = serialize_tso_header(segs[0], tso_flags(segs), 3 * 1448, out, 42);
    ASSERT_TRUE(h.ok());
    EXPECT_EQ(*h, 20u + 32u);
    EXPECT_EQ(load_be16(out + 2), 20 + 32 + 3 * 1448);
    EXPECT_EQ(load_be16(out + 4), 42);
    EXPECT_EQ(load_be16(out + 10), 0);
    EXPECT_EQ(load_be32(out + 24), 1000u);
    EXPECT_EQ(load_be16(out + 20 + 16), checksum::fold(checksum::pseudo_header(kHostB, kHostA, ipproto::tcp, 0)));
    EXPECT_FALSE(serialize_tso_header(segs[0], tcp_flag::ack, 0xffff, out, 0).ok());  // past the length field
}

}  // namespace
}  // namespace tcpfp::tcp::test
