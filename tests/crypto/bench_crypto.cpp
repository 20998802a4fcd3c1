// Crypto-area microbenchmarks: the per-connection costs of an active or
// passive open (one ISN, one port selection) and the PRNG's per-draw cost.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <vector>

#include "tcp/crypto/ephemeral_ports.hpp"
#include "tcp/crypto/isn.hpp"
#include "tcp/crypto/random.hpp"
#include "tcp/crypto/siphash.hpp"

namespace {

using namespace tcpfp::tcp;
using tcpfp::wire::Ipv4Addr;

constexpr SipKey kKey{0x0706050403020100ull, 0x0f0e0d0c0b0a0908ull};

// Inputs change every iteration so nothing folds to a constant.
void BM_SipHash12(benchmark::State& state) {
    std::uint64_t a = 0xac10300dac103001ull;
    for (auto _ : state) {
        benchmark::DoNotOptimize(siphash24_u64_u32(kKey, a++, 0x138a8026u));
    }
}
BENCHMARK(BM_SipHash12);

void BM_SipHash16(benchmark::State& state) {
    std::uint64_t a = 0xac10300dac103001ull;
    for (auto _ : state) {
        benchmark::DoNotOptimize(siphash24_u64x2(kKey, a++, 0x138a8026u));
    }
}
BENCHMARK(BM_SipHash16);

// The generic byte-string path on the same sizes, and a longer input.
void BM_SipHashGeneric(benchmark::State& state) {
    std::vector<std::uint8_t> buf(static_cast<std::size_t>(state.range(0)), 0x5a);
    for (auto _ : state) {
        ++buf[0];
        benchmark::DoNotOptimize(siphash24(kKey, buf));
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * state.range(0));
}
BENCHMARK(BM_SipHashGeneric)->Arg(12)->Arg(16)->Arg(64);

void BM_Isn(benchmark::State& state) {
    const IsnGenerator gen(kKey);
    FourTuple t{Ipv4Addr::from_octets(172, 16, 48, 13), Ipv4Addr::from_octets(172, 16, 48, 1),
                32806, 5002};
    std::uint64_t us = 1'000'000;
    for (auto _ : state) {
        ++t.remote_port;
        us += 4;
        benchmark::DoNotOptimize(gen.isn(t, Instant::from_micros(us)));
    }
}
BENCHMARK(BM_Isn);

// select() with every candidate usable: one hash, one table update.
void BM_EphemeralSelect(benchmark::State& state) {
    EphemeralPorts ports(kKey);
    const Ipv4Addr local = Ipv4Addr::from_octets(10, 0, 0, 2);
    const Ipv4Addr remote = Ipv4Addr::from_octets(192, 0, 2, 80);
    std::uint16_t rp = 0;
    for (auto _ : state) {
        benchmark::DoNotOptimize(
            ports.select(local, remote, ++rp, [](std::uint16_t) { return true; }));
    }
}
BENCHMARK(BM_EphemeralSelect);

// With a steering filter that passes a quarter of the ports (4 lcores):
// on average 2.5 candidates per selection.
void BM_EphemeralSelectSteered(benchmark::State& state) {
    EphemeralPorts ports(kKey);
    const Ipv4Addr local = Ipv4Addr::from_octets(10, 0, 0, 2);
    const Ipv4Addr remote = Ipv4Addr::from_octets(192, 0, 2, 80);
    std::uint16_t rp = 0;
    for (auto _ : state) {
        benchmark::DoNotOptimize(ports.select(
            local, remote, ++rp, [](std::uint16_t p) { return p % 4 == 1; },
            [](std::uint16_t) { return true; }));
    }
}
BENCHMARK(BM_EphemeralSelectSteered);

void BM_RandomNextU64(benchmark::State& state) {
    Random r(42);
    for (auto _ : state) benchmark::DoNotOptimize(r.next_u64());
}
BENCHMARK(BM_RandomNextU64);

void BM_RandomUniform(benchmark::State& state) {
    Random r(42);
    const auto bound = static_cast<std::uint32_t>(state.range(0));
    for (auto _ : state) benchmark::DoNotOptimize(r.uniform(bound));
}
// For bound 3 << 30, 2^32 mod bound = 2^30: one draw in four is rejected.
BENCHMARK(BM_RandomUniform)->Arg(1000)->Arg(std::int64_t{3} << 30);

}  // namespace

BENCHMARK_MAIN();
