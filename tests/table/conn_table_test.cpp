#include "tcp/table/conn_table.hpp"

#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <cstring>
#include <random>
#include <set>
#include <stdexcept>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace tcpfp::tcp {
namespace {

constexpr std::uint64_t kSeed = 0x0123456789abcdefu;

FourTuple tuple(std::uint32_t local_ip, std::uint32_t remote_ip, std::uint16_t local_port,
                std::uint16_t remote_port) {
    return FourTuple{wire::Ipv4Addr{local_ip}, wire::Ipv4Addr{remote_ip}, local_port, remote_port};
}

struct StdHash {
    std::size_t operator()(const FourTuple& t) const { return FourTupleHasher(99)(t); }
};

TEST(ConnTable, InsertFindUpdateErase) {
    ConnTable t(16, kSeed);
    const FourTuple a = tuple(0x0a000001, 0x0a000002, 80, 40000);
    const FourTuple b = tuple(0x0a000001, 0x0a000002, 80, 40001);
    EXPECT_TRUE(t.empty());
    EXPECT_EQ(t.find(a), std::nullopt);
    EXPECT_EQ(t.insert(a, 7), InsertResult::inserted);
    EXPECT_EQ(t.insert(b, 8), InsertResult::inserted);
    EXPECT_EQ(t.size(), 2u);
    EXPECT_EQ(t.find(a), 7u);
    EXPECT_EQ(t.find(b), 8u);
    EXPECT_EQ(t.find(a, t.hash(a)), 7u);
    EXPECT_TRUE(t.contains(b));

    EXPECT_EQ(t.insert(a, 9), InsertResult::exists);
    EXPECT_EQ(t.find(a), 7u);  // unchanged by the refused insert
    EXPECT_TRUE(t.update(a, 9));
    EXPECT_EQ(t.find(a), 9u);
    EXPECT_FALSE(t.update(tuple(1, 2, 3, 4), 1));

    EXPECT_TRUE(t.erase(a));
    EXPECT_FALSE(t.erase(a));
    EXPECT_EQ(t.find(a), std::nullopt);
    EXPECT_EQ(t.find(b), 8u);
    EXPECT_EQ(t.size(), 1u);
}

TEST(ConnTable, ValueZeroAndLargestValueAreStorable) {
    ConnTable t(4, kSeed);
    EXPECT_EQ(t.insert(tuple(1, 1, 1, 1), 0), InsertResult::inserted);
    EXPECT_EQ(t.insert(tuple(1, 1, 1, 2), ConnTable::kNoValue - 1), InsertResult::inserted);
    EXPECT_EQ(t.find(tuple(1, 1, 1, 1)), 0u);
    EXPECT_EQ(t.find(tuple(1, 1, 1, 2)), ConnTable::kNoValue - 1);
}

TEST(ConnTable, AllZeroTupleIsAnOrdinaryKey) {
    ConnTable t(4, kSeed);
    EXPECT_EQ(t.find(FourTuple{}), std::nullopt);
    EXPECT_EQ(t.insert(FourTuple{}, 3), InsertResult::inserted);
    EXPECT_EQ(t.find(FourTuple{}), 3u);
    EXPECT_TRUE(t.erase(FourTuple{}));
    EXPECT_EQ(t.find(FourTuple{}), std::nullopt);
}

TEST(ConnTable, FullAndExists) {
    ConnTable t(4, kSeed);
    for (std::uint16_t p = 0; p < 4; ++p) {
        ASSERT_EQ(t.insert(tuple(1, 2, 80, p), p), InsertResult::inserted);
    }
    EXPECT_EQ(t.insert(tuple(1, 2, 80, 4), 4), InsertResult::full);
    EXPECT_EQ(t.find(tuple(1, 2, 80, 4)), std::nullopt);
    EXPECT_EQ(t.insert(tuple(1, 2, 80, 3), 4), InsertResult::exists);  // exists wins over full
    EXPECT_EQ(t.size(), 4u);
    EXPECT_TRUE(t.erase(tuple(1, 2, 80, 0)));
    EXPECT_EQ(t.insert(tuple(1, 2, 80, 4), 4), InsertResult::inserted);
    EXPECT_EQ(t.size(), t.max_entries());
}

TEST(ConnTable, SizingKeepsLoadAtMostHalf) {
    for (std::size_t n : {0u, 1u, 3u, 4u, 5u, 1000u, 1024u, 1025u, 100000u}) {
        ConnTable t(n, kSeed);
        EXPECT_EQ(t.max_entries(), n);
        EXPECT_GE(t.bucket_count(), 2 * n);
        EXPECT_EQ(t.bucket_count() & (t.bucket_count() - 1), 0u) << "power of two";
    }
    EXPECT_THROW(ConnTable(ConnTable::kMaxEntries + 1, kSeed), std::length_error);
}

TEST(ConnTable, ZeroCapacityIsAlwaysFull) {
    ConnTable t(0, kSeed);
    EXPECT_EQ(t.insert(tuple(1, 2, 3, 4), 1), InsertResult::full);
    EXPECT_EQ(t.find(tuple(1, 2, 3, 4)), std::nullopt);
    EXPECT_FALSE(t.erase(tuple(1, 2, 3, 4)));
}

TEST(ConnTable, ClearAndForEach) {
    ConnTable t(100, kSeed);
    std::unordered_map<FourTuple, std::uint32_t, StdHash> expect;
    for (std::uint32_t i = 0; i < 100; ++i) {
        const auto k = tuple(7, i * 2654435761u, 443, static_cast<std::uint16_t>(i));
        ASSERT_EQ(t.insert(k, i), InsertResult::inserted);
        expect[k] = i;
    }
    std::unordered_map<FourTuple, std::uint32_t, StdHash> seen;
    t.for_each(
        [&](const FourTuple& k, std::uint32_t v) { EXPECT_TRUE(seen.emplace(k, v).second); });
    EXPECT_EQ(seen, expect);
    t.clear();
    EXPECT_EQ(t.size(), 0u);
    EXPECT_EQ(t.max_probe_length(), 0u);
    for (const auto& [k, v] : expect) EXPECT_EQ(t.find(k), std::nullopt);
    int n = 0;
    t.for_each([&](const FourTuple&, std::uint32_t) { ++n; });
    EXPECT_EQ(n, 0);
    EXPECT_EQ(t.insert(expect.begin()->first, 5), InsertResult::inserted);
}

// Every key that differs from a base tuple in exactly one byte is distinct in
// the table and in the 64-bit hash (no byte is ignored by hash or compare).
TEST(ConnTable, KeysDifferingInOneByte) {
    const FourTuple base = tuple(0xac103001, 0xac10300d, 5002, 36655);
    std::vector<FourTuple> keys{base};
    for (std::size_t byte = 0; byte < sizeof(FourTuple); ++byte) {
        for (int v = 0; v < 256; ++v) {
            FourTuple k = base;
            auto* raw = reinterpret_cast<unsigned char*>(&k);
            if (raw[byte] == v) continue;
            raw[byte] = static_cast<unsigned char>(v);
            keys.push_back(k);
        }
    }
    ASSERT_EQ(keys.size(), 1 + 12 * 255u);
    ConnTable t(keys.size(), kSeed);
    std::set<std::uint64_t> hashes;
    for (std::uint32_t i = 0; i < keys.size(); ++i) {
        ASSERT_EQ(t.insert(keys[i], i), InsertResult::inserted) << i;
        hashes.insert(t.hash(keys[i]));
    }
    EXPECT_EQ(hashes.size(), keys.size());
    for (std::uint32_t i = 0; i < keys.size(); ++i) ASSERT_EQ(t.find(keys[i]), i);
    // Erase every other one; the rest must still be found, the erased not.
    for (std::uint32_t i = 0; i < keys.size(); i += 2) ASSERT_TRUE(t.erase(keys[i]));
    for (std::uint32_t i = 0; i < keys.size(); ++i) {
        ASSERT_EQ(t.find(keys[i]), i % 2 ? std::optional<std::uint32_t>(i) : std::nullopt);
    }
}

TEST(ConnTable, SeedChangesPlacement) {
    const FourTupleHasher h1(1), h2(2), h1b(1);
    int same = 0;
    for (std::uint16_t p = 0; p < 1000; ++p) {
        const auto k = tuple(1, 2, 80, p);
        EXPECT_EQ(h1(k), h1b(k));
        if (h1(k) == h2(k)) ++same;
    }
    EXPECT_EQ(same, 0);
}

// Key sets an attacker can choose without the seed (every remote port of
// one host; addresses on a 2^16 stride; ports and addresses in lockstep)
// still spread: probe chains stay as short as for random keys.
TEST(ConnTable, StructuredKeysKeepProbesShort) {
    constexpr std::uint32_t kN = 65536;
    const std::array<std::uint64_t, 3> seeds{kSeed, 1, 0xffffffffffffffffu};
    for (std::uint64_t seed : seeds) {
        for (int pattern = 0; pattern < 3; ++pattern) {
            ConnTable t(kN, seed);
            for (std::uint32_t i = 0; i < kN; ++i) {
                FourTuple k = tuple(0x0a000001, 0xc0000201, 443, 0);
                const auto lo = static_cast<std::uint16_t>(i);
                if (pattern == 0) k.remote_port = lo;
                if (pattern == 1) k.remote_ip.value += i << 16;
                if (pattern == 2) {
                    k.remote_ip.value += i;
                    k.remote_port = static_cast<std::uint16_t>(lo * 4099u);
                }
                ASSERT_EQ(t.insert(k, i), InsertResult::inserted);
            }
            EXPECT_LT(t.max_probe_length(), 64u) << seed << "/" << pattern;
            EXPECT_LT(t.mean_probe_length(), 2.0) << seed << "/" << pattern;
        }
    }
}

// Differential test against std::unordered_map: millions of random inserts,
// erases, updates and finds over a small key universe at a small capacity,
// so the table is constantly full, refuses inserts, and churns every bucket.
// Backward-shift deletion must keep the probe chains from degrading.
TEST(ConnTable, DifferentialChurnAgainstUnorderedMap) {
    constexpr std::size_t kMax = 64;
    constexpr std::size_t kUniverse = 160;
    constexpr int kOps = 3000000;
    std::mt19937_64 rng(12345);
    std::vector<FourTuple> universe;
    for (std::uint32_t i = 0; i < kUniverse; ++i) {
        // Near-identical keys: one host pair, nearby ports.
        universe.push_back(
            tuple(0x0a000001, 0x0a000002 + (i & 1), 80, static_cast<std::uint16_t>(50000 + i / 2)));
    }
    ConnTable t(kMax, kSeed);
    std::unordered_map<FourTuple, std::uint32_t, StdHash> ref;
    std::size_t worst_probe = 0;
    for (int op = 0; op < kOps; ++op) {
        const FourTuple& k = universe[rng() % kUniverse];
        const auto v = static_cast<std::uint32_t>(rng() % ConnTable::kNoValue);
        const auto it = ref.find(k);
        switch (rng() % 4) {
            case 0:
            case 1: {
                const InsertResult r = t.insert(k, v);
                if (it != ref.end()) {
                    ASSERT_EQ(r, InsertResult::exists);
                } else if (ref.size() == kMax) {
                    ASSERT_EQ(r, InsertResult::full);
                } else {
                    ASSERT_EQ(r, InsertResult::inserted);
                    ref.emplace(k, v);
                }
                break;
            }
            case 2:
                ASSERT_EQ(t.erase(k), it != ref.end());
                if (it != ref.end()) ref.erase(it);
                break;
            default:
                ASSERT_EQ(t.update(k, v), it != ref.end());
                if (it != ref.end()) it->second = v;
                break;
        }
        ASSERT_EQ(t.size(), ref.size());
        const auto& probe = universe[rng() % kUniverse];
        const auto rit = ref.find(probe);
        ASSERT_EQ(t.find(probe),
                  rit == ref.end() ? std::nullopt : std::optional<std::uint32_t>(rit->second));
        if (op % 4096 == 0) {
            for (const auto& u : universe) {
                const auto uit = ref.find(u);
                ASSERT_EQ(t.find(u), uit == ref.end() ? std::nullopt
                                                      : std::optional<std::uint32_t>(uit->second));
            }
            worst_probe = std::max(worst_probe, t.max_probe_length());
            ASSERT_LE(t.max_probe_length(), 24u) << "op " << op;
        }
    }
    // 128 buckets, <= 64 entries: chains stay short after 3M operations.
    EXPECT_LE(worst_probe, 24u);
    EXPECT_LT(t.mean_probe_length(), 3.0);
}

TEST(ConnTable, MillionEntries) {
    constexpr std::uint32_t kN = 1000000;
    ConnTable t(kN, kSeed);
    // Distinct keys: the remote address runs through 0..kN-1 scrambled by
    // an odd multiplier (a bijection mod 2^32); ports vary too.
    const auto key = [](std::uint32_t i) {
        return tuple(0xc0a80001, i * 0x9e3779b1u, 8080, static_cast<std::uint16_t>(i * 7));
    };
    for (std::uint32_t i = 0; i < kN; ++i) ASSERT_EQ(t.insert(key(i), i), InsertResult::inserted);
    EXPECT_EQ(t.size(), kN);
    EXPECT_EQ(t.insert(key(kN), kN), InsertResult::full);
    for (std::uint32_t i = 0; i < kN; ++i) ASSERT_EQ(t.find(key(i)), i);
    EXPECT_EQ(t.find(key(kN)), std::nullopt);
    EXPECT_LT(t.mean_probe_length(), 2.0);
    EXPECT_LT(t.max_probe_length(), 100u);
    for (std::uint32_t i = 0; i < kN; i += 2) ASSERT_TRUE(t.erase(key(i)));
    EXPECT_EQ(t.size(), kN / 2);
    for (std::uint32_t i = 0; i < kN; ++i) {
        ASSERT_EQ(t.find(key(i)), i % 2 ? std::optional<std::uint32_t>(i) : std::nullopt);
    }
}

}  // namespace
}  // namespace tcpfp::tcp
