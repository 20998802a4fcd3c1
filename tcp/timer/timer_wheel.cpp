#include "tcp/timer/timer_wheel.hpp"

#include <new>

namespace tcpfp::tcp {

TimerWheel::TimerWheel(Instant start, Duration tick, std::pmr::memory_resource* mr)
    : mr_(mr),
      heads_(static_cast<Timer*>(mr->allocate(sizeof(Timer) * kHeads, alignof(Timer)))),
      start_us_(start.micros()),
      tick_us_(tick.as_micros() > 0 ? static_cast<std::uint64_t>(tick.as_micros()) : 1),
      tick_magic_(UINT64_MAX / tick_us_),
      max_tick_((UINT64_MAX - start_us_) / tick_us_),
      last_now_us_(start_us_) {
    for (unsigned i = 0; i < kHeads; ++i) {
        Timer* s = new (&heads_[i]) Timer{};
        s->next = s;
        s->prev = s;
    }
}

void TimerWheel::reset(Instant start) {
    // A list is non-empty exactly when its bit is set (place() sets it,
    // unlink(), step() and cascade() clear it with the last timer); the
    // ready list has no bit and is emptied unconditionally.
    for (unsigned w = 0; w < kWords; ++w) {
        for (std::uint64_t word = bits_[w]; word != 0; word &= word - 1) {
            const unsigned i = w * 64 + static_cast<unsigned>(std::countr_zero(word));
            heads_[i].next = heads_[i].prev = &heads_[i];
            if (i < 256) count0_[i] = 0;
        }
        bits_[w] = 0;
    }
    Timer& ready = heads_[kReady];
    ready.next = ready.prev = &ready;
    start_us_ = start.micros();
    max_tick_ = (UINT64_MAX - start_us_) / tick_us_;
    cur_ = 0;
    last_now_us_ = start_us_;
    armed_count_ = 0;
    ready_len_ = 0;
    carried_over_ = 0;
    steps_ = 0;
    rearms_kept_ = 0;
    moves_ = 0;
}

// Timers still armed are not touched (their owners may already be gone);
// their links dangle and they must not be used with another wheel unreset.
TimerWheel::~TimerWheel() {
    mr_->deallocate(heads_, sizeof(Timer) * kHeads, alignof(Timer));
}

Instant TimerWheel::tick_instant(std::uint64_t tick) const {
    if (tick > max_tick_) return Instant::max();
    return Instant::from_micros(start_us_ + tick * tick_us_);
}

// The next tick > cur_ at which a slot is due: an expiry at level 0, a
// cascade point above it. Occupied slots all lie ahead of the cursor at their
// level, so the lowest non-empty level's lowest set bit is the answer.
std::uint64_t TimerWheel::next_event() const {
    for (unsigned w = 0; w < 4; ++w) {
        if (bits_[w] != 0) {
            return (cur_ & ~std::uint64_t{255}) |
                   (w * 64 + static_cast<unsigned>(std::countr_zero(bits_[w])));
        }
    }
    for (unsigned level = 1; level < kLevels; ++level) {
        const std::uint64_t word = bits_[3 + level];
        if (word != 0) {
            const std::uint64_t block = cur_ >> kShift[level + 1] << kShift[level + 1];
            return block | (static_cast<std::uint64_t>(std::countr_zero(word)) << kShift[level]);
        }
    }
    if (test_bit(kOverflow)) {
        const std::uint64_t hi = cur_ >> 32;
        return hi == UINT32_MAX ? kNone : (hi + 1) << 32;
    }
    return kNone;
}

Instant TimerWheel::next_deadline() const {
    if (ready_len_ != 0) return tick_instant(cur_);
    const std::uint64_t e = next_event();
    return e == kNone ? Instant::max() : tick_instant(e);
}

// Moves the cursor to the next due tick, or to `target` if none comes before
// it. Ticks skipped hold no timer: their slots would have been the next event.
// At the due tick, every level's slot under the cursor is processed; timers
// re-placed against the new tick land strictly ahead of the cursor (or in the
// ready list when due now), so the order of the levels does not matter.
void TimerWheel::step(std::uint64_t target) {
    const std::uint64_t e = next_event();
    if (e > target) {
        cur_ = target;
        return;
    }
    ++steps_;
    const std::uint64_t old = cur_;
    cur_ = e;
    if ((old ^ e) >> 32 && test_bit(kOverflow)) cascade(kOverflow);
    for (unsigned level = kLevels - 1; level >= 1; --level) {
        const unsigned i = kBase[level] + (static_cast<unsigned>(e >> kShift[level]) & 63u);
        if (test_bit(i)) cascade(i);
    }
    const unsigned i0 = static_cast<unsigned>(e & 255);
    if (test_bit(i0)) {
        // Splice the whole slot onto the ready list: every timer in it expires at e.
        Timer& s = head(i0);
        Timer& r = head(kReady);
        s.next->prev = r.prev;
        r.prev->next = s.next;
        s.prev->next = &r;
        r.prev = s.prev;
        s.next = &s;
        s.prev = &s;
        clear_bit(i0);
        ready_len_ += count0_[i0];
        count0_[i0] = 0;
    }
}

// Re-places every timer of list i against the current tick. The list is
// detached first: the overflow list can receive its own timers back.
void TimerWheel::cascade(unsigned i) {
    Timer& s = head(i);
    clear_bit(i);
    if (s.next == &s) return;
    Timer* t = s.next;
    s.prev->next = nullptr;
    s.next = &s;
    s.prev = &s;
    while (t != nullptr) {
        Timer* next = t->next;
        prefetch_line(next);
        if (t->expires == cur_) {
            push_ready(*t);
        } else {
            place(*t, t->expires);
        }
        t = next;
    }
}

}  // namespace tcpfp::tcp
