#include <gtest/gtest.h>

#include "tcp/wire/addr.hpp"
#include "tcp/wire/errors.hpp"

namespace tcpfp::wire {
namespace {

TEST(Ipv4Addr, ParsesAndFormats) {
    const auto a = Ipv4Addr::parse("172.16.48.13");
    ASSERT_TRUE(a);
    EXPECT_EQ(a->value, 0xac10300du);
    EXPECT_EQ(a->to_string(), "172.16.48.13");
    EXPECT_EQ(Ipv4Addr::parse("0.0.0.0")->value, 0u);
    EXPECT_EQ(Ipv4Addr::parse("255.255.255.255")->value, 0xffffffffu);
}

TEST(Ipv4Addr, RejectsMalformed) {
    for (const char* bad : {"", "1.2.3", "1.2.3.4.5", "256.1.1.1", "1.2.3.", ".1.2.3", "1..2.3",
                            "a.b.c.d", "1.2.3.4 ", "-1.2.3.4", "1.2.3.0004", "1,2,3,4"}) {
        EXPECT_FALSE(Ipv4Addr::parse(bad)) << bad;
    }
}

TEST(Ipv4Addr, Classes) {
    EXPECT_TRUE(Ipv4Addr::from_octets(224, 0, 0, 1).is_multicast());
    EXPECT_TRUE(Ipv4Addr::from_octets(239, 255, 255, 255).is_multicast());
    EXPECT_FALSE(Ipv4Addr::from_octets(240, 0, 0, 1).is_multicast());
    EXPECT_TRUE(Ipv4Addr::from_octets(255, 255, 255, 255).is_broadcast());
    EXPECT_TRUE(Ipv4Addr::from_octets(127, 0, 0, 1).is_loopback());
    EXPECT_TRUE(Ipv4Addr{}.is_unspecified());
}

TEST(MacAddr, ParsesAndFormats) {
    const auto m = MacAddr::parse("02:00:00:AB:cd:0f");
    ASSERT_TRUE(m);
    EXPECT_EQ(m->to_string(), "02:00:00:ab:cd:0f");
    EXPECT_FALSE(m->is_multicast());
    EXPECT_TRUE(MacAddr::parse("01:00:5e:00:00:01")->is_multicast());
    EXPECT_TRUE(MacAddr::broadcast().is_broadcast());
    for (const char* bad : {"", "02:00:00:00:00", "02-00-00-00-00-01", "02:00:00:00:00:0g",
                            "02:00:00:00:00:001"}) {
        EXPECT_FALSE(MacAddr::parse(bad)) << bad;
    }
}

TEST(WireError, EveryReasonHasANameAndDescription) {
    for (std::size_t i = 0; i < kWireErrorCount; ++i) {
        const auto e = static_cast<WireError>(i);
        EXPECT_STRNE(name(e), "unknown");
        EXPECT_STRNE(describe(e), "unknown wire error");
    }
    EXPECT_STREQ(name(WireError::ip_bad_checksum), "ip_bad_checksum");
}

}  // namespace
}  // namespace tcpfp::wire
