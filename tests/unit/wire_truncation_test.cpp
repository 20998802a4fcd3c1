// Every valid fixture, cut at every byte offset, must give an error (never a
// crash or an out-of-bounds read: ASan watches this test). The parse chain is
// the receive path's: Ethernet, then ARP or IPv4, then ICMP or TCP and its
// options. Each cut copies into an exact-size heap vector so ASan sees any
// read past its end.
#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

#include "fixtures/linux_frames.hpp"
#include "fixtures/seed_segments.hpp"
#include "tcp/wire/arp.hpp"
#include "tcp/wire/ethernet.hpp"
#include "tcp/wire/icmp.hpp"
#include "tcp/wire/ipv4.hpp"
#include "tcp/wire/tcp.hpp"
#include "tcp/wire/tcp_options.hpp"

namespace tcpfp::wire {
namespace {

namespace lc = fixtures::linux_capture;
using Bytes = std::vector<std::uint8_t>;

// Runs the full receive chain and returns the first error, or none.
WireError parse_frame(std::span<const std::uint8_t> frame) {
    auto eth = parse_ethernet(frame);
    if (!eth) return eth.error();
    if (eth->ethertype == ethertype::arp) {
        // ARP has no length field: a frame is complete once it holds 28 bytes.
        return parse_arp(eth->payload).error();
    }
    auto ip = parse_ipv4_checked(eth->payload);
    if (!ip) return ip.error();
    if (ip->protocol() == ipproto::icmp) return parse_icmp_echo(ip->payload()).error();
    auto tcp = parse_tcp_checked(ip->payload(), ip->src(), ip->dst());
    if (!tcp) return tcp.error();
    return parse_tcp_options(tcp->options()).error();
}

struct Fixture {
    const char* name;
    const Bytes* frame;
};

class TruncatedFrame : public ::testing::TestWithParam<Fixture> {};

TEST_P(TruncatedFrame, EveryCutIsAnError) {
    const Bytes& frame = *GetParam().frame;
    ASSERT_EQ(parse_frame(frame), WireError::none) << "the fixture itself must parse";
    for (std::size_t cut = 0; cut < frame.size(); ++cut) {
        const Bytes buf(frame.begin(), frame.begin() + static_cast<std::ptrdiff_t>(cut));
        const auto err = parse_frame(buf);
        EXPECT_NE(err, WireError::none) << GetParam().name << " cut at " << cut;
    }
}

INSTANTIATE_TEST_SUITE_P(
    Linux, TruncatedFrame,
    ::testing::Values(Fixture{"arp_request", &lc::arp_request},
                      Fixture{"arp_reply", &lc::arp_reply},
                      Fixture{"icmp_echo_request", &lc::icmp_echo_request},
                      Fixture{"icmp_echo_reply", &lc::icmp_echo_reply},
                      Fixture{"tcp_syn", &lc::tcp_syn}, Fixture{"tcp_syn_ack", &lc::tcp_syn_ack},
                      Fixture{"tcp_data", &lc::tcp_data},
                      Fixture{"tcp_fin_ack", &lc::tcp_fin_ack}),
    [](const auto& p) { return std::string(p.param.name); });

// The bare seed segments: every cut of the TCP header fails to parse or to
// verify its checksum.
TEST(TruncatedSegment, SeedSegments) {
    for (const Bytes* seg : {&fixtures::seed::fin_ack, &fixtures::seed::ack}) {
        const bool from_client = seg == &fixtures::seed::fin_ack;
        const auto src = from_client ? fixtures::seed::kClient : fixtures::seed::kServer;
        const auto dst = from_client ? fixtures::seed::kServer : fixtures::seed::kClient;
        ASSERT_TRUE(parse_tcp_checked(*seg, src, dst));
        for (std::size_t cut = 0; cut < seg->size(); ++cut) {
            const Bytes buf(seg->begin(), seg->begin() + static_cast<std::ptrdiff_t>(cut));
            EXPECT_FALSE(parse_tcp_checked(buf, src, dst).ok()) << "cut " << cut;
        }
    }
}

// Cutting the option block itself (as a bad data offset would expose it)
// gives an option error for every cut that splits an option.
TEST(TruncatedOptions, LinuxSynOptionsEveryCut) {
    const Bytes opts(lc::tcp_syn.begin() + 54, lc::tcp_syn.end());
    ASSERT_EQ(opts.size(), 20u);
    // Option boundaries: mss [0,4) sackOK [4,6) TS [6,16) nop [16] ws [17,20).
    const std::size_t boundaries[] = {0, 4, 6, 16, 17, 20};
    for (std::size_t cut = 0; cut <= opts.size(); ++cut) {
        const Bytes buf(opts.begin(), opts.begin() + static_cast<std::ptrdiff_t>(cut));
        const bool at_boundary =
            std::find(std::begin(boundaries), std::end(boundaries), cut) != std::end(boundaries);
        EXPECT_EQ(parse_tcp_options(buf).ok(), at_boundary) << "cut " << cut;
    }
}

}  // namespace
}  // namespace tcpfp::wire
