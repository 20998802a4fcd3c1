#include "tcp/table/listener_table.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <map>
#include <tuple>

namespace tcpfp::tcp {
namespace {

using wire::Ipv4Addr;
const Ipv4Addr kAny{};
const Ipv4Addr kA = Ipv4Addr::from_octets(10, 0, 0, 1);
const Ipv4Addr kB = Ipv4Addr::from_octets(10, 0, 0, 2);

TEST(ListenerTable, ExactBindingBeatsWildcard) {
    ListenerTable t(16);
    ASSERT_EQ(t.insert(kAny, 80, 1), InsertResult::inserted);
    ASSERT_EQ(t.insert(kA, 80, 2), InsertResult::inserted);
    EXPECT_EQ(t.lookup(kA, 80), 2u);  // exact
    EXPECT_EQ(t.lookup(kB, 80), 1u);  // falls back to ANY
    EXPECT_EQ(t.lookup(kA, 81), std::nullopt);
    EXPECT_EQ(t.find_exact(kAny, 80), 1u);
    EXPECT_EQ(t.find_exact(kB, 80), std::nullopt);
}

TEST(ListenerTable, WildcardOnlyAndSpecificOnly) {
    ListenerTable t(16);
    ASSERT_EQ(t.insert(kAny, 22, 5), InsertResult::inserted);
    EXPECT_EQ(t.lookup(kA, 22), 5u);
    EXPECT_EQ(t.lookup(kB, 22), 5u);
    EXPECT_EQ(t.lookup(kAny, 22), 5u);

    ListenerTable s(16);
    ASSERT_EQ(s.insert(kA, 22, 6), InsertResult::inserted);
    EXPECT_EQ(s.lookup(kA, 22), 6u);
    EXPECT_EQ(s.lookup(kB, 22), std::nullopt);  // no wildcard to fall back to
}

TEST(ListenerTable, DuplicateKeyIsExists) {
    ListenerTable t(16);
    ASSERT_EQ(t.insert(kA, 443, 1), InsertResult::inserted);
    EXPECT_EQ(t.insert(kA, 443, 2), InsertResult::exists);
    EXPECT_EQ(t.lookup(kA, 443), 1u);
    ASSERT_EQ(t.insert(kAny, 443, 3), InsertResult::inserted);  // different key
    EXPECT_EQ(t.insert(kAny, 443, 4), InsertResult::exists);
    EXPECT_EQ(t.size(), 2u);
}

TEST(ListenerTable, EraseRestoresFallback) {
    ListenerTable t(16);
    ASSERT_EQ(t.insert(kAny, 80, 1), InsertResult::inserted);
    ASSERT_EQ(t.insert(kA, 80, 2), InsertResult::inserted);
    EXPECT_TRUE(t.erase(kA, 80));
    EXPECT_FALSE(t.erase(kA, 80));
    EXPECT_EQ(t.lookup(kA, 80), 1u);
    EXPECT_TRUE(t.erase(kAny, 80));
    EXPECT_EQ(t.lookup(kA, 80), std::nullopt);
    EXPECT_TRUE(t.empty());
    // And back again, after the counts went to zero.
    ASSERT_EQ(t.insert(kA, 80, 3), InsertResult::inserted);
    EXPECT_EQ(t.lookup(kA, 80), 3u);
    EXPECT_TRUE(t.update(kA, 80, 4));
    EXPECT_EQ(t.lookup(kA, 80), 4u);
}

TEST(ListenerTable, FullAndClear) {
    ListenerTable t(2);
    ASSERT_EQ(t.insert(kAny, 1, 1), InsertResult::inserted);
    ASSERT_EQ(t.insert(kA, 1, 2), InsertResult::inserted);
    EXPECT_EQ(t.insert(kB, 1, 3), InsertResult::full);
    EXPECT_EQ(t.insert(kA, 1, 3), InsertResult::exists);
    EXPECT_EQ(t.max_listeners(), 2u);
    t.clear();
    EXPECT_EQ(t.lookup(kA, 1), std::nullopt);
    EXPECT_EQ(t.insert(kB, 1, 3), InsertResult::inserted);
    EXPECT_EQ(t.lookup(kB, 1), 3u);
}

// Every port on ANY plus every port on two addresses: 3 * 65536 listeners.
TEST(ListenerTable, AllPortsManyAddresses) {
    ListenerTable t(3 * 65536);
    for (std::uint32_t p = 0; p < 65536; ++p) {
        const auto port = static_cast<std::uint16_t>(p);
        ASSERT_EQ(t.insert(kAny, port, p), InsertResult::inserted);
        ASSERT_EQ(t.insert(kA, port, 100000 + p), InsertResult::inserted);
        ASSERT_EQ(t.insert(kB, port, 200000 + p), InsertResult::inserted);
    }
    const Ipv4Addr other = Ipv4Addr::from_octets(10, 0, 0, 3);
    for (std::uint32_t p = 0; p < 65536; ++p) {
        const auto port = static_cast<std::uint16_t>(p);
        ASSERT_EQ(t.lookup(kA, port), 100000 + p);
        ASSERT_EQ(t.lookup(kB, port), 200000 + p);
        ASSERT_EQ(t.lookup(other, port), p);
    }
    std::map<std::tuple<std::uint32_t, std::uint16_t>, std::uint32_t> seen;
    t.for_each([&](Ipv4Addr a, std::uint16_t port, std::uint32_t v) { seen[{a.value, port}] = v; });
    EXPECT_EQ(seen.size(), 3 * 65536u);
    EXPECT_EQ((seen[{kB.value, 7}]), 200007u);
}

}  // namespace
}  // namespace tcpfp::tcp
