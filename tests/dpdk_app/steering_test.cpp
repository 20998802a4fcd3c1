// Flow ownership (dpdk_app/steering.cpp; rte_thash is header-only, no EAL):
// an ICMP error quoting a segment we sent goes to the worker that owns the
// quoted connection, whichever worker received it.
#include <gtest/gtest.h>

#include <vector>

#include "dpdk_app/steering.hpp"
#include "tcp/engine/segment.hpp"
#include "tcp/wire/icmp.hpp"
#include "tcp/wire/ipv4.hpp"

namespace tcpfp::app {
namespace {

using wire::Ipv4Addr;

std::vector<std::uint8_t> segment_from_us(const tcp::FourTuple& t) {
    tcp::OutSegment s;
    s.tuple = t;  // local -> remote: a segment we sent
    s.flags = wire::tcp_flag::ack;
    std::vector<std::uint8_t> out(60);
    out.resize(*tcp::serialize(s, out));
    return out;
}

std::vector<std::uint8_t> icmp_error_about(const std::vector<std::uint8_t>& quoted, std::uint8_t type) {
    std::vector<std::uint8_t> out(20 + 8 + 28);
    const auto n = *wire::emit_icmp_error(type, 0, 0, quoted, std::span(out).subspan(20));
    wire::Ipv4Repr ip;
    ip.src = Ipv4Addr::from_octets(10, 9, 8, 7);  // a router: hashes anywhere
    ip.dst = Ipv4Addr::from_octets(172, 16, 48, 2);
    ip.protocol = wire::ipproto::icmp;
    ip.payload_len = static_cast<std::uint16_t>(n);
    (void)wire::emit_ipv4(ip, out);
    out.resize(20 + n);
    return out;
}

TEST(Steering, AnIcmpErrorGoesToTheOwnerOfTheQuotedConnection) {
    Steering s;
    s.configure(SteerMode::software, 4);
    unsigned seen[4] = {};
    for (std::uint16_t port = 40000; port < 40400; ++port) {
        const tcp::FourTuple t{Ipv4Addr::from_octets(172, 16, 48, 2), Ipv4Addr::from_octets(172, 16, 48, 1),
                               port, 80};
        const unsigned owner = s.owner(t);
        ++seen[owner];
        for (const int type : {3, 4, 11, 12}) {
            const auto icmp = icmp_error_about(segment_from_us(t), static_cast<std::uint8_t>(type));
            ASSERT_EQ(s.owner_of_packet(icmp, 99), owner) << "port " << port << " type " << type;
        }
    }
    for (unsigned w = 0; w < 4; ++w) EXPECT_GT(seen[w], 0u) << "worker " << w;  // the test spans them all
}

TEST(Steering, EchoAndUnreadableIcmpStayWhereTheyArrived) {
    Steering s;
    s.configure(SteerMode::software, 4);
    const tcp::FourTuple t{Ipv4Addr::from_octets(172, 16, 48, 2), Ipv4Addr::from_octets(172, 16, 48, 1), 40000, 80};
    auto icmp = icmp_error_about(segment_from_us(t), 3);
    icmp[20] = 8;  // an echo request
    EXPECT_EQ(s.owner_of_packet(icmp, 2), 2u);
    auto cut = icmp_error_about(segment_from_us(t), 3);
    cut.resize(20 + 8 + 12);  // quote cut inside its header
    EXPECT_EQ(s.owner_of_packet(cut, 3), 3u);
}

}  // namespace
}  // namespace tcpfp::app
