#include "dpdk_app/apps/flood.hpp"

#include <algorithm>
#include <cstring>

#include "tcp/wire/bytes.hpp"
#include "tcp/wire/checksum.hpp"

namespace tcpfp::app {

namespace {
constexpr std::uint32_t kMaxPerPoll = 256;  // a late loop catches up in bursts this big
constexpr std::size_t kIpLen = 20;
constexpr std::size_t kTcpLen = 40;  // 20 bytes of header, 20 of options

// The options Linux puts on a SYN (RFC 9293 §3.7.1 MSS 1460, RFC 2018
// SACK-permitted, RFC 7323 timestamps and window scale 7), in Linux's order.
constexpr std::uint8_t kSynOptions[20] = {2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0, 0,
                                          0, 0, 0, 0, 0, 0, 1, 3, 3, 7};
}  // namespace

bool SynFlood::start_run(const FloodSpec& spec, tcp::Instant now, std::string& why) {
    if (sink_ == nullptr) {
        why = "worker " + std::to_string(worker_) + " has no frame sink for the flood";
        return false;
    }
    if (running_) {
        why = "a flood is running on worker " + std::to_string(worker_) + " (stop flood first)";
        return false;
    }
    spec_ = spec;
    started_ = running_ = true;
    if (stack_ != nullptr) stack_->set_polled(true);
    start_ = now;
    end_ = now + tcp::Duration::micros(static_cast<std::int64_t>(spec.duration_us));
    sent_ = no_mbuf_ = 0;
    rng_ = (spec.seed + worker_) * 0x9e3779b97f4a7c15ull | 1u;
    return true;
}

void SynFlood::stop_run(tcp::Instant now) {
    if (!running_) return;
    running_ = false;
    end_ = std::min(end_, now);
}

void SynFlood::report(FloodReport& out, tcp::Instant now) const {
    out.started = started_;
    out.running = running_;
    out.sent = sent_;
    out.no_mbuf = no_mbuf_;
    out.target_rate = spec_.rate;
    const tcp::Instant last = running_ ? now : end_;
    out.elapsed_us = started_ && last > start_ ? last.micros() - start_.micros() : 0;
}

std::uint64_t SynFlood::next_random() {  // xorshift64: cheap, reproducible per run
    rng_ ^= rng_ << 13;
    rng_ ^= rng_ >> 7;
    rng_ ^= rng_ << 17;
    return rng_;
}

// Pacing: by now, rate * elapsed SYNs are due; the ones not sent yet go out
// (at most kMaxPerPoll per iteration, so the rest of the loop keeps running).
void SynFlood::send_due(tcp::Instant now) {
    if (now >= end_) {
        running_ = false;
        return;
    }
    const double elapsed_s = static_cast<double>((now - start_).as_micros()) / 1e6;
    const auto due = static_cast<std::uint64_t>(spec_.rate * elapsed_s);
    if (due <= sent_) return;
    const auto want = static_cast<std::size_t>(std::min<std::uint64_t>(due - sent_, kMaxPerPoll));
    std::uint8_t* bufs[kMaxPerPoll];
    // The sink counts an empty pool (tx_no_mbuf); the round is cut short.
    const std::size_t n = sink_->acquire({bufs, want}, kIpLen + kTcpLen);
    if (n < want) ++no_mbuf_;
    for (std::size_t i = 0; i < n; ++i) build_syn(bufs[i]);
    sent_ += n;
    sink_->send(n, spec_.remote_ip, now.millis());
}

// One SYN (IPv4 + TCP with options) at `ip`, as a Linux client would send
// it, from a random host of the source prefix (neither its network nor its
// broadcast address) and a random ephemeral port; checksums per RFC 1071.
void SynFlood::build_syn(std::uint8_t* ip) {
    const std::uint32_t host_mask = (std::uint32_t{1} << (32 - spec_.source_prefix)) - 1u;
    std::uint32_t host = static_cast<std::uint32_t>(next_random()) & host_mask;
    if (host == 0 || host == host_mask) host = 1;
    const wire::Ipv4Addr src{(spec_.source_net.value & ~host_mask) | host};
    const std::uint64_t r = next_random();

    // RFC 791 §3.1: version 4, IHL 5, DF, TTL 64, protocol TCP.
    ip[0] = 0x45;
    ip[1] = 0;
    wire::store_be16(ip + 2, static_cast<std::uint16_t>(kIpLen + kTcpLen));
    wire::store_be16(ip + 4, ip_id_++);
    wire::store_be16(ip + 6, 0x4000);
    ip[8] = 64;
    ip[9] = 6;
    wire::store_be16(ip + 10, 0);
    wire::store_be32(ip + 12, src.value);
    wire::store_be32(ip + 16, spec_.remote_ip.value);
    wire::store_be16(ip + 10, wire::checksum::finish(wire::checksum::accumulate({ip, kIpLen})));

    // RFC 9293 §3.1: SYN with a random ISN (§3.4.1), no ACK, window 64240.
    std::uint8_t* t = ip + kIpLen;
    wire::store_be16(t, static_cast<std::uint16_t>(1024 + (r & 0xffff) % 64000));
    wire::store_be16(t + 2, spec_.remote_port);
    wire::store_be32(t + 4, static_cast<std::uint32_t>(r >> 32));
    wire::store_be32(t + 8, 0);
    t[12] = static_cast<std::uint8_t>((kTcpLen / 4) << 4);
    t[13] = 0x02;
    wire::store_be16(t + 14, 64240);
    wire::store_be16(t + 16, 0);
    wire::store_be16(t + 18, 0);
    std::memcpy(t + 20, kSynOptions, sizeof kSynOptions);
    wire::store_be32(t + 28, static_cast<std::uint32_t>(next_random()));  // TSval
    const std::uint64_t pseudo =
        wire::checksum::pseudo_header(src, spec_.remote_ip, 6, static_cast<std::uint16_t>(kTcpLen));
    wire::store_be16(t + 16, wire::checksum::finish(wire::checksum::accumulate({t, kTcpLen}, pseudo)));
}

// --- the family's messages --------------------------------------------------------

void FloodStart::run(AgentContext& ctx, tcp::Instant now) {
    if (ctx.flood == nullptr) return fail("no flood on worker " + std::to_string(ctx.worker));
    std::string why;
    if (!ctx.flood->start_run(spec, now, why)) fail(why);
}

void FloodStop::run(AgentContext& ctx, tcp::Instant now) {
    if (ctx.flood != nullptr) ctx.flood->stop_run(now);
}

void FloodRead::run(AgentContext& ctx, tcp::Instant now) {
    if (ctx.flood != nullptr) ctx.flood->report(report, now);
}

}  // namespace tcpfp::app
