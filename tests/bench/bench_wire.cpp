// Wire-layer microbenchmarks: the per-segment parse and checksum costs the
// receive fast path pays.
#include <benchmark/benchmark.h>

#include <cstring>
#include <vector>

#include "fixtures/linux_frames.hpp"
#include "tcp/engine/segment.hpp"
#include "tcp/wire/checksum.hpp"
#include "tcp/wire/ethernet.hpp"
#include "tcp/wire/ipv4.hpp"
#include "tcp/wire/tcp.hpp"
#include "tcp/wire/tcp_options.hpp"

namespace {

using namespace tcpfp::wire;
namespace tcp = tcpfp::tcp;

void BM_Checksum(benchmark::State& state) {
    std::vector<std::uint8_t> buf(static_cast<std::size_t>(state.range(0)), 0xa5);
    for (auto _ : state) {
        benchmark::DoNotOptimize(checksum::finish(checksum::accumulate(buf)));
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * state.range(0));
}
BENCHMARK(BM_Checksum)->Arg(20)->Arg(64)->Arg(1460)->Arg(9000);

// The portable 8-byte loop alone, beside the AVX2 one that accumulate()
// takes for 128 bytes and more where the CPU has it.
void BM_ChecksumPortable(benchmark::State& state) {
    std::vector<std::uint8_t> buf(static_cast<std::size_t>(state.range(0)), 0xa5);
    for (auto _ : state) {
        benchmark::DoNotOptimize(checksum::finish(checksum::accumulate_portable(buf)));
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * state.range(0));
}
BENCHMARK(BM_ChecksumPortable)->Arg(1460)->Arg(9000);

// Transmit: a payload copied into the frame and summed. Two passes (a
// copy, then accumulate() over the copy), beside copy_accumulate()'s one.
void BM_CopyThenChecksum(benchmark::State& state) {
    std::vector<std::uint8_t> src(static_cast<std::size_t>(state.range(0)), 0xa5);
    std::vector<std::uint8_t> dst(src.size());
    for (auto _ : state) {
        std::memcpy(dst.data(), src.data(), src.size());
        benchmark::DoNotOptimize(checksum::accumulate(dst));
        benchmark::ClobberMemory();
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * state.range(0));
}
BENCHMARK(BM_CopyThenChecksum)->Arg(64)->Arg(1448)->Arg(9000);

void BM_CopyAccumulate(benchmark::State& state) {
    std::vector<std::uint8_t> src(static_cast<std::size_t>(state.range(0)), 0xa5);
    std::vector<std::uint8_t> dst(src.size());
    for (auto _ : state) {
        benchmark::DoNotOptimize(checksum::copy_accumulate(dst.data(), src));
        benchmark::ClobberMemory();
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * state.range(0));
}
BENCHMARK(BM_CopyAccumulate)->Arg(64)->Arg(1448)->Arg(9000);

// Ethernet + IPv4 (with header checksum) + TCP (with checksum) + options,
// on Linux's 87-byte data frame.
void BM_ParseFrame(benchmark::State& state) {
    const auto& frame = tcpfp::fixtures::linux_capture::tcp_data;
    for (auto _ : state) {
        auto eth = parse_ethernet(frame);
        auto ip = parse_ipv4_checked(eth->payload);
        auto tcp = parse_tcp_checked(ip->payload(), ip->src(), ip->dst());
        auto opts = parse_tcp_options(tcp->options());
        benchmark::DoNotOptimize(opts);
    }
}
BENCHMARK(BM_ParseFrame);

// A full-MSS segment: parse plus checksum over 1460 bytes of payload.
void BM_ParseFrameMss(benchmark::State& state) {
    const auto& small = tcpfp::fixtures::linux_capture::tcp_data;
    std::vector<std::uint8_t> frame(small.begin(), small.begin() + 66);
    frame.resize(66 + 1460, 0x5a);
    const Ipv4Addr a = Ipv4Addr::from_octets(172, 16, 48, 13);
    const Ipv4Addr b = Ipv4Addr::from_octets(172, 16, 48, 1);
    TcpView t0 = *TcpView::parse(std::span(frame).subspan(34));
    TcpRepr r;
    r.src_port = t0.src_port();
    r.dst_port = t0.dst_port();
    r.seq = t0.seq();
    r.ack = t0.ack();
    r.flags = t0.flags();
    r.window = t0.window();
    std::vector<std::uint8_t> opts(t0.options().begin(), t0.options().end());
    r.options = opts;
    r.payload = std::span(frame).subspan(66);
    (void)emit_tcp(r, a, b, std::span(frame).subspan(34));
    Ipv4Repr ip{a, b, ipproto::tcp, 64, 0, 1, true, static_cast<std::uint16_t>(frame.size() - 34)};
    (void)emit_ipv4(ip, std::span(frame).subspan(14, 20));
    for (auto _ : state) {
        auto eth = parse_ethernet(frame);
        auto v4 = parse_ipv4_checked(eth->payload);
        auto tcp = parse_tcp_checked(v4->payload(), v4->src(), v4->dst());
        auto o = parse_tcp_options(tcp->options());
        if (!o) state.SkipWithError("fixture did not parse");
        benchmark::DoNotOptimize(o);
    }
}
BENCHMARK(BM_ParseFrameMss);

void BM_EmitSeedFin(benchmark::State& state) {
    std::vector<std::uint8_t> out(64);
    TcpOptions o;
    o.has_timestamps = true;
    o.ts_val = 0x7edb;
    o.ts_ecr = 0x85c730;
    for (auto _ : state) {
        TcpOptionWriter w;
        auto opts = write_tcp_options(o, false, w);
        TcpRepr r{32806, 5002, SeqNum(0x7d2), SeqNum(0x7e08baa0), 0x11, 1460, 0, *opts, {}, {}, {}};
        benchmark::DoNotOptimize(emit_tcp(r, Ipv4Addr::from_octets(172, 16, 48, 13),
                                          Ipv4Addr::from_octets(172, 16, 48, 1), out));
    }
}
BENCHMARK(BM_EmitSeedFin);

// tcp::serialize, as the worker calls it for every segment the engine makes:
// the seed's ACK (NOP, NOP, timestamps) with `state.range(0)` payload bytes,
// IPv4 and TCP checksums in software.
void BM_SerializeSegment(benchmark::State& state) {
    std::vector<std::uint8_t> payload(static_cast<std::size_t>(state.range(0)), 0x5a);
    std::vector<std::uint8_t> out(2048);
    tcp::OutSegment seg;
    seg.tuple = {Ipv4Addr::from_octets(172, 16, 48, 13), Ipv4Addr::from_octets(172, 16, 48, 1), 32806, 5002};
    seg.seq = SeqNum(0x7d2);
    seg.ack = SeqNum(0x7e08baa0);
    seg.flags = static_cast<std::uint8_t>(tcp_flag::ack | (payload.empty() ? 0 : tcp_flag::psh));
    seg.window = 1460;
    seg.options.has_timestamps = true;
    seg.options.ts_ecr = 0x85c730;
    seg.payload = std::span<const std::uint8_t>(payload);
    std::uint16_t id = 0;
    for (auto _ : state) {
        seg.options.ts_val++;  // a value that changes, as the clock does
        benchmark::DoNotOptimize(tcp::serialize(seg, out, id++));
        benchmark::ClobberMemory();
    }
}
BENCHMARK(BM_SerializeSegment)->Arg(0)->Arg(64)->Arg(1448);

// The same for a SYN with the options connect() offers: MSS, sackOK,
// timestamps, window scale.
void BM_SerializeSyn(benchmark::State& state) {
    std::vector<std::uint8_t> out(2048);
    tcp::OutSegment seg;
    seg.tuple = {Ipv4Addr::from_octets(172, 16, 48, 13), Ipv4Addr::from_octets(172, 16, 48, 1), 32806, 5002};
    seg.seq = SeqNum(0x7d1);
    seg.flags = tcp_flag::syn;
    seg.window = 65535;
    seg.options.has_mss = true;
    seg.options.mss = 1460;
    seg.options.sack_permitted = true;
    seg.options.has_timestamps = true;
    seg.options.has_wscale = true;
    seg.options.wscale = 7;
    std::uint16_t id = 0;
    for (auto _ : state) {
        seg.options.ts_val++;
        benchmark::DoNotOptimize(tcp::serialize(seg, out, id++));
        benchmark::ClobberMemory();
    }
}
BENCHMARK(BM_SerializeSyn);

}  // namespace

BENCHMARK_MAIN();
