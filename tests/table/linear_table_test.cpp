// The open-addressing core with a hash the test controls: each key names its
// home bucket, so probe chains, wrap-around and backward shift are exact.
#include "tcp/table/linear_table.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <map>
#include <memory_resource>
#include <random>
#include <vector>

namespace tcpfp::tcp::detail {
namespace {

struct Key {
    std::uint32_t id = 0;
    std::uint32_t home = 0;
};

// 8 max entries -> 16 buckets -> the home bucket is hash >> 60.
constexpr std::size_t kMax = 8;
constexpr std::size_t kBuckets = 16;
struct HomeHasher {
    std::uint64_t operator()(const Key& k) const { return std::uint64_t{k.home} << 60; }
};
using Table = LinearTable<Key, HomeHasher>;

Table make() {
    return Table(kMax, HomeHasher{}, std::pmr::get_default_resource());
}

TEST(LinearTable, HomeBucketIsTopHashBits) {
    Table t = make();
    ASSERT_EQ(t.bucket_count(), kBuckets);
    EXPECT_EQ(t.insert(Key{1, 5}, 10), InsertResult::inserted);
    EXPECT_EQ(t.slot_of(Key{1, 5}), 5u);
    EXPECT_EQ(t.max_probe_length(), 1u);
}

TEST(LinearTable, CollisionsProbeLinearly) {
    Table t = make();
    for (std::uint32_t i = 0; i < 4; ++i) ASSERT_EQ(t.insert(Key{i, 3}, i), InsertResult::inserted);
    for (std::uint32_t i = 0; i < 4; ++i) EXPECT_EQ(t.slot_of(Key{i, 3}), 3u + i);
    EXPECT_EQ(t.max_probe_length(), 4u);
    EXPECT_DOUBLE_EQ(t.mean_probe_length(), 2.5);
    // A miss with the same home walks the chain and stops at bucket 7.
    EXPECT_EQ(t.find(Key{9, 3}, t.hash(Key{9, 3})), kNoValue);
}

TEST(LinearTable, ChainWrapsPastLastBucket) {
    Table t = make();
    for (std::uint32_t i = 0; i < 4; ++i)
        ASSERT_EQ(t.insert(Key{i, 14}, i), InsertResult::inserted);
    EXPECT_EQ(t.slot_of(Key{0, 14}), 14u);
    EXPECT_EQ(t.slot_of(Key{1, 14}), 15u);
    EXPECT_EQ(t.slot_of(Key{2, 14}), 0u);
    EXPECT_EQ(t.slot_of(Key{3, 14}), 1u);
    // An entry whose home is bucket 0 lands after the wrapped chain.
    ASSERT_EQ(t.insert(Key{7, 0}, 7), InsertResult::inserted);
    EXPECT_EQ(t.slot_of(Key{7, 0}), 2u);

    // Erase at the end of the array: the wrapped entries shift back across it.
    ASSERT_TRUE(t.erase(Key{1, 14}));
    EXPECT_EQ(t.slot_of(Key{2, 14}), 15u);
    EXPECT_EQ(t.slot_of(Key{3, 14}), 0u);
    EXPECT_EQ(t.slot_of(Key{7, 0}), 1u);
    for (std::uint32_t i : {0u, 2u, 3u}) {
        EXPECT_EQ(t.find(Key{i, 14}, t.hash(Key{i, 14})), i);
    }
    EXPECT_EQ(t.find(Key{7, 0}, t.hash(Key{7, 0})), 7u);
    EXPECT_EQ(t.max_probe_length(), 3u);
}

// Erasing from the middle of a chain moves later entries back only when
// their home allows it: an entry already at its home must stay.
TEST(LinearTable, EraseMidChainShiftsOnlyMovableEntries) {
    Table t = make();
    // Buckets 4..8: A(4) B(4) C(6) D(4) E(7)... built in insertion order.
    ASSERT_EQ(t.insert(Key{1, 4}, 1), InsertResult::inserted);  // A -> 4
    ASSERT_EQ(t.insert(Key{2, 4}, 2), InsertResult::inserted);  // B -> 5
    ASSERT_EQ(t.insert(Key{3, 6}, 3), InsertResult::inserted);  // C -> 6 (home)
    ASSERT_EQ(t.insert(Key{4, 4}, 4), InsertResult::inserted);  // D -> 7
    ASSERT_EQ(t.insert(Key{5, 8}, 5), InsertResult::inserted);  // E -> 8 (home)
    ASSERT_EQ(t.insert(Key{6, 6}, 6), InsertResult::inserted);  // F -> 9
    ASSERT_EQ(t.slot_of(Key{6, 6}), 9u);

    ASSERT_TRUE(t.erase(Key{2, 4}));  // hole at 5
    // C (home 6) cannot move to 5; D (home 4) can; E (home 8) cannot move to
    // 7; F (home 6) can fill 7; then 9 is left empty.
    EXPECT_EQ(t.slot_of(Key{1, 4}), 4u);
    EXPECT_EQ(t.slot_of(Key{4, 4}), 5u);
    EXPECT_EQ(t.slot_of(Key{3, 6}), 6u);
    EXPECT_EQ(t.slot_of(Key{6, 6}), 7u);
    EXPECT_EQ(t.slot_of(Key{5, 8}), 8u);
    EXPECT_EQ(t.size(), 5u);
    EXPECT_EQ(t.slot_of(Key{2, 4}), std::nullopt);
    // Bucket 9 is empty again: a new home-9 key sits at its home.
    ASSERT_EQ(t.insert(Key{8, 9}, 8), InsertResult::inserted);
    EXPECT_EQ(t.slot_of(Key{8, 9}), 9u);
}

TEST(LinearTable, EraseChainHeadAndTail) {
    Table t = make();
    for (std::uint32_t i = 0; i < 5; ++i) ASSERT_EQ(t.insert(Key{i, 2}, i), InsertResult::inserted);
    ASSERT_TRUE(t.erase(Key{0, 2}));  // head
    for (std::uint32_t i = 1; i < 5; ++i) EXPECT_EQ(t.slot_of(Key{i, 2}), 1u + i);
    ASSERT_TRUE(t.erase(Key{4, 2}));  // tail
    for (std::uint32_t i = 1; i < 4; ++i) EXPECT_EQ(t.slot_of(Key{i, 2}), 1u + i);
    EXPECT_EQ(t.max_probe_length(), 3u);
}

// The same differential churn as the ConnTable test, but with every key in
// one of three adjacent home buckets near the end of the array: one long,
// wrapping cluster, where every erase exercises the backward shift.
TEST(LinearTable, DifferentialChurnInOneWrappingCluster) {
    Table t = make();
    std::map<std::uint32_t, std::uint32_t> ref;  // id -> value
    std::mt19937 rng(99);                        // 32-bit results
    const auto key = [](std::uint32_t id) { return Key{id, 13 + id % 3}; };
    for (int op = 0; op < 300000; ++op) {
        const auto id = static_cast<std::uint32_t>(rng() % 24);
        const Key k = key(id);
        const auto v = static_cast<std::uint32_t>(rng() % 1000);
        if (rng() % 2) {
            const InsertResult r = t.insert(k, v);
            if (ref.count(id)) {
                ASSERT_EQ(r, InsertResult::exists);
            } else if (ref.size() == kMax) {
                ASSERT_EQ(r, InsertResult::full);
            } else {
                ASSERT_EQ(r, InsertResult::inserted);
                ref[id] = v;
            }
        } else {
            ASSERT_EQ(t.erase(k), ref.erase(id) == 1);
        }
        ASSERT_EQ(t.size(), ref.size());
        for (std::uint32_t j = 0; j < 24; ++j) {
            const auto it = ref.find(j);
            ASSERT_EQ(t.find(key(j), t.hash(key(j))), it == ref.end() ? kNoValue : it->second);
        }
        // Entries of a cluster starting at 13 occupy 13..15 and 0..4 at most:
        // nothing is ever displaced beyond the cluster's length.
        ASSERT_LE(t.max_probe_length(), ref.size());
    }
}

TEST(LinearTable, UpdateInPlace) {
    Table t = make();
    ASSERT_EQ(t.insert(Key{1, 0}, 1), InsertResult::inserted);
    ASSERT_EQ(t.insert(Key{2, 0}, 2), InsertResult::inserted);
    EXPECT_TRUE(t.update(Key{2, 0}, 20));
    EXPECT_EQ(t.find(Key{2, 0}, t.hash(Key{2, 0})), 20u);
    EXPECT_EQ(t.slot_of(Key{2, 0}), 1u);
    EXPECT_FALSE(t.update(Key{3, 0}, 3));
}

}  // namespace
}  // namespace tcpfp::tcp::detail
