// A spoofed SYN flood from the prompt (`start flood syn ...`), for the SYN
// flood test over the memif pair (tests/robust/syn_flood_pair_test.py,
// issue 9; RFC 4987 describes the attack). The worker builds every SYN
// itself: a random source address inside a given prefix (never a local
// subnet), a random source port, ISN and TSval, the options a Linux client
// sends, and full checksums. Frames are paced by the worker's TSC clock and
// leave through the worker's own TX ledger (Arp::output fills the Ethernet
// header with the peer's resolved MAC), alongside its normal traffic.
// Nothing is allocated per frame: each one is an mbuf from the port's pool.
#pragma once

#include <cstdint>
#include <string>

#include "tcp/base/time.hpp"
#include "tcp/wire/addr.hpp"

namespace tcpfp::app {
class Arp;
class Tx;
}  // namespace tcpfp::app

namespace tcpfp::app::cli {

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

class SynFlood {
public:
    explicit SynFlood(unsigned worker) : worker_(worker) {}
    bool start(const FloodSpec& spec, tcp::Instant now, std::string& why);
    void stop(tcp::Instant now);
    // Every loop iteration: sends the SYNs due by now (at most a burst).
    void poll(tcp::Instant now, Tx& tx, Arp& arp) {
        if (running_) [[unlikely]] send_due(now, tx, arp);
    }
    void report(FloodReport& out, tcp::Instant now) const;

private:
    void send_due(tcp::Instant now, Tx& tx, Arp& arp);
    void build_syn(std::uint8_t* ip);
    std::uint64_t next_random();

    const unsigned worker_;
    FloodSpec spec_;
    bool started_ = false, running_ = false;
    tcp::Instant start_, end_;
    std::uint64_t sent_ = 0, no_mbuf_ = 0;
    std::uint64_t rng_ = 1;
    std::uint16_t ip_id_ = 0;
};

}  // namespace tcpfp::app::cli
