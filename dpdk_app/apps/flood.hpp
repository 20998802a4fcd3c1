// A spoofed SYN flood from the prompt (`start flood syn ...`), for the SYN
// flood test over the memif pair (tests/robust/syn_flood_pair_test.py,
// issue 9; RFC 4987 describes the attack). The worker builds every SYN
// itself: a random source address inside a given prefix (never a local
// subnet), a random source port, ISN and TSval, the options a Linux client
// sends, and full checksums. It is an app polled every loop iteration while
// a flood runs, paced by the time it is given; its frames leave through a
// FrameSink the worker implements over its TX ledger and ARP
// (dpdk_app/cli/prompt_apps.hpp), alongside the worker's normal traffic. Nothing is allocated per frame.
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "dpdk_app/apps/app.hpp"
#include "dpdk_app/apps/command.hpp"
#include "tcp/base/time.hpp"
#include "tcp/wire/addr.hpp"

namespace tcpfp::app {

// Raw IPv4 packets out of an app, a burst at a time (two calls per burst,
// none per frame). The worker backs it with mbufs from the port's pool.
class FrameSink {
public:
    virtual ~FrameSink() = default;
    // Up to bufs.size() buffers of `len` bytes for IPv4 packets; returns how
    // many it got (fewer: the pool ran dry). They stay the caller's until send().
    virtual std::size_t acquire(std::span<std::uint8_t*> bufs, std::size_t len) = 0;
    // Sends the first n buffers of the last acquire() to next hop `dst`
    // (behind an Ethernet header); buffers not sent are returned.
    virtual void send(std::size_t n, wire::Ipv4Addr dst, std::uint64_t now_ms) = 0;
};

// What `start flood` asks of one worker.
struct FloodSpec {
    wire::Ipv4Addr remote_ip;
    std::uint16_t remote_port = 0;
    wire::Ipv4Addr source_net = wire::Ipv4Addr::from_octets(10, 0, 0, 0);
    std::uint8_t source_prefix = 8;
    double rate = 0;  // this worker's share, SYN/s
    std::uint64_t duration_us = 0;
    std::uint64_t seed = 1;
};

// One worker's figures (`show flood`).
struct FloodReport {
    bool started = false, running = false;
    std::uint64_t sent = 0;     // SYNs handed to the TX path
    std::uint64_t no_mbuf = 0;  // pacing rounds cut short by an empty pool
    std::uint64_t elapsed_us = 0;
    double target_rate = 0;
};

class SynFlood : public App {
public:
    SynFlood(unsigned worker, FrameSink* sink) : worker_(worker), sink_(sink) {}
    const char* name() const override { return "flood"; }
    // The flood opens no connection: it has no event.
    void on_events(Stack&, std::span<const AppEvent>, tcp::Instant) override {}
    void start(Stack& stack, tcp::Instant) override { stack_ = &stack; }
    // Every loop iteration while a flood runs (start_run turns polling on,
    // its end off): sends the SYNs due by now (at most a burst).
    void poll(Stack& stack, tcp::Instant now) override {
        if (running_) send_due(now);
        if (!running_) stack.set_polled(false);
    }

    bool start_run(const FloodSpec& spec, tcp::Instant now, std::string& why);
    void stop_run(tcp::Instant now);
    void report(FloodReport& out, tcp::Instant now) const;

private:
    void send_due(tcp::Instant now);
    void build_syn(std::uint8_t* ip);
    std::uint64_t next_random();

    const unsigned worker_;
    FrameSink* sink_;
    Stack* stack_ = nullptr;  // set by start(); null when not on a host (tests poll by hand)
    FloodSpec spec_;
    bool started_ = false, running_ = false;
    tcp::Instant start_, end_;
    std::uint64_t sent_ = 0, no_mbuf_ = 0;
    std::uint64_t rng_ = 1;
    std::uint16_t ip_id_ = 0;
};

// The flood family's messages (command.hpp), run on each worker.
struct FloodStart : Command {
    explicit FloodStart(const FloodSpec& share) : spec(share) {}
    void run(AgentContext& ctx, tcp::Instant now) override;
    const FloodSpec spec;
};

struct FloodStop : Command {
    void run(AgentContext& ctx, tcp::Instant now) override;
};

struct FloodRead : Command {
    void run(AgentContext& ctx, tcp::Instant now) override;
    FloodReport report;
};

}  // namespace tcpfp::app
