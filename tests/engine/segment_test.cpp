// serialize() (tcp/engine/segment.hpp) on transmit: the payload comes from
// the send buffer in pieces (one per chunk it spans), is copied into the
// frame and summed in the same pass. Whatever the pieces' lengths, the frame
// must be the one a single-piece payload gives, and its checksum must verify
// as a receiver checks it (parse_tcp_checked, RFC 9293 §3.1 MUST-3).
#include <gtest/gtest.h>

#include <numeric>
#include <random>
#include <vector>

#include "tcp/engine/segment.hpp"
#include "tcp/wire/bytes.hpp"
#include "tcp/wire/checksum.hpp"
#include "tcp/wire/ipv4.hpp"
#include "tcp/wire/tcp.hpp"

namespace tcpfp::tcp {
namespace {

using namespace wire;

OutSegment data_segment() {
    OutSegment s;
    s.tuple = {Ipv4Addr::from_octets(172, 16, 48, 13), Ipv4Addr::from_octets(172, 16, 48, 1), 40001, 5002};
    s.seq = SeqNum(0x12345678);
    s.ack = SeqNum(0x9abcdef0);
    s.flags = tcp_flag::ack | tcp_flag::psh;
    s.window = 502;
    s.ttl = 64;
    s.options.has_timestamps = true;  // NOP, NOP, Timestamps: 12 bytes, as the seed's FIN carries
    s.options.ts_val = 1000;
    s.options.ts_ecr = 2000;
    return s;
}

TEST(Serialize, APayloadInPiecesOfAnyLengthGetsTheFrameAndChecksumOfOnePiece) {
    std::mt19937 rng(9293);
    std::vector<std::uint8_t> data(3000);
    for (auto& b : data) b = static_cast<std::uint8_t>(rng());
    for (int round = 0; round < 500; ++round) {
        const std::size_t len = 1 + rng() % 1460;
        const std::size_t from = rng() % (data.size() - len);
        OutSegment one = data_segment();
        one.payload = std::span<const std::uint8_t>(data).subspan(from, len);
        // The same bytes cut into up to kMax pieces, odd lengths included.
        OutSegment cut = data_segment();
        std::size_t at = from;
        const std::size_t pieces = 1 + rng() % PayloadParts::kMax;
        for (std::size_t i = 0; i < pieces && at < from + len; ++i) {
            const std::size_t left = from + len - at;
            const std::size_t n = i + 1 == pieces ? left : std::min<std::size_t>(left, 1 + rng() % 400);
            cut.payload.part[cut.payload.count++] = std::span<const std::uint8_t>(data).subspan(at, n);
            cut.payload.bytes += static_cast<std::uint32_t>(n);
            at += n;
        }
        ASSERT_EQ(cut.payload.bytes, len);

        std::vector<std::uint8_t> want(1600), got(1600);
        auto wn = serialize(one, want, 7);
        auto gn = serialize(cut, got, 7);
        ASSERT_TRUE(wn.ok() && gn.ok());
        ASSERT_EQ(*gn, *wn);
        want.resize(*wn);
        got.resize(*gn);
        ASSERT_EQ(got, want) << "round " << round << ", " << int(cut.payload.count) << " pieces";
        auto ip = parse_ipv4_checked(got);
        ASSERT_TRUE(ip.ok());
        auto tcp = parse_tcp_checked(ip->payload(), ip->src(), ip->dst());
        ASSERT_TRUE(tcp.ok()) << "round " << round << ": the checksum does not verify";
        ASSERT_TRUE(std::equal(tcp->payload().begin(), tcp->payload().end(), data.begin() + from));
    }
}

// With the NIC computing the checksum, the payload is copied and the TCP
// checksum field holds the pseudo-header sum only, as before.
TEST(Serialize, OffloadModeLeavesThePseudoHeaderSumAndCopiesThePayload) {
    std::vector<std::uint8_t> data(777);
    std::iota(data.begin(), data.end(), 0);
    OutSegment s = data_segment();
    s.payload.part[0] = std::span<const std::uint8_t>(data).first(333);
    s.payload.part[1] = std::span<const std::uint8_t>(data).subspan(333);
    s.payload.count = 2;
    s.payload.bytes = 777;
    std::vector<std::uint8_t> out(1600);
    auto n = serialize(s, out, 1, ChecksumMode::offload);
    ASSERT_TRUE(n.ok());
    const std::size_t tcp_len = *n - 20;
    const std::uint16_t ph = checksum::fold(checksum::pseudo_header(s.tuple.local_ip, s.tuple.remote_ip,
                                                                    ipproto::tcp, static_cast<std::uint16_t>(tcp_len)));
    EXPECT_EQ(load_be16(&out[20 + 16]), ph);
    EXPECT_TRUE(std::equal(data.begin(), data.end(), out.begin() + static_cast<std::ptrdiff_t>(*n - 777)));
}

}  // namespace
}  // namespace tcpfp::tcp
