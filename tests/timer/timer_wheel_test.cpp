// The timer wheel against its contract: exact ticks (rounded up, never
// early), order, cascading through every level and the overflow list, the
// budget, re-entrancy from callbacks, exact counts, no allocation after
// construction, and a randomized run against a std::multimap model.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <map>
#include <memory_resource>
#include <random>
#include <set>
#include <vector>

#include "tcp/timer/timer_wheel.hpp"

namespace tcpfp::tcp {
namespace {

constexpr std::size_t kAll = std::numeric_limits<std::size_t>::max();
// Not a multiple of the tick, so rounding is tested against an odd origin.
constexpr Instant kStart = Instant::from_micros(1'000'000'123);

Instant at_ms(std::int64_t ms) { return kStart + Duration::millis(ms); }

// Collects what fired, in order.
struct Log {
    std::vector<Timer*> fired;
    void operator()(Timer& t) { fired.push_back(&t); }
};

TEST(TimerWheel, StartsEmpty) {
    TimerWheel w(kStart);
    EXPECT_EQ(w.armed_count(), 0u);
    EXPECT_EQ(w.next_deadline(), Instant::max());
    EXPECT_EQ(w.now(), kStart);
    EXPECT_EQ(w.carried_over(), 0u);
    Log log;
    EXPECT_EQ(w.advance(at_ms(1000), kAll, log), 0u);
    EXPECT_EQ(w.now(), at_ms(1000));
    EXPECT_EQ(w.next_deadline(), Instant::max());
}

TEST(TimerWheel, FiresOnTheDeadlineTickNeverOneTickEarly) {
    TimerWheel w(kStart);
    Timer t;
    w.arm(t, at_ms(60000));
    EXPECT_TRUE(t.armed());
    EXPECT_EQ(t.expires, 60000u);
    EXPECT_EQ(w.armed_count(), 1u);
    EXPECT_LE(w.next_deadline(), at_ms(60000));
    Log log;
    EXPECT_EQ(w.advance(at_ms(59999) + Duration::micros(999), kAll, log), 0u);
    EXPECT_TRUE(t.armed());
    EXPECT_EQ(w.next_deadline(), at_ms(60000));  // inside level 0 now: exact
    EXPECT_EQ(w.advance(at_ms(60000), kAll, log), 1u);
    EXPECT_FALSE(t.armed());
    EXPECT_EQ(w.armed_count(), 0u);
    EXPECT_EQ(w.next_deadline(), Instant::max());
}

TEST(TimerWheel, RoundsUnalignedDeadlinesUpToTheNextTick) {
    TimerWheel w(kStart);
    Timer t;
    w.arm(t, at_ms(10) + Duration::micros(500));
    EXPECT_EQ(t.expires, 11u);
    Log log;
    // Past the deadline itself but before its tick boundary: not yet.
    EXPECT_EQ(w.advance(at_ms(10) + Duration::micros(999), kAll, log), 0u);
    EXPECT_EQ(w.advance(at_ms(11), kAll, log), 1u);
}

TEST(TimerWheel, HonoursOtherTickSizes) {
    for (const std::int64_t tick_us : {1, 7, 10'000, 1'000'000}) {
        SCOPED_TRACE(tick_us);
        const Duration tick = Duration::micros(tick_us);
        TimerWheel w(kStart, tick);
        EXPECT_EQ(w.tick(), tick);
        Timer a, b;
        w.arm(a, kStart + tick * 300);                         // on a boundary
        w.arm(b, kStart + tick * 300 + Duration::micros(1));  // just after: next tick
        Log log;
        EXPECT_EQ(w.advance(kStart + tick * 300 - Duration::micros(1), kAll, log), 0u);
        EXPECT_EQ(w.advance(kStart + tick * 300, kAll, log), 1u);
        EXPECT_EQ(log.fired.back(), &a);
        EXPECT_EQ(w.advance(kStart + tick * 301 - Duration::micros(1), kAll, log), 0u);
        EXPECT_EQ(w.advance(kStart + tick * 301, kAll, log), 1u);
        EXPECT_EQ(log.fired.back(), &b);
    }
}

TEST(TimerWheel, OverdueDeadlinesFireOnTheNextAdvance) {
    TimerWheel w(kStart);
    Log log;
    w.advance(at_ms(100) + Duration::micros(500), kAll, log);
    EXPECT_EQ(w.now(), at_ms(100));
    Timer past, now_tick, last_now, future;
    w.arm(past, at_ms(50));
    w.arm(now_tick, at_ms(100));
    w.arm(last_now, at_ms(100) + Duration::micros(500));  // == the latest `now` seen
    w.arm(future, at_ms(100) + Duration::micros(501));    // after it: rounds up to tick 101
    EXPECT_EQ(past.expires, 100u);
    EXPECT_EQ(last_now.expires, 100u);
    EXPECT_EQ(future.expires, 101u);
    EXPECT_LE(w.next_deadline(), at_ms(100));
    // Same `now` again: the overdue three fire, the future one waits.
    EXPECT_EQ(w.advance(at_ms(100) + Duration::micros(500), kAll, log), 3u);
    EXPECT_TRUE(future.armed());
    EXPECT_EQ(w.advance(at_ms(101), kAll, log), 1u);
    // Before the start of the wheel: also overdue.
    Timer ancient;
    w.arm(ancient, Instant::from_micros(0));
    EXPECT_EQ(w.advance(at_ms(101), kAll, log), 1u);
    EXPECT_EQ(log.fired.back(), &ancient);
}

TEST(TimerWheel, RearmingMovesTheTimer) {
    TimerWheel w(kStart);
    Timer t;
    Log log;
    w.arm(t, at_ms(100));
    w.arm(t, at_ms(50));  // earlier
    EXPECT_EQ(w.armed_count(), 1u);
    EXPECT_EQ(w.advance(at_ms(60), kAll, log), 1u);
    EXPECT_EQ(w.advance(at_ms(200), kAll, log), 0u);  // not also at 100
    w.arm(t, at_ms(300));
    w.arm(t, at_ms(90'000'000));  // later, other level
    EXPECT_EQ(w.armed_count(), 1u);
    EXPECT_EQ(w.advance(at_ms(89'999'999), kAll, log), 0u);
    EXPECT_EQ(w.advance(at_ms(90'000'000), kAll, log), 1u);
    EXPECT_EQ(w.armed_count(), 0u);
}

// A re-arm for the tick a timer already has (a burst's ACKs re-arm the
// retransmission timer, mostly within one tick) moves nothing, at any level
// and after cascades, and the timer still fires exactly once, on that tick.
TEST(TimerWheel, RearmingForTheSameTickMovesNothing) {
    TimerWheel w(kStart);
    Timer near, far, other;
    Log log;
    w.arm(near, at_ms(100));
    w.arm(far, at_ms(90'000'000));
    w.arm(other, at_ms(100));
    EXPECT_EQ(w.advance(at_ms(40), kAll, log), 0u);
    w.arm(near, at_ms(100) - Duration::micros(300));  // rounds up to the same tick
    EXPECT_EQ(w.rearms_kept(), 1u);
    EXPECT_EQ(w.advance(at_ms(99), kAll, log), 0u);
    EXPECT_EQ(w.advance(at_ms(100), kAll, log), 2u);
    EXPECT_EQ(w.advance(at_ms(70'000'000), kAll, log), 0u);  // far has cascaded down some levels
    w.arm(far, at_ms(90'000'000));
    EXPECT_EQ(w.rearms_kept(), 2u);
    EXPECT_EQ(w.armed_count(), 1u);
    EXPECT_EQ(w.advance(at_ms(90'000'000) - Duration::micros(1), kAll, log), 0u);
    EXPECT_EQ(w.advance(at_ms(90'000'000), kAll, log), 1u);
    ASSERT_EQ(log.fired.size(), 3u);
    EXPECT_EQ(log.fired[2], &far);
    w.arm(near, at_ms(90'000'100));
    w.arm(near, at_ms(90'000'200));  // another tick: moved, not kept
    EXPECT_EQ(w.rearms_kept(), 2u);
    EXPECT_EQ(w.advance(at_ms(90'000'150), kAll, log), 0u);
    EXPECT_EQ(w.advance(at_ms(90'000'200), kAll, log), 1u);
    EXPECT_EQ(w.armed_count(), 0u);
}

TEST(TimerWheel, CancelStopsATimerAndIsANoOpWhenIdle) {
    TimerWheel w(kStart);
    Timer t, never;
    w.cancel(never);
    EXPECT_EQ(w.armed_count(), 0u);
    w.arm(t, at_ms(100));
    w.cancel(t);
    w.cancel(t);
    EXPECT_FALSE(t.armed());
    EXPECT_EQ(w.armed_count(), 0u);
    EXPECT_EQ(w.next_deadline(), Instant::max());
    Log log;
    EXPECT_EQ(w.advance(at_ms(1000), kAll, log), 0u);
    // Cancel while overdue (on the ready list).
    w.arm(t, at_ms(10));
    w.cancel(t);
    EXPECT_EQ(w.advance(at_ms(1000), kAll, log), 0u);
}

// Offsets just around each level's span and the whole wheel's, from cursor
// positions at and off block boundaries, reached in one jump or several.
TEST(TimerWheel, CascadingKeepsExactTicksAtEveryLevelBoundary) {
    std::vector<std::uint64_t> offsets;
    for (unsigned bits : {8u, 14u, 20u, 26u, 32u}) {
        for (std::int64_t d = -2; d <= 2; ++d) {
            offsets.push_back(static_cast<std::uint64_t>((std::int64_t{1} << bits) + d));
        }
    }
    offsets.insert(offsets.end(), {1, 2, 255, 3'600'000, 86'400'000, 5'000'000'000});
    for (const std::uint64_t origin : {0ull, 1ull, 255ull, 256ull, 16383ull, 12'345'678ull,
                                       (1ull << 32) - 3}) {
        for (const std::uint64_t off : offsets) {
            for (const unsigned hops : {1u, 3u}) {
                SCOPED_TRACE(testing::Message() << "origin " << origin << " offset " << off
                                                << " hops " << hops);
                TimerWheel w(kStart);
                Log log;
                w.advance(kStart + Duration::millis(static_cast<std::int64_t>(origin)), kAll, log);
                ASSERT_EQ(w.now_tick(), origin);
                const std::uint64_t due = origin + off;
                Timer t;
                w.arm(t, kStart + Duration::millis(static_cast<std::int64_t>(due)));
                ASSERT_EQ(t.expires, due);
                for (unsigned h = 1; h <= hops; ++h) {
                    const std::uint64_t to = origin + (off - 1) * h / hops;
                    ASSERT_LE(w.next_deadline(), w.tick_instant(due));
                    w.advance(w.tick_instant(to), kAll, log);
                    ASSERT_TRUE(log.fired.empty()) << "early at tick " << to;
                }
                ASSERT_EQ(w.advance(w.tick_instant(due), kAll, log), 1u);
                EXPECT_EQ(log.fired[0]->expires, due);
            }
        }
    }
}

TEST(TimerWheel, DeadlinesBeyondTheWheelStayExact) {
    TimerWheel w(kStart);
    constexpr std::int64_t kDay = 86'400'000;
    Timer a, b, c, never;
    w.arm(a, at_ms(60 * kDay));
    w.arm(b, at_ms(400 * kDay + 1));
    w.arm(c, at_ms(3650 * kDay + 7));
    w.arm(never, Instant::max());
    EXPECT_EQ(w.armed_count(), 4u);
    Log log;
    EXPECT_LE(w.next_deadline(), at_ms(60 * kDay));
    w.advance(at_ms(60 * kDay - 1), kAll, log);
    EXPECT_TRUE(log.fired.empty());
    EXPECT_LE(w.next_deadline(), at_ms(60 * kDay));
    w.advance(at_ms(60 * kDay), kAll, log);
    ASSERT_EQ(log.fired.size(), 1u);
    EXPECT_EQ(log.fired[0], &a);
    // Walk to b one day at a time, crossing a 2^32-tick block on the way.
    for (std::int64_t day = 61; day <= 400; ++day) {
        ASSERT_LE(w.next_deadline(), at_ms(400 * kDay + 1));
        w.advance(at_ms(day * kDay), kAll, log);
    }
    EXPECT_EQ(log.fired.size(), 1u);
    w.advance(at_ms(400 * kDay + 1), kAll, log);
    ASSERT_EQ(log.fired.size(), 2u);
    EXPECT_EQ(log.fired[1], &b);
    w.advance(at_ms(3650 * kDay + 6), kAll, log);
    EXPECT_EQ(log.fired.size(), 2u);
    w.advance(at_ms(3650 * kDay + 7), kAll, log);
    ASSERT_EQ(log.fired.size(), 3u);
    EXPECT_EQ(log.fired[2], &c);
    EXPECT_TRUE(never.armed());
    EXPECT_EQ(w.armed_count(), 1u);
}

TEST(TimerWheel, FiresInTickOrderAcrossATenHourJump) {
    TimerWheel w(kStart);
    std::mt19937_64 rng(7);
    constexpr std::int64_t kTenHours = 36'000'000;
    std::vector<Timer> timers(20000);
    std::vector<std::uint64_t> want(timers.size());
    for (std::size_t i = 0; i < timers.size(); ++i) {
        // Sub-tick deadlines too, so rounding meets cascading.
        const auto us = static_cast<std::int64_t>(rng() % (kTenHours * 1000));
        w.arm(timers[i], kStart + Duration::micros(us));
        want[i] = static_cast<std::uint64_t>((us + 999) / 1000);
        timers[i].owner = static_cast<std::uint32_t>(i);
    }
    std::uint64_t last = 0;
    std::size_t n = 0;
    w.advance(at_ms(kTenHours), kAll, [&](Timer& t) {
        EXPECT_GE(t.expires, last);
        EXPECT_EQ(t.expires, want[t.owner]);
        last = t.expires;
        ++n;
    });
    EXPECT_EQ(n, timers.size());
    EXPECT_EQ(w.armed_count(), 0u);
}

TEST(TimerWheel, IdleRangesAreSkippedNotWalked) {
    TimerWheel w(kStart);
    Log log;
    w.advance(at_ms(86'400'000), kAll, log);  // a day with nothing armed
    EXPECT_EQ(w.steps(), 0u);
    Timer t;
    w.arm(t, at_ms(2 * 86'400'000 + 12345));  // one timer, a day and a bit away
    w.advance(at_ms(2 * 86'400'000), kAll, log);
    EXPECT_TRUE(log.fired.empty());
    w.advance(at_ms(2 * 86'400'000 + 12345), kAll, log);
    EXPECT_EQ(log.fired.size(), 1u);
    // At most one visit per level on the way down, plus the expiry.
    EXPECT_LE(w.steps(), 5u);
}

TEST(TimerWheel, BudgetCarriesOverAMillionTimersInOneTick) {
    TimerWheel w(kStart);
    constexpr std::size_t kN = 1'000'000;
    constexpr std::size_t kBudget = 1000;
    std::vector<Timer> timers(kN);
    for (std::size_t i = 0; i < kN; ++i) {
        timers[i].owner = static_cast<std::uint32_t>(i);
        w.arm(timers[i], at_ms(5000));
    }
    EXPECT_EQ(w.armed_count(), kN);
    std::vector<std::uint8_t> seen(kN, 0);
    std::size_t calls = 0;
    std::uint64_t carried = 0;
    bool ok = true;
    while (w.armed_count() != 0) {
        const std::size_t n = w.advance(at_ms(5000), kBudget, [&](Timer& t) {
            ok &= (seen[t.owner]++ == 0) && t.expires == 5000;
        });
        ++calls;
        ASSERT_EQ(n, kBudget);
        if (w.armed_count() != 0) {
            ASSERT_GT(w.carried_over(), carried);
            ASSERT_EQ(w.carried_over() - carried, w.armed_count());
            ASSERT_LE(w.next_deadline(), at_ms(5000));
        }
        carried = w.carried_over();
    }
    EXPECT_TRUE(ok);
    EXPECT_EQ(calls, kN / kBudget);
    EXPECT_TRUE(std::all_of(seen.begin(), seen.end(), [](std::uint8_t s) { return s == 1; }));
    EXPECT_EQ(w.next_deadline(), Instant::max());
}

TEST(TimerWheel, BudgetStopsBetweenTicksAndResumesInOrder) {
    TimerWheel w(kStart);
    std::mt19937_64 rng(11);
    std::vector<Timer> timers(5000);
    for (auto& t : timers) w.arm(t, at_ms(static_cast<std::int64_t>(rng() % 100'000)));
    const Instant now = at_ms(100'000);
    std::uint64_t last = 0;
    std::size_t total = 0;
    bool ordered = true;
    while (w.armed_count() != 0) {
        const std::size_t n = w.advance(now, 7, [&](Timer& t) {
            ordered &= t.expires >= last;
            last = t.expires;
        });
        total += n;
        if (w.armed_count() != 0) {
            ASSERT_EQ(n, 7u);
            ASSERT_LE(w.next_deadline(), now);
        }
    }
    EXPECT_TRUE(ordered);
    EXPECT_EQ(total, timers.size());
    EXPECT_EQ(w.now(), now);
    // Budget 0 runs nothing but still reports the backlog.
    Timer t;
    w.arm(t, at_ms(100'001));
    EXPECT_EQ(w.advance(at_ms(100'001), 0, [](Timer&) {}), 0u);
    EXPECT_TRUE(t.armed());
    EXPECT_LE(w.next_deadline(), at_ms(100'001));
    EXPECT_EQ(w.advance(at_ms(100'001), 1, [](Timer&) {}), 1u);
}

TEST(TimerWheel, CallbackCanCancelTimersDueLaterInTheSameAdvance) {
    TimerWheel w(kStart);
    Timer a, b, same_tick_1, same_tick_2;
    w.arm(a, at_ms(10));
    w.arm(b, at_ms(20));
    w.arm(same_tick_1, at_ms(30));
    w.arm(same_tick_2, at_ms(30));
    std::vector<Timer*> fired;
    w.advance(at_ms(100), kAll, [&](Timer& t) {
        fired.push_back(&t);
        if (&t == &a) w.cancel(b);
        // Whichever of the pair runs first cancels the other, already on the ready list.
        if (&t == &same_tick_1) w.cancel(same_tick_2);
        if (&t == &same_tick_2) w.cancel(same_tick_1);
    });
    ASSERT_EQ(fired.size(), 2u);
    EXPECT_EQ(fired[0], &a);
    EXPECT_TRUE(fired[1] == &same_tick_1 || fired[1] == &same_tick_2);
    EXPECT_EQ(w.armed_count(), 0u);
}

TEST(TimerWheel, CallbackCanRearmItselfPeriodically) {
    TimerWheel w(kStart);
    Timer t;
    w.arm(t, at_ms(10));
    std::vector<std::uint64_t> ticks;
    w.advance(at_ms(1000), kAll, [&](Timer& self) {
        EXPECT_FALSE(self.armed());
        ticks.push_back(self.expires);
        w.arm(self, w.now() + Duration::millis(10));
    });
    ASSERT_EQ(ticks.size(), 100u);
    for (std::size_t i = 0; i < ticks.size(); ++i) EXPECT_EQ(ticks[i], 10 * (i + 1));
    EXPECT_TRUE(t.armed());
    EXPECT_EQ(t.expires, 1010u);
}

TEST(TimerWheel, CallbackCanArmNewTimersAndCancelItself) {
    TimerWheel w(kStart);
    Timer first, later, overdue, beyond;
    w.arm(first, at_ms(10));
    std::vector<std::uint64_t> order;
    w.advance(at_ms(50), kAll, [&](Timer& t) {
        order.push_back(t.expires);
        if (&t == &first) {
            w.cancel(first);  // already disarmed: a no-op
            w.arm(later, at_ms(40));
            w.arm(overdue, at_ms(5));     // before the tick being run: runs in it
            w.arm(beyond, at_ms(60));     // after `now`: waits
        }
    });
    EXPECT_EQ(order, (std::vector<std::uint64_t>{10, 10, 40}));
    EXPECT_TRUE(beyond.armed());
    EXPECT_EQ(w.armed_count(), 1u);
}

TEST(TimerWheel, TimeGoingBackwardsIsHarmless) {
    TimerWheel w(kStart);
    Timer t;
    w.arm(t, at_ms(100));
    Log log;
    w.advance(at_ms(50), kAll, log);
    w.advance(at_ms(20), kAll, log);
    EXPECT_EQ(w.now(), at_ms(50));
    EXPECT_TRUE(log.fired.empty());
    w.advance(at_ms(100), kAll, log);
    EXPECT_EQ(log.fired.size(), 1u);
}

// Fails the test on any allocation once locked.
class CountingResource : public std::pmr::memory_resource {
public:
    std::size_t allocations = 0;
    bool locked = false;

private:
    void* do_allocate(std::size_t bytes, std::size_t align) override {
        ++allocations;
        if (locked) ADD_FAILURE() << "allocation of " << bytes << " bytes after construction";
        return std::pmr::new_delete_resource()->allocate(bytes, align);
    }
    void do_deallocate(void* p, std::size_t bytes, std::size_t align) override {
        std::pmr::new_delete_resource()->deallocate(p, bytes, align);
    }
    bool do_is_equal(const std::pmr::memory_resource& o) const noexcept override {
        return this == &o;
    }
};

TEST(TimerWheel, NeverAllocatesAfterConstruction) {
    CountingResource mr;
    std::vector<Timer> timers(50000);
    {
        TimerWheel w(kStart, Duration::millis(1), &mr);
        EXPECT_GE(mr.allocations, 1u);
        mr.locked = true;
        // Nothing may reach for the default resource either.
        std::pmr::memory_resource* old = std::pmr::set_default_resource(std::pmr::null_memory_resource());
        std::mt19937_64 rng(3);
        for (auto& t : timers) w.arm(t, at_ms(static_cast<std::int64_t>(rng() % 10'000'000'000ull)));
        for (std::size_t i = 0; i < timers.size(); i += 3) w.cancel(timers[i]);
        for (std::size_t i = 1; i < timers.size(); i += 3) w.arm(timers[i], at_ms(static_cast<std::int64_t>(rng() % 100'000)));
        std::int64_t ms = 0;
        while (w.armed_count() != 0 && ms < 20'000'000'000) {
            ms += 1 + static_cast<std::int64_t>(rng() % 100'000'000);
            w.advance(at_ms(ms), 1000, [&](Timer& t) {
                if (rng() % 4 == 0) w.arm(t, at_ms(ms + static_cast<std::int64_t>(rng() % 1000)));
            });
            (void)w.next_deadline();
        }
        std::pmr::set_default_resource(old);
        mr.locked = false;
    }
}

// ---------------------------------------------------------------------------
// Randomized run against a reference model: a multimap of expiry tick -> id.
// The model encodes the contract: a deadline D fires at tick ceil((D-start)/
// tick), unless it is overdue when armed (D <= the latest `now`, or that tick
// is not after the wheel's current tick), in which case it fires at the
// current tick, on the next advance. Every callback must be for the model's
// earliest entry (exact tick, order, exactly once) and no later than `now`.
// ---------------------------------------------------------------------------
class Model {
public:
    Model(Instant start, Duration tick, std::size_t n)
        : start_(start.micros()), tick_(static_cast<std::uint64_t>(tick.as_micros())), where_(n) {}

    std::uint64_t ceil_tick(Instant d) const {
        if (d.micros() <= start_) return 0;
        return (d.micros() - start_ + tick_ - 1) / tick_;
    }
    std::uint64_t floor_tick(Instant d) const {
        return d.micros() <= start_ ? 0 : (d.micros() - start_) / tick_;
    }
    // cur: the wheel's current tick; last_now: latest `now` before this call.
    std::uint64_t arm(std::size_t id, Instant d, std::uint64_t cur, Instant last_now) {
        cancel(id);
        std::uint64_t k = ceil_tick(d);
        if (d <= last_now || k <= cur) k = cur;
        where_[id] = map_.emplace(k, id);
        armed_.insert(id);
        return k;
    }
    void cancel(std::size_t id) {
        if (armed_.erase(id) != 0) map_.erase(where_[id]);
    }
    bool armed(std::size_t id) const { return armed_.count(id) != 0; }
    std::uint64_t key(std::size_t id) const { return where_[id]->first; }
    std::size_t size() const { return map_.size(); }
    bool empty() const { return map_.empty(); }
    std::uint64_t min_key() const { return map_.begin()->first; }
    std::size_t count(std::uint64_t k) const { return map_.count(k); }

private:
    using Map = std::multimap<std::uint64_t, std::size_t>;
    std::uint64_t start_, tick_;
    Map map_;
    std::vector<Map::iterator> where_;
    std::set<std::size_t> armed_;
};

// What a run went through, so the test can insist the paths were taken.
struct Coverage {
    std::size_t fired = 0, budget_stops = 0, overdue_arms = 0, beyond_wheel = 0,
                callback_arms = 0;
};

// far_bits: log2 of the longest arm distance, in ticks.
void run_random(std::uint64_t seed, Duration tick, std::size_t n_timers, std::size_t n_ops,
                unsigned far_bits, Coverage& cov) {
    std::mt19937_64 rng(seed);
    auto below = [&](std::uint64_t n) { return n == 0 ? 0 : rng() % n; };
    const Instant start = Instant::from_micros((1ull << 40) + below(1ull << 30));
    const auto tick_us = static_cast<std::uint64_t>(tick.as_micros());
    TimerWheel w(start, tick);
    Model m(start, tick, n_timers);
    std::vector<Timer> timers(n_timers);
    for (std::size_t i = 0; i < n_timers; ++i) timers[i].owner = static_cast<std::uint32_t>(i);

    Instant now = start;       // the virtual clock
    Instant last_now = start;  // latest `now` given to advance()
    std::uint64_t cur = 0;     // the model's idea of the wheel's tick
    std::uint64_t last_fired = 0;

    // Log-uniform distances in ticks, with a random sub-tick part.
    auto distance = [&](unsigned max_bits) {
        const unsigned bits = static_cast<unsigned>(below(max_bits + 1));
        const std::uint64_t ticks = below(1ull << bits);
        return Duration::micros(static_cast<std::int64_t>(ticks * tick_us + below(tick_us)));
    };
    auto random_deadline = [&](Instant base) {
        if (below(10) == 0) return base - distance(12);  // overdue
        if (below(50) == 0) return base;
        return base + distance(far_bits);
    };

    for (std::size_t op = 0; op < n_ops; ++op) {
        const std::uint64_t r = below(100);
        const std::size_t id = below(n_timers);
        if (r < 40) {
            const Instant d = random_deadline(now);
            w.arm(timers[id], d);
            const std::uint64_t k = m.arm(id, d, cur, last_now);
            ASSERT_EQ(timers[id].expires, k);
            cov.overdue_arms += k == cur;
            cov.beyond_wheel += (k ^ cur) >> 32 != 0;
        } else if (r < 50) {
            w.cancel(timers[id]);
            m.cancel(id);
        } else {
            // Advance: mostly small steps, sometimes a long jump, sometimes none.
            const std::uint64_t kind = below(10);
            if (kind < 5) now = now + Duration::micros(static_cast<std::int64_t>(below(300 * tick_us)));
            else if (kind < 8) now = now + distance(16);
            else if (kind < 9) now = now + distance(34);
            const std::size_t budget = below(4) == 0 ? below(20) : kAll;
            const std::uint64_t target = std::max(cur, m.floor_tick(now));
            const Instant prev_now = last_now;
            const std::uint64_t carried_before = w.carried_over();
            std::size_t fired = 0;
            const std::size_t ret = w.advance(now, budget, [&](Timer& t) {
                const std::size_t me = t.owner;
                ++fired;
                ASSERT_FALSE(t.armed());
                ASSERT_TRUE(m.armed(me)) << "fired a timer the model does not have armed";
                ASSERT_EQ(m.key(me), t.expires);
                ASSERT_EQ(m.min_key(), t.expires) << "out of order";
                ASSERT_LE(t.expires, target) << "early";
                ASSERT_GE(t.expires, last_fired);
                last_fired = t.expires;
                m.cancel(me);
                ASSERT_EQ(w.now_tick(), t.expires);
                // Meddle: cancel or arm a random timer, or re-arm this one.
                const std::uint64_t act = below(10);
                const std::size_t other = below(n_timers);
                if (act == 0) {
                    w.cancel(timers[other]);
                    m.cancel(other);
                } else if (act <= 2) {
                    const std::size_t who = act == 1 ? other : me;
                    const Instant d = below(3) == 0 ? now - distance(10) : now + distance(20);
                    w.arm(timers[who], d);
                    ASSERT_EQ(timers[who].expires, m.arm(who, d, t.expires, prev_now));
                    ++cov.callback_arms;
                }
            });
            if (::testing::Test::HasFatalFailure()) return;
            ASSERT_EQ(ret, fired);
            cov.fired += fired;
            if (!m.empty() && m.min_key() <= target) {
                // Stopped by the budget: the wheel waits on the earliest due tick.
                ASSERT_EQ(fired, budget);
                ++cov.budget_stops;
                cur = m.min_key();
                ASSERT_EQ(w.carried_over() - carried_before, m.count(cur));
                ASSERT_LE(w.next_deadline(), now);
            } else {
                cur = target;
                ASSERT_EQ(w.carried_over(), carried_before);
            }
            ASSERT_EQ(w.now_tick(), cur);
            last_now = std::max(last_now, now);
        }
        ASSERT_EQ(w.armed_count(), m.size());
        if (m.empty()) {
            ASSERT_EQ(w.next_deadline(), Instant::max());
        } else {
            ASSERT_LE(w.next_deadline(), w.tick_instant(m.min_key()));
        }
        ASSERT_EQ(timers[id].armed(), m.armed(id));
    }
    // Drain: everything left fires, in order, exactly once.
    std::size_t left = m.size();
    const std::size_t ret = w.advance(Instant::max(), kAll, [&](Timer& t) {
        ASSERT_EQ(m.min_key(), t.expires);
        ASSERT_EQ(m.key(t.owner), t.expires);
        m.cancel(t.owner);
    });
    EXPECT_EQ(ret, left);
    EXPECT_TRUE(m.empty());
    EXPECT_EQ(w.armed_count(), 0u);
    EXPECT_EQ(w.next_deadline(), Instant::max());
}

void expect_covered(const Coverage& c, bool far) {
    EXPECT_GT(c.fired, 1000u);
    EXPECT_GT(c.budget_stops, 10u);
    EXPECT_GT(c.overdue_arms, 100u);
    EXPECT_GT(c.callback_arms, 100u);
    if (far) {
        EXPECT_GT(c.beyond_wheel, 10u);
    }
}

TEST(TimerWheelRandom, MatchesTheReferenceModel) {
    for (const std::int64_t tick_us : {1000, 1, 7, 10'000}) {
        for (const std::uint64_t seed : {1ull, 2ull, 3ull}) {
            SCOPED_TRACE(testing::Message() << "tick " << tick_us << "us seed " << seed);
            // Up to 2^36 ticks: past the wheel's 2^32, through the overflow list.
            Coverage cov;
            run_random(seed, Duration::micros(tick_us), 300, 20000, 36, cov);
            if (HasFatalFailure()) return;
            expect_covered(cov, true);
        }
    }
}

TEST(TimerWheelRandom, ManyTimersFewSlots) {
    // Dense: many timers per slot, short distances, so cascades carry crowds.
    for (const std::uint64_t seed : {5ull, 6ull}) {
        SCOPED_TRACE(seed);
        Coverage cov;
        run_random(seed, Duration::millis(1), 5000, 30000, 16, cov);
        if (HasFatalFailure()) return;
        expect_covered(cov, false);
    }
}

TEST(TimerWheel, ResetIsANewWheel) {
    // Timers armed at every level, in the ready list and the overflow list,
    // then forgotten by reset(): the wheel then behaves as one built at the
    // new start (Engine::reset relies on it).
    const Instant start2 = at_ms(5'000'000'000);
    TimerWheel fresh(start2), reused(kStart);
    std::vector<Timer> old(6);
    const std::int64_t offsets_ms[] = {0, 3, 300, 20'000, 4'000'000, 6'000'000'000};
    Log log;
    (void)reused.advance(at_ms(1), kAll, log);
    for (std::size_t i = 0; i < old.size(); ++i) reused.arm(old[i], at_ms(offsets_ms[i]));
    ASSERT_EQ(reused.armed_count(), old.size());
    reused.reset(start2);
    EXPECT_EQ(reused.armed_count(), 0u);
    EXPECT_EQ(reused.next_deadline(), Instant::max());
    EXPECT_EQ(reused.now(), start2);
    EXPECT_EQ(reused.steps(), 0u);
    std::vector<Timer> a(old.size()), b(old.size());
    for (std::size_t i = 0; i < old.size(); ++i) {
        fresh.arm(a[i], start2 + Duration::millis(offsets_ms[i] + 1));
        reused.arm(b[i], start2 + Duration::millis(offsets_ms[i] + 1));
    }
    Log fa, fb;
    const std::int64_t steps_ms[] = {0, 2, 500, 30'000, 5'000'000, 7'000'000'000};
    for (const std::int64_t ms : steps_ms) {
        const Instant t = start2 + Duration::millis(ms);
        EXPECT_EQ(fresh.next_deadline(), reused.next_deadline());
        EXPECT_EQ(fresh.advance(t, kAll, fa), reused.advance(t, kAll, fb));
        ASSERT_EQ(fa.fired.size(), fb.fired.size());
        for (std::size_t i = 0; i < fa.fired.size(); ++i) {
            EXPECT_EQ(fa.fired[i] - a.data(), fb.fired[i] - b.data());
            EXPECT_EQ(fa.fired[i]->expires, fb.fired[i]->expires);
        }
    }
    EXPECT_EQ(fb.fired.size(), b.size());
    EXPECT_EQ(fresh.steps(), reused.steps());
}

}  // namespace
}  // namespace tcpfp::tcp
