// `set verbose`'s segment line (dpdk_app/cli/trace.cpp): the tcpdump -n
// format, every option kind, and malformed input described, never overread.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "dpdk_app/cli/trace.hpp"
#include "tcp/engine/segment.hpp"

namespace tcpfp::app::cli {
namespace {

using tcp::OutSegment;
namespace flag = wire::tcp_flag;

std::vector<std::uint8_t> packet(const OutSegment& s) {
    std::vector<std::uint8_t> out(20 + 60 + s.payload_len());
    auto n = tcp::serialize(s, out);
    EXPECT_TRUE(n.ok());
    out.resize(n.ok() ? *n : 0);
    return out;
}

std::string line(const char* dir, std::span<const std::uint8_t> p) {
    char buf[512];
    const std::size_t n = describe_segment(dir, p, buf, sizeof buf);
    return std::string(buf, n);
}

OutSegment base() {
    OutSegment s;
    s.tuple = tcp::FourTuple{wire::Ipv4Addr::from_octets(172, 16, 48, 1),
                             wire::Ipv4Addr::from_octets(172, 16, 48, 13), 5002, 40000};
    s.seq = wire::SeqNum(1);
    s.ack = wire::SeqNum(2);
    s.window = 65535;
    return s;
}

TEST(Trace, SynAckWithOptionsLikeTcpdump) {
    OutSegment s = base();
    s.flags = flag::syn | flag::ack;
    s.options.has_mss = true;
    s.options.mss = 1460;
    s.options.sack_permitted = true;
    s.options.has_timestamps = true;
    s.options.ts_val = 1;
    s.options.ts_ecr = 2;
    s.options.has_wscale = true;
    s.options.wscale = 7;
    EXPECT_EQ(line("IN", packet(s)),
              "IN  172.16.48.1.5002 > 172.16.48.13.40000: Flags [S.], seq 1, ack 2, win 65535, "
              "options [mss 1460,sackOK,TS val 1 ecr 2,nop,wscale 7], length 0");
}

TEST(Trace, DataShowsTheSequenceRange) {
    OutSegment s = base();
    s.flags = flag::psh | flag::ack;
    const std::uint8_t data[5] = {'h', 'e', 'l', 'l', 'o'};
    s.payload = data;
    s.seq = wire::SeqNum(0xfffffffe);  // wraps
    EXPECT_EQ(line("OUT", packet(s)),
              "OUT 172.16.48.1.5002 > 172.16.48.13.40000: Flags [P.], seq 4294967294:3, ack 2, "
              "win 65535, length 5");
}

TEST(Trace, RstAndFinAndSack) {
    OutSegment s = base();
    s.flags = flag::rst;
    EXPECT_EQ(line("OUT", packet(s)),
              "OUT 172.16.48.1.5002 > 172.16.48.13.40000: Flags [R], seq 1, win 65535, length 0");
    s.flags = flag::fin | flag::ack;
    s.options.sack_count = 1;
    s.options.sack[0] = {wire::SeqNum(10), wire::SeqNum(20)};
    EXPECT_EQ(line("IN", packet(s)),
              "IN  172.16.48.1.5002 > 172.16.48.13.40000: Flags [F.], seq 1, ack 2, win 65535, "
              "options [nop,nop,sack 1 {10:20}], length 0");
}

TEST(Trace, MalformedInputIsNamedNotOverread) {
    OutSegment s = base();
    s.flags = flag::ack;
    auto p = packet(s);
    EXPECT_EQ(line("IN", std::span(p).first(10)), "IN  malformed IPv4 packet, 10 bytes");
    p[32] = 0xf0;  // TCP data offset 60 bytes > the segment
    EXPECT_EQ(line("IN", p), "IN  malformed TCP segment, 20 bytes");
    char small[16];
    EXPECT_EQ(describe_segment("IN", packet(base()), small, sizeof small), 15u);  // cut, terminated
    EXPECT_EQ(small[15], '\0');
}

}  // namespace
}  // namespace tcpfp::app::cli
