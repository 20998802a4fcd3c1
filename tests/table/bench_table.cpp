// Table microbenchmarks: the per-segment connection lookup (hit, miss, with
// and without batching), insert/erase churn, and the pool's acquire/release.
// Lookups walk a shuffled key order, so at 1M entries (32 MB of buckets)
// nearly every lookup misses the caches, as a busy engine's would.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdint>
#include <random>
#include <vector>

#include "tcp/table/conn_table.hpp"
#include "tcp/table/listener_table.hpp"
#include "tcp/table/pool.hpp"

namespace {

using namespace tcpfp::tcp;
using tcpfp::wire::Ipv4Addr;

constexpr std::uint64_t kSeed = 0x9d2c5680a5b4c3d1u;

// Distinct server-side tuples: one local address and port, random remote
// address and port. `miss` keys use another local port, so never collide.
std::vector<FourTuple> make_keys(std::size_t n, std::uint64_t rng_seed, bool miss = false) {
    std::mt19937_64 rng(rng_seed);
    ConnTable seen(n, 1);
    std::vector<FourTuple> keys;
    keys.reserve(n);
    while (keys.size() < n) {
        const std::uint64_t r = rng();
        const FourTuple k{Ipv4Addr{0x0a000001}, Ipv4Addr{static_cast<std::uint32_t>(r)},
                          static_cast<std::uint16_t>(miss ? 444 : 443),
                          static_cast<std::uint16_t>(r >> 32)};
        if (seen.insert(k, 0) == InsertResult::inserted) keys.push_back(k);
    }
    return keys;
}

// A table holding n keys (max_entries n: load factor 0.5) and the same keys
// (or n absent ones) in shuffled order.
struct Loaded {
    ConnTable table;
    std::vector<FourTuple> probes;
    Loaded(std::size_t n, bool miss) : table(n, kSeed) {
        std::vector<FourTuple> keys = make_keys(n, 1);
        for (std::uint32_t i = 0; i < n; ++i) table.insert(keys[i], i);
        probes = miss ? make_keys(n, 2, true) : keys;
        std::shuffle(probes.begin(), probes.end(), std::mt19937_64(3));
    }
};

void BM_Hash(benchmark::State& state) {
    const std::vector<FourTuple> keys = make_keys(1024, 1);
    const FourTupleHasher h(kSeed);
    std::size_t i = 0;
    for (auto _ : state) {
        benchmark::DoNotOptimize(h(keys[i]));
        i = (i + 1) & 1023;
    }
}
BENCHMARK(BM_Hash);

// Independent lookups: the CPU overlaps their misses (throughput).
void find_loop(benchmark::State& state, bool miss) {
    const auto n = static_cast<std::size_t>(state.range(0));
    const Loaded l(n, miss);
    const std::size_t mask = n - 1;
    std::size_t i = 0;
    for (auto _ : state) {
        benchmark::DoNotOptimize(l.table.find(l.probes[i]));
        i = (i + 1) & mask;
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}
void BM_ConnFindHit(benchmark::State& state) {
    find_loop(state, false);
}
void BM_ConnFindMiss(benchmark::State& state) {
    find_loop(state, true);
}
BENCHMARK(BM_ConnFindHit)->Arg(1 << 10)->Arg(1 << 20);
BENCHMARK(BM_ConnFindMiss)->Arg(1 << 10)->Arg(1 << 20);

// Dependent lookups: the next key's index depends on this result, so the
// misses serialise (latency of one lookup).
void BM_ConnFindHitLatency(benchmark::State& state) {
    const auto n = static_cast<std::size_t>(state.range(0));
    const Loaded l(n, false);
    const std::size_t mask = n - 1;
    std::size_t i = 0;
    for (auto _ : state) {
        const auto v = l.table.find(l.probes[i]);
        benchmark::DoNotOptimize(v);
        i = (i + 1 + (v.value_or(0) >> 31)) & mask;  // values < 2^31: adds 0
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}
BENCHMARK(BM_ConnFindHitLatency)->Arg(1 << 10)->Arg(1 << 20);

// A receive burst of 32: hash all, prefetch all, then look up; time per lookup.
void BM_ConnFindHitBurst32(benchmark::State& state) {
    const auto n = static_cast<std::size_t>(state.range(0));
    const Loaded l(n, false);
    const std::size_t mask = n - 1;
    std::size_t i = 0;
    std::uint64_t hashes[32];
    for (auto _ : state) {
        for (std::size_t k = 0; k < 32; ++k) {
            hashes[k] = l.table.hash(l.probes[(i + k) & mask]);
            l.table.prefetch(hashes[k]);
        }
        for (std::size_t k = 0; k < 32; ++k) {
            benchmark::DoNotOptimize(l.table.find(l.probes[(i + k) & mask], hashes[k]));
        }
        i = (i + 32) & mask;
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()) * 32);
}
BENCHMARK(BM_ConnFindHitBurst32)->Arg(1 << 10)->Arg(1 << 20);

// Connection turnover: the table holds 3/4 of max_entries; each iteration
// erases the oldest connection and inserts a new one.
void BM_ConnInsertEraseChurn(benchmark::State& state) {
    const auto n = static_cast<std::size_t>(state.range(0));
    const std::vector<FourTuple> keys = make_keys(n, 4);
    ConnTable t(n, kSeed);
    const std::size_t live = n / 4 * 3, mask = n - 1;
    for (std::uint32_t k = 0; k < live; ++k) t.insert(keys[k], k);
    std::size_t i = 0;
    for (auto _ : state) {
        t.erase(keys[i]);
        const std::size_t j = (i + live) & mask;
        benchmark::DoNotOptimize(t.insert(keys[j], static_cast<std::uint32_t>(j)));
        i = (i + 1) & mask;
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}
BENCHMARK(BM_ConnInsertEraseChurn)->Arg(1 << 10)->Arg(1 << 20);

void BM_ListenerLookup(benchmark::State& state) {
    ListenerTable t(1024);
    for (std::uint16_t p = 0; p < 100; ++p)
        t.insert(Ipv4Addr{}, static_cast<std::uint16_t>(8000 + p), p);
    t.insert(Ipv4Addr{0x0a000001}, 8000, 500);  // one specific binding: two probes on a miss
    std::uint16_t p = 0;
    for (auto _ : state) {
        benchmark::DoNotOptimize(
            t.lookup(Ipv4Addr{0x0a000002}, static_cast<std::uint16_t>(8000 + p)));
        p = static_cast<std::uint16_t>(p + 1 == 100 ? 0 : p + 1);
    }
}
BENCHMARK(BM_ListenerLookup);

struct Tcb {
    std::uint64_t words[32];  // 256 bytes, like a connection's control block
    explicit Tcb(std::uint64_t x) { words[0] = x; }
};

// Acquire and release one object: LIFO reuse keeps the slot hot.
void BM_PoolAcquireRelease(benchmark::State& state) {
    Pool<Tcb> pool(static_cast<std::size_t>(state.range(0)));
    for (std::size_t k = 0; k < pool.capacity() / 2; ++k) (void)pool.acquire(k);
    std::uint64_t x = 0;
    for (auto _ : state) {
        const auto h = pool.acquire(x++);
        benchmark::DoNotOptimize(h);
        pool.release(h);
    }
}
BENCHMARK(BM_PoolAcquireRelease)->Arg(1 << 10)->Arg(1 << 20);

// Release a random live object and acquire a new one (it takes that slot).
void BM_PoolRandomReplace(benchmark::State& state) {
    const auto n = static_cast<std::size_t>(state.range(0));
    Pool<Tcb> pool(n);
    std::vector<PoolHandle> hs;
    for (std::size_t k = 0; k < n; ++k) hs.push_back(pool.acquire(k));
    std::shuffle(hs.begin(), hs.end(), std::mt19937_64(5));
    const std::size_t mask = n - 1;
    std::size_t i = 0;
    std::uint64_t x = 0;
    for (auto _ : state) {
        pool.release(hs[i]);
        hs[i] = pool.acquire(x++);
        i = (i + 1) & mask;
    }
}
BENCHMARK(BM_PoolRandomReplace)->Arg(1 << 10)->Arg(1 << 20);

// Generation-checked access through a handle, random order.
void BM_PoolGet(benchmark::State& state) {
    const auto n = static_cast<std::size_t>(state.range(0));
    Pool<Tcb> pool(n);
    std::vector<PoolHandle> hs;
    for (std::size_t k = 0; k < n; ++k) hs.push_back(pool.acquire(k));
    std::shuffle(hs.begin(), hs.end(), std::mt19937_64(6));
    const std::size_t mask = n - 1;
    std::size_t i = 0;
    for (auto _ : state) {
        const Tcb* tcb = pool.get(hs[i]);
        if (tcb == nullptr) {
            state.SkipWithError("stale handle");
            break;
        }
        benchmark::DoNotOptimize(tcb->words[0]);
        i = (i + 1) & mask;
    }
}
BENCHMARK(BM_PoolGet)->Arg(1 << 10)->Arg(1 << 20);

}  // namespace

BENCHMARK_MAIN();
