// Timer wheel microbenchmarks: the per-segment costs (arm, cancel, re-arm)
// with a realistic population already armed, the cost per expiry of a
// TIME_WAIT-like wave, and what an idle stretch costs.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdint>
#include <random>
#include <vector>

#include "tcp/timer/timer_wheel.hpp"

namespace {

using tcpfp::tcp::Duration;
using tcpfp::tcp::Instant;
using tcpfp::tcp::Timer;
using tcpfp::tcp::TimerWheel;

constexpr Instant kStart = Instant::from_micros(1'000'000'000);
constexpr std::size_t kMillion = 1'000'000;

Instant at_us(std::uint64_t us) { return kStart + Duration::micros(static_cast<std::int64_t>(us)); }

// A wheel with 1M timers spread over the next 60 s (the TIME_WAIT horizon).
struct Loaded {
    TimerWheel wheel{kStart};
    std::vector<Timer> background = std::vector<Timer>(kMillion);
    std::vector<Timer> hot = std::vector<Timer>(1024);
    std::vector<Instant> deadlines = std::vector<Instant>(1024);

    Loaded() {
        std::mt19937_64 rng(1);
        for (auto& t : background) wheel.arm(t, at_us(1000 + rng() % 60'000'000));
        // A mix of RTO-like (ms), delayed-ACK-like and TIME_WAIT-like distances.
        for (auto& d : deadlines) {
            const std::uint64_t r = rng() % 3;
            d = at_us(r == 0 ? 200'000 + rng() % 1'000'000 : r == 1 ? 1000 + rng() % 40'000
                                                                     : 60'000'000 + rng() % 1000);
        }
    }
};

void BM_ArmCancel(benchmark::State& state) {
    Loaded l;
    std::size_t i = 0;
    for (auto _ : state) {
        Timer& t = l.hot[i];
        l.wheel.arm(t, l.deadlines[i]);
        l.wheel.cancel(t);
        i = (i + 1) & 1023;
    }
    state.SetLabel("1M armed; time per arm+cancel pair");
    benchmark::DoNotOptimize(l.wheel.armed_count());
}
BENCHMARK(BM_ArmCancel);

void BM_Rearm(benchmark::State& state) {
    Loaded l;
    for (std::size_t i = 0; i < l.hot.size(); ++i) l.wheel.arm(l.hot[i], l.deadlines[i]);
    std::size_t i = 0;
    std::size_t j = 0;
    for (auto _ : state) {
        l.wheel.arm(l.hot[i], l.deadlines[j]);  // moves an armed timer
        i = (i + 1) & 1023;
        j = (j + 7) & 1023;
    }
    state.SetLabel("1M armed; re-arm of an armed timer");
    benchmark::DoNotOptimize(l.wheel.armed_count());
}
BENCHMARK(BM_Rearm);

// 1M TIME_WAIT records: created over 60 s, each expiring 60 s later, then the
// wheel advanced from 0 to 120 s in steps of range(0) us. range(1) == 1 shuffles
// the records in memory (expiry order unrelated to address), 0 keeps creation
// order. Reports time per expiry (arming excluded).
void BM_ExpireTimeWait(benchmark::State& state) {
    const auto step = static_cast<std::uint64_t>(state.range(0));
    std::vector<Timer> records(kMillion);
    std::vector<std::uint32_t> order(kMillion);
    for (std::uint32_t i = 0; i < kMillion; ++i) order[i] = i;
    if (state.range(1) != 0) std::shuffle(order.begin(), order.end(), std::mt19937_64(2));
    std::size_t fired = 0;
    for (auto _ : state) {
        state.PauseTiming();
        TimerWheel wheel(kStart);
        for (std::size_t i = 0; i < kMillion; ++i) {
            wheel.arm(records[order[i]], at_us(60'000'000 + i * 60));
        }
        state.ResumeTiming();
        for (std::uint64_t t = step; t <= 120'000'000; t += step) {
            fired += wheel.advance(at_us(t), SIZE_MAX, [](Timer& r) { benchmark::DoNotOptimize(&r); });
        }
    }
    if (fired != kMillion * state.iterations()) state.SkipWithError("not every record fired");
    state.counters["per_expiry"] = benchmark::Counter(
        static_cast<double>(fired), benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}
BENCHMARK(BM_ExpireTimeWait)
    ->ArgNames({"step_us", "shuffled"})
    ->Args({1000, 0})
    ->Args({1000, 1})
    ->Args({120'000'000, 0})
    ->Unit(benchmark::kMillisecond)
    ->Iterations(3);

// An idle day: one keepalive-like timer 30 days out, advance 24 h per call.
void BM_AdvanceIdle24h(benchmark::State& state) {
    TimerWheel wheel(kStart);
    Timer keepalive;
    std::uint64_t now = 0;
    wheel.arm(keepalive, at_us(30ull * 86'400'000'000));
    for (auto _ : state) {
        now += 86'400'000'000;
        wheel.advance(at_us(now), SIZE_MAX, [&](Timer& t) { wheel.arm(t, at_us(now + 30ull * 86'400'000'000)); });
    }
    benchmark::DoNotOptimize(wheel.steps());
}
BENCHMARK(BM_AdvanceIdle24h);

// The poll loop's call when no timer is due: advance by one tick and ask
// for the next deadline, with 1M timers armed 30 days ahead.
void BM_PollNothingDue(benchmark::State& state) {
    TimerWheel wheel(kStart);
    std::vector<Timer> timers(kMillion);
    std::mt19937_64 rng(3);
    for (auto& t : timers) wheel.arm(t, at_us(30ull * 86'400'000'000 + rng() % 60'000'000));
    std::uint64_t now = 0;
    for (auto _ : state) {
        now += 1000;
        wheel.advance(at_us(now), SIZE_MAX, [](Timer&) {});
        benchmark::DoNotOptimize(wheel.next_deadline());
    }
}
BENCHMARK(BM_PollNothingDue);

}  // namespace

BENCHMARK_MAIN();
