#include <gtest/gtest.h>

#include <vector>

#include "fixtures/linux_frames.hpp"
#include "tcp/wire/arp.hpp"
#include "tcp/wire/ethernet.hpp"

namespace tcpfp::wire {
namespace {

namespace lc = fixtures::linux_capture;

const MacAddr kMacA{{0x02, 0, 0, 0, 0, 0x01}};
const MacAddr kMacB{{0x02, 0, 0, 0, 0, 0x0d}};

TEST(Ethernet, ParsesLinuxArpRequest) {
    auto f = parse_ethernet(lc::arp_request);
    ASSERT_TRUE(f) << name(f.error());
    EXPECT_TRUE(f->dst.is_broadcast());
    EXPECT_EQ(f->src, kMacB);
    EXPECT_EQ(f->ethertype, ethertype::arp);
    EXPECT_EQ(f->header_len, 14);
    EXPECT_EQ(f->vlan_tags, 0);
    EXPECT_EQ(f->payload.size(), 28u);
}

TEST(Ethernet, EmitRoundTrips) {
    std::vector<std::uint8_t> out(14);
    auto n = emit_ethernet({kMacB, kMacA, ethertype::ipv4}, out);
    ASSERT_TRUE(n);
    EXPECT_EQ(*n, 14u);
    EXPECT_TRUE(std::equal(out.begin(), out.end(), lc::icmp_echo_reply.begin()));
    std::vector<std::uint8_t> small(13);
    EXPECT_EQ(emit_ethernet({kMacB, kMacA, ethertype::ipv4}, small).error(),
              WireError::buffer_too_small);
}

// A frame with one 802.1Q tag (VID 48) and one with 802.1ad + 802.1Q
// (QinQ), built from the Linux ARP request by inserting the tags.
std::vector<std::uint8_t> tagged(std::initializer_list<std::uint16_t> tpid_tci_pairs) {
    std::vector<std::uint8_t> f(lc::arp_request.begin(), lc::arp_request.begin() + 12);
    for (auto v : tpid_tci_pairs) {
        f.push_back(static_cast<std::uint8_t>(v >> 8));
        f.push_back(static_cast<std::uint8_t>(v));
    }
    f.insert(f.end(), lc::arp_request.begin() + 12, lc::arp_request.end());
    return f;
}

TEST(Ethernet, SkipsVlanTagsByPolicy) {
    const auto one = tagged({0x8100, 0x0030});
    auto f = parse_ethernet(one, VlanPolicy::skip);
    ASSERT_TRUE(f);
    EXPECT_EQ(f->vlan_tags, 1);
    EXPECT_EQ(f->vlan_tci, 0x0030);
    EXPECT_EQ(f->ethertype, ethertype::arp);
    EXPECT_EQ(f->header_len, 18);
    EXPECT_TRUE(parse_arp(f->payload));

    const auto two = tagged({0x88a8, 0x0064, 0x8100, 0x0030});
    f = parse_ethernet(two, VlanPolicy::skip);
    ASSERT_TRUE(f);
    EXPECT_EQ(f->vlan_tags, 2);
    EXPECT_EQ(f->vlan_tci, 0x0030);  // innermost
    EXPECT_EQ(f->header_len, 22);
    EXPECT_EQ(f->ethertype, ethertype::arp);
}

TEST(Ethernet, DropsVlanTagsByPolicy) {
    EXPECT_EQ(parse_ethernet(tagged({0x8100, 0x0030}), VlanPolicy::drop).error(),
              WireError::eth_vlan_dropped);
    EXPECT_EQ(parse_ethernet(tagged({0x88a8, 1, 0x8100, 2}), VlanPolicy::drop).error(),
              WireError::eth_vlan_dropped);
}

TEST(Ethernet, RejectsThreeTags) {
    EXPECT_EQ(parse_ethernet(tagged({0x88a8, 1, 0x8100, 2, 0x8100, 3})).error(),
              WireError::eth_vlan_too_deep);
}

TEST(Ethernet, TruncatedTag) {
    auto f = tagged({0x8100, 0x0030});
    f.resize(16);  // TPID + TCI but no inner EtherType
    EXPECT_EQ(parse_ethernet(f).error(), WireError::eth_truncated);
}

TEST(Arp, ParsesLinuxRequestAndReply) {
    auto req = parse_arp(parse_ethernet(lc::arp_request)->payload);
    ASSERT_TRUE(req);
    EXPECT_EQ(req->op, ArpOp::request);
    EXPECT_EQ(req->sender_mac, kMacB);
    EXPECT_EQ(req->sender_ip, Ipv4Addr::from_octets(172, 16, 48, 13));
    EXPECT_TRUE(req->target_mac.is_zero());
    EXPECT_EQ(req->target_ip, Ipv4Addr::from_octets(172, 16, 48, 1));

    auto rep = parse_arp(parse_ethernet(lc::arp_reply)->payload);
    ASSERT_TRUE(rep);
    EXPECT_EQ(rep->op, ArpOp::reply);
    EXPECT_EQ(rep->sender_mac, kMacA);
    EXPECT_EQ(rep->sender_ip, Ipv4Addr::from_octets(172, 16, 48, 1));
    EXPECT_EQ(rep->target_mac, kMacB);
}

// Building Linux's reply from its fields reproduces the captured frame.
TEST(Arp, EmitReproducesLinuxReplyFrame) {
    const ArpRepr reply{ArpOp::reply, kMacA, Ipv4Addr::from_octets(172, 16, 48, 1), kMacB,
                        Ipv4Addr::from_octets(172, 16, 48, 13)};
    std::vector<std::uint8_t> frame(42);
    ASSERT_TRUE(emit_ethernet({kMacB, kMacA, ethertype::arp}, frame));
    auto n = emit_arp(reply, std::span(frame).subspan(14));
    ASSERT_TRUE(n);
    EXPECT_EQ(*n, kArpLen);
    EXPECT_EQ(frame, lc::arp_reply);
}

struct ArpBadCase {
    const char* what;
    std::size_t offset;
    std::uint8_t value;
    WireError expected;
};

class ArpRejects : public ::testing::TestWithParam<ArpBadCase> {};

TEST_P(ArpRejects, FieldMutation) {
    const auto& c = GetParam();
    std::vector<std::uint8_t> body(lc::arp_request.begin() + 14, lc::arp_request.end());
    body[c.offset] = c.value;
    EXPECT_EQ(parse_arp(body).error(), c.expected) << c.what;
}

INSTANTIATE_TEST_SUITE_P(
    Table, ArpRejects,
    ::testing::Values(ArpBadCase{"htype 6 (IEEE 802)", 1, 6, WireError::arp_unsupported_format},
                      ArpBadCase{"ptype 0x86dd", 2, 0x86, WireError::arp_unsupported_format},
                      ArpBadCase{"hlen 8", 4, 8, WireError::arp_unsupported_format},
                      ArpBadCase{"plen 16", 5, 16, WireError::arp_unsupported_format},
                      ArpBadCase{"op 3 (RARP)", 7, 3, WireError::arp_bad_opcode},
                      ArpBadCase{"op 0", 7, 0, WireError::arp_bad_opcode}));

TEST(Arp, IgnoresEthernetPadding) {
    std::vector<std::uint8_t> body(lc::arp_request.begin() + 14, lc::arp_request.end());
    body.resize(46, 0);  // padded to the 60-byte minimum frame
    EXPECT_TRUE(parse_arp(body));
}

}  // namespace
}  // namespace tcpfp::wire
