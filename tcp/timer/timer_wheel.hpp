// Per-engine hierarchical hashed timer wheel (Varghese & Lauck, "Hashed and
// Hierarchical Timing Wheels", SOSP 1987, scheme 7), with cascading that keeps
// every timer's exact expiry tick.
//
// Layout: level 0 has 256 one-tick slots, levels 1-4 have 64 slots each, so
// the wheel spans 2^32 ticks (49.7 days at the default 1 ms tick). A timer
// goes to the level holding the highest bit where its expiry tick differs
// from the current tick (the placement of W. Ahern's timeout.c), into the
// slot named by its expiry's bits at that level. So every occupied slot lies
// strictly ahead of the cursor at its level, with no wrap-around, and the
// next point where anything happens is the lowest set bit of the lowest
// non-empty level's occupancy bitmap. advance() jumps straight to that point
// (an idle day costs a handful of bitmap reads, not 86.4 million ticks); when
// the cursor reaches a slot of level L >= 1 its timers are re-placed against
// the new current tick, landing in lower levels at their exact tick: no
// Linux-style coarsening.
//
// Beyond the wheel: a timer whose expiry lies outside the current aligned
// block of 2^32 ticks waits in an overflow list, re-placed when the cursor
// enters the next block. Nothing is clamped: a deadline 400 days out still
// fires on its exact tick (re-placing the overflow list is O(its length),
// once per 2^32 ticks).
//
// Due timers move to a FIFO ready list (a level-0 slot is spliced in O(1))
// and run from there, so the budget can stop advance() between any two
// callbacks and the next call resumes where it stopped, in order.
//
// Memory: 514 list sentinels (16 KiB) come from the memory_resource at
// construction; timers are intrusive, so arm/cancel/advance never allocate.
// No clock reads: time comes in as Instant values.
#pragma once

#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <memory_resource>

#include "tcp/base/prefetch.hpp"
#include "tcp/base/time.hpp"

namespace tcpfp::tcp {

// Intrusive timer, embedded in its owner (a connection control block, a
// TIME_WAIT record...). Do not copy or move it while armed: the wheel links
// point at it. An armed timer belongs to exactly one wheel.
struct Timer {
    Timer* next = nullptr;      // links inside a wheel list (circular, doubly linked: O(1) cancel)
    Timer* prev = nullptr;
    std::uint64_t expires = 0;  // absolute tick (ticks since the wheel's start) at which it fires
    std::uint32_t owner = 0;    // index of the owning object, for the engine's dispatch
    std::uint8_t kind = 0;      // owner type (connection, time-wait record, ...), engine-defined

    bool armed() const { return next != nullptr; }
};
static_assert(sizeof(Timer) <= 32);

class TimerWheel {
public:
    // Tick 1 ms by default; any positive tick works (a non-positive one is
    // taken as 1 us).
    explicit TimerWheel(Instant start, Duration tick = Duration::millis(1),
                        std::pmr::memory_resource* mr = std::pmr::get_default_resource());
    ~TimerWheel();
    // Armed timers point into the wheel's sentinels: neither copied nor moved.
    TimerWheel(const TimerWheel&) = delete;
    TimerWheel& operator=(const TimerWheel&) = delete;

    // O(1). Fires at the first advance(now) with now >= deadline rounded up to
    // a tick boundary. Re-arming an armed timer moves it. A deadline at or
    // before the latest `now` given to advance() (or at or before now()) is
    // overdue: it fires on the next advance() call, with expires = now_tick().
    void arm(Timer& t, Instant deadline);
    // O(1); no-op if not armed.
    void cancel(Timer& t);

    // Back to the state of a wheel constructed at `start` with the same tick:
    // nothing armed, every counter 0. The timers still armed are forgotten,
    // not touched (their owners are being discarded with it). O(occupied
    // slots): only the lists whose occupancy bit is set are emptied.
    void reset(Instant start);

    // Runs the expired timers in tick order (non-decreasing `expires`; within a
    // tick in any order), calling on_expire(Timer&) for each. The timer is
    // disarmed before the call; the callback may arm or cancel any timer,
    // this one included, but must not call advance(). Runs at most `budget`
    // callbacks: if more are due it stops with the rest still queued, adds
    // how many are ready to carried_over(), and the next call resumes in
    // order. A callback that keeps re-arming overdue timers loops until the
    // budget runs out. Returns how many fired.
    template <class F>
    std::size_t advance(Instant now, std::size_t budget, F&& on_expire);

    // Earliest instant at which advance() has work: Instant::max() if nothing
    // is armed; a time <= the latest `now` if timers are already due (work
    // carried over, or overdue arms). It may be earlier than the true next
    // expiry (the next cascade point of a higher level) but never later.
    Instant next_deadline() const;

    std::size_t armed_count() const { return armed_count_; }
    // Cumulative: for each advance() stopped by its budget, the number of due
    // timers it left queued (a timer held over k calls counts k times, so
    // this measures backlog x calls).
    std::uint64_t carried_over() const { return carried_over_; }
    // The wheel's current time: the last tick it has advanced to.
    Instant now() const { return tick_instant(cur_); }

    // Introspection for the engine and the tests.
    std::uint64_t now_tick() const { return cur_; }
    Duration tick() const { return Duration::micros(static_cast<std::int64_t>(tick_us_)); }
    // Instant of a tick (saturates at Instant::max()).
    Instant tick_instant(std::uint64_t tick) const;
    // Slot visits: ticks at which advance() found a slot to cascade or expire.
    // Empty ticks are skipped and cost nothing, so an idle day adds ~0.
    std::uint64_t steps() const { return steps_; }
    // arm() calls that found the timer armed for that very tick already and
    // moved nothing.
    std::uint64_t rearms_kept() const { return rearms_kept_; }
    // arm() calls that took an armed timer out of one list and put it into
    // another (the cost a lazily re-armed timer saves).
    std::uint64_t moves() const { return moves_; }

private:
    static constexpr unsigned kLevels = 5;
    static constexpr std::array<unsigned, kLevels + 1> kShift = {0, 8, 14, 20, 26, 32};
    static constexpr std::array<unsigned, kLevels> kBase = {0, 256, 320, 384, 448};
    static constexpr unsigned kOverflow = 512;  // sentinel index of the overflow list
    static constexpr unsigned kReady = 513;     // sentinel index of the ready list
    static constexpr unsigned kHeads = 514;
    static constexpr unsigned kWords = (kHeads + 63) / 64;
    static constexpr std::uint64_t kNone = UINT64_MAX;

    // Level of a timer whose expiry differs from the current tick first at bit b.
    static constexpr std::array<std::uint8_t, 32> kLevelOfBit = [] {
        std::array<std::uint8_t, 32> a{};
        for (unsigned b = 0; b < 32; ++b) a[b] = static_cast<std::uint8_t>(b < 8 ? 0 : 1 + (b - 8) / 6);
        return a;
    }();

    // Exact 64-bit division by the tick without a divide instruction: the
    // estimate mulhi(n, floor((2^64-1)/d)) is at most 2 below n/d.
    struct Quot {
        std::uint64_t q, r;
    };
    Quot div_tick(std::uint64_t n) const {
        __extension__ using u128 = unsigned __int128;
        std::uint64_t q = static_cast<std::uint64_t>((static_cast<u128>(n) * tick_magic_) >> 64);
        std::uint64_t r = n - q * tick_us_;
        if (r >= tick_us_) { ++q; r -= tick_us_; }
        if (r >= tick_us_) { ++q; r -= tick_us_; }
        return {q, r};
    }
    std::uint64_t floor_tick(Instant t) const {
        return t.micros() <= start_us_ ? 0 : div_tick(t.micros() - start_us_).q;
    }

    Timer& head(unsigned i) const { return heads_[i]; }
    void set_bit(unsigned i) { bits_[i / 64] |= std::uint64_t{1} << (i % 64); }
    void clear_bit(unsigned i) { bits_[i / 64] &= ~(std::uint64_t{1} << (i % 64)); }
    bool test_bit(unsigned i) const { return (bits_[i / 64] >> (i % 64)) & 1u; }

    static void link_tail(Timer& s, Timer& t) {
        t.next = &s;
        t.prev = s.prev;
        s.prev->next = &t;
        s.prev = &t;
    }
    // Out of its list if armed (to be placed again), or counted as newly armed.
    void take(Timer& t) {
        if (t.armed()) {
            unlink(t);
        } else {
            ++armed_count_;
        }
    }
    void push_ready(Timer& t) {
        t.expires = cur_;
        link_tail(head(kReady), t);
        ++ready_len_;
    }
    // Places a timer with expiry e > cur_ into its level and slot.
    void place(Timer& t, std::uint64_t e) {
        t.expires = e;
        const std::uint64_t x = e ^ cur_;
        unsigned i;
        if (x >> 32) {
            i = kOverflow;
        } else {
            const unsigned level = kLevelOfBit[static_cast<unsigned>(std::bit_width(x)) - 1];
            const unsigned mask = level == 0 ? 255u : 63u;
            i = kBase[level] + (static_cast<unsigned>(e >> kShift[level]) & mask);
            if (level == 0) ++count0_[i];
        }
        link_tail(head(i), t);
        set_bit(i);
    }
    // Takes an armed timer out of its list, keeping bitmaps and counts exact.
    // Where it sits follows from expires and cur_ alone: the ready list holds
    // exactly the timers with expires == cur_, level 0 those within 255 above.
    void unlink(Timer& t) {
        Timer* p = t.prev;
        Timer* n = t.next;
        p->next = n;
        n->prev = p;
        if (p == n) clear_bit(static_cast<unsigned>(p - heads_));  // list now empty: p is its sentinel
        const std::uint64_t x = t.expires ^ cur_;
        if (x == 0) {
            --ready_len_;
        } else if (x < 256) {
            --count0_[t.expires & 255];
        }
        t.next = nullptr;
        t.prev = nullptr;
    }

    std::uint64_t next_event() const;
    void step(std::uint64_t target);
    void cascade(unsigned i);
    void note_now(Instant now) {
        if (now.micros() > last_now_us_) last_now_us_ = now.micros();
    }

    std::pmr::memory_resource* mr_;
    Timer* heads_;                       // kHeads sentinels: 512 slots, overflow, ready
    std::uint64_t start_us_;
    std::uint64_t tick_us_;
    std::uint64_t tick_magic_;           // floor((2^64 - 1) / tick_us_)
    std::uint64_t max_tick_;             // largest tick whose instant is representable
    std::uint64_t cur_ = 0;              // current tick: everything before it has run
    std::uint64_t last_now_us_;          // latest `now` given to advance()
    std::size_t armed_count_ = 0;
    std::size_t ready_len_ = 0;
    std::uint64_t carried_over_ = 0;
    std::uint64_t steps_ = 0;
    std::uint64_t rearms_kept_ = 0;
    std::uint64_t moves_ = 0;
    std::array<std::uint64_t, kWords> bits_{};  // occupancy per sentinel
    std::array<std::uint32_t, 256> count0_{};   // timers per level-0 slot, for O(1) splicing
};

inline void TimerWheel::arm(Timer& t, Instant deadline) {
    if (deadline.micros() > last_now_us_) {
        // deadline > last_now >= start: round the offset up to a tick.
        const Quot d = div_tick(deadline.micros() - start_us_);
        const std::uint64_t e = d.q + (d.r != 0);
        if (e > cur_) {
            // Re-armed for the tick it already has (each ACK of a burst
            // re-arms the retransmission timer, mostly within one tick):
            // nothing moves. A timer in the ready list has expires <= cur_.
            if (t.armed() && t.expires == e) {
                ++rearms_kept_;
                return;
            }
            if (t.armed()) ++moves_;
            take(t);
            place(t, e);
            return;
        }
    }
    take(t);
    push_ready(t);  // at or before the latest now, or within a callback for a tick already reached
}

inline void TimerWheel::cancel(Timer& t) {
    if (!t.armed()) return;
    unlink(t);
    --armed_count_;
}

template <class F>
std::size_t TimerWheel::advance(Instant now, std::size_t budget, F&& on_expire) {
    const std::uint64_t target = floor_tick(now);
    Timer& ready = head(kReady);
    std::size_t fired = 0;
    for (;;) {
        while (ready.next != &ready) {
            if (fired == budget) {
                carried_over_ += ready_len_;
                note_now(now);
                return fired;
            }
            Timer& t = *ready.next;
            ready.next = t.next;
            t.next->prev = &ready;
            // Fetch the next one while this callback runs: the walk is a
            // chain of dependent cache misses when owners are scattered.
            prefetch_line(t.next);
            t.next = nullptr;
            t.prev = nullptr;
            --ready_len_;
            --armed_count_;
            ++fired;
            on_expire(t);
        }
        if (cur_ >= target) break;
        step(target);
    }
    note_now(now);
    return fired;
}

}  // namespace tcpfp::tcp
