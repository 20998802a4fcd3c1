#include "tcp/table/pool.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <stdexcept>
#include <vector>

namespace tcpfp::tcp {
namespace {

// Counts live instances, to prove constructors and destructors run.
struct Tracked {
    static inline int live = 0;
    int value;
    explicit Tracked(int v) : value(v) { ++live; }
    ~Tracked() { --live; }
    Tracked(const Tracked&) = delete;
    Tracked& operator=(const Tracked&) = delete;
};

struct alignas(64) Big {
    std::uint64_t words[20]{};  // 160 bytes -> 192-byte stride
};

TEST(Pool, AcquireConstructsAndGetReturnsObject) {
    Pool<Tracked> pool(4);
    EXPECT_EQ(pool.capacity(), 4u);
    EXPECT_TRUE(pool.empty());
    const auto h = pool.acquire(42);
    ASSERT_FALSE(h.is_invalid());
    EXPECT_EQ(Tracked::live, 1);
    EXPECT_EQ(pool.size(), 1u);
    ASSERT_NE(pool.get(h), nullptr);
    EXPECT_EQ(pool.get(h)->value, 42);
    EXPECT_EQ(pool.at(h.index).value, 42);
    EXPECT_TRUE(pool.is_live(h.index));
    EXPECT_EQ(pool.handle_of(h.index), h);
    EXPECT_EQ(pool.index_of(*pool.get(h)), h.index);
    EXPECT_TRUE(pool.release(h));
    EXPECT_EQ(Tracked::live, 0);
    EXPECT_TRUE(pool.empty());
}

TEST(Pool, StaleHandleIsCheckedMiss) {
    Pool<Tracked> pool(1);
    const auto h1 = pool.acquire(1);
    ASSERT_TRUE(pool.release(h1));
    EXPECT_EQ(pool.get(h1), nullptr);
    EXPECT_FALSE(pool.is_live(h1.index));
    EXPECT_EQ(pool.handle_of(h1.index), PoolHandle::invalid());
    EXPECT_FALSE(pool.release(h1));  // double free: no-op
    EXPECT_EQ(Tracked::live, 0);

    // The slot is reused with a new generation; the old handle stays dead.
    const auto h2 = pool.acquire(2);
    EXPECT_EQ(h2.index, h1.index);
    EXPECT_NE(h2.generation, h1.generation);
    EXPECT_EQ(pool.get(h1), nullptr);
    EXPECT_FALSE(pool.release(h1));
    EXPECT_EQ(pool.get(h2)->value, 2);
    EXPECT_EQ(Tracked::live, 1);
}

TEST(Pool, InvalidAndForgedHandlesAreRejected) {
    Pool<int> pool(2);
    const auto h = pool.acquire(7);
    EXPECT_EQ(pool.get(PoolHandle::invalid()), nullptr);
    EXPECT_FALSE(pool.release(PoolHandle::invalid()));
    EXPECT_EQ(pool.get(PoolHandle{5, 1}), nullptr);                       // out of range
    EXPECT_EQ(pool.get(PoolHandle{h.index, h.generation + 2}), nullptr);  // future
    EXPECT_EQ(pool.get(PoolHandle{1, 0}), nullptr);                       // free slot, even gen
    EXPECT_FALSE(pool.release(PoolHandle{1, 0}));
    EXPECT_FALSE(pool.is_live(1));
    EXPECT_FALSE(pool.is_live(0xffffffffu));
    EXPECT_EQ(pool.size(), 1u);
}

TEST(Pool, GenerationsAdvanceAcrossManyCycles) {
    Pool<int> pool(1);
    PoolHandle prev = PoolHandle::invalid();
    for (int i = 0; i < 100000; ++i) {
        const auto h = pool.acquire(i);
        ASSERT_EQ(h.index, 0u);
        ASSERT_EQ(h.generation % 2, 1u);  // odd while live
        ASSERT_NE(h, prev);
        ASSERT_EQ(pool.get(prev), nullptr);
        ASSERT_TRUE(pool.release(h));
        prev = h;
    }
    EXPECT_EQ(prev.generation, 2u * 100000 - 1);
}

TEST(Pool, FullReturnsInvalidWithoutSideEffects) {
    Pool<Tracked> pool(3);
    std::vector<PoolHandle> hs;
    for (int i = 0; i < 3; ++i) hs.push_back(pool.acquire(i));
    EXPECT_TRUE(pool.full());
    EXPECT_EQ(pool.acquire(99), PoolHandle::invalid());
    EXPECT_EQ(Tracked::live, 3);  // no object built for the failed acquire
    EXPECT_EQ(pool.size(), 3u);
    ASSERT_TRUE(pool.release(hs[1]));
    const auto again = pool.acquire(5);
    EXPECT_EQ(again.index, hs[1].index);  // LIFO: the freed slot comes back
    EXPECT_EQ(pool.acquire(6), PoolHandle::invalid());
}

TEST(Pool, ZeroCapacity) {
    Pool<int> pool(0);
    EXPECT_EQ(pool.acquire(1), PoolHandle::invalid());
    EXPECT_FALSE(pool.is_live(0));
    int n = 0;
    pool.for_each([&](PoolHandle, int&) { ++n; });
    EXPECT_EQ(n, 0);
}

TEST(Pool, ForEachVisitsLiveObjectsAndAllowsRelease) {
    Pool<int> pool(10);
    std::vector<PoolHandle> hs;
    for (int i = 0; i < 10; ++i) hs.push_back(pool.acquire(i * 10));
    for (int i = 0; i < 10; i += 3) ASSERT_TRUE(pool.release(hs[static_cast<std::size_t>(i)]));
    std::vector<int> seen;
    pool.for_each([&](PoolHandle h, int& v) {
        EXPECT_EQ(pool.get(h), &v);
        seen.push_back(v);
    });
    EXPECT_EQ(seen, (std::vector<int>{10, 20, 40, 50, 70, 80}));

    // Releasing the visited object from inside the callback is allowed.
    pool.for_each([&](PoolHandle h, int& v) {
        if (v % 20 == 0) {
            EXPECT_TRUE(pool.release(h));
        }
    });
    seen.clear();
    const auto& cpool = pool;
    cpool.for_each([&](PoolHandle, const int& v) { seen.push_back(v); });
    EXPECT_EQ(seen, (std::vector<int>{10, 50, 70}));
    EXPECT_EQ(pool.size(), 3u);
}

TEST(Pool, DestructorDestroysLiveObjects) {
    {
        Pool<Tracked> pool(8);
        for (int i = 0; i < 5; ++i) (void)pool.acquire(i);
        ASSERT_TRUE(pool.release(pool.handle_of(2)));
        EXPECT_EQ(Tracked::live, 4);
    }
    EXPECT_EQ(Tracked::live, 0);
}

TEST(Pool, LargeObjectsStartOnCacheLines) {
    static_assert(Pool<Big>::kStride == 192);
    static_assert(Pool<int>::kStride == 4);
    static_assert(Pool<char>::kStride == 4);  // room for the free-list link
    Pool<Big> pool(16);
    for (int i = 0; i < 16; ++i) {
        const auto h = pool.acquire();
        ASSERT_EQ(reinterpret_cast<std::uintptr_t>(pool.get(h)) % 64, 0u);
    }
}

TEST(Pool, SmallObjectsAreUsable) {
    Pool<char> pool(300);
    std::vector<PoolHandle> hs;
    for (int i = 0; i < 300; ++i) hs.push_back(pool.acquire(static_cast<char>(i)));
    for (int i = 0; i < 300; ++i) {
        const char* c = pool.get(hs[static_cast<std::size_t>(i)]);
        ASSERT_NE(c, nullptr);
        EXPECT_EQ(*c, static_cast<char>(i));
    }
}

struct ThrowsOnNegative {
    explicit ThrowsOnNegative(int v) : value(v) {
        if (v < 0) throw std::runtime_error("negative");
    }
    int value;
};

TEST(Pool, ThrowingConstructorLeavesSlotFree) {
    Pool<ThrowsOnNegative> pool(2);
    EXPECT_THROW((void)pool.acquire(-1), std::runtime_error);
    EXPECT_EQ(pool.size(), 0u);
    const auto a = pool.acquire(1);
    const auto b = pool.acquire(2);
    EXPECT_FALSE(a.is_invalid());
    EXPECT_FALSE(b.is_invalid());
    EXPECT_NE(a.index, b.index);
    EXPECT_TRUE(pool.full());
}

// Random acquire/release against a shadow model of which handles are live.
TEST(Pool, RandomChurnMatchesModel) {
    constexpr std::uint32_t kCap = 64;
    Pool<std::uint64_t> pool(kCap);
    std::vector<PoolHandle> live, dead;
    std::mt19937_64 rng(7);
    std::uint64_t next = 0;
    for (int op = 0; op < 200000; ++op) {
        if (rng() % 2 == 0) {
            const auto h = pool.acquire(next);
            if (live.size() == kCap) {
                ASSERT_TRUE(h.is_invalid());
            } else {
                ASSERT_FALSE(h.is_invalid());
                const std::uint64_t* p = pool.get(h);
                ASSERT_NE(p, nullptr);
                ASSERT_EQ(*p, next);
                live.push_back(h);
            }
            ++next;
        } else if (!live.empty()) {
            const std::size_t k = rng() % live.size();
            ASSERT_TRUE(pool.release(live[k]));
            dead.push_back(live[k]);
            live[k] = live.back();
            live.pop_back();
        }
        ASSERT_EQ(pool.size(), live.size());
        if (!dead.empty()) {
            const auto& d = dead[rng() % dead.size()];
            ASSERT_EQ(pool.get(d), nullptr);
        }
    }
}

TEST(Pool, ClearGivesTheSameHandlesAsANewPool) {
    // A reused engine (Engine::reset) must hand out what a new one would.
    Pool<Tracked> fresh(8), reused(8);
    std::vector<Pool<Tracked>::Handle> first;
    for (int i = 0; i < 5; ++i) first.push_back(fresh.acquire(i));
    // Use the other one differently: acquire, release out of order, keep some live.
    std::vector<Pool<Tracked>::Handle> h;
    for (int i = 0; i < 6; ++i) h.push_back(reused.acquire(100 + i));
    ASSERT_TRUE(reused.release(h[1]));
    ASSERT_TRUE(reused.release(h[4]));
    (void)reused.acquire(7);
    ASSERT_EQ(Tracked::live, 5 + 5);
    reused.clear();
    EXPECT_EQ(Tracked::live, 5);  // the live objects were destroyed
    EXPECT_TRUE(reused.empty());
    EXPECT_EQ(reused.get(h[0]), nullptr);  // old handles no longer match
    for (int i = 0; i < 5; ++i) EXPECT_EQ(reused.acquire(i), first[i]) << i;
    // Past the slots used before the clear, the order goes on as new.
    EXPECT_EQ(reused.acquire(5), fresh.acquire(5));
    EXPECT_EQ(reused.acquire(6), fresh.acquire(6));
    EXPECT_EQ(reused.acquire(7), fresh.acquire(7));
    EXPECT_TRUE(reused.full());
    reused.clear();
    fresh.clear();
    EXPECT_EQ(Tracked::live, 0);
    EXPECT_EQ(reused.acquire(1), fresh.acquire(1));
    reused.clear();
    fresh.clear();
}

}  // namespace
}  // namespace tcpfp::tcp
