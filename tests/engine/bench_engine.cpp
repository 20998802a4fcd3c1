// Engine microbenchmarks: one full connection lifecycle per side, and the
// expiry of a million TIME_WAIT records. Two engines exchange serialised
// packets directly (no harness bookkeeping), on a virtual clock.
#include <benchmark/benchmark.h>

#include <chrono>
#include <cstdio>
#include <vector>

#include "tcp/engine/engine.hpp"

namespace {

using namespace tcpfp::tcp;
using tcpfp::wire::Ipv4Addr;

const Ipv4Addr kA = Ipv4Addr::from_octets(172, 16, 48, 13);
const Ipv4Addr kB = Ipv4Addr::from_octets(172, 16, 48, 1);

struct Wire {
    // Declared first: the engines are constructed with it (members are
    // initialised in declaration order; declared after them, both engines
    // started their clocks and timer wheels from an indeterminate value,
    // and every TIME_WAIT record expired at the first advance()).
    Instant now = Instant::from_micros(1'000'000);
    Engine a;
    Engine b;
    std::vector<std::uint8_t> buf = std::vector<std::uint8_t>(2048);
    std::vector<std::uint8_t> frames;  // move_burst's
    std::vector<std::size_t> lens;
    std::uint64_t unserialized = 0;  // segments move_burst could not serialise (none expected)

    Wire(const EngineConfig& ca, const EngineConfig& cb) : a(ca, now), b(cb, now) {
        a.add_address(kA);
        b.add_address(kB);
    }
    static void move(Engine& from, Engine& to, std::vector<std::uint8_t>& buf, Instant now) {
        for (const OutSegment& s : from.output()) {
            auto n = serialize(s, buf);
            if (n) to.input(std::span(buf).first(*n), now);
        }
        from.clear_output();
        from.clear_events();
    }
    void pump() {
        while (!a.output().empty() || !b.output().empty()) {
            move(a, b, buf, now);
            move(b, a, buf, now);
        }
    }
    // As the worker takes a receive burst (dpdk_app/worker.cpp): every
    // segment's connection-table bucket is prefetched before the first is
    // handed in. The lifecycle at scale needs it, or each lookup in its
    // large table is a miss the worker would not have.
    // The frames and their lengths are members, reused: after the warm-up
    // the harness allocates nothing while it is timed. They only ever grow:
    // resize() after a smaller burst zero-filled the frames again, some 64 KiB
    // per burst of 256, which was 5 % of the instructions the lifecycle at
    // scale counted (callgrind, session 22) and none of the engine's.
    void move_burst(Engine& from, Engine& to) {
        constexpr std::size_t kFrame = 256;  // the bench's segments: headers and at most 64 bytes
        const auto out = from.output();
        const std::size_t count = out.size();
        if (frames.size() < count * kFrame) frames.resize(count * kFrame);
        if (lens.size() < count) lens.resize(count);
        for (const OutSegment& s : out) {
            to.prefetch_tcp(s.tuple.local_ip, s.tuple.remote_ip, s.tuple.local_port, s.tuple.remote_port);
        }
        for (std::size_t i = 0; i < count; ++i) {
            const auto n = serialize(out[i], std::span(frames).subspan(i * kFrame, kFrame));
            lens[i] = n ? *n : 0;
            unserialized += !n;
        }
        from.clear_output();
        from.clear_events();
        for (std::size_t i = 0; i < count; ++i) {
            if (lens[i] != 0) to.input(std::span(frames).subspan(i * kFrame, lens[i]), now);
        }
    }
    void pump_bursts() {
        while (!a.output().empty() || !b.output().empty()) {
            move_burst(a, b);
            move_burst(b, a);
        }
    }
};

EngineConfig bench_config(std::uint32_t conns) {
    EngineConfig c;
    c.max_connections = conns;
    c.max_time_wait = conns;
    c.chunk_count = 2048;  // 4 MiB
    c.buffer_size = 64 * 1024;
    c.output_queue = 64;
    c.event_queue = 64;
    return c;
}

// Open, 64-byte request, 64-byte response, close, on both sides.
void lifecycle(Wire& w, ConnId listener, std::uint8_t* msg, std::size_t len) {
    ConnId ca, cb;
    (void)w.a.connect({kB, 80, kA, 0, {}}, w.now, ca);
    w.pump();
    (void)w.b.accept(listener, cb);
    (void)w.a.send(ca, {msg, len}, w.now);
    w.pump();
    (void)w.b.recv(cb, {msg, len}, w.now);
    (void)w.b.send(cb, {msg, len}, w.now);
    w.pump();
    (void)w.a.recv(ca, {msg, len}, w.now);
    (void)w.a.close(ca, w.now);
    w.pump();
    (void)w.b.close(cb, w.now);
    w.pump();
}

void BM_ConnectionLifecycle(benchmark::State& state) {
    EngineConfig c = bench_config(1024);
    c.msl = Duration{};  // no TIME_WAIT records: measure the lifecycle alone
    Wire w(c, c);
    ConnId l;
    (void)w.b.listen(kB, 80, 128, l);
    std::uint8_t msg[64] = {};
    for (auto _ : state) {
        lifecycle(w, l, msg, sizeof msg);
        w.now = w.now + Duration::micros(50);
    }
    state.counters["segments/iter"] = benchmark::Counter(
        static_cast<double>(w.a.counters().get(Mib::out_segs) + w.b.counters().get(Mib::out_segs)),
        benchmark::Counter::kAvgIterations);
    if (w.a.connection_count() != 0) state.SkipWithError("connections leaked");
}
BENCHMARK(BM_ConnectionLifecycle);

// The generator's CPS workload at its real scale: 256 connections in
// flight at once from 64 source addresses, each through open, 64-byte
// request and response, and close; A (the client) keeps TIME_WAIT (MSL
// 30 s) and reuses it (tw_reuse), in tables sized as the pair's client
// (config/pair-client.ini: 262,144 connections and records, a 16 MiB
// connection table). So lookups, inserts and erases land where they land
// over the pair, which the lifecycle above (one hot connection, no
// TIME_WAIT) never shows. The virtual clock runs at about the pair's rate
// (256 connections per 365 us). Per connection, both sides together.
void BM_ConnectionLifecycleAtScale(benchmark::State& state) {
    const auto capacity = static_cast<std::uint32_t>(state.range(0));
    constexpr std::size_t kSlots = 256;
    constexpr std::uint8_t kSources = 64;
    constexpr int kWarmUpRounds = 5'000;
    EngineConfig ca = bench_config(capacity);
    ca.output_queue = 4096;
    ca.event_queue = 4096;
    ca.chunk_count = 4096;
    EngineConfig cb = ca;
    ca.tw_reuse = true;
    Wire w(ca, cb);
    Ipv4Addr sources[kSources];
    sources[0] = kA;  // the engine holds 64 addresses, kA among them
    for (std::uint8_t k = 1; k < kSources; ++k) {
        sources[k] = Ipv4Addr::from_octets(172, 16, 49, k);
        w.a.add_address(sources[k]);
    }
    ConnId l;
    (void)w.b.listen(kB, 80, 1024, l);
    std::vector<ConnId> ca_ids(kSlots), cb_ids(kSlots);
    std::uint8_t msg[64] = {};
    std::size_t next_source = 0;
    std::uint64_t failures = 0;
    auto round = [&] {
        for (ConnId& c : ca_ids) {
            failures += w.a.connect({kB, 80, sources[next_source], 0, {}}, w.now, c) != 0;
            next_source = (next_source + 1) % kSources;
        }
        w.pump_bursts();
        for (ConnId& c : cb_ids) failures += w.b.accept(l, c) != 0;
        for (ConnId c : ca_ids) failures += w.a.send(c, msg, w.now) != sizeof msg;
        w.pump_bursts();
        for (ConnId c : cb_ids) {
            failures += w.b.recv(c, msg, w.now) != sizeof msg;
            failures += w.b.send(c, msg, w.now) != sizeof msg;
        }
        w.pump_bursts();
        for (ConnId c : ca_ids) {
            failures += w.a.recv(c, msg, w.now) != sizeof msg;
            failures += w.a.close(c, w.now) != 0;
        }
        w.pump_bursts();
        for (ConnId c : cb_ids) failures += w.b.close(c, w.now) != 0;
        w.pump_bursts();
        w.now = w.now + Duration::micros(365);
        w.a.advance(w.now);
        w.b.advance(w.now);
    };
    // Untimed, until the steady state of a long run: the TIME_WAIT pool
    // full (1,024 rounds) and every source's ports walked once (64 x 16,384
    // tuples: 4,096 rounds), so that connect() reuses records as it does
    // over the pair after its first 1.5 s.
    for (int k = 0; k < kWarmUpRounds; ++k) round();
    // The pool stays full from then on (each reused record is replaced by
    // the next close's); fewer records would measure another workload.
    if (w.a.time_wait_count() != capacity) state.SkipWithError("TIME_WAIT pool not full after the warm-up");
    for (auto _ : state) round();
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * kSlots));
    state.counters["ns/conn"] = benchmark::Counter(static_cast<double>(state.iterations() * kSlots),
                                                   benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
    state.counters["tw_reused"] = static_cast<double>(w.a.counters().get(Mib::timewait_reused_active));
    if (failures != 0) state.SkipWithError("a call failed");
    if (w.unserialized != 0) state.SkipWithError("a segment did not serialise");
    if (w.a.connection_count() != 0) state.SkipWithError("connections leaked");
}
// Fixed iterations: the warm-up is paid once per run, not per estimate.
BENCHMARK(BM_ConnectionLifecycleAtScale)->Arg(262'144)->Arg(4'096)->Iterations(4'000)->Unit(benchmark::kMicrosecond);

// One million connections end in TIME_WAIT on A, then the wheel deletes
// them all at 2*MSL; reported per record.
void BM_TimeWaitExpiryMillion(benchmark::State& state) {
    const std::uint32_t n = static_cast<std::uint32_t>(state.range(0));
    EngineConfig ca = bench_config(n + 16);
    ca.timer_budget = 1u << 30;
    EngineConfig cb = bench_config(1024);
    cb.msl = Duration{};
    for (auto _ : state) {
        state.PauseTiming();
        Wire w(ca, cb);
        ConnId l;
        (void)w.b.listen(kB, 80, 128, l);
        for (std::uint32_t i = 0; i < n; ++i) {
            // Spread the records over 60 s: 60 ms per thousand.
            if (i % 1000 == 0) w.now = w.now + Duration::millis(60);
            // Ephemeral ports run out at ~16K per destination: vary the port.
            ConnId ca_id, cb_id;
            const auto port = static_cast<std::uint16_t>(1000 + i / 16000);
            if (i % 16000 == 0) (void)w.b.listen(kB, port, 128, l);
            (void)w.a.connect({kB, port, kA, 0, {}}, w.now, ca_id);
            w.pump();
            (void)w.b.accept(l, cb_id);
            (void)w.a.close(ca_id, w.now);
            w.pump();
            (void)w.b.close(cb_id, w.now);
            w.pump();
        }
        if (w.a.time_wait_count() != n) state.SkipWithError("setup did not reach TIME_WAIT");
        state.ResumeTiming();
        w.a.advance(w.now + Duration::seconds(120));
        benchmark::DoNotOptimize(w.a.time_wait_count());
        if (w.a.time_wait_count() != 0) state.SkipWithError("records left");
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()) * n);
}
BENCHMARK(BM_TimeWaitExpiryMillion)->Arg(1'000'000)->Iterations(1)->Unit(benchmark::kMillisecond);

// Bulk payload between two engines in one thread, MSS 1460 (1448 bytes of
// payload with timestamps): everything a segment costs on both sides,
// serialisation and both checksums included.
void BM_BulkTransfer(benchmark::State& state) {
    EngineConfig c = bench_config(16);
    c.buffer_size = 512 * 1024;
    c.send_buffer = 512 * 1024;
    c.recv_buffer = 512 * 1024;
    c.output_queue = 1024;
    Wire w(c, c);
    ConnId l, ca, cb;
    (void)w.b.listen(kB, 80, 8, l);
    (void)w.a.connect({kB, 80, kA, 0, {}}, w.now, ca);
    w.pump();
    (void)w.b.accept(l, cb);
    std::vector<std::uint8_t> chunk(256 * 1024, 0x5a), sink(256 * 1024);
    std::uint64_t bytes = 0;
    for (auto _ : state) {
        std::size_t off = 0;
        while (off < chunk.size()) {
            const auto n = w.a.send(ca, std::span(chunk).subspan(off), w.now);
            if (n > 0) off += static_cast<std::size_t>(n);
            w.pump();
            for (;;) {
                const auto r = w.b.recv(cb, sink, w.now);
                if (r <= 0) break;
                bytes += static_cast<std::uint64_t>(r);
            }
            w.pump();
            w.now = w.now + Duration::micros(10);
            w.a.advance(w.now);
            w.b.advance(w.now);
        }
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(bytes));
    state.counters["Gbit/s"] = benchmark::Counter(static_cast<double>(bytes) * 8 / 1e9,
                                                  benchmark::Counter::kIsRate);
    state.counters["retrans"] = static_cast<double>(w.a.counters().get(Mib::retrans_segs));
}
BENCHMARK(BM_BulkTransfer)->Unit(benchmark::kMicrosecond);

// 64-byte request and 64-byte response, on 1 or 100 persistent connections.
void BM_RequestResponse(benchmark::State& state) {
    const auto conns = static_cast<std::size_t>(state.range(0));
    EngineConfig c = bench_config(256);
    c.output_queue = 1024;
    c.chunk_count = static_cast<std::uint32_t>(4 * conns + 16);  // a chunk per direction holds 64 bytes
    Wire w(c, c);
    ConnId l;
    (void)w.b.listen(kB, 80, 256, l);
    std::vector<ConnId> ca(conns), cb(conns);
    for (std::size_t i = 0; i < conns; ++i) {
        (void)w.a.connect({kB, 80, kA, 0, {}}, w.now, ca[i]);
        w.pump();
        (void)w.b.accept(l, cb[i]);
        (void)w.a.set_option(ca[i], SockOpt::nodelay, 1);
        (void)w.b.set_option(cb[i], SockOpt::nodelay, 1);
    }
    std::uint8_t msg[64] = {};
    std::size_t i = 0;
    bool ok = true;
    for (auto _ : state) {
        ok &= w.a.send(ca[i], msg, w.now) == 64;
        w.pump();
        ok &= w.b.recv(cb[i], msg, w.now) == 64;
        ok &= w.b.send(cb[i], msg, w.now) == 64;
        w.pump();
        ok &= w.a.recv(ca[i], msg, w.now) == 64;
        i = (i + 1) % conns;
        if (i == 0) {
            // Let delayed ACKs go out now and then, as time would.
            w.now = w.now + Duration::millis(50);
            w.a.advance(w.now);
            w.b.advance(w.now);
            w.pump();
        }
    }
    if (!ok) state.SkipWithError("a transaction failed");
    state.counters["transactions/s"] =
        benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_RequestResponse)->Arg(1)->Arg(100);

// The receive fast path alone: in-order full-sized data segments on an
// established connection, fed to the receiving engine (IPv4 and TCP
// checksums verified, ACK every second segment generated).
// Arg 0: checksums verified in software; arg 1: verified by the NIC (RX
// offload flags), as on a port that reports the capability.
//
// Two timings of the same loop. BM_ReceiveInOrderSegment pauses Google
// Benchmark's timer around the setup of each burst (as it always has, so an
// older engine's figure compares like with like); each pause and resume
// reads the thread's CPU clock, a system call in a VM, and part of those
// reads lands inside the timed window: about 1.4 us per burst of ~130
// segments here (an empty Pause/Resume loop measures that much).
// BM_ReceiveInOrderSegmentLoop times only the input loop, with the
// monotonic clock (two reads per burst, ~28 ns each here).
void receive_in_order(benchmark::State& state, bool loop_clock) {
    const RxOffload rx{state.range(0) != 0, state.range(0) != 0};
    EngineConfig c = bench_config(16);
    c.buffer_size = 512 * 1024;
    c.send_buffer = 512 * 1024;
    c.recv_buffer = 512 * 1024;
    c.output_queue = 1024;
    Wire w(c, c);
    ConnId l, ca, cb;
    (void)w.b.listen(kB, 80, 8, l);
    (void)w.a.connect({kB, 80, kA, 0, {}}, w.now, ca);
    w.pump();
    (void)w.b.accept(l, cb);
    // Open the congestion window first.
    std::vector<std::uint8_t> chunk(128 * 1448, 0x5a), sink(512 * 1024);
    for (int warm = 0; warm < 20; ++warm) {
        (void)w.a.send(ca, chunk, w.now);
        w.pump();
        while (w.b.recv(cb, sink, w.now) > 0) {
        }
        w.pump();
    }
    std::vector<std::vector<std::uint8_t>> batch;
    std::uint64_t segments = 0;
    for (auto _ : state) {
        if (!loop_clock) state.PauseTiming();
        batch.clear();
        (void)w.a.send(ca, chunk, w.now);
        for (const OutSegment& s : w.a.output()) {
            std::vector<std::uint8_t> pkt(1600);
            auto n = serialize(s, pkt);
            pkt.resize(n ? *n : 0);
            batch.push_back(std::move(pkt));
        }
        w.a.clear_output();
        if (!loop_clock) state.ResumeTiming();
        std::chrono::steady_clock::time_point start{};
        if (loop_clock) start = std::chrono::steady_clock::now();
        for (const auto& pkt : batch) w.b.input(pkt, w.now, rx);
        if (loop_clock) {
            state.SetIterationTime(
                std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
        } else {
            state.PauseTiming();
        }
        segments += batch.size();
        while (w.b.recv(cb, sink, w.now) > 0) {
        }
        Wire::move(w.b, w.a, w.buf, w.now);
        w.pump();
        if (!loop_clock) state.ResumeTiming();
    }
    state.counters["ns/segment"] = benchmark::Counter(
        static_cast<double>(segments), benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}
void BM_ReceiveInOrderSegment(benchmark::State& state) { receive_in_order(state, false); }
void BM_ReceiveInOrderSegmentLoop(benchmark::State& state) { receive_in_order(state, true); }
BENCHMARK(BM_ReceiveInOrderSegment)->Arg(0)->Arg(1)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_ReceiveInOrderSegmentLoop)->Arg(0)->Arg(1)->UseManualTime()->Unit(benchmark::kMicrosecond);

}  // namespace

int main(int argc, char** argv) {
    std::printf("sizeof(Tcb) = %zu bytes (budget 256), sizeof(TimeWaitRecord) = %zu bytes (budget 64)\n",
                sizeof(Tcb), sizeof(TimeWaitRecord));
    benchmark::Initialize(&argc, argv);
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
