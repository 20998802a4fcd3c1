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
    Engine a;
    Engine b;
    Instant now = Instant::from_micros(1'000'000);
    std::vector<std::uint8_t> buf = std::vector<std::uint8_t>(2048);

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
