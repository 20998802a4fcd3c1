// The worker side of the prompt: executes CliRequests from the worker's
// mailbox against the engine the worker owns, and serves the connections the
// CLI opened or accepted (reads them into a buffer for `expect recv`, or
// echoes/discards/answers HTTP for `listen ... echo|discard|http|sink|hold`).
// Runs only on the owning worker's lcore.
#pragma once

#include <rte_ring.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "dpdk_app/apps/app.hpp"
#include "dpdk_app/cli/mailbox.hpp"
#include "dpdk_app/cli/gen.hpp"
#include "tcp/engine/engine.hpp"

namespace tcpfp::app {
class Arp;
class Tx;
}

namespace tcpfp::app::cli {

class Agent {
public:
    Agent(tcp::Engine& engine, Arp& arp, unsigned worker, rte_ring* mailbox);

    // Once per loop iteration: executes at most one request. Returns true when
    // it did (the caller drains the engine's output).
    bool poll(tcp::Instant now);
    // About once a millisecond: accepts on CLI listeners, reads CLI connections.
    void service(tcp::Instant now);
    // The worker's `set verbose` flag (a plain bool only this lcore writes).
    void set_verbose_flag(bool* flag) { verbose_ = flag; }
    // The worker's TX ledger, for the SYN flood's frames (cli/flood.hpp).
    void set_tx(Tx* tx) { tx_ = tx; }
    // The agent on the worker's app host: the generator's connections are
    // opened through its Stack, so their events come to it; every loop
    // iteration its poll() drives the generator with them and sends the SYN
    // flood's frames that are due.
    std::unique_ptr<App> make_app();

private:
    struct Conn {
        std::uint64_t id = 0;
        tcp::ConnId h;
        tcp::FourTuple tuple;
        Mode mode = Mode::client;
        std::string rx;              // received, not yet matched by `expect recv`
        std::string http;            // http mode: request bytes
        std::uint64_t rx_total = 0;
        bool eof = false;            // the peer's FIN was read
        bool closed = false;         // we called close()/abort(): the socket is gone
    };
    struct Listener {
        tcp::ConnId h;
        wire::Ipv4Addr addr;
        std::uint16_t port;
        Mode mode;
    };

    void execute(Request& r, tcp::Instant now);
    Conn* find(std::uint64_t id);
    std::string state_of(const Conn& c) const;
    void serve(Conn& c, tcp::Instant now);
    Conn& add(tcp::ConnId h, Mode mode);

    tcp::Engine& engine_;
    Arp& arp_;
    unsigned worker_;
    rte_ring* mailbox_;
    bool* verbose_ = nullptr;
    std::uint64_t next_id_;
    std::vector<Conn> conns_;
    std::vector<Listener> listeners_;
    std::vector<std::uint8_t> scratch_;
    class HostedApp;
    Generator gen_;
    std::vector<tcp::Event> gen_events_;  // routed since the last poll
    SynFlood flood_;
    Tx* tx_ = nullptr;
};

}  // namespace tcpfp::app::cli
